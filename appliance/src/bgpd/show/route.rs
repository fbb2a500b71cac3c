//! `show ip route` / `show ipv6 route`: the kernel's connected, kernel and
//! static routes next to BGP's, in FRR's layout (codes, `>*` markers,
//! `[distance/metric]`, age); paged over the BGP table.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde_json::{json, Value};

use super::{afi_word, next_hop_text, uptime, Paged, View};
use crate::bgp::packet::Afi;
use crate::bgp::rib::Path;
use crate::bgp::speaker::{Hops, HostRoute};
use crate::bgpd::fib::NotInstalled;
use crate::netlink::{self, RTPROT_KERNEL, RTPROT_STATIC};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

pub struct RouteShow {
    afi: Afi,
    only: Option<Proto>,
    filter: Option<Filter>,
    json: bool,
    after: Option<IpNet>,
    started: bool,
    done: bool,
    shown: usize,
}

impl RouteShow {
    pub fn new(afi: Afi, only: Option<Proto>, filter: Option<Filter>, json: bool) -> RouteShow {
        RouteShow { afi, only, filter, json, after: None, started: false, done: false, shown: 0 }
    }

    /// The BGP rows after the cursor, at most `budget` prefixes looked
    /// at; the last one looked at, or None when the table is done.
    fn bgp_rows(&self, v: &View, budget: usize, rows: &mut Vec<Row>) -> Option<IpNet> {
        let mut last = None;
        for (seen, (prefix, paths, n)) in v.speaker.table(self.afi).iter_after(self.after).enumerate() {
            if seen == budget {
                return last;
            }
            last = Some(prefix);
            if let Some(r) = bgp_row(v, self.afi, prefix, &paths[..n]) {
                rows.push(r);
            }
        }
        None
    }

    fn rows(&self, v: &View, budget: usize) -> (Vec<Row>, Option<IpNet>) {
        let mut rows = Vec::new();
        let mut upto = None;
        if self.only.is_none_or(|p| p == Proto::Bgp) {
            // A filtered show looks at the whole table (a few at most match).
            let budget = if self.filter.is_some() { usize::MAX } else { budget };
            upto = self.bgp_rows(v, budget, &mut rows);
        }
        if self.only.is_none_or(|p| p != Proto::Bgp) {
            let host = &v.speaker.host().table;
            for r in host.iter().filter(|r| Afi::of(&r.prefix) == self.afi) {
                let in_slice = self.after.is_none_or(|a| r.prefix > a) && upto.is_none_or(|u| r.prefix <= u);
                if in_slice {
                    if let Some(row) = host_row(v, self.afi, self.only, r) {
                        rows.push(row);
                    }
                }
            }
        }
        match self.filter {
            Some(Filter::Prefix(p)) => rows.retain(|r| r.prefix == p),
            Some(Filter::Address(a)) => {
                let best = rows.iter().filter(|r| r.prefix.contains(&a)).map(|r| r.prefix.prefix_len()).max();
                rows.retain(|r| r.prefix.contains(&a) && Some(r.prefix.prefix_len()) == best);
            }
            None => {}
        }
        rows.sort_by_key(|r| (r.prefix, r.proto.rank()));
        (rows, upto)
    }
}

impl Paged for RouteShow {
    fn next(&mut self, v: &View, budget: usize) -> Option<String> {
        if self.done {
            return None;
        }
        let mut out = match (self.started, self.json) {
            (true, _) => String::new(),
            (false, true) => "{".into(),
            (false, false) => ROUTE_CODES.into(),
        };
        self.started = true;
        let (rows, upto) = self.rows(v, budget);
        let mut i = 0;
        while i < rows.len() {
            let prefix = rows[i].prefix;
            let same: Vec<&Row> = rows[i..].iter().take_while(|r| r.prefix == prefix).collect();
            i += same.len();
            if self.json {
                let list = Value::Array(same.iter().map(|r| r.json.clone()).collect());
                let sep = if self.shown == 0 { "" } else { "," };
                let _ = write!(out, "{sep}\n  \"{prefix}\": {}", serde_json::to_string(&list).unwrap_or_default());
            } else {
                same.iter().for_each(|r| out.push_str(&r.text));
            }
            self.shown += 1;
        }
        match upto {
            Some(u) => self.after = Some(u),
            None => {
                self.done = true;
                if self.json {
                    out.push_str("\n}\n");
                }
            }
        }
        Some(out)
    }
}

fn bgp_row(v: &View, afi: Afi, prefix: IpNet, selected: &[Path]) -> Option<Row> {
    if matches!(v.speaker.fib_hops(selected), Hops::None) {
        return None;
    }
    let sp = v.speaker;
    let installed = v.fib.installed(&prefix);
    let best = &selected[0];
    let ibgp = sp.peer_by_id(best.peer).is_some_and(|p| !p.ebgp(sp.local_as()));
    let distance = if ibgp { 200 } else { 20 };
    let age = v.now.saturating_duration_since(sp.epoch() + Duration::from_secs(best.since as u64));
    let (sel, fib) = match &installed {
        Ok(()) => ('>', '*'),
        Err(NotInstalled::Rejected(_)) => ('>', 'r'),
        Err(_) => (' ', ' '),
    };
    let med = best.attrs.med.get().unwrap_or(0);
    // What the kernel has: a link-local next hop with the interface of
    // the neighbor it came from, else the next hop on its network.
    let via = |p: &Path| -> (String, String) {
        let name = |a: IpAddr| sp.host().ifname_for(a).unwrap_or("").to_string();
        match sp.fib_hops(std::slice::from_ref(p)) {
            Hops::One((ll, oif)) if oif != 0 => (ll.to_string(), sp.host().link_name(oif).unwrap_or("").to_string()),
            _ => (next_hop_text(p, afi), p.attrs.next_hop().map_or(String::new(), name)),
        }
    };
    let hops: Vec<Value> = selected
        .iter()
        .map(|p| {
            let (ip, ifname) = via(p);
            json!({"ip": ip, "afi": afi_word(afi), "interfaceName": ifname,
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
    for (i, p) in selected.iter().enumerate() {
        let lead = if i == 0 { head.clone() } else { format!("  {fib}{:w$}", "", w = head.len() - 3) };
        let (ip, ifname) = via(p);
        let _ = writeln!(text, "{lead} via {ip}, {ifname}, weight 1, {}", uptime(age));
    }
    Some(Row { prefix, proto: Proto::Bgp, text, json: js })
}

fn host_row(v: &View, afi: Afi, only: Option<Proto>, r: &HostRoute) -> Option<Row> {
    let proto = match (r.connected, r.protocol) {
        (true, RTPROT_KERNEL) => Proto::Connected,
        (_, RTPROT_STATIC) => Proto::Static,
        _ => Proto::Kernel,
    };
    if only.is_some_and(|o| o != proto) {
        return None;
    }
    let since = v.kernel_since.get(&r.prefix).copied().unwrap_or(v.started);
    let age = uptime(v.now.saturating_duration_since(since));
    // A static route's distance is the config's (FRR's 1 by default); its
    // metric 0, whatever the kernel's (FRR's zebra installs them with 20).
    let (distance, metric) = match proto {
        Proto::Static => {
            let d = v.speaker.config().statics.iter().find(|s| s.prefix == r.prefix).and_then(|s| s.distance);
            (d.unwrap_or(1), 0)
        }
        _ => (0, r.metric),
    };
    let mut text = String::new();
    let head = format!("{}>* {}", proto.code(), r.prefix);
    let dropped = match r.kind {
        netlink::RTN_BLACKHOLE => Some("blackhole"),
        netlink::RTN_UNREACHABLE => Some("ICMP unreachable"),
        netlink::RTN_PROHIBIT => Some("ICMP admin-prohibited"),
        _ => None,
    };
    if proto == Proto::Connected {
        let _ = writeln!(text, "{head} is directly connected, {}, {age}", r.ifname);
    } else {
        let head = format!("{head} [{distance}/{metric}]");
        // Static routes carry FRR's `weight 1`, kernel routes do not.
        let weight = if proto == Proto::Static { ", weight 1" } else { "" };
        if let Some(why) = dropped {
            let _ = writeln!(text, "{head} unreachable ({why}){weight}, {age}");
        } else if r.gateways.is_empty() {
            let _ = writeln!(text, "{head} is directly connected, {}{weight}, {age}", r.ifname);
        }
        for (i, g) in r.gateways.iter().enumerate() {
            let lead = if i == 0 { head.clone() } else { format!("  *{:w$}", "", w = head.len() - 3) };
            let _ = writeln!(text, "{lead} via {g}, {}{weight}, {age}", r.ifname);
        }
    }
    let hops: Vec<Value> = if let Some(why) = dropped {
        vec![json!({"unreachable": true, "blackhole": why == "blackhole", "active": true, "fib": true})]
    } else if r.gateways.is_empty() {
        vec![json!({"directlyConnected": true, "interfaceName": r.ifname, "active": true, "fib": true})]
    } else {
        r.gateways
            .iter()
            .map(|g| json!({"ip": g.to_string(), "afi": afi_word(afi), "interfaceName": r.ifname, "active": true, "fib": true}))
            .collect()
    };
    let json = json!({
        "prefix": r.prefix.to_string(), "protocol": proto.name(), "selected": true, "installed": true,
        "distance": distance, "metric": metric, "uptime": age, "nexthops": hops,
    });
    Some(Row { prefix: r.prefix, proto, text, json })
}
