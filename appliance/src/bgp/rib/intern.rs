//! Interning of attribute sets: routes with equal attributes share one
//! allocation, which is most of a full table's memory saved.

use std::sync::Arc;

use crate::bgp::hash::FastSet;
use crate::bgp::packet::PathAttrs;

#[derive(Debug, Default)]
pub struct Interner {
    set: FastSet<Arc<PathAttrs>>,
    inserts: usize,
}

impl Interner {
    /// Forgets every set, keeping the room.
    pub fn clear(&mut self) {
        self.set.clear();
        self.inserts = 0;
    }

    pub fn intern(&mut self, a: PathAttrs) -> Arc<PathAttrs> {
        if let Some(x) = self.set.get(&a) {
            return x.clone();
        }
        let x = Arc::new(a);
        self.set.insert(x.clone());
        self.inserts += 1;
        // Sweep now and then, so that churn does not pile up dead sets.
        if self.inserts >= 4096 && self.inserts >= self.set.len() / 2 {
            self.sweep();
        }
        x
    }

    /// Drops the sets no route uses any more.
    pub fn sweep(&mut self) {
        self.set.retain(|a| Arc::strong_count(a) > 1);
        self.set.shrink_to_fit();
        self.inserts = 0;
    }

    pub fn bytes(&self) -> usize {
        self.set.iter().map(|a| std::mem::size_of::<PathAttrs>() + 16 + a.heap_bytes()).sum()
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}
