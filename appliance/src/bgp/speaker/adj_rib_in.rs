//! The Adj-RIB-In before policy, kept only for neighbors with
//! `soft-reconfiguration inbound` (a full table costs its size again):
//! what `show bgp neighbors X received-routes` lists, and what a change
//! of inbound policy or `clear bgp X soft in` runs policy over again
//! instead of asking the peer (ROUTE-REFRESH).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;

use super::Speaker;
use crate::bgp::family::PerFamily;
use crate::bgp::packet::{Afi, PathAttrs};
use crate::bgp::rib::Path;
use crate::log::Level;

#[derive(Debug, Default)]
pub struct AdjRibIn {
    routes: PerFamily<BTreeMap<IpNet, Arc<PathAttrs>>>,
    /// Whether the family holds everything the peer sent this session:
    /// soft-reconfiguration was on from the start, or a refresh since.
    complete: PerFamily<bool>,
}

impl AdjRibIn {
    pub(super) fn set(&mut self, prefix: IpNet, attrs: Option<Arc<PathAttrs>>) {
        let t = &mut self.routes[Afi::of(&prefix)];
        match attrs {
            Some(a) => {
                t.insert(prefix, a);
            }
            None => {
                t.remove(&prefix);
            }
        }
    }

    pub(super) fn reset(&mut self, afi: Afi, complete: bool) {
        self.routes[afi].clear();
        self.complete[afi] = complete;
    }

    pub fn len(&self, afi: Afi) -> usize {
        self.routes[afi].len()
    }

    pub fn is_empty(&self, afi: Afi) -> bool {
        self.routes[afi].is_empty()
    }

    pub(super) fn is_complete(&self, afi: Afi) -> bool {
        self.complete[afi]
    }

    /// The routes after `after`, in prefix order (for paged shows).
    pub fn iter_after(&self, afi: Afi, after: Option<IpNet>) -> impl Iterator<Item = (&IpNet, &Arc<PathAttrs>)> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.routes[afi].range((from, Bound::Unbounded))
    }
}

impl Speaker {
    /// Whether neighbor `i` keeps its routes before policy for `afi`.
    pub(super) fn keeps_adj_in(&self, i: usize, afi: Afi) -> bool {
        self.peers[i].cfg.family(afi, self.default_ipv4()).soft_reconfiguration
    }

    /// Runs inbound policy again over what neighbor `i` sent, for each
    /// family whose Adj-RIB-In is complete; returns the families that
    /// need a ROUTE-REFRESH instead.
    pub(super) fn reapply_in(&mut self, now: Instant, i: usize, families: &[Afi]) -> Vec<Afi> {
        let mut refresh = Vec::new();
        for &afi in families {
            if !self.keeps_adj_in(i, afi) {
                self.peers[i].adj_in.reset(afi, false);
                refresh.push(afi);
                continue;
            }
            if !self.peers[i].adj_in.is_complete(afi) {
                // Turned on in this session: the refresh fills it.
                self.peers[i].adj_in.reset(afi, true);
                refresh.push(afi);
                continue;
            }
            let routes: Vec<(IpNet, Arc<PathAttrs>)> =
                self.peers[i].adj_in.iter_after(afi, None).map(|(p, a)| (*p, a.clone())).collect();
            let (id, since) = (self.peers[i].id, self.clock(now));
            for (prefix, attrs) in &routes {
                let base = self.import_attrs(i, afi, (**attrs).clone());
                let path = base.as_ref().and_then(|a| self.import_prefix(i, afi, prefix, a));
                self.rib_update(now, afi, *prefix, path.map(|attrs| Path { peer: id, attrs, since }), id);
            }
            let addr = self.peers[i].cfg.id.clone();
            self.log(
                Level::Info,
                format!(
                    "neighbor {addr}: inbound policy applied again to {} stored {} routes (soft-reconfiguration inbound)",
                    routes.len(),
                    afi.name()
                ),
            );
        }
        refresh
    }
}
