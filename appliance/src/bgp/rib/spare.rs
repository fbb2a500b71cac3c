//! Where a table keeps the paths of prefixes that have more than one (a
//! second full table: dual transit). Two paths are 32 bytes in a slab; in
//! a box of their own they took 48 (musl's slot for 32 bytes and its
//! 4-byte header), 16 MB more for each million prefixes. Three and more
//! are rare and keep a list of exact size.

use super::Path;

/// Slots per chunk: 128 KB of pairs, allocated whole, never moved.
const CHUNK: usize = 4096;

/// A slab of values by `u32` index, in chunks that do not move (no copy
/// of a million paths when it grows) and that go when it empties.
#[derive(Debug)]
pub(super) struct Slab<T> {
    chunks: Vec<Box<[Option<T>]>>,
    free: Vec<u32>,
    /// Slots ever used: the next fresh one.
    next: u32,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { chunks: Vec::new(), free: Vec::new(), next: 0, len: 0 }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> u32 {
        let at = self.free.pop().unwrap_or_else(|| {
            let at = self.next;
            if at as usize % CHUNK == 0 {
                self.chunks.push(std::iter::repeat_with(|| None).take(CHUNK).collect());
            }
            self.next += 1;
            at
        });
        *self.slot(at) = Some(value);
        self.len += 1;
        at
    }

    /// Takes the value out; its slot is free again. When none is left,
    /// the chunks go (the second transit's session went).
    pub fn remove(&mut self, at: u32) -> Option<T> {
        let v = self.slot(at).take()?;
        self.len -= 1;
        if self.len == 0 {
            *self = Slab::default();
        } else {
            self.free.push(at);
        }
        Some(v)
    }

    pub fn get(&self, at: u32) -> Option<&T> {
        self.chunks.get(at as usize / CHUNK)?[at as usize % CHUNK].as_ref()
    }

    pub fn get_mut(&mut self, at: u32) -> Option<&mut T> {
        self.chunks.get_mut(at as usize / CHUNK)?[at as usize % CHUNK].as_mut()
    }

    fn slot(&mut self, at: u32) -> &mut Option<T> {
        &mut self.chunks[at as usize / CHUNK][at as usize % CHUNK]
    }
}

/// A prefix's paths in the spare store: where, how many are selected,
/// and whether they are a pair or a longer list.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ref {
    at: u32,
    pub selected: u8,
    more: bool,
}

/// The paths beyond the first of a table's prefixes.
#[derive(Debug, Default)]
pub(super) struct Spare {
    pairs: Slab<[Path; 2]>,
    lists: Slab<Box<[Path]>>,
}

impl Spare {
    /// Stores a list (sorted, best first; two or more paths), which it
    /// leaves empty: the caller's buffer, reused (a pair costs no
    /// allocation on its way in or out).
    pub fn put(&mut self, list: &mut Vec<Path>, selected: usize) -> Ref {
        let selected = selected as u8;
        if list.len() == 2 {
            let (b, a) = (list.pop(), list.pop());
            if let (Some(a), Some(b)) = (a, b) {
                return Ref { at: self.pairs.insert([a, b]), selected, more: false };
            }
        }
        Ref { at: self.lists.insert(list.drain(..).collect()), selected, more: true }
    }

    /// Moves a list out, onto the end of `into` (to change it, or because
    /// its prefix went).
    pub fn take(&mut self, r: Ref, into: &mut Vec<Path>) {
        if r.more {
            into.extend(self.lists.remove(r.at).map(Vec::from).unwrap_or_default());
        } else {
            into.extend(self.pairs.remove(r.at).into_iter().flatten());
        }
    }

    pub fn list(&self, r: &Ref) -> &[Path] {
        let l = if r.more { self.lists.get(r.at).map(|l| &l[..]) } else { self.pairs.get(r.at).map(|l| &l[..]) };
        l.unwrap_or(&[])
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.pairs.len == 0 && self.lists.len == 0 && self.pairs.chunks.is_empty() && self.lists.chunks.is_empty()
    }

    pub fn list_mut(&mut self, r: &Ref) -> &mut [Path] {
        let l = if r.more {
            self.lists.get_mut(r.at).map(|l| &mut l[..])
        } else {
            self.pairs.get_mut(r.at).map(|l| &mut l[..])
        };
        l.unwrap_or(&mut [])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_an_empty_slab_lets_go() {
        let mut s: Slab<u64> = Slab::default();
        let ids: Vec<u32> = (0..CHUNK as u64 + 10).map(|v| s.insert(v)).collect();
        assert_eq!((s.chunks.len(), s.len), (2, CHUNK + 10));
        assert_eq!(s.remove(ids[5]), Some(5));
        assert_eq!(s.remove(ids[5]), None, "taken once");
        assert_eq!(s.get(ids[5]), None);
        assert_eq!(s.insert(99), ids[5], "the freed slot first");
        assert_eq!(s.get(ids[CHUNK + 9]), Some(&(CHUNK as u64 + 9)));
        for id in ids {
            s.remove(id);
        }
        assert_eq!((s.chunks.len(), s.len, s.free.len()), (0, 0, 0), "nothing kept");
        assert_eq!(s.insert(7), 0);
    }

    #[test]
    fn a_pair_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Option<[Path; 2]>>(), 32);
    }
}
