//! `ip route` / `ipv6 route` of the config, in the kernel as FRR's zebra
//! puts them: protocol static, metric 20 (so that they are told apart
//! from netsetup's, which have metric 0, and found again after a
//! restart). One route a prefix: the lowest distance, the first written.
//! A route the kernel refuses (its gateway not reachable yet) is tried
//! again at each change the kernel reports, and said once.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::bgp::config::{StaticRoute, StaticVia};
use crate::bgp::speaker::{Host, HostRoute};
use crate::netlink::{self, Socket, StaticKind, RTPROT_STATIC, STATIC_METRIC};

#[derive(Default)]
pub struct Statics {
    /// The routes the kernel refused, said once until they go in.
    failed: HashSet<StaticRoute>,
}

/// The route each prefix gets: the lowest distance, the first written.
fn wanted(config: &[StaticRoute]) -> BTreeMap<IpNet, &StaticRoute> {
    let mut out: BTreeMap<IpNet, &StaticRoute> = BTreeMap::new();
    for r in config {
        let d = r.distance.unwrap_or(1);
        match out.get(&r.prefix) {
            Some(have) if have.distance.unwrap_or(1) <= d => {}
            _ => {
                out.insert(r.prefix, r);
            }
        }
    }
    out
}

/// Whether the kernel's route is this config route already.
fn same(k: &HostRoute, r: &StaticRoute) -> bool {
    match &r.via {
        StaticVia::Gateway(g, i) => k.gateways == [*g] && i.as_ref().is_none_or(|i| *i == k.ifname),
        StaticVia::Interface(i) => k.gateways.is_empty() && k.ifname == *i,
        StaticVia::Blackhole(_) => k.kind == netlink::RTN_BLACKHOLE,
        StaticVia::Reject => k.kind == netlink::RTN_UNREACHABLE,
    }
}

fn ours(k: &HostRoute) -> bool {
    k.protocol == RTPROT_STATIC && k.metric == STATIC_METRIC
}

impl Statics {
    /// Makes the kernel's static routes of metric 20 those of the config:
    /// adds what is missing, removes what the config no longer has.
    /// Returns the lines to log (warnings).
    pub fn sync(&mut self, config: &[StaticRoute], host: &Host) -> Vec<String> {
        let want = wanted(config);
        let have: Vec<&HostRoute> = host.table.iter().filter(|k| ours(k)).collect();
        let mut todo: Vec<(IpNet, StaticKind, bool, Option<&StaticRoute>)> = Vec::new();
        for k in &have {
            if !want.get(&k.prefix).is_some_and(|r| same(k, r)) {
                todo.push((k.prefix, kind_of_kernel(k), false, None));
            }
        }
        let mut log = Vec::new();
        for (p, r) in &want {
            if have.iter().any(|k| k.prefix == *p && same(k, r)) {
                self.failed.remove(*r);
                continue;
            }
            match kind_of(r) {
                Ok(kind) => todo.push((*p, kind, true, Some(r))),
                Err(e) => {
                    if self.failed.insert((*r).clone()) {
                        log.push(e);
                    }
                }
            }
        }
        if todo.is_empty() {
            return log;
        }
        let mut sock = match Socket::open(0) {
            Ok(s) => s,
            Err(e) => return vec![format!("static routes: netlink: {e}")],
        };
        for (seq, (prefix, kind, add, r)) in todo.into_iter().enumerate() {
            let mut m = Vec::new();
            netlink::static_route(&mut m, seq as u32 + 1, &prefix, kind, Some(STATIC_METRIC), add);
            match (sock.request(&m), r) {
                (Ok(()), Some(r)) => {
                    self.failed.remove(r);
                }
                (Err(e), Some(r)) if self.failed.insert(r.clone()) => {
                    log.push(format!(
                        "ip route {prefix} {}: the kernel refused it: {e}; tried again as the network changes",
                        r.via
                    ));
                }
                (Err(e), None) if e.raw_os_error() != Some(nix::libc::ESRCH) => {
                    log.push(format!("ip route {prefix}: could not remove it: {e}"));
                }
                _ => {}
            }
        }
        log
    }
}

fn kind_of(r: &StaticRoute) -> Result<StaticKind, String> {
    let index = |i: &str| {
        nix::net::if_::if_nametoindex(i).map_err(|_| format!("ip route {} {}: no interface {i}", r.prefix, r.via))
    };
    Ok(match &r.via {
        StaticVia::Gateway(g, None) => StaticKind::Via(Some(*g), None),
        StaticVia::Gateway(g, Some(i)) => StaticKind::Via(Some(*g), Some(index(i)?)),
        StaticVia::Interface(i) => StaticKind::Via(None, Some(index(i)?)),
        StaticVia::Blackhole(_) => StaticKind::Blackhole,
        StaticVia::Reject => StaticKind::Unreachable,
    })
}

/// What a delete needs to name: IPv6 routes are keyed by their next hop
/// too.
fn kind_of_kernel(k: &HostRoute) -> StaticKind {
    match k.kind {
        netlink::RTN_BLACKHOLE => StaticKind::Blackhole,
        netlink::RTN_UNREACHABLE => StaticKind::Unreachable,
        _ => StaticKind::Via(k.gateways.first().copied().filter(|g: &IpAddr| !g.is_unspecified()), None),
    }
}
