//! The FIB writer: a thread of its own with its own netlink socket. The
//! RIB hands it batches and never waits. Each batch is coalesced (the last
//! state of a prefix wins), packed into large sends, and acknowledged by
//! sequence number, so a refused route is logged with its prefix and
//! retried rather than dropped. Routes go through nexthop objects, one per
//! next-hop set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::fib_hold::{Held, HELD_MAX};
use super::fib_queue::{Backlog, Change, Key, Pending, V4};
use crate::netlink::{self, Socket};

/// A next hop as the kernel takes it: the gateway and its interface.
pub type Hop = (IpAddr, u32);

/// A next-hop set; a multipath one also names the single-hop sets of its
/// members (their nexthop objects make up its group).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct HopSet {
    pub hops: Box<[Hop]>,
    pub members: Box<[u32]>,
}

/// The distinct next-hop sets (few: one per neighbor, plus multipath
/// combinations), shared with the writer. Set `i` is nexthop object
/// `base + i` in the kernel.
#[derive(Default)]
pub(super) struct HopSets {
    pub sets: Vec<Arc<HopSet>>,
    index: HashMap<Box<[Hop]>, u32>,
}

impl HopSets {
    pub fn id(&mut self, hops: &[Hop]) -> u32 {
        if hops.is_empty() {
            return 0;
        }
        if let Some(&i) = self.index.get(hops) {
            return i;
        }
        let members: Box<[u32]> =
            if hops.len() > 1 { hops.iter().map(|h| self.id(&[*h])).collect() } else { Box::new([]) };
        self.sets.push(Arc::new(HopSet { hops: hops.into(), members }));
        let i = self.sets.len() as u32;
        self.index.insert(hops.into(), i);
        i
    }
}

/// The queue between the RIB and the writer thread.
#[derive(Default)]
pub(super) struct Queue {
    pub work: Mutex<Backlog>,
    pub ready: Condvar,
    pub hops: Mutex<HopSets>,
    /// Bumped when the kernel removed nexthop objects of ours: the writer
    /// no longer knows which exist.
    pub epoch: AtomicU64,
    /// Per set: whether the writer has made its nexthop object.
    pub made: Mutex<Vec<bool>>,
    /// An earlier run's nexthop objects, to delete once the writer has
    /// caught up (after the stale sweep, nothing uses them).
    pub retire: Mutex<Vec<u32>>,
}

/// Where bgpd's nexthop ids start: 186 (proto bgp) in the top byte, clear
/// of the small ids people and FRR's zebra (from 2^28) hand out.
pub(super) const NH_BASE: u32 = 186 << 24;

/// How many queued route changes of a family the writer takes at a time:
/// sorted together, they go to the kernel in prefix order, which its trie
/// takes faster (3 MB of IPv4 slice and as much sort scratch at most;
/// 65,536 was 0.1 to 0.2 s slower on a full table).
const WRITER_SLICE: usize = 262_144;

/// A slice at least this long (the queue's chunk: the RIB a chunk ahead)
/// is a table arriving: its long prefixes, and those of the slices after
/// it, wait (`fib_hold`) until the queue stays empty HOLD_IDLE, or for
/// HOLD_AGE at most (a table that trickles in is written as it comes).
const HOLD_SLICE: usize = 16_384;
const HOLD_IDLE: Duration = Duration::from_millis(50);
const HOLD_AGE: Duration = Duration::from_secs(2);

pub(super) fn writer(mut sock: Socket, q: Arc<Queue>, rejected: Arc<Mutex<HashMap<IpNet, String>>>, base: u32) {
    let mut seq = 1u32;
    let (mut retry4, mut retry6) = (Vec::new(), Vec::new());
    let mut held = Held::default();
    let mut held_since = Instant::now();
    let mut buf = Vec::new();
    let mut objects = Objects { base, epoch: 0, state: Vec::new(), dirty: false };
    loop {
        let (v4, v6, drained) = {
            let mut w = q.work.lock().unwrap_or_else(|e| e.into_inner());
            if w.is_empty() {
                let idle = retry4.is_empty() && retry6.is_empty();
                let wait = if !held.is_empty() {
                    HOLD_IDLE
                } else if idle {
                    Duration::from_secs(3600)
                } else {
                    Duration::from_secs(5)
                };
                w = q.ready.wait_timeout(w, wait).unwrap_or_else(|e| e.into_inner()).0;
            }
            // A slice at a time: the writer's own copy, and the sort's
            // scratch space, stay small however far the RIB is ahead.
            let (v4, v6) = (w.v4.take(WRITER_SLICE), w.v6.take(WRITER_SLICE));
            (v4, v6, w.is_empty())
        };
        // The sets are few; a copy of the list keeps the lock short.
        let sets = q.hops.lock().unwrap_or_else(|e| e.into_inner()).sets.clone();
        objects.sync(q.epoch.load(Ordering::Relaxed));
        let mut batch = Batch { sock: &mut sock, buf: &mut buf, sets: &sets, objects: &mut objects, seq: &mut seq };
        // What ends the hold is written first (it is older).
        let arriving = if held.is_empty() { v4.len() >= HOLD_SLICE } else { !v4.is_empty() };
        let hold = arriving
            && held.len() + v4.len() <= HELD_MAX
            && Held::fits(&v4)
            && (held.is_empty() || held_since.elapsed() < HOLD_AGE);
        let released = if hold || held.is_empty() { 0 } else { batch.release(&mut held, &mut retry4, &rejected) };
        if hold && held.is_empty() {
            held_since = Instant::now();
        }
        let (n4, again4) = batch.slice(
            v4,
            |w| {
                if hold {
                    held.take_from(w)
                }
            },
            &mut retry4,
            &rejected,
        );
        let (n6, again6) = batch.slice(v6, |_| {}, &mut retry6, &rejected);
        crate::debug_on!(
            crate::log::Debug::Zebra,
            "fib",
            "wrote {} route changes ({} again, {} held before), {} held, {} refused so far",
            n4 + n6 + released,
            again4 + again6,
            released,
            held.len(),
            retry4.len() + retry6.len()
        );
        if let Some(made) = objects.made() {
            *q.made.lock().unwrap_or_else(|e| e.into_inner()) = made;
        }
        // Routes of the earlier run go with its nexthop objects: not while
        // their replacements wait.
        if drained && held.is_empty() {
            let old = std::mem::take(&mut *q.retire.lock().unwrap_or_else(|e| e.into_inner()));
            if !old.is_empty() {
                crate::info!("fib", "removing {} nexthop objects of an earlier run", old.len());
                retire(&mut sock, &old);
            }
        }
    }
}

/// The order the kernel's trie takes a slice fastest in: deletions in
/// descending key order, then additions in ascending (each prefix is in
/// the slice once, so the order between them is free). IPv4 keys order
/// shortest first (`fib_queue::V4`): additions go in shortest first,
/// deletions longest first. Measured with a full IPv4 table on the
/// bench's machine, its lengths apart: deleted descending 1.1 s,
/// ascending 12-16 s (in slices of 131,072: 2.6 s against 3.1-3.5);
/// added ascending 1.5-1.9 s, descending 5.8 s. Its lengths mixed:
/// deleted longest first 1.0-1.4 s, in prefix order either way 4.3-5.3.
/// In place: at the peak the slice sits beside a full RIB.
fn kernel_order<K: Key>(work: &mut [Change<K>]) {
    work.sort_unstable_by(|a, b| match (a.set == 0, b.set == 0) {
        (true, true) => b.key.cmp(&a.key),
        (false, false) => a.key.cmp(&b.key),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
    });
}

/// Routes a netlink send carries.
const CHUNK: usize = 2000;

/// How long a nexthop object the kernel refused waits before another try
/// (its routes go with their gateways meanwhile).
const NH_RETRY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq)]
enum NhState {
    Unknown,
    /// Once made; a group then changed by the kernel is made again whole.
    Changed,
    Present,
    Failed(Instant),
}

/// What the writer knows of its nexthop objects: set `i` is object
/// `base + i`. Routes name their object by id, which spares the kernel
/// the validation of the gateway for each of a million routes (a third
/// of its time per route).
struct Objects {
    base: u32,
    epoch: u64,
    state: Vec<NhState>,
    /// A set's object was made since `made()` was last asked.
    dirty: bool,
}

impl Objects {
    /// The kernel removed some of ours: whether any exists is a question
    /// again, and groups may have lost members.
    fn sync(&mut self, epoch: u64) {
        if epoch != self.epoch {
            self.epoch = epoch;
            for s in &mut self.state {
                *s = if *s == NhState::Present { NhState::Changed } else { NhState::Unknown };
            }
        }
    }

    /// Per set, whether its object was made (for `Fib`, which checks them
    /// after a link change); `None` when nothing changed since last asked.
    fn made(&mut self) -> Option<Vec<bool>> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        Some(self.state.iter().map(|s| matches!(s, NhState::Present | NhState::Changed)).collect())
    }

    /// The nexthop object for set `i`, made if need be; `None` when the
    /// kernel will not have it (its routes then go with their gateways,
    /// and the kernel says per route what is wrong).
    fn ensure(&mut self, sock: &mut Socket, seq: &mut u32, sets: &[Arc<HopSet>], i: u32) -> Option<u32> {
        let at = i as usize - 1;
        if self.state.len() < sets.len() {
            self.state.resize(sets.len(), NhState::Unknown);
        }
        let was = self.state[at];
        match was {
            NhState::Present => return Some(self.base + i),
            NhState::Failed(t) if t.elapsed() < NH_RETRY => return None,
            _ => {}
        }
        let set = &sets[at];
        let mut ok = true;
        for m in set.members.iter() {
            ok &= self.ensure(sock, seq, sets, *m).is_some();
        }
        let errno = if !ok {
            nix::libc::ENETUNREACH
        } else {
            let mut buf = Vec::new();
            if let [(gw, oif)] = *set.hops {
                netlink::nexthop_add(&mut buf, *seq, self.base + i, &gw, oif);
            } else {
                let members: Vec<u32> = set.members.iter().map(|m| self.base + m).collect();
                netlink::nexthop_group_add(&mut buf, *seq, self.base + i, &members, was == NhState::Changed);
            }
            request(sock, &buf, seq)
        };
        if errno == 0 || (errno == nix::libc::EEXIST && set.members.is_empty()) {
            self.dirty |= was != NhState::Changed;
            self.state[at] = NhState::Present;
            return Some(self.base + i);
        }
        if !matches!(was, NhState::Failed(_)) {
            let via: Vec<String> = set.hops.iter().map(|h| h.0.to_string()).collect();
            let why = std::io::Error::from_raw_os_error(errno);
            crate::warn!("fib", "no nexthop object for {} ({why}); its routes go with their gateways", via.join(", "));
        }
        self.state[at] = NhState::Failed(Instant::now());
        None
    }
}

/// One request, answered before anything else goes out: its errno.
fn request(sock: &mut Socket, buf: &[u8], seq: &mut u32) -> i32 {
    let mine = *seq;
    *seq = seq.wrapping_add(1);
    if let Err(e) = sock.send(buf) {
        return e.raw_os_error().unwrap_or(nix::libc::EIO);
    }
    let mut answer = None;
    while answer.is_none() {
        let got = sock.recv_acks(|s, errno| {
            if s == mine {
                answer = Some(errno);
            }
        });
        if let Err(e) = got {
            return e.raw_os_error().unwrap_or(nix::libc::EIO);
        }
    }
    answer.unwrap_or(0)
}

/// bgpd's nexthop objects in the kernel (an earlier run's, at start).
pub(super) fn our_nexthops() -> std::io::Result<Vec<u32>> {
    let mut s = Socket::open(0)?;
    let mut ids = Vec::new();
    s.dump_each(netlink::RTM_GETNEXTHOP, 1, |m| {
        if let netlink::Msg::Nexthop(true, n) = m {
            if n.protocol == netlink::RTPROT_BGP {
                ids.push(n.id);
            }
        }
    })?;
    Ok(ids)
}

/// Deletes nexthop objects, and with them the routes through them. Groups
/// first (a member in a group cannot go before it).
pub(super) fn retire(sock: &mut Socket, ids: &[u32]) {
    let mut seq = 1;
    let mut ids = ids.to_vec();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for id in ids {
        let mut buf = Vec::new();
        netlink::nexthop_del(&mut buf, seq, id);
        let errno = request(sock, &buf, &mut seq);
        if errno != 0 && errno != nix::libc::ENOENT {
            crate::warn!("fib", "cannot remove nexthop object {id}: {}", std::io::Error::from_raw_os_error(errno));
        }
    }
}

/// The writer's state for one slice's sends.
struct Batch<'a> {
    sock: &'a mut Socket,
    buf: &'a mut Vec<u8>,
    sets: &'a [Arc<HopSet>],
    objects: &'a mut Objects,
    seq: &'a mut u32,
}

impl Batch<'_> {
    /// One family's slice: the last state of each prefix, with what the
    /// kernel refused before (unless superseded), in the kernel's order.
    /// Returns how many changes it wrote, and how many of them again.
    fn slice<K: Key>(
        &mut self,
        mut work: Vec<Change<K>>,
        hold: impl FnOnce(&mut Vec<Change<K>>),
        retry: &mut Vec<Change<K>>,
        rejected: &Mutex<HashMap<IpNet, String>>,
    ) -> (usize, usize) {
        K::last_states(&mut work);
        let mut again = std::mem::take(retry);
        again.retain(|c| work.binary_search_by_key(&c.key, |x| x.key).is_err());
        // After the retries' check: a retry that a held change supersedes
        // is dropped all the same.
        hold(&mut work);
        // In key order now: a table coming in (all additions) is in the
        // kernel's order already, one going (all deletions) reversed.
        if work.iter().all(|c| c.set == 0) {
            work.reverse();
        } else if work.iter().any(|c| c.set == 0) {
            kernel_order(&mut work);
        }
        for chunk in again.chunks(CHUNK).chain(work.chunks(CHUNK)) {
            retry.extend(self.write(chunk, rejected));
        }
        (work.len(), again.len())
    }

    /// Writes what was held (`fib_hold`); returns how many routes.
    fn release(
        &mut self,
        held: &mut Held,
        retry: &mut Vec<Change<V4>>,
        rejected: &Mutex<HashMap<IpNet, String>>,
    ) -> usize {
        let mut n = 0;
        held.drain(CHUNK, |run| {
            n += run.len();
            retry.extend(self.write(run, rejected));
        });
        n
    }

    fn gateways(&self, id: u32) -> Vec<IpAddr> {
        if id == 0 {
            return Vec::new();
        }
        self.sets[id as usize - 1].hops.iter().map(|h| h.0).collect()
    }

    /// Sends one chunk. Only its last message asks for an acknowledgement:
    /// the kernel handles a send in order and reports every error anyway,
    /// so when that ack arrives the chunk is done, and a full table costs
    /// a few hundred acks instead of a million. Returns the routes the
    /// kernel refused (to retry later).
    fn write<K: Key>(&mut self, chunk: &[Change<K>], rejected: &Mutex<HashMap<IpNet, String>>) -> Vec<Change<K>> {
        // Objects first: their requests take sequence numbers of their own.
        for c in chunk.iter().filter(|c| c.set != 0) {
            self.objects.ensure(self.sock, self.seq, self.sets, c.set);
        }
        let mut buf = std::mem::take(self.buf);
        buf.clear();
        let first = *self.seq;
        for (i, c) in chunk.iter().enumerate() {
            let ack = i + 1 == chunk.len();
            // Known by now: present, or refused a moment ago.
            let nh = if c.set == 0 { None } else { self.objects.ensure(self.sock, self.seq, self.sets, c.set) };
            let (seq, p) = (first.wrapping_add(i as u32), &c.key.net());
            match (c.set, nh) {
                (0, _) => netlink::route_change_nh(&mut buf, seq, p, None, ack),
                (_, Some(k)) => netlink::route_change_nh(&mut buf, seq, p, Some(k), ack),
                (id, None) => netlink::route_change(&mut buf, seq, p, &self.gateways(id), ack),
            }
        }
        *self.seq = first.wrapping_add(chunk.len() as u32);
        let last = self.seq.wrapping_sub(1);
        let sent = self.sock.send(&buf);
        *self.buf = buf;
        if let Err(e) = sent {
            crate::warn!("fib", "netlink send failed: {e}; {} routes will be retried", chunk.len());
            return chunk.to_vec();
        }
        let mut refused: Vec<(usize, i32)> = Vec::new();
        let mut done = false;
        while !done {
            let got = self.sock.recv_acks(|s, errno| {
                let Some(i) = s.checked_sub(first).map(|i| i as usize).filter(|i| *i < chunk.len()) else { return };
                // Deleting what is not there is fine.
                if errno != 0 && !(chunk[i].set == 0 && errno == nix::libc::ESRCH) {
                    refused.push((i, errno));
                }
                done |= s == last;
            });
            if let Err(e) = got {
                crate::warn!("fib", "netlink receive failed: {e}");
                break;
            }
        }
        let mut r = rejected.lock().unwrap_or_else(|e| e.into_inner());
        if !r.is_empty() {
            // Whatever was not refused now is in (or out of) the kernel.
            for (i, c) in chunk.iter().enumerate() {
                if !refused.iter().any(|(j, _)| *j == i) {
                    r.remove(&c.key.net());
                }
            }
        }
        let mut failed = Vec::new();
        for (i, errno) in refused {
            let (c, p) = (chunk[i], chunk[i].key.net());
            let why = std::io::Error::from_raw_os_error(errno).to_string();
            let via: Vec<String> = self.gateways(c.set).iter().map(|a| a.to_string()).collect();
            crate::warn!("fib", "kernel refused {p} via {}: {why}; will retry", via.join(", "));
            r.insert(p, why);
            failed.push(c);
        }
        failed
    }
}

/// Deletes routes (bgpd's, at a clean stop), in sends of `CHUNK`, in the
/// order the kernel deletes fastest in.
pub(super) fn delete_routes(sock: &mut Socket, prefixes: &[IpNet]) {
    let mut gone = Pending::default();
    prefixes.iter().for_each(|p| gone.push(*p, 0));
    kernel_order(&mut gone.v4);
    kernel_order(&mut gone.v6);
    let (mut buf, mut seq, none) = (Vec::new(), 1, Mutex::new(HashMap::new()));
    let mut objects = Objects { base: 0, epoch: 0, state: Vec::new(), dirty: false };
    let mut batch = Batch { sock, buf: &mut buf, sets: &[], objects: &mut objects, seq: &mut seq };
    for chunk in gone.v4.chunks(CHUNK) {
        batch.write(chunk, &none);
    }
    for chunk in gone.v6.chunks(CHUNK) {
        batch.write(chunk, &none);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgpd::fib_queue::V4;

    #[test]
    fn deletions_longest_first_then_additions_shortest_first() {
        let c = |s: &str, set: u32| Change { key: V4::from(s.parse::<ipnet::Ipv4Net>().unwrap()), set };
        // As the writer has them: by prefix, the additions first here.
        let at = |i: u32| V4::from(ipnet::Ipv4Net::from(std::net::Ipv4Addr::from(i << 8)));
        let mut w: Vec<Change<V4>> = (0..64u32).map(|i| Change { key: at(i), set: u32::from(i < 32) }).collect();
        kernel_order(&mut w);
        let split = w.iter().position(|c| c.set != 0).unwrap();
        assert!(w[..split].iter().all(|c| c.set == 0) && w[..split].is_sorted_by(|a, b| a.key > b.key));
        assert!(w[split..].iter().all(|c| c.set != 0) && w[split..].is_sorted_by(|a, b| a.key < b.key));
        let mut w = vec![
            c("198.51.100.0/24", 0),
            c("192.0.2.0/24", 3),
            c("203.0.113.0/24", 0),
            c("10.0.0.0/8", 0),
            c("198.51.100.0/25", 2),
            c("192.0.2.128/25", 0),
            c("203.0.112.0/22", 1),
        ];
        kernel_order(&mut w);
        let order: Vec<(String, u32)> = w.iter().map(|c| (c.key.net().to_string(), c.set)).collect();
        let want = [
            ("192.0.2.128/25", 0),
            ("203.0.113.0/24", 0),
            ("198.51.100.0/24", 0),
            ("10.0.0.0/8", 0),
            ("203.0.112.0/22", 1),
            ("192.0.2.0/24", 3),
            ("198.51.100.0/25", 2),
        ];
        assert_eq!(order, want.map(|(p, id)| (p.to_string(), id)));
    }
}
