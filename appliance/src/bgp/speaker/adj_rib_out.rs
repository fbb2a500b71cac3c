//! The Adj-RIB-Out of one neighbor: what it was sent, and what to look at
//! again. It keeps no copy of any route, as BIRD does not: what a neighbor
//! was sent is one bit in the RIB's entry for the prefix (the neighbor's
//! export slot), what changed is the prefix alone (its route is computed
//! from the Loc-RIB when it is packed, so the last state wins), and a
//! whole table to send is a walk over the RIB, a slice at a time. A
//! neighbor that does not read holds back prefixes here, never routes,
//! attribute sets or bytes.

use ipnet::IpNet;

use crate::bgp::family::PerFamily;
use crate::bgp::hash::FastSet;
use crate::bgp::packet::Afi;
use crate::bgp::rib::Table;

/// How many prefixes one `take` gives: a full table goes out in slices,
/// each sent before the next is encoded, so that a neighbor that reads
/// slowly holds back the rest in the RIB, not in the send queue. A slice
/// of a real table is about 350 KB of UPDATEs: ten neighbors taking a
/// table each hold a few of them queued (16,384 cost 5 MB more at peak).
pub const PACK_SLICE: usize = 8192;

/// What a neighbor's routes out of a family depend on, judged once per
/// config generation (a config change that alters it also changes the
/// neighbor's export `Policy`, and reconfigure walks its table again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Sent nothing whatever the routes: its Adj-RIB-Out is not told of
    /// changes, so that a full table costs nothing per prefix for each
    /// neighbor with `route-map NONE out`; what it was sent before is
    /// withdrawn by the walk that made it quiet.
    pub quiet: bool,
    /// Its route out depends on the prefix only through the best path
    /// (no prefix-list out, no route-map out matching a prefix-list or an
    /// interface, through `call`s too): computed once per attribute set.
    pub by_set: bool,
}

#[derive(Debug, Default)]
pub struct AdjRibOut {
    /// The bit of this neighbor in the RIB's entries; None (more than 32
    /// neighbors up at once): `off_rib` keeps all it was sent.
    slot: Option<u8>,
    /// What it was sent that no RIB entry holds: the default route of
    /// default-originate, a prefix whose last path went before the
    /// withdrawal was sent; everything, without a slot.
    off_rib: FastSet<IpNet>,
    /// Prefixes whose route may have changed for it.
    dirty: FastSet<IpNet>,
    /// A family's whole table to go through: Some(None) not begun,
    /// Some(Some(p)) done up to p.
    walk: PerFamily<Option<Option<IpNet>>>,
    count: PerFamily<usize>,
}

impl AdjRibOut {
    pub fn new(slot: Option<u8>) -> AdjRibOut {
        AdjRibOut { slot, ..Default::default() }
    }

    pub fn slot(&self) -> Option<u8> {
        self.slot
    }

    /// How many prefixes of the family it was sent.
    pub fn len(&self, afi: Afi) -> usize {
        self.count[afi]
    }

    /// What it holds besides the RIB's bits, as its sets size it.
    pub fn heap_bytes(&self) -> usize {
        (self.off_rib.capacity() + self.dirty.capacity()) * (std::mem::size_of::<IpNet>() + 1)
    }

    pub fn was_sent(&self, table: &Table, prefix: &IpNet) -> bool {
        let bit = self.slot.and_then(|s| table.sent(prefix, s)).unwrap_or(false);
        bit || self.off_rib.contains(prefix)
    }

    /// Records that it was sent `prefix` (on) or its withdrawal (off),
    /// and says whether it had been sent the prefix. `bit`: what the RIB
    /// entry's bit was, from `Table::best_marking`, which set it (None: no
    /// entry, or no slot); a withdrawal clears it again. One RIB lookup
    /// for what goes out: this runs for every prefix to every neighbor.
    pub fn mark(&mut self, table: &mut Table, prefix: IpNet, bit: Option<bool>, on: bool) -> bool {
        if let (Some(_), false, Some(s)) = (bit, on, self.slot) {
            table.swap_sent(&prefix, s, false);
        }
        let off = match (bit.is_some() || !on, self.off_rib.is_empty()) {
            (true, true) => false,
            (true, false) => self.off_rib.remove(&prefix),
            (false, _) => !self.off_rib.insert(prefix),
        };
        let was = bit == Some(true) || off;
        let n = &mut self.count[Afi::of(&prefix)];
        match (was, on) {
            (false, true) => *n += 1,
            (true, false) => *n = n.saturating_sub(1),
            _ => {}
        }
        was
    }

    /// The RIB entry of a prefix it was sent went: the fact moves here
    /// until the withdrawal is out.
    pub fn entry_gone(&mut self, prefix: IpNet) {
        self.off_rib.insert(prefix);
    }

    /// The route for `prefix` may have changed.
    pub fn touch(&mut self, prefix: IpNet) {
        let ahead = match self.walk[Afi::of(&prefix)] {
            Some(None) => true,
            Some(Some(at)) => prefix > at,
            None => false,
        };
        // A walk that has yet to reach it will see it as it is then.
        if !ahead {
            self.dirty.insert(prefix);
        }
    }

    /// `prefix` to look at with the next slice, walk or not (a route
    /// that need not be in the RIB: default-originate's).
    pub fn look_again(&mut self, prefix: IpNet) {
        self.dirty.insert(prefix);
    }

    /// The whole family to go through again; what it was sent outside
    /// the RIB is looked at too.
    pub fn walk(&mut self, afi: Afi) {
        self.walk[afi] = Some(None);
        let off: Vec<IpNet> = self.off_rib.iter().filter(|p| Afi::of(p) == afi).copied().collect();
        self.dirty.extend(off);
    }

    /// Forgets what the family was sent (a route refresh sends it again;
    /// the caller clears the slot's bits in the family's table).
    pub fn forget(&mut self, afi: Afi) {
        self.off_rib.retain(|p| Afi::of(p) != afi);
        self.dirty.retain(|p| Afi::of(p) != afi);
        self.walk[afi] = None;
        self.count[afi] = 0;
    }

    pub fn has_pending(&self) -> bool {
        !self.dirty.is_empty() || PerFamily::<()>::AFIS.iter().any(|a| self.walk[*a].is_some())
    }

    pub fn clear_pending(&mut self) {
        self.dirty = FastSet::default();
        self.walk = PerFamily::default();
    }

    /// Up to `PACK_SLICE` prefixes to look at, into `out`: the walks'
    /// next, then the changed ones.
    pub fn take(&mut self, tables: &PerFamily<Table>, out: &mut Vec<IpNet>) {
        out.clear();
        for afi in PerFamily::<()>::AFIS {
            let Some(at) = self.walk[afi] else { continue };
            let room = PACK_SLICE - out.len();
            out.extend(tables[afi].iter_after(at).take(room).map(|(p, _, _)| p).take_while(|p| Afi::of(p) == afi));
            self.walk[afi] = match out.last() {
                Some(last) if out.len() == PACK_SLICE && Afi::of(last) == afi => Some(Some(*last)),
                _ => None,
            };
            if out.len() == PACK_SLICE {
                break;
            }
        }
        // What a walk brings needs no second look.
        if !self.dirty.is_empty() {
            for p in out.iter() {
                self.dirty.remove(p);
            }
        }
        let walked = out.len();
        let room = PACK_SLICE - walked;
        out.extend(self.dirty.iter().take(room).copied());
        for p in &out[walked..] {
            self.dirty.remove(p);
        }
        // In the RIB's order, not the set's: the lookups of a slice then
        // walk the table forward (`Table::best_marking`'s finger), where
        // hash order made each one a search from the root of its bucket.
        out[walked..].sort_unstable();
        if self.dirty.is_empty() && self.dirty.capacity() > PACK_SLICE {
            self.dirty = FastSet::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_prefixes_come_out_in_table_order_a_slice_at_a_time() {
        let mut out = AdjRibOut::new(Some(0));
        // More than a slice, touched in no order.
        let n = PACK_SLICE as u32 + 100;
        for i in 0..n {
            let x = i * 7919 % n;
            out.touch(IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0xc000_0000 + (x << 8)), 24).unwrap()));
        }
        out.touch("2001:db8::/32".parse().unwrap());
        let tables = PerFamily::<Table>::default();
        let (mut got, mut all) = (Vec::new(), Vec::new());
        while out.has_pending() {
            out.take(&tables, &mut got);
            assert!(got.len() <= PACK_SLICE);
            assert!(got.windows(2).all(|w| w[0] < w[1]), "a slice in order");
            all.extend_from_slice(&got);
        }
        assert_eq!(all.len(), n as usize + 1, "each prefix once");
    }
}
