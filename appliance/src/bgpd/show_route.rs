//! `show ip route` / `show ipv6 route`: the kernel's connected, kernel and
//! static routes next to BGP's, in FRR's layout (codes, `>*` markers,
//! `[distance/metric]`, age).

use std::fmt::Write;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use serde_json::{json, Map, Value};

use super::daemon::Daemon;
use super::kernel::NotInstalled;
use super::show::{fi, next_hop_text, uptime};
use crate::bgp::packet::Afi;
use crate::bgp::rib::LOCAL;
use crate::netlink::{RTPROT_KERNEL, RTPROT_STATIC};

const ROUTE_CODES: &str = "Codes: K - kernel route, C - connected, S - static, R - RIP,
       O - OSPF, I - IS-IS, B - BGP, E - EIGRP, N - NHRP,
       T - Table, v - VNC, V - VNC-Direct, A - Babel, F - PBR,
       f - OpenFabric,
       > - selected route, * - FIB route, q - queued, r - rejected, b - backup
       t - trapped, o - offload failure
";

/// Which routes: a protocol, and a prefix or an address (longest match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Bgp,
    Connected,
    Kernel,
    Static,
}

impl Proto {
    pub fn from_word(w: &str) -> Option<Proto> {
        match w {
            "bgp" => Some(Proto::Bgp),
            "connected" => Some(Proto::Connected),
            "kernel" => Some(Proto::Kernel),
            "static" => Some(Proto::Static),
            _ => None,
        }
    }

    fn code(self) -> char {
        match self {
            Proto::Bgp => 'B',
            Proto::Connected => 'C',
            Proto::Kernel => 'K',
            Proto::Static => 'S',
        }
    }

    fn name(self) -> &'static str {
        match self {
            Proto::Bgp => "bgp",
            Proto::Connected => "connected",
            Proto::Kernel => "kernel",
            Proto::Static => "static",
        }
    }

    /// The order FRR lists a prefix's routes in.
    fn rank(self) -> u8 {
        match self {
            Proto::Kernel => 0,
            Proto::Connected => 1,
            Proto::Static => 2,
            Proto::Bgp => 3,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Filter {
    Prefix(IpNet),
    Address(IpAddr),
}

struct Row {
    prefix: IpNet,
    proto: Proto,
    text: String,
    json: Value,
}

pub fn route(d: &Daemon, afi: Afi, only: Option<Proto>, filter: Option<Filter>, json: bool) -> String {
    let now = Instant::now();
    let mut rows = Vec::new();
    if only.is_none_or(|p| p == Proto::Bgp) {
        bgp_rows(d, afi, now, &mut rows);
    }
    if only.is_none_or(|p| p != Proto::Bgp) {
        kernel_rows(d, afi, only, now, &mut rows);
    }
    match filter {
        Some(Filter::Prefix(p)) => rows.retain(|r| r.prefix == p),
        Some(Filter::Address(a)) => {
            let best = rows.iter().filter(|r| r.prefix.contains(&a)).map(|r| r.prefix.prefix_len()).max();
            rows.retain(|r| r.prefix.contains(&a) && Some(r.prefix.prefix_len()) == best);
        }
        None => {}
    }
    rows.sort_by_key(|r| (r.prefix, r.proto.rank()));
    if json {
        let mut js = Map::new();
        for r in rows {
            match js.entry(r.prefix.to_string()).or_insert_with(|| Value::Array(vec![])) {
                Value::Array(a) => a.push(r.json),
                _ => unreachable!(),
            }
        }
        return format!("{}\n", serde_json::to_string_pretty(&Value::Object(js)).unwrap_or_default());
    }
    let mut s = format!("{ROUTE_CODES}\n");
    for r in rows {
        s.push_str(&r.text);
    }
    s
}

fn bgp_rows(d: &Daemon, afi: Afi, now: Instant, rows: &mut Vec<Row>) {
    let sp = &d.speaker;
    for (prefix, paths, n) in sp.tables[fi(afi)].iter() {
        if n == 0 || paths[0].peer == LOCAL {
            continue;
        }
        let installed = d.fib.installed(&prefix);
        let ibgp = sp.peers.get(paths[0].peer as usize - 1).is_some_and(|p| !p.ebgp(sp.local_as()));
        let distance = if ibgp { 200 } else { 20 };
        let age = now.saturating_duration_since(sp.epoch() + Duration::from_secs(paths[0].since as u64));
        let (sel, fib) = match &installed {
            Ok(()) => ('>', '*'),
            Err(NotInstalled::Rejected(_)) => ('>', 'r'),
            Err(_) => (' ', ' '),
        };
        let med = paths[0].attrs.med.unwrap_or(0);
        let hops: Vec<Value> = paths[..n]
            .iter()
            .map(|p| {
                json!({"ip": next_hop_text(p, afi), "afi": afi_word(afi), "interfaceName": d.ifname_for(p.attrs.next_hop),
                       "active": true, "fib": installed.is_ok(), "weight": 1})
            })
            .collect();
        let js = json!({
            "prefix": prefix.to_string(),
            "protocol": "bgp",
            "selected": installed.is_ok() || matches!(installed, Err(NotInstalled::Rejected(_))),
            "installed": installed.is_ok(),
            "distance": distance,
            "metric": med,
            "uptime": uptime(age),
            "nexthops": hops,
        });
        let mut text = String::new();
        let head = format!("B{sel}{fib} {prefix} [{distance}/{med}]");
        for (i, p) in paths[..n].iter().enumerate() {
            let lead = if i == 0 { head.clone() } else { format!("  {fib}{:w$}", "", w = head.len() - 3) };
            let hop = next_hop_text(p, afi);
            let _ = writeln!(text, "{lead} via {hop}, {}, weight 1, {}", d.ifname_for(p.attrs.next_hop), uptime(age));
        }
        rows.push(Row { prefix, proto: Proto::Bgp, text, json: js });
    }
}

fn kernel_rows(d: &Daemon, afi: Afi, only: Option<Proto>, now: Instant, rows: &mut Vec<Row>) {
    for r in d.speaker.kernel.table.iter().filter(|r| Afi::of(&r.prefix) == afi) {
        let proto = match (r.connected, r.protocol) {
            (true, RTPROT_KERNEL) => Proto::Connected,
            (_, RTPROT_STATIC) => Proto::Static,
            _ => Proto::Kernel,
        };
        if only.is_some_and(|o| o != proto) {
            continue;
        }
        let since = d.kernel_since.get(&r.prefix).copied().unwrap_or(d.started);
        let age = uptime(now.saturating_duration_since(since));
        let distance = match proto {
            Proto::Static => 1,
            _ => 0,
        };
        let mut text = String::new();
        let head = format!("{}>* {}", proto.code(), r.prefix);
        if proto == Proto::Connected {
            let _ = writeln!(text, "{head} is directly connected, {}, {age}", r.ifname);
        } else {
            let head = format!("{head} [{distance}/{}]", r.metric);
            // Static routes carry FRR's `weight 1`, kernel routes do not.
            let weight = if proto == Proto::Static { ", weight 1" } else { "" };
            if r.gateways.is_empty() {
                let _ = writeln!(text, "{head} is directly connected, {}{weight}, {age}", r.ifname);
            }
            for (i, g) in r.gateways.iter().enumerate() {
                let lead = if i == 0 { head.clone() } else { format!("  *{:w$}", "", w = head.len() - 3) };
                let _ = writeln!(text, "{lead} via {g}, {}{weight}, {age}", r.ifname);
            }
        }
        let hops: Vec<Value> = if r.gateways.is_empty() {
            vec![json!({"directlyConnected": true, "interfaceName": r.ifname, "active": true, "fib": true})]
        } else {
            r.gateways
                .iter()
                .map(|g| json!({"ip": g.to_string(), "afi": afi_word(afi), "interfaceName": r.ifname, "active": true, "fib": true}))
                .collect()
        };
        let js = json!({
            "prefix": r.prefix.to_string(),
            "protocol": proto.name(),
            "selected": true,
            "installed": true,
            "distance": distance,
            "metric": r.metric,
            "uptime": age,
            "nexthops": hops,
        });
        rows.push(Row { prefix: r.prefix, proto, text, json: js });
    }
}

fn afi_word(afi: Afi) -> &'static str {
    match afi {
        Afi::Ipv4 => "ipv4",
        Afi::Ipv6 => "ipv6",
    }
}
