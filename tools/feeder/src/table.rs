//! The synthetic table a feeder sends: prefixes in about the public
//! table's proportions, and UPDATEs of one of two shapes. `Shape::Plain`
//! (the bench's first rows): 1 to 8 prefixes an UPDATE sharing a path of
//! 2 to 6 ASes. `Shape::Real`, what a router sees from a transit: about 2.4
//! prefixes an UPDATE (so some 415,000 distinct attribute sets per million
//! prefixes), AS paths of 1 to 10 hops, communities on a third of the
//! routes, MED on a quarter, over a table whose lengths are mixed through
//! the address space and sent in prefix order (`Layout::Mixed`); its seed
//! makes another peer's paths for the same prefixes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpbox::bgp::packet::{pack_announce, AsPath, Codec, Origin, PathAttrs};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Plain,
    Real(u64),
}

impl Shape {
    /// The table each shape is sent over.
    pub fn layout(self) -> Layout {
        match self {
            Shape::Plain => Layout::ByLength,
            Shape::Real(_) => Layout::Mixed,
        }
    }
}

/// A deterministic PRNG (xorshift), so every run feeds the same table.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Where a table's prefixes lie and the order they are sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Each length in a region of its own, the nine runs interleaved at
    /// random (the bench's first feed, kept so that its rows compare
    /// with earlier runs).
    ByLength,
    /// Lengths mixed through the address space as in the public table,
    /// sent in prefix order, as a transit sends its table when a session
    /// comes up (FRR's `subgroup_announce_table` walks its RIB so).
    Mixed,
}

const V4_MIX: [(u8, f64); 9] =
    [(24, 0.60), (23, 0.10), (22, 0.12), (21, 0.06), (20, 0.06), (19, 0.03), (18, 0.015), (17, 0.008), (16, 0.007)];
const V6_MIX: [(u8, f64); 6] = [(48, 0.50), (44, 0.10), (40, 0.10), (36, 0.05), (32, 0.15), (29, 0.10)];

/// How many prefixes of each length `n` has, the rest going to the first.
fn per_len(mix: &[(u8, f64)], n: usize) -> Vec<(u8, usize)> {
    let mut per_len: Vec<(u8, usize)> = mix.iter().map(|(l, f)| (*l, (n as f64 * f) as usize)).collect();
    let assigned: usize = per_len.iter().map(|(_, c)| c).sum();
    per_len[0].1 += n - assigned;
    per_len
}

/// The lengths of `per_len`, shuffled: the order they are placed in.
fn shuffled(per_len: &[(u8, usize)]) -> Vec<u8> {
    let mut lens: Vec<u8> = per_len.iter().flat_map(|&(l, c)| std::iter::repeat_n(l, c)).collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in (1..lens.len()).rev() {
        lens.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    lens
}

/// IPv4 prefixes without overlaps: lengths in about the public table's
/// proportions, placed by an aligned bump allocator over the unicast
/// space (skipping 10/8, 127/8 and 224/3), in `layout`.
pub fn v4_prefixes(n: usize, layout: Layout) -> Vec<IpNet> {
    let per_len = per_len(&V4_MIX, n);
    let mut cursor: u64 = 1 << 24;
    let place = |len: u8| loop {
        let size = 1u64 << (32 - len);
        cursor = cursor.div_ceil(size) * size;
        let first = cursor >> 24;
        if first == 10 || first == 127 {
            cursor = (first + 1) << 24;
            continue;
        }
        assert!(cursor + size <= 224 << 24, "the synthetic table does not fit the unicast space");
        let p = IpNet::V4(Ipv4Net::new(Ipv4Addr::from(cursor as u32), len).unwrap());
        cursor += size;
        return p;
    };
    lay_out(&per_len, layout, place)
}

pub fn v6_prefixes(n: usize, layout: Layout) -> Vec<IpNet> {
    let per_len = per_len(&V6_MIX, n);
    let mut cursor: u128 = 0x2400u128 << 112;
    let place = |len: u8| {
        let size = 1u128 << (128 - len);
        cursor = cursor.div_ceil(size) * size;
        let p = IpNet::V6(Ipv6Net::new(Ipv6Addr::from(cursor), len).unwrap());
        cursor += size;
        p
    };
    lay_out(&per_len, layout, place)
}

/// The prefixes `place` puts down, in the order `layout` takes them.
fn lay_out(per_len: &[(u8, usize)], layout: Layout, mut place: impl FnMut(u8) -> IpNet) -> Vec<IpNet> {
    match layout {
        Layout::Mixed => shuffled(per_len).into_iter().map(place).collect(),
        Layout::ByLength => {
            // Larger blocks first keeps alignment waste small.
            let lists = per_len.iter().rev().map(|&(len, count)| (0..count).map(|_| place(len)).collect()).collect();
            interleave(lists, per_len.iter().map(|(_, c)| c).sum())
        }
    }
}

fn interleave(mut lists: Vec<Vec<IpNet>>, n: usize) -> Vec<IpNet> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; lists.len()];
    while out.len() < n {
        let remaining: usize = lists.iter().zip(&idx).map(|(l, i)| l.len() - i).sum();
        let mut pick = (rng.next() as usize) % remaining.max(1);
        for (k, l) in lists.iter_mut().enumerate() {
            let left = l.len() - idx[k];
            if pick < left {
                out.push(l[idx[k]]);
                idx[k] += 1;
                break;
            }
            pick -= left;
        }
    }
    out
}

/// UPDATEs for `prefixes` in `shape`, appended to `out`; returns how many
/// distinct attribute sets they carry (at most: one an UPDATE).
pub fn updates(
    prefixes: &[IpNet],
    peer_as: u32,
    next_hop: IpAddr,
    shape: Shape,
    codec: &Codec,
    out: &mut Vec<u8>,
) -> usize {
    let mut rng = Rng(match shape {
        Shape::Plain => 0x2545_f491_4f6c_dd1d,
        Shape::Real(seed) => 0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1,
    });
    let mut i = 0;
    let mut sets = 0;
    while i < prefixes.len() {
        let a = match shape {
            Shape::Plain => plain(&mut rng, peer_as, next_hop),
            Shape::Real(_) => real(&mut rng, peer_as, next_hop),
        };
        let k = match shape {
            Shape::Plain => 1 + (rng.next() % 8) as usize,
            // Geometric, mean 2.4: each further prefix with odds 1 - 1/2.4.
            Shape::Real(_) => {
                let mut k = 1;
                while k < 64 && rng.next() % 1000 < 583 {
                    k += 1;
                }
                k
            }
        };
        let end = (i + k).min(prefixes.len());
        pack_announce(codec, &a, &prefixes[i..end], out);
        sets += 1;
        i = end;
    }
    sets
}

fn plain(rng: &mut Rng, peer_as: u32, next_hop: IpAddr) -> PathAttrs {
    let mut path = vec![peer_as];
    for _ in 0..1 + rng.next() % 5 {
        path.push(1 + (rng.next() % 64_000) as u32);
    }
    PathAttrs {
        origin: Origin::Igp,
        med: (rng.next() % 4 == 0).then(|| (rng.next() % 100) as u32).into(),
        ..Default::default()
    }
    .with_as_path(&AsPath::sequence(&path))
    .with_next_hop(next_hop)
}

fn real(rng: &mut Rng, peer_as: u32, next_hop: IpAddr) -> PathAttrs {
    // 1 to 10 hops, the peer first; mostly 3 to 5, as in the public table.
    let hops = match rng.next() % 100 {
        0..=4 => 1,
        5..=19 => 2,
        20..=49 => 3,
        50..=74 => 4,
        75..=89 => 5,
        n => 6 + (n % 5) as usize,
    };
    let mut path = vec![peer_as];
    for _ in 1..hops {
        // Public ASes only, as in the public table: never the
        // documentation and private range, where the bench's peers are.
        let a = 1 + (rng.next() % 400_000) as u32;
        path.push(if (64_496..=131_071).contains(&a) { a + 66_576 } else { a });
    }
    let communities: Vec<u32> = if rng.next() % 3 == 0 {
        (0..1 + rng.next() % 4).map(|_| peer_as << 16 | (rng.next() % 1000) as u32).collect()
    } else {
        Vec::new()
    };
    PathAttrs {
        origin: if rng.next() % 10 == 0 { Origin::Incomplete } else { Origin::Igp },
        med: (rng.next() % 4 == 0).then(|| (rng.next() % 1000) as u32).into(),
        ..Default::default()
    }
    .with_as_path(&AsPath::sequence(&path))
    .with_next_hop(next_hop)
    .with_communities(&communities)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(p: &[IpNet]) -> Vec<(u8, usize)> {
        let mut m = std::collections::BTreeMap::new();
        p.iter().for_each(|p| *m.entry(p.prefix_len()).or_insert(0) += 1);
        m.into_iter().collect()
    }

    /// Both layouts hold the same lengths without overlaps; the mixed one
    /// is in prefix order with its lengths spread through it, the other
    /// not in order. A full table fits the unicast space.
    #[test]
    fn the_mixed_table_is_in_prefix_order_with_lengths_spread() {
        for n in [1_000, 1_000_000] {
            let (by, mixed) = (v4_prefixes(n, Layout::ByLength), v4_prefixes(n, Layout::Mixed));
            assert_eq!((by.len(), mixed.len()), (n, n));
            assert_eq!(lengths(&by), lengths(&mixed));
            assert!(mixed.windows(2).all(|w| w[0].broadcast() < w[1].network()), "ascending, disjoint");
            assert!(!by.windows(2).all(|w| w[0] < w[1]));
            assert!(mixed.iter().all(|p| !matches!(p.network().to_string().split('.').next(), Some("10" | "127"))));
            // Every length in the first and the last tenth.
            for part in [&mixed[..n / 10], &mixed[n - n / 10..]].iter().filter(|_| n >= 100_000) {
                assert_eq!(lengths(part).len(), V4_MIX.len());
            }
        }
        let v6 = v6_prefixes(10_000, Layout::Mixed);
        assert!(v6.windows(2).all(|w| w[0].broadcast() < w[1].network()));
        assert_eq!(lengths(&v6), lengths(&v6_prefixes(10_000, Layout::ByLength)));
    }
}
