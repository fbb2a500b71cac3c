//! `show bgp neighbors [X] [advertised-routes|received-routes|routes]`:
//! FRR's per-neighbor view, as far as bgpd keeps the facts it shows.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::daemon::Daemon;
use super::show::{fi, table_view, uptime};
use crate::bgp::fsm::State;
use crate::bgp::packet::Afi;
use crate::bgp::packet::Capability;
use crate::bgp::speaker::Peer;

/// Which of a neighbor's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    Advertised,
    Received,
    Accepted,
}

fn family_title(afi: Afi) -> &'static str {
    match afi {
        Afi::Ipv4 => "IPv4 Unicast",
        Afi::Ipv6 => "IPv6 Unicast",
    }
}

pub fn neighbors(d: &Daemon, addr: Option<IpAddr>, json: bool) -> Result<String, String> {
    let sp = &d.speaker;
    let Some(b) = &sp.config.bgp else { return Err("% No BGP instance configured".into()) };
    let peers: Vec<&Peer> = sp.peers.iter().filter(|p| !p.removed && addr.is_none_or(|a| a == p.cfg.addr)).collect();
    if let (Some(a), true) = (addr, peers.is_empty()) {
        return Err(format!("% No such neighbor in this view/vrf: {a}"));
    }
    let now = Instant::now();
    let def_v4 = b.default_ipv4_unicast;
    let mut s = String::new();
    let mut js = Map::new();
    for p in peers {
        let st = p.session.state();
        let neg = p.negotiated.as_ref();
        let ebgp = p.ebgp(b.asn);
        let remote = p.remote_asn().unwrap_or(0);
        let up = now.saturating_duration_since(p.session.since());
        let (hold, keep) =
            neg.map_or_else(|| p.cfg.timers.map_or((180, 60), |(k, h)| (h, k)), |n| (n.hold_time, n.keepalive));
        let caps = neg.map(|n| n.peer.capabilities.as_slice()).unwrap_or(&[]);
        let has = |f: &dyn Fn(&Capability) -> bool| caps.iter().any(f);
        let rcv = |yes: bool| if yes { "advertised and received" } else { "advertised" };
        let families = p.cfg.active_families(def_v4);
        let local = p.local_addr.map(|a| a.to_string()).unwrap_or_default();
        if json {
            let mut fam = Map::new();
            for afi in &families {
                fam.insert(
                    match afi {
                        Afi::Ipv4 => "ipv4Unicast".into(),
                        Afi::Ipv6 => "ipv6Unicast".into(),
                    },
                    json!({
                        "acceptedPrefixCounter": p.accepted[fi(*afi)],
                        "sentPrefixCounter": p.adj_out[fi(*afi)].len(),
                    }),
                );
            }
            js.insert(
                p.cfg.addr.to_string(),
                json!({
                    "remoteAs": remote,
                    "localAs": b.asn,
                    "nbrExternalLink": ebgp,
                    "nbrDesc": p.cfg.description.clone().unwrap_or_default(),
                    "bgpVersion": 4,
                    "remoteRouterId": neg.map(|n| n.peer.bgp_id.to_string()).unwrap_or_else(|| "0.0.0.0".into()),
                    "localRouterId": sp.router_id.to_string(),
                    "bgpState": st.name(),
                    "bgpTimerUpMsec": if st == State::Established { up.as_millis() as u64 } else { 0 },
                    "bgpTimerHoldTimeMsecs": hold as u64 * 1000,
                    "bgpTimerKeepAliveIntervalMsecs": keep as u64 * 1000,
                    "messageStats": {"totalSent": p.msgs_out, "totalRecv": p.msgs_in},
                    "addressFamilyInfo": fam,
                    "connectionsEstablished": p.session.established_count,
                    "connectionsDropped": p.session.dropped_count,
                    "lastResetDueTo": p.session.last_error.clone().unwrap_or_default(),
                    "hostLocal": local,
                    "hostForeign": p.cfg.addr.to_string(),
                }),
            );
            continue;
        }
        let link = if ebgp { "external" } else { "internal" };
        let _ = writeln!(s, "BGP neighbor is {}, remote AS {remote}, local AS {}, {link} link", p.cfg.addr, b.asn);
        if let Some(desc) = &p.cfg.description {
            let _ = writeln!(s, " Description: {desc}");
        }
        let rid = neg.map(|n| n.peer.bgp_id.to_string()).unwrap_or_else(|| "0.0.0.0".into());
        let _ = writeln!(s, "  BGP version 4, remote router ID {rid}, local router ID {}", sp.router_id);
        match st {
            State::Established => {
                let _ = writeln!(s, "  BGP state = Established, up for {}", uptime(up));
            }
            _ if p.cfg.shutdown.is_some() => {
                let _ = writeln!(s, "  BGP state = Idle (Admin)");
            }
            _ => {
                let _ = writeln!(s, "  BGP state = {}", st.name());
            }
        }
        let _ = writeln!(s, "  Hold time is {hold}, keepalive interval is {keep} seconds");
        if st == State::Established {
            s.push_str("  Neighbor capabilities:\n");
            let _ = writeln!(s, "    4 Byte AS: {}", rcv(has(&|c| matches!(c, Capability::FourOctetAs(_)))));
            let _ = writeln!(s, "    Extended Message: {}", rcv(has(&|c| *c == Capability::ExtendedMessage)));
            let _ = writeln!(s, "    Route refresh: {}", rcv(has(&|c| *c == Capability::RouteRefresh)));
            for afi in &families {
                let code = if *afi == Afi::Ipv4 { 1 } else { 2 };
                let got = has(&|c| *c == Capability::Multiprotocol(code, 1));
                let _ = writeln!(s, "    Address Family {}: {}", family_title(*afi), rcv(got));
            }
        }
        s.push_str("  Message statistics:\n");
        let _ = writeln!(s, "                         Sent       Rcvd");
        let _ = writeln!(s, "    Total:         {:>10} {:>10}", p.msgs_out, p.msgs_in);
        s.push('\n');
        for afi in &families {
            let f = p.cfg.family(*afi, def_v4);
            let _ = writeln!(s, " For address family: {}", family_title(*afi));
            if let Some(l) = &f.prefix_list_in {
                let _ = writeln!(s, "  Incoming update prefix filter list is *{l}");
            }
            if let Some(l) = &f.prefix_list_out {
                let _ = writeln!(s, "  Outgoing update prefix filter list is *{l}");
            }
            if let Some(m) = &f.route_map_in {
                let _ = writeln!(s, "  Route map for incoming advertisements is *{m}");
            }
            if let Some(m) = &f.route_map_out {
                let _ = writeln!(s, "  Route map for outgoing advertisements is *{m}");
            }
            for (inbound, dir) in [(true, "Inbound"), (false, "Outbound")] {
                if sp.policy_blocked(p, *afi, inbound) {
                    let _ = writeln!(
                        s,
                        "  {dir} updates discarded due to missing policy (RFC 8212): add `neighbor {} prefix-list NAME {}` or `no bgp ebgp-requires-policy`",
                        p.cfg.addr,
                        if inbound { "in" } else { "out" }
                    );
                }
            }
            let _ = writeln!(s, "  {} accepted prefixes", p.accepted[fi(*afi)]);
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "  Connections established {}; dropped {}",
            p.session.established_count, p.session.dropped_count
        );
        if let Some(e) = &p.session.last_error {
            let _ = writeln!(s, "  Last reset {}", e);
        }
        if st == State::Established {
            let _ = writeln!(s, "Local host: {local}\nForeign host: {}", p.cfg.addr);
        }
        s.push('\n');
    }
    if json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&Value::Object(js)).unwrap_or_default()));
    }
    Ok(s)
}

/// `show bgp neighbors X advertised-routes|received-routes|routes`.
pub fn routes(d: &Daemon, afi: Afi, addr: IpAddr, which: Routes, json: bool) -> Result<String, String> {
    let sp = &d.speaker;
    let Some(p) = sp.peers.iter().find(|p| !p.removed && p.cfg.addr == addr) else {
        return Err(format!("% No such neighbor or address family: {addr}"));
    };
    let table = &sp.tables[fi(afi)];
    let mut out = match which {
        // What we sent: the best path of each prefix in the Adj-RIB-Out.
        Routes::Advertised => {
            let adj = &p.adj_out[fi(afi)];
            table_view(
                d,
                afi,
                &|pfx, path| adj.contains_key(pfx) && table.paths(pfx).first().is_some_and(|b| std::ptr::eq(b, path)),
                true,
                json,
            )
        }
        Routes::Received | Routes::Accepted => table_view(d, afi, &|_, path| path.peer == p.id, true, json),
    };
    if which == Routes::Received && !json {
        // FRR needs `soft-reconfiguration inbound` to keep a pre-policy copy;
        // bgpd never keeps one, and says so instead of refusing.
        out.push_str("(bgpd keeps the routes that passed inbound policy only; the ones it denied are not shown)\n");
    }
    Ok(out)
}
