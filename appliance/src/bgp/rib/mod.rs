//! The RIB: Adj-RIB-In (after import policy) and Loc-RIB in one table per
//! address family, best path and multipath, interned attributes.
//!
//! Memory is the design constraint (a full table from one peer at a
//! fraction of BIRD's): each prefix is one hash entry holding its candidate
//! paths inline when there is just one, and paths point at shared,
//! interned attribute sets. A peer's Adj-RIB-In is the set of paths it
//! owns in that table.

mod best;
mod intern;

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;

pub use best::{compare, PeerInfo};
pub use intern::Interner;

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

/// The candidates for one prefix; most prefixes have exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Paths {
    One(Path),
    // A thin Box (8 bytes, not a Vec's 24) keeps every entry small; the
    // extra allocation is paid only by prefixes with several paths.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Path>>),
}

#[derive(Debug, Clone)]
struct Entry {
    paths: Paths,
    /// How many of the sorted paths are selected (best + multipath).
    selected: u8,
}

impl Entry {
    fn paths(&self) -> &[Path] {
        match &self.paths {
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(v) => v,
        }
    }
}

/// The outcome of a change for one prefix: the new selection (empty: no
/// route any more). Consumers are Adj-RIB-Out and the FIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub prefix: IpNet,
    pub selected: Vec<Path>,
}

#[derive(Debug, Default)]
pub struct Table {
    // A B-tree, not a hash map: no power-of-two overallocation or
    // doubling spike at a million prefixes, and sorted for `show`.
    entries: BTreeMap<IpNet, Entry>,
}

/// Best-path settings the daemon derives from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub maximum_paths: u8,
    pub maximum_paths_ibgp: u8,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { maximum_paths: 1, maximum_paths_ibgp: 1 }
    }
}

impl Table {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        use std::collections::btree_map::Entry as E;
        match (self.entries.entry(prefix), path) {
            (E::Vacant(_), None) => (None, false),
            (E::Vacant(v), Some(p)) => {
                let selected = vec![p.clone()];
                v.insert(Entry { paths: Paths::One(p), selected: 1 });
                (Some(Change { prefix, selected }), false)
            }
            (E::Occupied(mut o), path) => {
                let e = o.get_mut();
                let before: Vec<(PeerId, Arc<PathAttrs>)> =
                    e.paths()[..e.selected as usize].iter().map(|p| (p.peer, p.attrs.clone())).collect();
                let mut list = match std::mem::replace(&mut e.paths, Paths::Many(Box::default())) {
                    Paths::One(p) => vec![p],
                    Paths::Many(v) => *v,
                };
                let had = list.len();
                list.retain(|p| p.peer != peer);
                let had = list.len() != had;
                if let Some(p) = path {
                    list.push(p);
                }
                if list.is_empty() {
                    o.remove();
                    return (Some(Change { prefix, selected: Vec::new() }), had);
                }
                let n = best::select(&mut list, peers, sel);
                e.selected = n as u8;
                e.paths = if list.len() == 1 { Paths::One(list.pop().unwrap()) } else { Paths::Many(Box::new(list)) };
                let after = &e.paths()[..n];
                let same = after.len() == before.len()
                    && after.iter().zip(&before).all(|(p, b)| p.peer == b.0 && Arc::ptr_eq(&p.attrs, &b.1));
                ((!same).then(|| Change { prefix, selected: after.to_vec() }), had)
            }
        }
    }

    /// The selected paths for a prefix.
    pub fn selected(&self, prefix: &IpNet) -> &[Path] {
        self.entries.get(prefix).map_or(&[], |e| &e.paths()[..e.selected as usize])
    }

    /// Every candidate for a prefix, best first.
    pub fn paths(&self, prefix: &IpNet) -> &[Path] {
        self.entries.get(prefix).map_or(&[], |e| e.paths())
    }

    /// Each prefix with its candidates (best first) and how many are
    /// selected, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&IpNet, &[Path], usize)> {
        self.entries.iter().map(|(p, e)| (p, e.paths(), e.selected as usize))
    }

    /// Prefixes for which `peer` has a path (its Adj-RIB-In).
    pub fn prefixes_of(&self, peer: PeerId) -> Vec<IpNet> {
        self.entries.iter().filter(|(_, e)| e.paths().iter().any(|p| p.peer == peer)).map(|(p, _)| *p).collect()
    }

    pub fn count_of(&self, peer: PeerId) -> usize {
        self.entries.values().filter(|e| e.paths().iter().any(|p| p.peer == peer)).count()
    }

    /// Re-runs selection everywhere (after a change of maximum-paths).
    pub fn reselect(&mut self, peers: &dyn Fn(PeerId) -> PeerInfo, sel: Selection) -> Vec<Change> {
        let prefixes: Vec<IpNet> = self.entries.keys().copied().collect();
        let mut out = Vec::new();
        for p in prefixes {
            let e = self.entries.get_mut(&p).unwrap();
            if let Paths::Many(list) = &mut e.paths {
                let n = best::select(list, peers, sel);
                if n != e.selected as usize {
                    e.selected = n as u8;
                    out.push(Change { prefix: p, selected: list[..n].to_vec() });
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
