//! `show` output in FRR's text layouts and JSON field names.

use std::fmt::Write;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde_json::{json, Map, Value};

use super::daemon::Daemon;
use super::kernel::NotInstalled;
use crate::bgp::fsm::State;
use crate::bgp::packet::{Afi, Origin};
use crate::bgp::rib::{Path, LOCAL};
use crate::bgp::speaker::Peer;

/// FRR's uptime form: `01:26:54`, `5d05h08m`, `02w3d04h`.
pub fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    let (w, day, h, m, sec) = (s / 604_800, s / 86_400 % 7, s / 3600 % 24, s / 60 % 60, s % 60);
    if s < 86_400 {
        format!("{h:02}:{m:02}:{sec:02}")
    } else if s < 604_800 {
        format!("{}d{h:02}h{m:02}m", s / 86_400)
    } else {
        format!("{w:02}w{day}d{h:02}h")
    }
}

fn afi_name(afi: Afi) -> (&'static str, &'static str) {
    match afi {
        Afi::Ipv4 => ("IPv4 Unicast", "ipv4Unicast"),
        Afi::Ipv6 => ("IPv6 Unicast", "ipv6Unicast"),
    }
}

pub(super) fn fi(afi: Afi) -> usize {
    match afi {
        Afi::Ipv4 => 0,
        Afi::Ipv6 => 1,
    }
}

fn configured(d: &Daemon) -> impl Iterator<Item = &Peer> {
    d.speaker.peers.iter().filter(|p| !p.removed)
}

fn peer_families(d: &Daemon, p: &Peer) -> Vec<Afi> {
    let def = d.speaker.config.bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    p.cfg.active_families(def)
}

/// The State/PfxRcd column: the count when Established, else the state.
fn state_or_count(d: &Daemon, p: &Peer, afi: Afi) -> (String, String) {
    let st = p.session.state();
    if p.cfg.shutdown.is_some() {
        return ("Idle (Admin)".into(), "0".into());
    }
    if p.overflow {
        return ("Idle (PfxCt)".into(), "0".into());
    }
    if st != State::Established {
        return (st.name().into(), "0".into());
    }
    let rcvd = if d.speaker.policy_blocked(p, afi, true) { "(Policy)".into() } else { p.accepted[fi(afi)].to_string() };
    let sent =
        if d.speaker.policy_blocked(p, afi, false) { "(Policy)".into() } else { p.adj_out[fi(afi)].len().to_string() };
    (rcvd, sent)
}

/// `show bgp [ipv4|ipv6 [unicast]] summary`; `headed`: each family's block
/// starts with its title, as FRR does unless the family was named.
pub fn summary(d: &Daemon, only: Option<Afi>, headed: bool, json: bool) -> String {
    let now = Instant::now();
    let sp = &d.speaker;
    let Some(b) = &sp.config.bgp else {
        return if json { "{}\n".into() } else { "% No BGP instance configured\n".into() };
    };
    let afis: Vec<Afi> = match only {
        Some(a) => vec![a],
        None => [Afi::Ipv4, Afi::Ipv6]
            .into_iter()
            .filter(|a| configured(d).any(|p| peer_families(d, p).contains(a)))
            .collect(),
    };
    let mut text = String::new();
    let mut js = Map::new();
    for afi in afis.iter() {
        let (title, key) = afi_name(*afi);
        let peers: Vec<&Peer> = configured(d).filter(|p| peer_families(d, p).contains(afi)).collect();
        let table = &sp.tables[fi(*afi)];
        let paths: usize = table.iter().map(|(_, p, _)| p.len()).sum();
        if json {
            let mut pj = Map::new();
            for p in &peers {
                let (rcvd, sent) = state_or_count(d, p, *afi);
                let up = now.saturating_duration_since(p.session.since());
                let blocked = d.speaker.policy_blocked(p, *afi, true) || d.speaker.policy_blocked(p, *afi, false);
                pj.insert(
                    p.cfg.addr.to_string(),
                    json!({
                        "remoteAs": p.remote_asn().unwrap_or(0),
                        "localAs": b.asn,
                        "version": 4,
                        "msgRcvd": p.msgs_in,
                        "msgSent": p.msgs_out,
                        "tableVersion": 0,
                        "outq": 0,
                        "inq": 0,
                        "peerUptime": uptime(up),
                        "peerUptimeMsec": up.as_millis() as u64,
                        "pfxRcd": p.accepted[fi(*afi)],
                        "pfxSnt": p.adj_out[fi(*afi)].len(),
                        "state": p.session.state().name(),
                        "peerState": if p.cfg.shutdown.is_some() { "Admin" } else if blocked { "Policy" } else { "OK" },
                        "connectionsEstablished": p.session.established_count,
                        "connectionsDropped": p.session.dropped_count,
                        "lastResetDueTo": p.session.last_error.clone().unwrap_or_default(),
                        "desc": p.cfg.description.clone().unwrap_or_default(),
                        "idType": if p.cfg.addr.is_ipv4() { "ipv4" } else { "ipv6" },
                        "rcvdDisplay": rcvd,
                        "sentDisplay": sent,
                    }),
                );
            }
            js.insert(
                key.into(),
                json!({
                    "routerId": sp.router_id.to_string(),
                    "as": b.asn,
                    "vrfId": 0,
                    "vrfName": "default",
                    "tableVersion": 0,
                    "ribCount": table.len(),
                    "ribMemory": paths * 56,
                    "peerCount": peers.len(),
                    "peers": Value::Object(pj),
                    "failedPeers": peers.iter().filter(|p| p.session.state() != State::Established).count(),
                    "displayedPeers": peers.len(),
                    "totalPeers": peers.len(),
                    "dynamicPeers": 0,
                }),
            );
            continue;
        }
        if headed {
            let _ = writeln!(text, "\n{title} Summary (VRF default):");
        }
        let _ = writeln!(text, "BGP router identifier {}, local AS number {} vrf-id 0", sp.router_id, b.asn);
        let _ = writeln!(text, "BGP table version 0");
        let _ = writeln!(text, "RIB entries {}, using {} bytes of memory", table.len(), paths * 56);
        let _ = writeln!(text, "Peers {}, using {} KiB of memory", peers.len(), peers.len() * 4);
        text.push('\n');
        let _ = writeln!(
            text,
            "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc"
        );
        let mut notes = Vec::new();
        for p in &peers {
            let (rcvd, sent) = state_or_count(d, p, *afi);
            let up = if p.session.state() == State::Established || p.session.established_count > 0 {
                uptime(now.saturating_duration_since(p.session.since()))
            } else {
                "never".into()
            };
            let addr = p.cfg.addr.to_string();
            let name = if addr.len() > 15 { format!("{addr}\n{:16}", "") } else { format!("{addr:<16}") };
            let _ = writeln!(
                text,
                "{name}4 {:>10} {:>9} {:>9} {:>8} {:>4} {:>4} {:>8} {:>12} {:>8} {}",
                p.remote_asn().unwrap_or(0),
                p.msgs_in,
                p.msgs_out,
                0,
                0,
                0,
                up,
                rcvd,
                sent,
                p.cfg.description.as_deref().unwrap_or("N/A")
            );
            for (inbound, dir) in [(true, "in"), (false, "out")] {
                if d.speaker.policy_blocked(p, *afi, inbound) {
                    notes.push(format!(
                        "% {addr}: (Policy) means RFC 8212 blocks it: add `neighbor {addr} prefix-list NAME {dir}` (or route-map), or `no bgp ebgp-requires-policy`"
                    ));
                }
            }
        }
        text.push('\n');
        let _ = writeln!(text, "Total number of neighbors {}", peers.len());
        for n in notes {
            let _ = writeln!(text, "{n}");
        }
    }
    if json {
        return format!("{}\n", serde_json::to_string_pretty(&Value::Object(js)).unwrap_or_default());
    }
    if afis.is_empty() {
        return "% No BGP neighbors found in VRF default\n".into();
    }
    text
}

fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "IGP",
        Origin::Egp => "EGP",
        Origin::Incomplete => "incomplete",
    }
}

pub(super) fn next_hop_text(p: &Path, afi: Afi) -> String {
    match (p.peer, p.attrs.next_hop) {
        (LOCAL, _) | (_, None) => if afi == Afi::Ipv4 { "0.0.0.0" } else { "::" }.into(),
        (_, Some(h)) => h.to_string(),
    }
}

/// `show bgp ipv4 unicast [PREFIX] [json]`.
pub fn bgp_table(d: &Daemon, afi: Afi, filter: Option<IpNet>, json: bool) -> String {
    table_view(d, afi, &|p, _| filter.is_none_or(|f| *p == f), false, json)
}

/// The BGP table, or the part of it `keep` (prefix, path) selects; with
/// `per_neighbor`, the footer of FRR's `neighbors X routes` views.
pub(super) fn table_view(
    d: &Daemon,
    afi: Afi,
    keep: &dyn Fn(&IpNet, &Path) -> bool,
    per_neighbor: bool,
    json: bool,
) -> String {
    let sp = &d.speaker;
    let Some(b) = &sp.config.bgp else { return "% No BGP instance configured\n".into() };
    let table = &sp.tables[fi(afi)];
    // In prefix order already.
    let rows: Vec<(IpNet, &[Path], usize)> =
        table.iter().filter(|(pfx, paths, _)| paths.iter().any(|p| keep(pfx, p))).collect();
    let peer_of = |id: u32| if id == LOCAL { None } else { sp.peers.get(id as usize - 1) };
    if json {
        let mut routes = Map::new();
        for (prefix, paths, n) in &rows {
            let list: Vec<Value> = paths
                .iter()
                .enumerate()
                .filter(|(_, p)| keep(prefix, p))
                .map(|(i, p)| {
                    let peer = peer_of(p.peer);
                    json!({
                        "valid": true,
                        "bestpath": i == 0,
                        "multipath": i < *n,
                        "pathFrom": if peer.is_some_and(|x| !x.ebgp(b.asn)) { "internal" } else { "external" },
                        "prefix": prefix.network().to_string(),
                        "prefixLen": prefix.prefix_len(),
                        "network": prefix.to_string(),
                        "metric": p.attrs.med,
                        "locPrf": p.attrs.local_pref,
                        "weight": if p.peer == LOCAL { 32768 } else { 0 },
                        "peerId": peer.map_or("(unspec)".to_string(), |x| x.cfg.addr.to_string()),
                        "path": p.attrs.as_path.to_string(),
                        "origin": origin_name(p.attrs.origin),
                        "nexthops": [{ "ip": next_hop_text(p, afi), "afi": if afi == Afi::Ipv4 { "ipv4" } else { "ipv6" }, "used": true }],
                    })
                })
                .collect();
            routes.insert(prefix.to_string(), Value::Array(list));
        }
        let v = json!({
            "vrfId": 0,
            "vrfName": "default",
            "tableVersion": 0,
            "routerId": sp.router_id.to_string(),
            "defaultLocPrf": 100,
            "localAS": b.asn,
            "totalPrefixCounter": routes.len(),
            "routes": Value::Object(routes),
        });
        return format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let mut s = String::new();
    let _ = writeln!(s, "BGP table version is 0, local router ID is {}, vrf id 0", sp.router_id);
    let _ = writeln!(s, "Default local pref 100, local AS {}", b.asn);
    s.push_str("Status codes:  s suppressed, d damped, h history, * valid, > best, = multipath,\n");
    s.push_str("               i internal, r RIB-failure, S Stale, R Removed\n");
    s.push_str("Nexthop codes: @NNN nexthop's vrf id, < announce-nh-self\n");
    s.push_str("Origin codes:  i - IGP, e - EGP, ? - incomplete\n");
    s.push_str("RPKI validation codes: V valid, I invalid, N Not found\n\n");
    s.push_str("   Network          Next Hop            Metric LocPrf Weight Path\n");
    let mut total = 0;
    for (prefix, paths, n) in &rows {
        for (i, p) in paths.iter().enumerate() {
            if !keep(prefix, p) {
                continue;
            }
            total += 1;
            let internal = peer_of(p.peer).is_some_and(|x| !x.ebgp(b.asn));
            let fib_fail =
                i == 0 && p.peer != LOCAL && matches!(d.fib.installed(prefix), Err(NotInstalled::Rejected(_)));
            let mark = match (i, i < *n) {
                (0, _) => '>',
                (_, true) => '=',
                _ => ' ',
            };
            let status = format!("{}{mark}{}", if fib_fail { 'r' } else { '*' }, if internal { 'i' } else { ' ' });
            let net = if i == 0 || per_neighbor { prefix.to_string() } else { String::new() };
            let hop = next_hop_text(p, afi);
            let metric = p.attrs.med.map(|m| m.to_string()).unwrap_or_default();
            let lp = p.attrs.local_pref.map(|m| m.to_string()).unwrap_or_default();
            let weight = if p.peer == LOCAL { 32768 } else { 0 };
            let path = p.attrs.as_path.to_string();
            let path = if path.is_empty() { String::new() } else { format!("{path} ") };
            let net = if net.len() > 16 { format!("{net}\n{:20}", "") } else { format!("{net:<17}") };
            let _ =
                writeln!(s, "{status}{net}{hop:<20}{metric:>6} {lp:>6} {weight:>6} {path}{}", p.attrs.origin.code());
        }
    }
    if per_neighbor {
        let _ = writeln!(s, "\nTotal number of prefixes {total}");
    } else {
        let _ = writeln!(s, "\nDisplayed  {} routes and {} total paths", rows.len(), total);
    }
    s
}

/// `show bgp memory`: FRR's counts, with bytes as our structures size
/// them (the element sizes times the counts; allocator overhead aside).
pub fn memory(d: &Daemon) -> String {
    use std::mem::size_of;
    let sp = &d.speaker;
    let nodes: usize = sp.tables.iter().map(|t| t.len()).sum();
    let paths: usize = sp.tables.iter().flat_map(|t| t.iter().map(|(_, p, _)| p.len())).sum();
    let adj_out: usize = sp.peers.iter().map(|p| p.adj_out.iter().map(|t| t.len()).sum::<usize>()).sum();
    let sets = sp.attr_sets();
    let mut s = String::new();
    let _ = writeln!(s, "{nodes} RIB nodes, using {} bytes of memory", nodes * 24);
    let _ = writeln!(s, "{paths} BGP routes, using {} bytes of memory", paths * size_of::<Path>());
    let _ = writeln!(s, "{adj_out} Adj-Out entries, using {} bytes of memory", adj_out * (size_of::<IpNet>() + 8));
    let attr = size_of::<crate::bgp::packet::PathAttrs>() + 16;
    let _ = writeln!(s, "{sets} BGP attributes, using {} bytes of memory", sets * attr);
    let _ = writeln!(s, "{} peers", sp.peers.iter().filter(|p| !p.removed).count());
    s
}

/// `show health json`: what `healthcheck` reports. Healthy when every
/// configured neighbor that is not shut down is Established, every
/// selected BGP route is in the FIB (or rightly held back), and every
/// `network` is originated and advertised to every established neighbor.
pub fn health(d: &Daemon) -> String {
    let now = Instant::now();
    let sp = &d.speaker;
    let mut failures = Vec::new();
    let mut neighbors = Map::new();
    for p in configured(d) {
        let st = p.session.state();
        let since = now.saturating_duration_since(p.session.since()).as_secs();
        neighbors.insert(
            p.cfg.addr.to_string(),
            json!({"state": st.name(), "for": since, "lastError": p.session.last_error, "shutdown": p.cfg.shutdown.is_some()}),
        );
        if p.cfg.shutdown.is_some() || st == State::Established {
            continue;
        }
        let why = match (&p.session.last_error, p.overflow) {
            (_, true) => ", stopped by maximum-prefix (clear bgp to restart)".to_string(),
            (Some(e), _) => format!(", last error: {e}"),
            (None, _) => String::new(),
        };
        failures.push(format!("neighbor {}: {} for {since}s{why}", p.cfg.addr, st.name()));
    }
    let mut rejected = 0;
    for (afi, table) in [Afi::Ipv4, Afi::Ipv6].iter().zip(&sp.tables) {
        for (prefix, paths, n) in table.iter() {
            if n == 0 || paths[0].peer == LOCAL {
                continue;
            }
            if let Err(NotInstalled::Rejected(e)) = d.fib.installed(&prefix) {
                rejected += 1;
                if rejected <= 10 {
                    failures.push(format!("route {prefix}: not in the FIB: {e}"));
                }
            }
        }
        if let Some(b) = &sp.config.bgp {
            for net in b.family(*afi).networks.clone() {
                if !sp.is_originated(&net) {
                    failures.push(format!("network {net}: not advertised: no such route in the kernel (import check)"));
                    continue;
                }
                for p in configured(d).filter(|p| p.conn.is_some() && peer_families(d, p).contains(afi)) {
                    if !p.adj_out[fi(*afi)].contains_key(&net) {
                        failures.push(format!("network {net}: not advertised to {} (outbound policy?)", p.cfg.addr));
                    }
                }
            }
        }
    }
    if rejected > 10 {
        failures.push(format!("... and {} more routes not in the FIB", rejected - 10));
    }
    let v = json!({"healthy": failures.is_empty(), "failures": failures, "neighbors": Value::Object(neighbors)});
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}
