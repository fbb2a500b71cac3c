//! Update-groups, as FRR calls them: neighbors whose routes out are equal
//! for equal best paths (one outbound policy, one kind of session, one
//! next hop of ours, one link). A route out is computed once per group
//! and best path (its neighbor and attribute set), and the last few
//! thousand are kept, so that the group's other members, walking the same
//! table a moment later, find them: a full table exported to ten
//! route-server clients was rewritten and interned ten times over.
//!
//! What stays per member: its Adj-RIB-Out, its encoding, and the checks
//! that look at the member itself (split horizon, its AS in the path:
//! `Speaker::sends_to`). Groups are judged again whenever what they rest
//! on may have changed: the configuration, a session up or down (a
//! neighbor's address, capabilities and BGP identifier, which a reflected
//! route carries), the host's addresses and links.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::Speaker;
use crate::bgp::config::{LocalAs, NeighborFamily};
use crate::bgp::family::PerFamily;
use crate::bgp::hash::FastMap;
use crate::bgp::packet::{Afi, PathAttrs};
use crate::bgp::rib::PeerId;

/// Routes kept per generation of the memo; two generations live at once.
/// A slice of a real table (`PACK_SLICE`, 8,192 prefixes) has about 3,500
/// sets, and members of a group that came up together stay within a slice
/// or two of each other.
const KEEP: usize = 4096;

/// Everything of a neighbor that its routes out depend on besides the
/// best path, for one family. Neighbors with equal ones form a group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sig {
    afi: Afi,
    family: NeighborFamily,
    ebgp: bool,
    /// With `as-override` its AS goes into the path.
    override_as: Option<u32>,
    local_as: Option<LocalAs>,
    next_hop_self: (Option<IpAddr>, Option<Ipv6Addr>),
    extended_nexthop: bool,
    /// Our subnets that hold its address: whether a next hop is on its
    /// link (`keeps_next_hop`).
    subnets: Vec<IpNet>,
    /// Its interface, and the one its address is on (`same_link`).
    link: (u32, Option<String>),
    /// Ours on the session (`set ip next-hop peer-address`).
    local_addr: Option<IpAddr>,
}

/// A route out by (group, best path's neighbor, best path's attribute
/// set by address); the entry holds that set, so the address cannot be
/// another set's while it is here.
type Key = (u32, PeerId, usize);
pub(super) type Memo = FastMap<Key, (Arc<PathAttrs>, Option<Arc<PathAttrs>>)>;

#[derive(Debug, Default)]
pub(super) struct UpdateGroups {
    /// (config generation, export epoch) the groups were judged at.
    stamp: Option<(u64, u64)>,
    sigs: Vec<Sig>,
    /// How many neighbors up are in each group.
    members: Vec<usize>,
    /// By neighbor index: its group for each family (None: not up).
    of: Vec<PerFamily<Option<u32>>>,
    fresh: Memo,
    old: Memo,
}

impl UpdateGroups {
    /// Routes out of groups of one neighbor are not worth keeping past a
    /// slice: `flush_peer` memoizes them for that slice alone.
    pub fn shared(&self, g: u32) -> bool {
        self.members.get(g as usize).is_some_and(|n| *n > 1)
    }

    pub fn get(&self, g: u32, peer: PeerId, attrs: &Arc<PathAttrs>) -> Option<&Option<Arc<PathAttrs>>> {
        let k = (g, peer, Arc::as_ptr(attrs) as usize);
        self.fresh.get(&k).or_else(|| self.old.get(&k)).map(|(_, out)| out)
    }

    pub fn insert(&mut self, g: u32, peer: PeerId, attrs: &Arc<PathAttrs>, out: Option<Arc<PathAttrs>>) {
        if self.fresh.len() >= KEEP {
            self.old = std::mem::take(&mut self.fresh);
        }
        self.fresh.insert((g, peer, Arc::as_ptr(attrs) as usize), (attrs.clone(), out));
    }

    /// How many groups, and routes out kept (for `show bgp memory`).
    pub fn counts(&self) -> (usize, usize) {
        (self.members.iter().filter(|n| **n > 0).count(), self.fresh.len() + self.old.len())
    }
}

impl Speaker {
    /// Neighbor `i`'s update-group for a family (None: not up in it).
    pub(super) fn update_group(&mut self, i: usize, afi: Afi) -> Option<u32> {
        let stamp = (self.generation, self.export_epoch);
        if self.groups.stamp != Some(stamp) {
            self.judge_groups();
            self.groups.stamp = Some(stamp);
        }
        self.groups.of.get(i).and_then(|g| g[afi])
    }

    fn judge_groups(&mut self) {
        let mut g = UpdateGroups { of: vec![PerFamily::default(); self.peers.len()], ..Default::default() };
        for i in 0..self.peers.len() {
            for afi in PerFamily::<()>::AFIS {
                let Some(sig) = self.sig(i, afi) else { continue };
                let n = match g.sigs.iter().position(|s| *s == sig) {
                    Some(n) => n,
                    None => {
                        g.sigs.push(sig);
                        g.members.push(0);
                        g.sigs.len() - 1
                    }
                };
                g.members[n] += 1;
                g.of[i][afi] = Some(n as u32);
            }
        }
        self.groups = g;
    }

    fn sig(&self, i: usize, afi: Afi) -> Option<Sig> {
        let b = self.config.bgp.as_ref()?;
        let q = &self.peers[i];
        if !q.active(afi) {
            return None;
        }
        let family = q.cfg.family(afi, b.default_ipv4_unicast).clone();
        let subnets = match q.remote {
            Some(r) => self.host.addresses.iter().map(|n| n.trunc()).filter(|n| n.contains(&r)).collect(),
            None => Vec::new(),
        };
        Some(Sig {
            afi,
            ebgp: q.ebgp(b.asn),
            override_as: if family.as_override { q.remote_asn() } else { None },
            family,
            local_as: q.cfg.local_as,
            next_hop_self: self.next_hop_self(i, afi),
            extended_nexthop: self.extended_nexthop(i),
            subnets,
            link: (q.ifindex, q.remote.and_then(|r| self.host.ifname_for(r)).map(str::to_string)),
            local_addr: q.local_addr,
        })
    }
}
