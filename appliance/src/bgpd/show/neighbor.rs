//! `show bgp neighbors [X] [advertised-routes|received-routes|routes]`:
//! FRR's per-neighbor view, as far as bgpd keeps the facts it shows.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::table::{Rows, TableShow};
use super::{afi_name, pretty, uptime, View};
use crate::bgp::config::NeighborId;
use crate::bgp::fsm::State;
use crate::bgp::packet::{Afi, Capability};
use crate::bgp::speaker::Peer;

/// Which of a neighbor's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    Advertised,
    Received,
    Accepted,
}

pub fn neighbors(v: &View, addr: Option<NeighborId>, json: bool) -> Result<String, String> {
    let sp = v.speaker;
    if sp.config().bgp.is_none() {
        return Err("% No BGP instance configured".into());
    }
    // An interface neighbor answers to its peer's address too.
    let asked =
        |p: &Peer| addr.as_ref().is_none_or(|a| a == p.name() || a.addr().is_some_and(|a| p.remote() == Some(a)));
    let peers: Vec<&Peer> = sp.configured().filter(|p| asked(p)).collect();
    if let (Some(a), true) = (&addr, peers.is_empty()) {
        return Err(format!("% No such neighbor in this view/vrf: {a}"));
    }
    if json {
        let js: Map<String, Value> = peers.iter().map(|p| (p.name().to_string(), neighbor_json(v, p))).collect();
        return Ok(pretty(&Value::Object(js)));
    }
    Ok(peers.iter().map(|p| neighbor_text(v, p)).collect())
}

/// Hold time and keepalive: negotiated, else configured, else FRR's.
fn timers(p: &Peer) -> (u16, u16) {
    match p.negotiated() {
        Some(n) => (n.hold_time, n.keepalive),
        None => p.config().timers.map_or((180, 60), |(k, h)| (h, k)),
    }
}

fn neighbor_json(v: &View, p: &Peer) -> Value {
    let sp = v.speaker;
    let def_v4 = sp.config().bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    let st = p.session().state();
    let up = v.now.saturating_duration_since(p.session().since());
    let (hold, keep) = timers(p);
    let fam: Map<String, Value> = p
        .config()
        .active_families(def_v4)
        .iter()
        .map(|afi| {
            let counts = json!({"acceptedPrefixCounter": p.accepted(*afi), "sentPrefixCounter": p.advertised(*afi)});
            (afi_name(*afi).1.to_string(), counts)
        })
        .collect();
    let (msg_in, msg_out) = p.messages();
    json!({
        "remoteAs": p.remote_asn().unwrap_or(0),
        "localAs": sp.local_as(),
        "nbrExternalLink": p.ebgp(sp.local_as()),
        "nbrDesc": p.config().description.clone().unwrap_or_default(),
        "bgpVersion": 4,
        "remoteRouterId": p.negotiated().map(|n| n.peer.bgp_id.to_string()).unwrap_or_else(|| "0.0.0.0".into()),
        "localRouterId": sp.router_id().to_string(),
        "bgpState": st.name(),
        "bgpTimerUpMsec": if st == State::Established { up.as_millis() as u64 } else { 0 },
        "bgpTimerHoldTimeMsecs": hold as u64 * 1000,
        "bgpTimerKeepAliveIntervalMsecs": keep as u64 * 1000,
        "messageStats": {"totalSent": msg_out, "totalRecv": msg_in},
        "addressFamilyInfo": fam,
        "connectionsEstablished": p.session().established_count,
        "connectionsDropped": p.session().dropped_count,
        "lastResetDueTo": p.session().last_error.clone().unwrap_or_default(),
        "hostLocal": p.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        "hostForeign": p.remote().map(|a| a.to_string()).unwrap_or_default(),
    })
}

fn neighbor_text(v: &View, p: &Peer) -> String {
    let sp = v.speaker;
    let st = p.session().state();
    let link = if p.ebgp(sp.local_as()) { "external" } else { "internal" };
    let remote = p.remote_asn().unwrap_or(0);
    let mut s = String::new();
    // FRR's first line for an interface neighbor names the interface and
    // the address found on it.
    let who = match (p.name(), p.remote()) {
        (NeighborId::Interface(i), r) => {
            format!("on {i}: {}", r.map_or("None".to_string(), |a| a.to_string()))
        }
        (a, _) => format!("is {a}"),
    };
    let _ = writeln!(s, "BGP neighbor {who}, remote AS {remote}, local AS {}, {link} link", sp.local_as());
    if let Some(desc) = &p.config().description {
        let _ = writeln!(s, " Description: {desc}");
    }
    let rid = p.negotiated().map(|n| n.peer.bgp_id.to_string()).unwrap_or_else(|| "0.0.0.0".into());
    let _ = writeln!(s, "  BGP version 4, remote router ID {rid}, local router ID {}", sp.router_id());
    let _ = match st {
        State::Established => {
            writeln!(
                s,
                "  BGP state = Established, up for {}",
                uptime(v.now.saturating_duration_since(p.session().since()))
            )
        }
        _ if p.config().shutdown.is_some() => writeln!(s, "  BGP state = Idle (Admin)"),
        _ => writeln!(s, "  BGP state = {}", st.name()),
    };
    let (hold, keep) = timers(p);
    let _ = writeln!(s, "  Hold time is {hold}, keepalive interval is {keep} seconds");
    if st == State::Established {
        s.push_str(&capabilities(v, p));
    }
    let (msg_in, msg_out) = p.messages();
    s.push_str("  Message statistics:\n                         Sent       Rcvd\n");
    let _ = writeln!(s, "    Total:         {msg_out:>10} {msg_in:>10}\n");
    s.push_str(&families_text(v, p));
    let _ = writeln!(
        s,
        "  Connections established {}; dropped {}",
        p.session().established_count,
        p.session().dropped_count
    );
    if let Some(e) = &p.session().last_error {
        let _ = writeln!(s, "  Last reset {e}");
    }
    if st == State::Established {
        let local = p.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let foreign = p.remote().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(s, "Local host: {local}\nForeign host: {foreign}");
    }
    s.push('\n');
    s
}

fn capabilities(v: &View, p: &Peer) -> String {
    let caps = p.negotiated().map(|n| n.peer.capabilities.as_slice()).unwrap_or(&[]);
    let has = |f: &dyn Fn(&Capability) -> bool| caps.iter().any(f);
    let rcv = |yes: bool| if yes { "advertised and received" } else { "advertised" };
    let def_v4 = v.speaker.config().bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    let mut s = String::from("  Neighbor capabilities:\n");
    let _ = writeln!(s, "    4 Byte AS: {}", rcv(has(&|c| matches!(c, Capability::FourOctetAs(_)))));
    let _ = writeln!(s, "    Extended Message: {}", rcv(has(&|c| *c == Capability::ExtendedMessage)));
    if p.config().wants_extended_nexthop() {
        let got = p.negotiated().is_some_and(|n| n.extended_nexthop);
        let _ = writeln!(s, "    Extended nexthop: {}", rcv(got));
        if got {
            s.push_str("      Address families by peer:\n                   IPv4 Unicast\n");
        }
    }
    let _ = writeln!(s, "    Route refresh: {}", rcv(has(&|c| *c == Capability::RouteRefresh)));
    for afi in p.config().active_families(def_v4) {
        let got = has(&|c| *c == Capability::Multiprotocol(afi.code(), 1));
        let _ = writeln!(s, "    Address Family {}: {}", afi_name(afi).0, rcv(got));
    }
    s.push_str(&graceful_restart(p));
    s
}

/// FRR's "Graceful restart information", in short: what each side
/// offered, and the routes kept while the neighbor restarts.
fn graceful_restart(p: &Peer) -> String {
    let ours = p.session().cfg.graceful_restart.as_ref();
    let theirs = p.negotiated().and_then(|n| n.peer.graceful_restart());
    let mode = |g: Option<&crate::bgp::packet::GracefulRestart>| match g {
        None => "Disable",
        Some(g) if g.families.is_empty() => "Helper",
        Some(_) => "Restart",
    };
    let mut s = String::from("  Graceful restart information:\n");
    let _ = writeln!(s, "    Local GR Mode: {}", mode(ours));
    if p.negotiated().is_some() {
        let _ = writeln!(s, "    Remote GR Mode: {}", mode(theirs));
        let _ = writeln!(s, "    R bit: {}", if theirs.is_some_and(|g| g.restarting) { "True" } else { "False" });
    }
    let _ = writeln!(s, "    Configured Restart Time(sec): {}", ours.map_or(0, |g| g.time));
    if let Some(g) = theirs {
        let _ = writeln!(s, "    Received Restart Time(sec): {}", g.time);
    }
    if let Some(st) = p.stale() {
        let _ = writeln!(s, "    Stale routes kept: {}", st.len());
    }
    s
}

fn families_text(v: &View, p: &Peer) -> String {
    let def_v4 = v.speaker.config().bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    let mut s = String::new();
    for afi in p.config().active_families(def_v4) {
        let f = p.config().family(afi, def_v4);
        let _ = writeln!(s, " For address family: {}", afi_name(afi).0);
        let lines = [
            (&f.prefix_list_in, "Incoming update prefix filter list"),
            (&f.prefix_list_out, "Outgoing update prefix filter list"),
            (&f.route_map_in, "Route map for incoming advertisements"),
            (&f.route_map_out, "Route map for outgoing advertisements"),
        ];
        for (name, what) in lines {
            if let Some(n) = name {
                let _ = writeln!(s, "  {what} is *{n}");
            }
        }
        for (inbound, dir) in [(true, "Inbound"), (false, "Outbound")] {
            if v.speaker.policy_blocked(p, afi, inbound) {
                let _ = writeln!(
                    s,
                    "  {dir} updates discarded due to missing policy (RFC 8212): add `neighbor {} prefix-list NAME {}` or `no bgp ebgp-requires-policy`",
                    p.name(),
                    if inbound { "in" } else { "out" }
                );
            }
        }
        let _ = writeln!(s, "  {} accepted prefixes\n", p.accepted(afi));
    }
    s
}

/// `show bgp neighbors X advertised-routes|received-routes|routes`: a
/// paged table view, or why not.
pub fn neighbor_routes(v: &View, afi: Afi, addr: NeighborId, which: Routes, json: bool) -> Result<TableShow, String> {
    let Some(p) = v.speaker.peer(&addr) else {
        return Err(format!("% No such neighbor or address family: {addr}"));
    };
    let default_v4 = v.speaker.config().bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    let rows = match which {
        // What we sent: the best path of each prefix in the Adj-RIB-Out.
        Routes::Advertised => Rows::AdvertisedTo(p.id()),
        // Before policy: kept with soft-reconfiguration inbound only, as
        // in FRR, whose refusal this is (with the way out).
        Routes::Received if !p.config().family(afi, default_v4).soft_reconfiguration => {
            return Err(format!(
                "% Inbound soft reconfiguration not enabled: add `neighbor {addr} soft-reconfiguration inbound` \
                 under `address-family {} unicast`, or see the accepted routes with `show bgp neighbors {addr} routes`",
                super::afi_word(afi)
            ));
        }
        Routes::Received => Rows::Received(p.id()),
        Routes::Accepted => Rows::From(p.id()),
    };
    Ok(TableShow::new(afi, rows, json))
}
