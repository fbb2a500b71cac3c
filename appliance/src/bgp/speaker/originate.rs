//! Routes we originate: `network` statements, while the kernel has a route
//! for the prefix (unless `no bgp network import-check`), and
//! `redistribute connected|static|kernel`, the kernel's routes of that kind
//! through an optional route-map, as FRR does. A `network` wins over a
//! redistributed route for the same prefix.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;

use super::{HostRoute, Speaker};
use crate::bgp::config::{Bgp, Config, Redistribute, Source};
use crate::bgp::hash::FastMap;
use crate::bgp::packet::{Afi, Origin, PathAttrs};
use crate::bgp::policy::{Definitions, Subject};
use crate::bgp::rib::{Path, LOCAL};
use crate::netlink::{RTPROT_BGP, RTPROT_KERNEL, RTPROT_STATIC};

impl Speaker {
    pub(super) fn originate(&mut self, now: Instant) {
        let wanted: HashMap<IpNet, PathAttrs> = match &self.config.bgp {
            None => HashMap::new(),
            Some(b) => wanted(&self.config, b, &self.host.table, &self.host.routes),
        };
        let gone: Vec<IpNet> = self.originated.keys().filter(|p| !wanted.contains_key(p)).copied().collect();
        for p in gone {
            self.originated.remove(&p);
            self.rib_update(now, Afi::of(&p), p, None, LOCAL);
        }
        let since = self.clock(now);
        for (p, a) in wanted {
            if self.originated.get(&p).is_some_and(|x| **x == a) {
                continue;
            }
            let attrs = self.interner.intern(a);
            self.originated.insert(p, attrs.clone());
            self.rib_update(now, Afi::of(&p), p, Some(Path { peer: LOCAL, attrs, since }), LOCAL);
        }
    }
}

fn unspecified(p: &IpNet) -> IpAddr {
    match p {
        IpNet::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpNet::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// Every prefix to originate, with its attributes.
fn wanted(
    c: &Config,
    b: &Bgp,
    table: &[HostRoute],
    routes: &crate::bgp::hash::FastSet<IpNet>,
) -> HashMap<IpNet, PathAttrs> {
    let mut out = HashMap::new();
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        for (source, r) in &b.family(afi).redistribute {
            for route in table.iter().filter(|x| Afi::of(&x.prefix) == afi && source_of(x) == Some(*source)) {
                if let Some(a) = redistributed(c, route, r) {
                    out.insert(route.prefix, a);
                }
            }
        }
        for p in &b.family(afi).networks {
            if !b.network_import_check || routes.contains(p) {
                // FRR takes MED from the kernel route's metric: 0 for connected.
                let a = PathAttrs { origin: Origin::Igp, med: Some(0).into(), ..Default::default() }
                    .with_next_hop(unspecified(p));
                out.insert(*p, a);
            }
        }
    }
    out
}

/// Which kind of route zebra would call it; None: never redistributed
/// (bgpd's own, link-local, loopback).
fn source_of(r: &HostRoute) -> Option<Source> {
    let special = match r.prefix {
        IpNet::V4(n) => n.addr().is_loopback(),
        IpNet::V6(n) => n.addr().is_loopback() || (n.addr().segments()[0] & 0xffc0) == 0xfe80,
    };
    match (r.connected, r.protocol) {
        _ if special || r.protocol == RTPROT_BGP => None,
        (true, RTPROT_KERNEL) => Some(Source::Connected),
        (_, RTPROT_STATIC) => Some(Source::Static),
        _ => Some(Source::Kernel),
    }
}

/// A redistributed route's attributes: origin incomplete, MED from
/// `metric` or the kernel's metric, then the route-map (None: denied).
fn redistributed(c: &Config, route: &HostRoute, r: &Redistribute) -> Option<PathAttrs> {
    let a = PathAttrs {
        origin: Origin::Incomplete,
        med: Some(r.metric.unwrap_or(if route.connected { 0 } else { route.metric })).into(),
        ..Default::default()
    }
    .with_next_hop(unspecified(&route.prefix));
    match &r.route_map {
        None => Some(a),
        // A route-map that does not exist denies, as everywhere in bgpbox.
        Some(name) => {
            let s = Subject { interface: Some(&route.ifname), ..Subject::prefix(&route.prefix) };
            c.route_map(name)?.apply(&s, &a, c)
        }
    }
}

/// For `show`: whether a prefix is one we originate.
pub(super) fn is_originated(o: &FastMap<IpNet, Arc<PathAttrs>>, p: &IpNet) -> bool {
    o.contains_key(p)
}
