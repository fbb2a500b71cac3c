//! `network` statements: a prefix is originated while the kernel has a
//! route for it (unless `no bgp network import-check`), as FRR does.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use ipnet::IpNet;

use super::Speaker;
use crate::bgp::packet::{Afi, Origin, PathAttrs};
use crate::bgp::rib::{Path, LOCAL};

impl Speaker {
    pub(super) fn originate(&mut self, now: Instant) {
        let wanted: HashSet<IpNet> = match &self.config.bgp {
            None => HashSet::new(),
            Some(b) => {
                let check = b.network_import_check;
                [Afi::Ipv4, Afi::Ipv6]
                    .iter()
                    .flat_map(|afi| b.family(*afi).networks.iter().copied())
                    .filter(|p| !check || self.host.routes.contains(p))
                    .collect()
            }
        };
        let gone: Vec<IpNet> = self.originated.difference(&wanted).copied().collect();
        let new: Vec<IpNet> = wanted.difference(&self.originated).copied().collect();
        for p in gone {
            self.originated.remove(&p);
            self.rib_update(now, Afi::of(&p), p, None, LOCAL);
        }
        let since = self.clock(now);
        for p in new {
            self.originated.insert(p);
            let unspec = match p {
                IpNet::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpNet::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            // FRR takes MED from the kernel route's metric: 0 for connected.
            let a = PathAttrs { origin: Origin::Igp, next_hop: Some(unspec), med: Some(0), ..Default::default() };
            let attrs = self.interner.intern(a);
            self.rib_update(now, Afi::of(&p), p, Some(Path { peer: LOCAL, attrs, since }), LOCAL);
        }
    }
}
