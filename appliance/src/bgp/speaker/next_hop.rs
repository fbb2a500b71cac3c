//! The next hop a neighbor is sent (RFC 4271 5.1.3, RFC 2545 for IPv6,
//! RFC 8950 for IPv4 routes with IPv6 next hops).

use std::net::{IpAddr, Ipv6Addr};

use super::host::is_link_local;
use super::Speaker;
use crate::bgp::packet::{Afi, PathAttrs};

impl Speaker {
    /// Whether neighbor `i` may be sent the route's next hop as it is:
    /// to iBGP, any it can use; to eBGP, one on the subnet shared with it
    /// (a third-party next hop). Never a link-local one, which means
    /// nothing off its link, nor an IPv6 one for an IPv4 route to a
    /// neighbor without the extended next hop.
    pub(super) fn keeps_next_hop(&self, i: usize, afi: Afi, a: &PathAttrs) -> bool {
        let q = &self.peers[i];
        let Some(nh) = a.next_hop() else { return false };
        if let IpAddr::V6(v6) = nh {
            if is_link_local(v6) || (afi == Afi::Ipv4 && !self.extended_nexthop(i)) {
                return false;
            }
        }
        if !q.ebgp(self.local_as()) {
            return true;
        }
        q.remote.is_some_and(|r| self.host.on_link(nh, r))
    }

    /// Whether the neighbor a path came from and neighbor `i` are on one
    /// link: the same interface, or addresses on one of our subnets.
    pub(super) fn same_link(&self, from: crate::bgp::rib::PeerId, i: usize) -> bool {
        let (Some(a), b) = (self.peer_by_id(from), &self.peers[i]) else { return false };
        if a.ifindex != 0 || b.ifindex != 0 {
            return a.ifindex == b.ifindex;
        }
        match (a.remote, b.remote) {
            (Some(x), Some(y)) => {
                self.host.ifname_for(x).is_some() && self.host.ifname_for(x) == self.host.ifname_for(y)
            }
            _ => false,
        }
    }

    /// Both sides of neighbor `i`'s session take IPv4 with IPv6 next hops.
    pub(super) fn extended_nexthop(&self, i: usize) -> bool {
        self.peers[i].negotiated.as_ref().is_some_and(|n| n.extended_nexthop)
    }

    /// Our own next hop for neighbor `i`: the address its session runs
    /// from in the family, and on a shared link with eBGP (or where only a
    /// link-local address names us, unnumbered) our link-local address
    /// beside it, as FRR sends it (global and link-local, or the
    /// link-local one twice).
    pub(super) fn next_hop_self(&self, i: usize, afi: Afi) -> (Option<IpAddr>, Option<Ipv6Addr>) {
        let p = &self.peers[i];
        let Some(local) = p.local_addr else { return (None, None) };
        let ebgp = p.ebgp(self.local_as());
        match (afi, local) {
            (Afi::Ipv4, IpAddr::V4(_)) => (Some(local), None),
            // An IPv6 route over an IPv4 session: a global IPv6 address of
            // ours, else the IPv4-mapped form.
            (Afi::Ipv6, IpAddr::V4(v4)) => {
                (Some(IpAddr::V6(self.host.global_v6().unwrap_or_else(|| v4.to_ipv6_mapped()))), None)
            }
            (Afi::Ipv4, IpAddr::V6(_)) if !self.extended_nexthop(i) => (self.host.some_v4().map(IpAddr::V4), None),
            (_, IpAddr::V6(l)) => {
                let (global, ll) = self.our_v6_toward(i);
                let ll = ll.or(is_link_local(l).then_some(l));
                match is_link_local(l) {
                    true => (global.or(ll).map(IpAddr::V6), ll),
                    false => (Some(local), ll.filter(|_| ebgp)),
                }
            }
        }
    }

    /// Our global and link-local IPv6 addresses on the link to neighbor
    /// `i`: its interface's, or the one whose subnet holds its address.
    fn our_v6_toward(&self, i: usize) -> (Option<Ipv6Addr>, Option<Ipv6Addr>) {
        let p = &self.peers[i];
        if let Some(name) = self.host.link_name(p.ifindex).filter(|_| p.ifindex != 0) {
            return self.host.v6_on(name);
        }
        match p.remote {
            Some(r) => (None, self.host.link_local_toward(r)),
            None => (None, None),
        }
    }
}
