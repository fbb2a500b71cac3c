//! The RIB: Adj-RIB-In (after import policy) and Loc-RIB in one table per
//! address family, best path and multipath, interned attributes.
//!
//! Memory is the design constraint (a full table from one peer at a
//! fraction of BIRD's): each prefix is one entry of a sorted bucket holding
//! its candidate path inline when there is just one, and paths point at
//! shared, interned attribute sets. A peer's Adj-RIB-In is the set of paths it
//! owns in that table.

mod best;
mod intern;
mod selected;
mod spare;

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;

pub use best::{compare, weight, PeerInfo};
pub use intern::Interner;
pub use selected::Selected;
use spare::{Ref, Spare};

use super::packet::PathAttrs;

/// Index of a peer in the daemon's table; 0 is "locally originated".
pub type PeerId = u32;
pub const LOCAL: PeerId = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub peer: PeerId,
    pub attrs: Arc<PathAttrs>,
    /// When it was learnt (seconds on the daemon's clock), for ages.
    pub since: u32,
}

/// The candidates for one prefix; most prefixes have exactly one, kept
/// inline (16 bytes, the whole entry); several go to the table's spare
/// store (`spare.rs`).
#[derive(Debug)]
enum Paths {
    One(Path),
    Many(Ref),
}

impl Paths {
    fn all<'a>(&'a self, spare: &'a Spare) -> &'a [Path] {
        match self {
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(r) => spare.list(r),
        }
    }

    fn selected(&self) -> usize {
        match self {
            Paths::One(_) => 1,
            Paths::Many(r) => r.selected as usize,
        }
    }
}

/// The outcome of a change for one prefix: the new selection (empty: no
/// route any more). Consumers are Adj-RIB-Out and the FIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub prefix: IpNet,
    pub selected: Selected,
    /// When the prefix's entry went (its last path did): the neighbors'
    /// slots that had been sent it (see `Table::sent`), now to withdraw.
    pub sent: u32,
}

/// A table's prefixes, sorted: a B-tree of buckets (the first 16 bits of
/// an IPv4 address, the first 32 of an IPv6 one), each a sorted vector of
/// (the rest of the prefix, its paths). 24 bytes an IPv4 prefix in the
/// common case, where a B-tree of prefixes costs three times that (its
/// nodes hold 18-byte keys and stay half full under sorted inserts).
#[derive(Debug, Default)]
pub struct Table {
    v4: Buckets<V4>,
    v6: Buckets<V6>,
}

/// How a family's prefixes split into (bucket, key); the order of the
/// pairs is the order of the prefixes (address, then length).
trait Split {
    type B: Ord + Copy + std::fmt::Debug;
    type K: Ord + Copy + std::fmt::Debug;
    /// The export slots its entries record.
    type S: Sent;
    fn split(p: &IpNet) -> Option<(Self::B, Self::K)>;
    fn join(b: Self::B, k: Self::K) -> IpNet;
}

#[derive(Debug)]
struct V4;
#[derive(Debug)]
struct V6;

impl Split for V4 {
    type B = u16;
    type K = u32;
    type S = u32;
    fn split(p: &IpNet) -> Option<(u16, u32)> {
        let IpNet::V4(n) = p else { return None };
        let a = u32::from(n.addr());
        Some(((a >> 16) as u16, (a & 0xffff) << 8 | n.prefix_len() as u32))
    }
    fn join(b: u16, k: u32) -> IpNet {
        let a = std::net::Ipv4Addr::from((b as u32) << 16 | k >> 8);
        IpNet::V4(ipnet::Ipv4Net::new(a, (k & 0xff) as u8).expect("a length that came from a prefix"))
    }
}

impl Split for V6 {
    type B = u32;
    /// The address's last 96 bits and the length, big-endian (so that
    /// the bytes sort as the prefixes do): 13 bytes, which leave 3 for
    /// the sent bits in a 32-byte entry.
    type K = [u8; 13];
    type S = Sent24;
    fn split(p: &IpNet) -> Option<(u32, [u8; 13])> {
        let IpNet::V6(n) = p else { return None };
        let a = u128::from(n.addr());
        let k = (a & ((1 << 96) - 1)) << 8 | n.prefix_len() as u128;
        let mut key = [0; 13];
        key.copy_from_slice(&k.to_be_bytes()[3..]);
        Some(((a >> 96) as u32, key))
    }
    fn join(b: u32, key: [u8; 13]) -> IpNet {
        let mut bytes = [0; 16];
        bytes[3..].copy_from_slice(&key);
        let k = u128::from_be_bytes(bytes);
        let a = std::net::Ipv6Addr::from((b as u128) << 96 | k >> 8);
        IpNet::V6(ipnet::Ipv6Net::new(a, (k & 0xff) as u8).expect("a length that came from a prefix"))
    }
}

/// The export slots a RIB entry records a bit for: 32 in an IPv4 entry,
/// 24 in an IPv6 one (a neighbor with a slot past them keeps what it was
/// sent of IPv6 in its Adj-RIB-Out, as one without a slot does).
pub(crate) trait Sent: Copy + Default + std::fmt::Debug {
    const SLOTS: u8;
    fn bits(self) -> u32;
    fn set_bits(&mut self, bits: u32);

    /// Sets or clears `slot`'s bit; whether it was set. None: no bit for
    /// that slot.
    fn swap(&mut self, slot: u8, on: bool) -> Option<bool> {
        if slot >= Self::SLOTS {
            return None;
        }
        let b = self.bits();
        self.set_bits(if on { b | 1 << slot } else { b & !(1 << slot) });
        Some(b & 1 << slot != 0)
    }

    fn get(self, slot: u8) -> Option<bool> {
        (slot < Self::SLOTS).then(|| self.bits() & 1 << slot != 0)
    }
}

impl Sent for u32 {
    const SLOTS: u8 = 32;
    fn bits(self) -> u32 {
        self
    }
    fn set_bits(&mut self, bits: u32) {
        *self = bits;
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sent24([u8; 3]);

impl Sent for Sent24 {
    const SLOTS: u8 = 24;
    fn bits(self) -> u32 {
        u32::from_le_bytes([self.0[0], self.0[1], self.0[2], 0])
    }
    fn set_bits(&mut self, bits: u32) {
        let b = bits.to_le_bytes();
        self.0 = [b[0], b[1], b[2]];
    }
}

/// One prefix: its key in the bucket, the neighbors it was sent to (a
/// bit per export slot: the Adj-RIB-Out of up to 32 neighbors costs
/// nothing here, as an IPv4 entry has these 4 bytes free anyway), its
/// candidates.
#[derive(Debug)]
struct Entry<K, T> {
    key: K,
    sent: T,
    paths: Paths,
}

/// One bucket's entries, in the order of their keys.
type Bucket<S> = Vec<Entry<<S as Split>::K, <S as Split>::S>>;

#[derive(Debug)]
struct Buckets<S: Split> {
    map: BTreeMap<S::B, Bucket<S>>,
    len: usize,
    spare: Spare,
    scratch: Scratch,
    /// Where `best_marking` looks first: past its last hit. A neighbor's
    /// slice asks for prefixes in table order, so the next one is
    /// usually the next entry; a binary search in a /16's bucket was a
    /// third of flush_peer's time exporting a table to ten. Only
    /// a hint: a stale one costs a few compares, never a wrong answer.
    finger: Option<(S::B, u32)>,
}

impl<S: Split> Default for Buckets<S> {
    fn default() -> Self {
        Buckets { map: BTreeMap::new(), len: 0, spare: Spare::default(), scratch: Scratch::default(), finger: None }
    }
}

/// `binary_search` for `k` in `v`, trying the few entries from `from` on
/// first.
fn seek<K: Ord + Copy, T>(v: &[Entry<K, T>], k: K, from: usize) -> Result<usize, usize> {
    for (i, e) in v.iter().enumerate().skip(from).take(4) {
        match e.key.cmp(&k) {
            std::cmp::Ordering::Equal => return Ok(i),
            std::cmp::Ordering::Less => {}
            // Sorted keys: between the last smaller one and this one.
            std::cmp::Ordering::Greater if i > from => return Err(i),
            // Before the finger: anywhere.
            std::cmp::Ordering::Greater => break,
        }
    }
    v.binary_search_by_key(&k, |e| e.key)
}

impl<S: Split> Buckets<S> {
    fn get(&self, b: S::B, k: S::K) -> Option<&Entry<S::K, S::S>> {
        let v = self.map.get(&b)?;
        v.binary_search_by_key(&k, |e| e.key).ok().map(|i| &v[i])
    }

    fn get_mut(&mut self, b: S::B, k: S::K) -> Option<&mut Entry<S::K, S::S>> {
        let v = self.map.get_mut(&b)?;
        v.binary_search_by_key(&k, |e| e.key).ok().map(|i| &mut v[i])
    }

    fn clear_slot(&mut self, slot: u8) {
        if slot < S::S::SLOTS {
            for e in self.map.values_mut().flatten() {
                e.sent.swap(slot, false);
            }
        }
    }

    fn update(
        &mut self,
        prefix: IpNet,
        (b, k): (S::B, S::K),
        path: Option<Path>,
        peer: PeerId,
        peers: &dyn Fn(PeerId) -> PeerInfo,
        sel: Selection,
    ) -> (Option<Change>, bool) {
        let v = match (&path, self.map.get_mut(&b)) {
            (None, None) => return (None, false),
            (_, Some(v)) => v,
            (Some(_), None) => self.map.entry(b).or_default(),
        };
        match (v.binary_search_by_key(&k, |e| e.key), path) {
            (Err(_), None) => (None, false),
            (Err(i), Some(p)) => {
                v.insert(i, Entry { key: k, sent: Default::default(), paths: Paths::One(p.clone()) });
                self.len += 1;
                (Some(Change { prefix, selected: Selected::One(p), sent: 0 }), false)
            }
            (Ok(i), path) => {
                let (change, had, empty) =
                    replace(&mut v[i].paths, &mut self.spare, &mut self.scratch, path, peer, peers, sel);
                let mut sent = 0;
                if empty {
                    sent = v.remove(i).sent.bits();
                    self.len -= 1;
                    if v.is_empty() {
                        self.map.remove(&b);
                    }
                }
                (change.map(|selected| Change { prefix, selected, sent }), had)
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = (IpNet, &[Path], usize)> {
        let spare = &self.spare;
        self.map
            .iter()
            .flat_map(move |(b, v)| v.iter().map(move |e| (S::join(*b, e.key), e.paths.all(spare), e.paths.selected())))
    }

    /// The prefixes after (b, k), in order; all of them for None.
    fn iter_after(&self, after: Option<(S::B, S::K)>) -> impl Iterator<Item = (IpNet, &[Path], usize)> {
        use std::ops::Bound;
        let lower = after.map_or(Bound::Unbounded, |(b, _)| Bound::Included(b));
        let spare = &self.spare;
        self.map.range((lower, Bound::Unbounded)).flat_map(move |(b, v)| {
            let start = match after {
                Some((ab, ak)) if ab == *b => v.partition_point(|e| e.key <= ak),
                _ => 0,
            };
            v[start..].iter().map(move |e| (S::join(*b, e.key), e.paths.all(spare), e.paths.selected()))
        })
    }

    fn reselect(&mut self, peers: &dyn Fn(PeerId) -> PeerInfo, sel: Selection, out: &mut Vec<Change>) {
        for (b, v) in self.map.iter_mut() {
            for e in v.iter_mut() {
                if let Paths::Many(r) = &mut e.paths {
                    let list = self.spare.list_mut(r);
                    let n = best::select(list, peers, sel);
                    if n != r.selected as usize {
                        r.selected = n as u8;
                        out.push(Change { prefix: S::join(*b, e.key), selected: list[..n].into(), sent: 0 });
                    }
                }
            }
        }
    }
}

/// Best-path settings the daemon derives from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub maximum_paths: u8,
    pub maximum_paths_ibgp: u8,
    /// Multipath over paths of equal AS_PATH length, not only equal paths.
    pub multipath_relax: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { maximum_paths: 1, maximum_paths_ibgp: 1, multipath_relax: false }
    }
}

impl Table {
    pub fn len(&self) -> usize {
        self.v4.len + self.v6.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A prefix's candidates, best first, and how many are selected.
    fn get(&self, prefix: &IpNet) -> Option<(&[Path], usize)> {
        match (V4::split(prefix), V6::split(prefix)) {
            (Some((b, k)), _) => self.v4.get(b, k).map(|e| (e.paths.all(&self.v4.spare), e.paths.selected())),
            (_, Some((b, k))) => self.v6.get(b, k).map(|e| (e.paths.all(&self.v6.spare), e.paths.selected())),
            _ => None,
        }
    }

    /// Whether the neighbor with export slot `slot` was sent `prefix`;
    /// None: the prefix has no entry, or the entry no bit for the slot.
    pub fn sent(&self, prefix: &IpNet, slot: u8) -> Option<bool> {
        match (V4::split(prefix), V6::split(prefix)) {
            (Some((b, k)), _) => self.v4.get(b, k)?.sent.get(slot),
            (_, Some((b, k))) => self.v6.get(b, k)?.sent.get(slot),
            _ => None,
        }
    }

    /// Records whether slot `slot` was sent `prefix`, and says whether it
    /// had been. None: no entry, or no bit for the slot, to record it in.
    pub fn swap_sent(&mut self, prefix: &IpNet, slot: u8, on: bool) -> Option<bool> {
        match (V4::split(prefix), V6::split(prefix)) {
            (Some((b, k)), _) => self.v4.get_mut(b, k)?.sent.swap(slot, on),
            (_, Some((b, k))) => self.v6.get_mut(b, k)?.sent.swap(slot, on),
            _ => None,
        }
    }

    /// For a neighbor's slice: the best path for `prefix`, and whether
    /// slot `slot` had been sent it, in one lookup that also records it
    /// as sent (most routes a neighbor is looked at for go out; the caller
    /// takes it back with `swap_sent` if not). None: no entry, or no bit.
    pub fn best_marking(&mut self, prefix: &IpNet, slot: Option<u8>) -> (Option<Path>, Option<bool>) {
        fn take<S: Split>(t: &mut Buckets<S>, (b, k): (S::B, S::K), slot: Option<u8>) -> (Option<Path>, Option<bool>) {
            let Some(v) = t.map.get_mut(&b) else { return (None, None) };
            let found = match t.finger {
                Some((fb, from)) if fb == b => seek(v, k, from as usize),
                _ => v.binary_search_by_key(&k, |e| e.key),
            };
            let Ok(i) = found else { return (None, None) };
            t.finger = Some((b, i as u32 + 1));
            let e = &mut v[i];
            // The best path is the first of any list.
            let best = e.paths.all(&t.spare).first().cloned();
            (best, slot.and_then(|s| e.sent.swap(s, true)))
        }
        match (V4::split(prefix), V6::split(prefix)) {
            (Some(bk), _) => take(&mut self.v4, bk, slot),
            (_, Some(bk)) => take(&mut self.v6, bk, slot),
            _ => (None, None),
        }
    }

    /// Forgets what slot `slot` was sent (its neighbor went, or asked
    /// for everything again).
    pub fn clear_slot(&mut self, slot: u8) {
        self.v4.clear_slot(slot);
        self.v6.clear_slot(slot);
    }

    /// Sets (Some) or removes (None) `peer`'s path for `prefix`. Returns the
    /// new selection when it changed, and whether the peer had a path there
    /// before.
    pub fn update(
        &mut self,
        prefix: IpNet,
        path: Option<Path>,
        peer: PeerId,
        peers: &dyn Fn(PeerId) -> PeerInfo,
        sel: Selection,
    ) -> (Option<Change>, bool) {
        match (V4::split(&prefix), V6::split(&prefix)) {
            (Some(bk), _) => self.v4.update(prefix, bk, path, peer, peers, sel),
            (_, Some(bk)) => self.v6.update(prefix, bk, path, peer, peers, sel),
            _ => (None, false),
        }
    }

    /// The selected paths for a prefix.
    pub fn selected(&self, prefix: &IpNet) -> &[Path] {
        self.get(prefix).map_or(&[], |(all, n)| &all[..n])
    }

    /// Every candidate for a prefix, best first.
    pub fn paths(&self, prefix: &IpNet) -> &[Path] {
        self.get(prefix).map_or(&[], |(all, _)| all)
    }

    /// Each prefix, in order, with its candidates (best first) and how
    /// many are selected.
    pub fn iter(&self) -> impl Iterator<Item = (IpNet, &[Path], usize)> {
        self.v4.iter().chain(self.v6.iter())
    }

    /// Like `iter`, from the first prefix after `after` (a paged show
    /// resumes there, whatever changed meanwhile).
    pub fn iter_after(&self, after: Option<IpNet>) -> Box<dyn Iterator<Item = (IpNet, &[Path], usize)> + '_> {
        match after {
            None => Box::new(self.iter()),
            Some(p @ IpNet::V4(_)) => Box::new(self.v4.iter_after(V4::split(&p)).chain(self.v6.iter())),
            Some(p @ IpNet::V6(_)) => Box::new(self.v6.iter_after(V6::split(&p))),
        }
    }

    /// Prefixes for which `peer` has a path (its Adj-RIB-In).
    pub fn prefixes_of(&self, peer: PeerId) -> Vec<IpNet> {
        self.iter().filter(|(_, paths, _)| paths.iter().any(|p| p.peer == peer)).map(|(p, _, _)| p).collect()
    }

    pub fn count_of(&self, peer: PeerId) -> usize {
        self.iter().filter(|(_, paths, _)| paths.iter().any(|p| p.peer == peer)).count()
    }

    /// Re-runs selection everywhere (after a change of maximum-paths).
    pub fn reselect(&mut self, peers: &dyn Fn(PeerId) -> PeerInfo, sel: Selection) -> Vec<Change> {
        let mut out = Vec::new();
        self.v4.reselect(peers, sel, &mut out);
        self.v6.reselect(peers, sel, &mut out);
        out
    }
}

/// `replace`'s buffers, kept by the table: a prefix's second path (a
/// second full table) then costs no allocation.
#[derive(Debug, Default)]
struct Scratch {
    list: Vec<Path>,
    /// The selection before, by neighbor and attribute set's address
    /// (compared, never followed).
    before: Vec<(PeerId, usize)>,
}

/// Replaces `peer`'s path in an entry (None: removes it). Returns the new
/// selection if it changed, whether the peer had a path, and whether the
/// entry is now empty.
fn replace(
    e: &mut Paths,
    spare: &mut Spare,
    w: &mut Scratch,
    path: Option<Path>,
    peer: PeerId,
    peers: &dyn Fn(PeerId) -> PeerInfo,
    sel: Selection,
) -> (Option<Selected>, bool, bool) {
    // The common cases without a list: the only path replaced or removed.
    if let Paths::One(p) = e {
        if p.peer == peer {
            return match path {
                None => (Some(Selected::None), true, true),
                Some(new) => {
                    let same = Arc::ptr_eq(&p.attrs, &new.attrs);
                    *p = new;
                    ((!same).then(|| Selected::One(p.clone())), true, false)
                }
            };
        }
        if path.is_none() {
            return (None, false, false);
        }
    }
    // By address, without holding the sets: every set in the selection
    // after was alive when this began (the new path's too), as was every
    // set before, so an equal address with the same neighbor is the same
    // set, whatever is dropped meanwhile.
    w.before.clear();
    w.before.extend(e.all(spare)[..e.selected()].iter().map(|p| (p.peer, Arc::as_ptr(&p.attrs) as usize)));
    let list = &mut w.list;
    list.clear();
    match e {
        Paths::One(p) => list.push(p.clone()),
        Paths::Many(r) => spare.take(*r, list),
    }
    let had = list.len();
    list.retain(|p| p.peer != peer);
    let had = list.len() != had;
    if let Some(p) = path {
        list.push(p);
    }
    if list.is_empty() {
        // The entry goes; what it points at was taken above.
        return (Some(Selected::None), had, true);
    }
    let n = best::select(list, peers, sel);
    *e = match list.pop() {
        Some(one) if list.is_empty() => Paths::One(one),
        last => {
            list.extend(last);
            Paths::Many(spare.put(list, n))
        }
    };
    let after = &e.all(spare)[..n];
    let same = after.len() == w.before.len()
        && after.iter().zip(&w.before).all(|(p, b)| p.peer == b.0 && Arc::as_ptr(&p.attrs) as usize == b.1);
    ((!same).then(|| Selected::from(after)), had, false)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
