//! What a selection means for the kernel, decided here once: the daemon's
//! FIB writer only carries it out. Also when the routes an earlier run
//! left in the kernel may go (the stale sweep).

use std::net::IpAddr;

use ipnet::IpNet;

use super::Speaker;
use crate::bgp::packet::Afi;
use crate::bgp::rib::{Path, LOCAL};

/// A next hop and the interface it is on (0: the FIB finds it, the one
/// whose connected network holds the address).
pub type Hop = (IpAddr, u32);

/// Next hops for the FIB without an allocation in the common one-hop case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hops {
    None,
    One(Hop),
    Many(Box<[Hop]>),
}

impl Hops {
    pub fn as_slice(&self) -> &[Hop] {
        match self {
            Hops::None => &[],
            Hops::One(a) => std::slice::from_ref(a),
            Hops::Many(v) => v,
        }
    }

    pub fn from_vec(mut v: Vec<Hop>) -> Hops {
        match v.len() {
            0 => Hops::None,
            1 => Hops::One(v.pop().unwrap_or((IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0))),
            _ => Hops::Many(v.into_boxed_slice()),
        }
    }
}

/// The kernel route for a selection (best and multipath, best first): the
/// next hops of the learnt paths, `link_local` saying which go by a
/// link-local address on a known interface; none for a route we
/// originate (the kernel has it already) or no selection at all.
pub fn fib_hops(selected: &[Path], link_local: &dyn Fn(&Path) -> Option<Hop>) -> Hops {
    let hop = |p: &Path| link_local(p).or_else(|| p.attrs.next_hop().map(|h| (h, 0)));
    match selected {
        [p] if p.peer != LOCAL => hop(p).map_or(Hops::None, Hops::One),
        [p, ..] if p.peer != LOCAL => Hops::from_vec(selected.iter().filter_map(hop).collect()),
        _ => Hops::None,
    }
}

impl Speaker {
    /// `fib_hops` with this speaker's neighbors: a path with a link-local
    /// IPv6 next hop (an IPv4 one too, RFC 8950) (MP_REACH's second address, or its only one)
    /// goes by it, on the interface of the neighbor that sent it, as FRR
    /// installs it; the same fe80:: address on two interfaces is two next
    /// hops.
    pub fn fib_hops(&self, selected: &[Path]) -> Hops {
        fib_hops(selected, &|p: &Path| {
            // A link-local address alone as the next hop is tied the same way.
            let ll = p.attrs.link_local().or(match p.attrs.next_hop() {
                Some(IpAddr::V6(a)) if a.segments()[0] & 0xffc0 == 0xfe80 => Some(a),
                _ => None,
            })?;
            let peer = self.peer_by_id(p.peer)?;
            let oif = match peer.ifindex {
                0 => self.host.link_of(&peer.remote?)?,
                i => i,
            };
            Some((IpAddr::V6(ll), oif))
        })
    }

    /// The FIB routes of a family, in prefix order: what the kernel should
    /// have from BGP (for re-writing the ones a kernel change touched).
    pub fn fib_routes(&self, afi: Afi) -> impl Iterator<Item = (IpNet, Hops)> + '_ {
        self.tables[afi].iter().filter_map(|(p, paths, n)| match self.fib_hops(&paths[..n]) {
            Hops::None => None,
            h => Some((p, h)),
        })
    }

    /// Whether every neighbor that is to be up has re-sent its table
    /// (End-of-RIB for each family), so that what an earlier run left in
    /// the kernel and nobody re-announced can go.
    pub fn initial_sync_done(&self) -> bool {
        self.configured()
            .filter(|p| p.cfg.shutdown.is_none())
            .all(|p| p.negotiated.as_ref().is_some_and(|n| n.families.iter().all(|f| p.eor[*f])) && p.conn.is_some())
    }
}
