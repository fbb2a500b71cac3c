//! The Adj-RIB-Out of one neighbor: what it has been sent, and the
//! changes waiting to go. A neighbor that does not read keeps its changes
//! here (one entry per prefix, the last state wins) instead of in a
//! socket queue, so nothing grows with churn and nothing is lost.

use std::collections::HashMap;
use std::sync::Arc;

use ipnet::IpNet;

use crate::bgp::family::PerFamily;
use crate::bgp::packet::{pack_announce, pack_withdraw, Afi, Codec, PathAttrs};

#[derive(Debug, Default)]
pub struct AdjRibOut {
    sent: PerFamily<HashMap<IpNet, Arc<PathAttrs>>>,
    /// None: to withdraw.
    pending: HashMap<IpNet, Option<Arc<PathAttrs>>>,
}

/// How many pending changes one `pack` takes: a full table goes out in
/// slices, each sent before the next is encoded, so that a neighbor that
/// reads slowly holds back the rest here, not in the send queue.
pub const PACK_SLICE: usize = 16_384;

impl AdjRibOut {
    pub fn len(&self, afi: Afi) -> usize {
        self.sent[afi].len()
    }

    pub fn contains(&self, prefix: &IpNet) -> bool {
        self.sent[Afi::of(prefix)].contains_key(prefix)
    }

    pub fn prefixes(&self, afi: Afi) -> impl Iterator<Item = &IpNet> {
        self.sent[afi].keys()
    }

    /// Forgets what the family was sent (a route refresh sends it again).
    pub fn forget(&mut self, afi: Afi) {
        self.sent[afi] = HashMap::new();
        self.pending.retain(|p, _| Afi::of(p) != afi);
    }

    /// Records the route the neighbor should have for `prefix`; a change
    /// from what it was sent waits in `pending`.
    pub fn set(&mut self, prefix: IpNet, attrs: Option<Arc<PathAttrs>>) {
        let table = &mut self.sent[Afi::of(&prefix)];
        let same = match (table.get(&prefix), &attrs) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || **a == **b,
            _ => false,
        };
        if same {
            return;
        }
        match &attrs {
            Some(a) => table.insert(prefix, a.clone()),
            None => table.remove(&prefix),
        };
        self.pending.insert(prefix, attrs);
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn clear_pending(&mut self) {
        self.pending = HashMap::new();
    }

    /// Encodes up to `PACK_SLICE` pending changes into UPDATEs, those
    /// that share attributes together. Returns the bytes and how many
    /// messages they are.
    pub fn pack(&mut self, codec: &Codec) -> (Vec<u8>, u64) {
        let take: Vec<IpNet> = self.pending.keys().take(PACK_SLICE).copied().collect();
        let mut withdrawn = Vec::new();
        // Announcements sharing attributes go out together: (attrs, IPv4, IPv6).
        type Group = (Arc<PathAttrs>, Vec<IpNet>, Vec<IpNet>);
        let mut groups: HashMap<*const PathAttrs, Group> = HashMap::new();
        for prefix in take {
            match self.pending.remove(&prefix).flatten() {
                None => withdrawn.push(prefix),
                Some(a) => {
                    let g = groups.entry(Arc::as_ptr(&a)).or_insert_with(|| (a.clone(), Vec::new(), Vec::new()));
                    if Afi::of(&prefix) == Afi::Ipv4 {
                        g.1.push(prefix)
                    } else {
                        g.2.push(prefix)
                    }
                }
            }
        }
        if self.pending.is_empty() && self.pending.capacity() > PACK_SLICE {
            self.pending = HashMap::new();
        }
        let mut buf = Vec::new();
        withdrawn.sort();
        let mut n = pack_withdraw(codec, &withdrawn, &mut buf);
        for (_, (a, mut v4, mut v6)) in groups {
            v4.sort();
            v6.sort();
            n += pack_announce(codec, &a, &v4, &mut buf);
            n += pack_announce(codec, &a, &v6, &mut buf);
        }
        (buf, n as u64)
    }
}
