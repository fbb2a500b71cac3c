//! Long IPv4 prefixes held back while a table arrives.
//!
//! The kernel's trie takes a table fastest with its shorter prefixes all
//! in before the long ones: its upper nodes then grow while the subtrees
//! under them are small. Written as it arrives, a slice at a time in
//! prefix order, a table grows them under full subtrees, over and over
//! (`bgpbox-feeder floor --real`, one CPU, additions only, two runs each:
//! in slices of 262,144, 1.64-1.66 s; with every slice's /22-/24 held to
//! the end and written in slices then, 1.00-1.09; sorted whole, 0.95). So
//! once a slice comes in large (a table arriving), the writer writes the
//! rest of each slice and keeps its additions of /22, /23 and /24 (80% of
//! the public table) here, 4 bytes each, until the queue stays empty.
//!
//! In bgpd (`scripts/bench --scenarios`, runs alternating with a build
//! that does not hold, 2026-12-01): one feeder, median of 11 runs 2.41 s
//! against 2.83 of 6, the peak RSS 1 MB more. Held, the writer's work
//! waits for the table's end: where the main task is the slower side (a
//! table exported to a peer as it comes) the release follows it instead
//! of running beside it, and the total grows (median 3.43 s of 8 against
//! 3.14 of 6). Releasing the held /22 and /23 whenever the writer idled
//! met halfway (2.62 s and 3.26 s, 3 runs each); releasing all of them
//! then, or waiting for larger slices, kept less of the gain.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};

use super::fib_queue::{spread, Change, Key, V4};

/// Bits of an entry for its next-hop set; 0 notes a deletion, which is
/// written at once, so that no addition held before it follows it.
const SET_BITS: u32 = 6;

/// At most this many changes wait (8 MB; a full table's are 820,000).
pub(super) const HELD_MAX: usize = 1 << 21;

/// The held changes in arrival order: each a prefix's `rank` over its set.
#[derive(Default)]
pub(super) struct Held(Vec<u32>);

/// A /22, /23 or /24 in 26 bits, ordered as `V4` orders it: the length,
/// then the spread address, whose low 12 bits are all a /22-/24 has in
/// the bits `spread` reverses (its last 8 address bits are zero).
fn rank(n: Ipv4Net) -> Option<u32> {
    let len = n.prefix_len();
    if !(22..=24).contains(&len) {
        return None;
    }
    let s = spread(n.network().into());
    Some(u32::from(len - 22) << 24 | (s >> 20) << 12 | s & 0xfff)
}

fn unrank(r: u32) -> Ipv4Net {
    let s = (r >> 12 & 0xfff) << 20 | r & 0xfff;
    // A length of 22 to 24 always makes a prefix.
    Ipv4Net::new(Ipv4Addr::from(spread(s)), 22 + (r >> 24) as u8).unwrap_or_default()
}

impl Held {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every change of a slice has a set an entry can name.
    pub fn fits(work: &[Change<V4>]) -> bool {
        work.iter().all(|c| c.set < 1 << SET_BITS)
    }

    /// Keeps the additions of /22-/24 in `work` (the last state of each of
    /// its prefixes, all `fits`), and notes its deletions of them, which
    /// stay in `work` to be written now.
    pub fn take_from(&mut self, work: &mut Vec<Change<V4>>) {
        let held = &mut self.0;
        work.retain(|c| {
            let IpNet::V4(n) = c.key.net() else { return true };
            match rank(n) {
                Some(r) if c.set < 1 << SET_BITS => {
                    held.push(r << SET_BITS | c.set);
                    c.set == 0
                }
                _ => true,
            }
        });
    }

    /// Hands the held routes to `write` in runs of at most `n`, in the
    /// kernel's order: each prefix's last state, none whose last is a
    /// deletion (written already). Empties the hold.
    pub fn drain(&mut self, n: usize, mut write: impl FnMut(&[Change<V4>])) {
        let mut held = std::mem::take(&mut self.0);
        // Stable: a prefix's changes keep their arrival order, the last
        // one last.
        held.sort_by_key(|e| e >> SET_BITS);
        let mut run = Vec::with_capacity(n.min(held.len()));
        for (i, e) in held.iter().enumerate() {
            if held.get(i + 1).is_some_and(|next| next >> SET_BITS == e >> SET_BITS) {
                continue;
            }
            let set = e & ((1 << SET_BITS) - 1);
            if set != 0 {
                run.push(Change { key: V4::from(unrank(e >> SET_BITS)), set });
            }
            if run.len() == n {
                write(&run);
                run.clear();
            }
        }
        if !run.is_empty() {
            write(&run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(s: &str, set: u32) -> Change<V4> {
        Change { key: V4::from(s.parse::<Ipv4Net>().unwrap()), set }
    }

    fn drained(h: &mut Held, n: usize) -> Vec<Vec<(String, u32)>> {
        let mut runs = Vec::new();
        h.drain(n, |run| runs.push(run.iter().map(|c| (c.key.net().to_string(), c.set)).collect()));
        runs
    }

    #[test]
    fn ranks_read_back_and_order_as_the_writer_does() {
        let mut x = 0x9e37_79b9u32;
        let mut nets: Vec<Ipv4Net> = (0..3000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                Ipv4Net::new(Ipv4Addr::from(x), 22 + (i % 3) as u8).unwrap().trunc()
            })
            .collect();
        nets.extend(["0.0.0.0/22", "255.255.255.0/24", "203.0.112.0/23"].map(|s| s.parse::<Ipv4Net>().unwrap()));
        for n in &nets {
            assert_eq!(unrank(rank(*n).unwrap()), *n);
        }
        let mut by_rank = nets.clone();
        by_rank.sort_by_key(|n| rank(*n));
        let mut by_key = nets;
        by_key.sort_by_key(|n| V4::from(*n));
        assert_eq!(by_rank, by_key);
        for other in ["192.0.2.0/21", "192.0.2.128/25", "0.0.0.0/0"] {
            assert_eq!(rank(other.parse().unwrap()), None);
        }
    }

    #[test]
    fn holds_long_additions_and_lets_the_rest_through() {
        let mut h = Held::default();
        let mut work = vec![
            change("10.0.0.0/8", 1),
            change("192.0.2.0/24", 1),
            change("198.51.100.0/22", 2),
            change("198.51.104.0/23", 0),
            change("203.0.113.128/25", 1),
        ];
        assert!(Held::fits(&work));
        h.take_from(&mut work);
        let left: Vec<String> = work.iter().map(|c| c.key.net().to_string()).collect();
        assert_eq!(left, ["10.0.0.0/8", "198.51.104.0/23", "203.0.113.128/25"]);
        assert_eq!(h.len(), 3);
        assert!(!Held::fits(&[change("192.0.2.0/24", 64)]));
    }

    #[test]
    fn the_last_state_of_each_prefix_comes_out_in_order_and_deleted_ones_not_at_all() {
        let mut h = Held::default();
        // Three slices of a table arriving, each the last states of its
        // prefixes; later slices change what earlier ones held.
        for mut slice in [
            vec![change("192.0.2.0/24", 1), change("198.51.100.0/24", 2), change("203.0.112.0/22", 1)],
            vec![change("192.0.2.0/24", 0), change("198.51.100.0/24", 3), change("10.0.0.0/23", 1)],
            vec![change("192.0.2.0/24", 5), change("203.0.112.0/22", 0)],
        ] {
            h.take_from(&mut slice);
        }
        let runs = drained(&mut h, 2);
        let s = |p: &str, set| (p.to_string(), set);
        assert_eq!(runs, [vec![s("10.0.0.0/23", 1), s("192.0.2.0/24", 5)], vec![s("198.51.100.0/24", 3)]]);
        assert!(h.is_empty() && drained(&mut h, 2).is_empty());
    }
}
