//! The route changes between the RIB and the FIB writer, per family.
//!
//! The writer is behind for most of a full table (the kernel takes a
//! route in 2-3 µs, the RIB hands one over in about 1), so what waits
//! here is a large share of bgpd's peak: 170,000-280,000 changes on the
//! bench. Two things keep it small: an IPv4 change takes 12 bytes
//! (`IpNet` alone takes 18, a change with it 24), and the backlog grows a
//! chunk at a time, where one deque doubled to twice what it held.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A prefix as a queued change keeps it, ordered as the kernel takes
/// additions fastest (see `fib_writer::kernel_order`).
pub(super) trait Key: Copy + Ord + std::fmt::Debug {
    fn net(self) -> IpNet;

    /// Keeps the last change of each prefix (the latest state wins), in
    /// key order.
    fn last_states(work: &mut Vec<Change<Self>>) {
        last_states_stable(work);
    }
}

/// `last_states` for any key: a stable sort keeps arrival order among
/// equal prefixes; reversed, the last of a run comes first, which dedup
/// keeps.
fn last_states_stable<K: Key>(work: &mut Vec<Change<K>>) {
    work.sort_by_key(|c| c.key);
    work.reverse();
    work.dedup_by_key(|c| c.key);
    work.reverse();
}

/// An IPv4 prefix in 8 bytes, ordered shortest first, then by address
/// spread out: the kernel's IPv4 trie takes a table with its lengths
/// mixed through the address space (as the public table's are) 2.5 times
/// faster shortest first than in prefix order (`bgpbox-feeder floor
/// --real`, 1,000,000 routes on one CPU, 3 runs: 1.30-1.41 s against
/// 3.24-3.51; in slices of 262,144, 2.03-2.24). In prefix order its
/// trie's nodes are inflated and halved over and over (perf: put_child,
/// resize, RCU frees, and a wait for an RCU grace period each time 512 KB
/// of nodes were freed: `net.ipv4.fib_sync_mem`).
///
/// Within a length, prefixes go by their top 12 bits, then by the other
/// 20 reversed: a /12's routes go in spread over it rather than left to
/// right, so its nodes grow to their size in fewer steps. Against plain
/// address order (the floor tool, one CPU, the table sorted whole): the
/// mixed table 1.09-1.11 s against 1.20-1.53, the by-length one 0.83-0.91
/// against 1.37-1.51; in slices of 262,144, 1.72-1.95 against 1.80-2.02
/// and 1.62-1.65 against 1.86-1.91 (the grace-period waits 460 against
/// 498, 1,550 against 1,790, deletions included). 16 or 20 top bits did as
/// well, 4, 8 or none (the address bit-reversed) worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct V4 {
    len: u8,
    /// The address with its low 20 bits reversed (`spread`).
    spread: u32,
}

/// Reverses an address's low 20 bits; its own inverse.
pub(super) fn spread(addr: u32) -> u32 {
    addr & 0xfff0_0000 | (addr << 12).reverse_bits()
}

/// Where an IPv4 route goes in the FIB writer's order (the order of
/// `V4`), for tools that write as bgpd does (`bgpbox-feeder floor`).
pub fn ipv4_write_order(n: Ipv4Net) -> u64 {
    V4::from(n).order()
}

impl V4 {
    /// The key as one integer, in the same order.
    fn order(self) -> u64 {
        u64::from(self.len) << 32 | u64::from(self.spread)
    }
}

impl From<Ipv4Net> for V4 {
    fn from(n: Ipv4Net) -> V4 {
        V4 { len: n.prefix_len(), spread: spread(n.network().into()) }
    }
}

impl Key for V4 {
    fn net(self) -> IpNet {
        // The length came from an Ipv4Net.
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(spread(self.spread)), self.len).unwrap_or_default())
    }

    /// As the default, on integers: the prefix (length, spread address) and the
    /// change's place in `work` in one u64, sorted unstably, then the sets
    /// gathered. The stable sort of the changes themselves was 61 of the
    /// writer's 87 million instructions for 100,000 routes (callgrind),
    /// and the writer is what a full table waits for.
    fn last_states(work: &mut Vec<Change<V4>>) {
        const AT_BITS: u32 = 24;
        if work.len() > 1 << AT_BITS {
            return last_states_stable(work);
        }
        let mut order: Vec<u64> = work.iter().enumerate().map(|(at, c)| c.key.order() << AT_BITS | at as u64).collect();
        order.sort_unstable();
        let mut last = Vec::with_capacity(order.len());
        for (i, o) in order.iter().enumerate() {
            // The last of a prefix's run is its latest change.
            if order.get(i + 1).is_none_or(|n| n >> AT_BITS != o >> AT_BITS) {
                last.push(work[(o & ((1 << AT_BITS) - 1)) as usize]);
            }
        }
        *work = last;
    }
}

impl Key for Ipv6Net {
    fn net(self) -> IpNet {
        IpNet::V6(self)
    }
}

/// A route change: the prefix and its interned next-hop set (0: delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Change<K> {
    pub key: K,
    pub set: u32,
}

/// Changes gathered by `Fib` while it handles a batch of events, handed
/// over whole at the end of it.
#[derive(Default)]
pub(super) struct Pending {
    pub v4: Vec<Change<V4>>,
    pub v6: Vec<Change<Ipv6Net>>,
}

impl Pending {
    pub fn push(&mut self, prefix: IpNet, set: u32) {
        match prefix {
            IpNet::V4(n) => self.v4.push(Change { key: V4::from(n), set }),
            IpNet::V6(n) => self.v6.push(Change { key: n, set }),
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives back a burst's room beyond `keep` changes a family.
    pub fn shrink(&mut self, keep: usize) {
        if self.v4.capacity() > keep {
            self.v4.shrink_to(keep);
        }
        if self.v6.capacity() > keep {
            self.v6.shrink_to(keep);
        }
    }
}

/// What waits for the writer.
#[derive(Default)]
pub(super) struct Backlog {
    pub v4: Chunks<Change<V4>>,
    pub v6: Chunks<Change<Ipv6Net>>,
}

impl Backlog {
    /// Takes `p`'s changes (leaving its room to it).
    pub fn append(&mut self, p: &mut Pending) {
        self.v4.extend(&p.v4);
        self.v6.extend(&p.v6);
        p.v4.clear();
        p.v6.clear();
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Changes a chunk holds: 192 KB of IPv4 ones, over musl's threshold for
/// an allocation of its own, so a chunk's memory goes back to the system
/// as soon as the writer has taken it.
const CHUNK: usize = 16_384;

/// A FIFO of fixed-size chunks: it never holds more than one chunk of
/// room beyond its changes, and never copies what it holds to grow.
pub(super) struct Chunks<T> {
    chunks: VecDeque<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks { chunks: VecDeque::new(), len: 0 }
    }
}

impl<T: Copy> Chunks<T> {
    pub fn extend(&mut self, mut items: &[T]) {
        self.len += items.len();
        while !items.is_empty() {
            match self.chunks.back_mut().filter(|c| c.len() < CHUNK) {
                Some(last) => {
                    let n = (CHUNK - last.len()).min(items.len());
                    last.extend_from_slice(&items[..n]);
                    items = &items[n..];
                }
                None => self.chunks.push_back(Vec::with_capacity(CHUNK)),
            }
        }
    }

    /// The oldest changes, whole chunks up to `max` (at least one chunk
    /// when there is any), in the order they came; their chunks are freed.
    pub fn take(&mut self, max: usize) -> Vec<T> {
        let mut n = 0;
        for c in &self.chunks {
            if n > 0 && n + c.len() > max {
                break;
            }
            n += c.len();
        }
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(c) = self.chunks.pop_front() else { break };
            out.extend_from_slice(&c);
        }
        self.len -= out.len();
        out
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Room held, in changes (for tests).
    #[cfg(test)]
    fn room(&self) -> usize {
        self.chunks.iter().map(|c| c.capacity()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_change_takes_12_bytes() {
        assert_eq!(std::mem::size_of::<Change<V4>>(), 12);
        assert_eq!(std::mem::size_of::<Change<Ipv6Net>>(), 24);
    }

    #[test]
    fn ipv4_keys_order_shortest_first_and_read_back() {
        let nets: Vec<IpNet> =
            ["10.0.0.0/8", "10.0.0.0/16", "9.255.255.0/24", "192.0.2.0/24", "192.0.2.0/25", "198.51.100.128/25"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        let mut p = Pending::default();
        for n in &nets {
            p.push(*n, 1);
        }
        p.push("2001:db8::/32".parse().unwrap(), 2);
        assert_eq!((p.v4.len(), p.v6.len(), p.len()), (6, 1, 7));
        let back: Vec<IpNet> = p.v4.iter().map(|c| c.key.net()).collect();
        assert_eq!(back, nets);
        let mut by_key = p.v4.clone();
        by_key.sort_by_key(|c| c.key);
        let by_key: Vec<String> = by_key.iter().map(|c| c.key.net().to_string()).collect();
        let want = ["10.0.0.0/8", "10.0.0.0/16", "9.255.255.0/24", "192.0.2.0/24", "192.0.2.0/25", "198.51.100.128/25"];
        assert_eq!(by_key, want);
        assert_eq!(p.v6[0].key.net(), "2001:db8::/32".parse::<IpNet>().unwrap());
    }

    #[test]
    fn within_a_length_a_twelve_bit_block_goes_in_spread_out() {
        let key = |s: &str| V4::from(s.parse::<Ipv4Net>().unwrap());
        let mut nets =
            ["192.0.3.0/24", "192.0.1.0/24", "192.0.2.0/24", "192.0.0.0/24", "192.16.0.0/24", "192.0.0.0/23"];
        nets.sort_by_key(|s| key(s));
        assert_eq!(
            nets,
            ["192.0.0.0/23", "192.0.0.0/24", "192.0.2.0/24", "192.0.1.0/24", "192.0.3.0/24", "192.16.0.0/24"]
        );
        for n in ["0.0.0.0/0", "255.255.255.255/32", "203.0.113.128/25", "10.1.2.0/24"] {
            assert_eq!(key(n).net().to_string(), n);
        }
        let mut tools = nets;
        tools.sort_by_key(|s| ipv4_write_order(s.parse().unwrap()));
        assert_eq!(tools, nets);
    }

    #[test]
    fn the_last_change_of_each_prefix_is_kept_in_key_order() {
        // Few prefixes, many changes: runs of every length, hosts and /0.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let work: Vec<Change<V4>> = (0..5000)
            .map(|_| {
                let len = [0, 8, 24, 32][(next() % 4) as usize];
                let net = Ipv4Net::new(Ipv4Addr::from((next() % 64) as u32 * 0x0101_0100), len).unwrap().trunc();
                Change { key: V4::from(net), set: (next() % 3) as u32 }
            })
            .collect();
        let mut want: std::collections::BTreeMap<V4, u32> = Default::default();
        for c in &work {
            want.insert(c.key, c.set);
        }
        let mut got = work.clone();
        V4::last_states(&mut got);
        assert_eq!(got.iter().map(|c| (c.key, c.set)).collect::<Vec<_>>(), want.into_iter().collect::<Vec<_>>());
        // The generic way (IPv6's) agrees.
        let mut generic = work.clone();
        last_states_stable(&mut generic);
        assert_eq!(generic, got);
    }

    #[test]
    fn chunks_keep_order_and_little_room() {
        let mut q: Chunks<u32> = Chunks::default();
        let mut next = 0u32;
        // Batches of odd sizes, as a RIB hands them over.
        for size in [1, 2_500, 40_000, 7, 16_383, 16_385] {
            let batch: Vec<u32> = (next..next + size).collect();
            next += size;
            q.extend(&batch);
            assert!(q.room() < q.len() + CHUNK, "{} room for {}", q.room(), q.len());
        }
        assert_eq!(q.len(), next as usize);
        let mut seen = Vec::new();
        while q.len() > 0 {
            let before = q.len();
            let got = q.take(20_000);
            assert!(!got.is_empty() && got.len() <= 20_000.max(CHUNK));
            assert_eq!(q.len(), before - got.len());
            seen.extend(got);
        }
        assert_eq!(seen, (0..next).collect::<Vec<_>>());
        assert_eq!(q.room(), 0);
        assert!(q.take(10).is_empty());
    }

    #[test]
    fn a_backlog_takes_what_is_pending_and_leaves_its_room() {
        let mut p = Pending::default();
        let mut b = Backlog::default();
        for i in 0..50_000u32 {
            p.push(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(i << 8), 24).unwrap()), i % 3);
        }
        p.push("2001:db8::/48".parse().unwrap(), 0);
        let cap = p.v4.capacity();
        b.append(&mut p);
        assert!(p.is_empty() && p.v4.capacity() == cap);
        assert_eq!((b.v4.len(), b.v6.len(), b.len()), (50_000, 1, 50_001));
        p.shrink(1024);
        assert!(p.v4.capacity() <= 1024);
    }
}
