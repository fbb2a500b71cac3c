//! bgpd and the kernel: what the kernel has (addresses, its own routes),
//! and the FIB writer that installs our best paths.
//!
//! The writer is a thread of its own with its own netlink socket: the RIB
//! hands it batches and never waits. Each batch is coalesced (the last
//! state of a prefix wins), packed into large sends, and acknowledged by
//! sequence number, so a refused route is logged with its prefix and
//! retried rather than dropped.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::sync::mpsc;

use super::daemon::Event;
use super::kernel_view::View;
use crate::bgp::speaker::{Hops, Kernel};
use crate::netlink::{self, Socket};

fn log(line: &str) {
    eprintln!("bgpd: {line}");
}

/// The kernel's addresses and its non-BGP routes, read in one go; with
/// `bgp`, also the prefixes of the BGP routes in the main table (ours, or
/// an earlier run's). Route by route: a full table is never held decoded.
pub fn read(bgp: bool) -> std::io::Result<(Kernel, Vec<IpNet>)> {
    let mut s = Socket::open(0)?;
    let mut ours = Vec::new();
    let v = View::read(&mut s, bgp.then_some(&mut ours))?;
    Ok((v.kernel(), ours))
}

pub async fn snapshot() -> Kernel {
    match tokio::task::spawn_blocking(|| read(false)).await {
        Ok(Ok((k, _))) => k,
        Ok(Err(e)) => {
            log(&format!("cannot read the kernel's addresses and routes: {e}"));
            Kernel::default()
        }
        Err(_) => Kernel::default(),
    }
}

/// Watches the kernel's address, link and (non-BGP) route changes and
/// sends a fresh view when something changed. A thread of its own: it
/// blocks in recv() and must not hold up the runtime's shutdown.
pub fn watch(tx: mpsc::UnboundedSender<Event>) {
    let groups = netlink::GROUP_LINK
        | netlink::GROUP_IPV4_IFADDR
        | netlink::GROUP_IPV6_IFADDR
        | netlink::GROUP_IPV4_ROUTE
        | netlink::GROUP_IPV6_ROUTE
        | netlink::GROUP_NEXTHOP;
    let _ = std::thread::Builder::new().name("kernel-watch".into()).spawn(move || {
        let mut s = match Socket::open(groups) {
            Ok(s) => s,
            Err(e) => {
                log(&format!("cannot watch the kernel: {e}"));
                return;
            }
        };
        // Without it the watcher still works: it skips our routes itself.
        if let Err(e) = super::sockopt::drop_bgp_route_notifications(s.raw_fd()) {
            log(&format!("kernel watcher: no socket filter ({e}); skipping BGP route changes by hand"));
        }
        // Send the view as of now, after subscribing: whatever changed
        // between bgpd's first snapshot and this point (netsetup still at
        // work at boot) would otherwise never be seen. From then on the
        // notifications keep the view; only a lost one (ENOBUFS) costs a
        // re-read.
        let mut view = View::default();
        let mut last: Option<Kernel> = None;
        let mut fresh = true;
        loop {
            if fresh {
                match View::read(&mut s, None) {
                    Ok(v) => view = v,
                    Err(e) => log(&format!("kernel watcher: cannot read the kernel: {e}")),
                }
                // A link that went down or lost its carrier took its nexthop
                // objects, and their routes, without a word: only a look
                // at what is left tells.
                match our_nexthops() {
                    Ok(ids) => {
                        if tx.send(Event::Nexthops(ids)).is_err() {
                            return;
                        }
                    }
                    Err(e) => log(&format!("kernel watcher: cannot read the nexthop objects: {e}")),
                }
                fresh = false;
            }
            let k = view.kernel();
            if last.as_ref() != Some(&k) {
                last = Some(k.clone());
                if tx.send(Event::Kernel(k)).is_err() {
                    return;
                }
            }
            match s.recv() {
                Ok(msgs) => {
                    let mut changed = false;
                    for m in msgs {
                        match m {
                            // Someone deleted one of our nexthop objects, and
                            // with it its routes.
                            netlink::Msg::Nexthop(false, n) if n.protocol == netlink::RTPROT_BGP => {
                                if tx.send(Event::NexthopGone(n.id)).is_err() {
                                    return;
                                }
                            }
                            m => changed |= view.apply(m),
                        }
                    }
                    if !changed && !view.stale {
                        continue;
                    }
                    // Let a burst (an interface coming up with its routes)
                    // settle into one view.
                    std::thread::sleep(Duration::from_millis(20));
                    fresh = view.stale;
                }
                Err(_) => fresh = true,
            }
        }
    });
}

/// Why a selected BGP route is not in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotInstalled {
    /// A kernel, connected or static route for the prefix wins
    /// (administrative distance).
    Shadowed,
    /// No next hop is reachable.
    Unreachable,
    /// The kernel refused it.
    Rejected(String),
}

/// What a change of the kernel's view can affect: prefixes whose kernel
/// route came or went (shadowing), next hops whose interface changed (a
/// connected network came or went), and next hops whose nexthop object the
/// kernel removed (with the link), taking their routes with it.
#[derive(Default)]
pub struct KernelDelta {
    shadow: HashSet<IpNet>,
    old_links: Option<Kernel>,
    gone: Vec<IpAddr>,
}

impl KernelDelta {
    pub fn is_empty(&self) -> bool {
        self.shadow.is_empty() && self.old_links.is_none() && self.gone.is_empty()
    }

    pub fn shadows(&self, prefix: &IpNet) -> bool {
        self.shadow.contains(prefix)
    }

    /// Whether routes through `hop` are to be written again.
    pub fn reach_changed(&self, fib: &Fib, hop: &IpAddr) -> bool {
        self.gone.contains(hop)
            || self.old_links.as_ref().is_some_and(|old| old.link_of(hop) != fib.kernel.link_of(hop))
    }
}

/// The kernel's directly reachable networks and their interfaces.
fn links(k: &Kernel) -> Vec<(IpNet, u32)> {
    k.table.iter().filter(|r| r.gateways.is_empty() && r.oif != 0).map(|r| (r.prefix, r.oif)).collect()
}

/// Work for the FIB writer: a prefix and an interned next-hop set (0:
/// delete). 24 bytes a route, so a full table waiting for the kernel
/// costs little.
type Work = (IpNet, u32);

/// A next hop as the kernel takes it: the gateway and its interface.
pub type Hop = (IpAddr, u32);

/// A next-hop set; a multipath one also names the single-hop sets of its
/// members (their nexthop objects make up its group).
#[derive(Debug, PartialEq, Eq, Hash)]
struct HopSet {
    hops: Box<[Hop]>,
    members: Box<[u32]>,
}

/// The distinct next-hop sets (few: one per neighbor, plus multipath
/// combinations), shared with the writer. Set `i` is nexthop object
/// `base + i` in the kernel.
#[derive(Default)]
struct HopSets {
    sets: Vec<Arc<HopSet>>,
    index: HashMap<Box<[Hop]>, u32>,
}

impl HopSets {
    fn id(&mut self, hops: &[Hop]) -> u32 {
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
struct Queue {
    work: Mutex<std::collections::VecDeque<Work>>,
    ready: Condvar,
    hops: Mutex<HopSets>,
    /// Bumped when the kernel removed nexthop objects of ours: the writer
    /// no longer knows which exist.
    epoch: AtomicU64,
    /// Per set: whether the writer has made its nexthop object.
    made: Mutex<Vec<bool>>,
    /// An earlier run's nexthop objects, to delete once the writer has
    /// caught up (after the stale sweep, nothing uses them).
    retire: Mutex<Vec<u32>>,
}

/// Where bgpd's nexthop ids start: 186 (proto bgp) in the top byte, clear
/// of the small ids people and FRR's zebra (from 2^28) hand out.
const NH_BASE: u32 = 186 << 24;

pub struct Fib {
    queue: Option<Arc<Queue>>,
    kernel: Kernel,
    /// Routes the kernel refused, with the reason (shared with the writer).
    pub rejected: Arc<Mutex<HashMap<IpNet, String>>>,
    /// Routes we decided not to install, and why.
    pub held: HashMap<IpNet, NotInstalled>,
    /// BGP routes found at start (an earlier bgpd's), kept until sessions
    /// have re-sent their tables, then removed if still unclaimed.
    stale: Option<(HashSet<IpNet>, Instant)>,
    local: Vec<Work>,
    /// Kernel id of our nexthop set 0 (sets are `base + i`).
    nh_base: u32,
    /// An earlier run's nexthop objects, retired with its stale routes.
    old_nexthops: Vec<u32>,
    /// Recent answers of `Kernel::link_of`: a full table has a handful of
    /// next hops, asked about for every route.
    link_cache: Vec<(IpAddr, Option<u32>)>,
}

/// How long stale routes of an earlier run may wait for End-of-RIB.
pub const STALE_TIMEOUT: Duration = Duration::from_secs(120);

impl Fib {
    pub async fn start(enabled: bool, _events: mpsc::UnboundedSender<Event>) -> Result<Fib, String> {
        let rejected = Arc::new(Mutex::new(HashMap::new()));
        let mut fib = Fib {
            queue: None,
            kernel: Kernel::default(),
            rejected,
            held: HashMap::new(),
            stale: None,
            local: Vec::new(),
            nh_base: NH_BASE,
            old_nexthops: Vec::new(),
            link_cache: Vec::new(),
        };
        if !enabled {
            return Ok(fib);
        }
        let (k, ours) = tokio::task::spawn_blocking(|| read(true))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the kernel's routes: {e}"))?;
        // An earlier run's nexthop objects carry its stale routes: ours get
        // ids above them, and they go with the stale routes.
        let old = tokio::task::spawn_blocking(our_nexthops).await.map_err(|e| e.to_string())?.unwrap_or_default();
        fib.nh_base = old.iter().copied().max().unwrap_or(0).max(NH_BASE);
        fib.old_nexthops = old;
        let stale: HashSet<IpNet> = ours.into_iter().collect();
        if !stale.is_empty() {
            log(&format!(
                "{} BGP routes from an earlier run kept until the neighbors have re-sent theirs",
                stale.len()
            ));
        }
        let queue = Arc::new(Queue::default());
        let sock = Socket::open(0).map_err(|e| format!("netlink: {e}"))?;
        let (q, rej, base) = (queue.clone(), fib.rejected.clone(), fib.nh_base);
        std::thread::Builder::new()
            .name("fib".into())
            .spawn(move || writer(sock, q, rej, base))
            .map_err(|e| e.to_string())?;
        fib.queue = Some(queue);
        fib.kernel = k;
        fib.stale = Some((stale, Instant::now()));
        Ok(fib)
    }

    /// The interface `hop` is reachable on, if any.
    pub fn link_of(&mut self, hop: &IpAddr) -> Option<u32> {
        if let Some((_, l)) = self.link_cache.iter().find(|(h, _)| h == hop) {
            return *l;
        }
        let l = self.kernel.link_of(hop);
        if self.link_cache.len() >= 64 {
            self.link_cache.clear();
        }
        self.link_cache.push((*hop, l));
        l
    }

    /// The selected next hops for a prefix (none: withdraw).
    pub fn set(&mut self, prefix: IpNet, hops: Hops) {
        if let Some((stale, _)) = &mut self.stale {
            stale.remove(&prefix);
        }
        let hops = hops.as_slice();
        // One next hop (a full table's case) stays on the stack.
        let mut one: [Hop; 1] = [(hops.first().copied().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)), 0)];
        let many: Vec<Hop>;
        let want: &[Hop] = if hops.is_empty() {
            self.held.remove(&prefix);
            &[]
        } else if self.kernel.routes.contains(&prefix) {
            self.held.insert(prefix, NotInstalled::Shadowed);
            &[]
        } else {
            let ok: &[Hop] = if let [h] = hops {
                match self.link_of(h) {
                    Some(oif) => {
                        one[0].1 = oif;
                        &one
                    }
                    None => &[],
                }
            } else {
                many = hops.iter().filter_map(|h| self.link_of(h).map(|oif| (*h, oif))).collect();
                &many
            };
            if ok.is_empty() {
                self.held.insert(prefix, NotInstalled::Unreachable);
            } else {
                self.held.remove(&prefix);
            }
            ok
        };
        if let Some(q) = &self.queue {
            let id = q.hops.lock().unwrap_or_else(|e| e.into_inner()).id(want);
            self.local.push((prefix, id));
        }
    }

    /// Route changes waiting for the writer.
    pub fn backlog(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.work.lock().map_or(0, |w| w.len())) + self.local.len()
    }

    /// Hands what `set` gathered to the writer.
    pub fn flush(&mut self) {
        if let (Some(q), false) = (&self.queue, self.local.is_empty()) {
            let mut w = q.work.lock().unwrap_or_else(|e| e.into_inner());
            w.extend(self.local.drain(..));
            q.ready.notify_one();
        }
        // A burst (a whole table withdrawn at once) must not stay reserved.
        if self.local.capacity() > LOCAL_KEEP {
            self.local.shrink_to(LOCAL_KEEP);
        }
    }

    /// The kernel's view changed: routes may become (un)reachable or
    /// (un)shadowed. The daemon re-sends the selected routes the returned
    /// delta says are affected, not a whole table.
    pub fn kernel_changed(&mut self, k: &Kernel) -> KernelDelta {
        let shadow = self.kernel.routes.symmetric_difference(&k.routes).copied().collect();
        let old = std::mem::replace(&mut self.kernel, k.clone());
        self.link_cache.clear();
        let old_links = (links(&old) != links(k)).then_some(old);
        KernelDelta { shadow, old_links, gone: Vec::new() }
    }

    /// A nexthop object of ours was deleted, and the routes through it:
    /// the returned delta names the next hops whose routes are to be
    /// written again.
    pub fn nexthop_gone(&mut self, id: u32) -> KernelDelta {
        match id.checked_sub(self.nh_base) {
            Some(i) if i > 0 => self.gone(|set| set == i),
            _ => KernelDelta::default(),
        }
    }

    /// The kernel's nexthop objects of protocol bgp, after a link changed:
    /// those the writer made and the kernel no longer has went with the
    /// link, and so did their routes.
    pub fn nexthops_present(&mut self, ids: &[u32]) -> KernelDelta {
        let Some(q) = &self.queue else { return KernelDelta::default() };
        let made = q.made.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let base = self.nh_base;
        let missing: HashSet<u32> = made
            .iter()
            .enumerate()
            .filter(|(i, m)| **m && !ids.contains(&(base + *i as u32 + 1)))
            .map(|(i, _)| i as u32 + 1)
            .collect();
        if missing.is_empty() {
            return KernelDelta::default();
        }
        self.gone(|set| missing.contains(&set))
    }

    /// Sets matching `hit` (and groups with a member that does) are gone
    /// from the kernel: the writer is to make them again, and their
    /// routes are to be written again.
    fn gone(&mut self, hit: impl Fn(u32) -> bool) -> KernelDelta {
        let Some(q) = &self.queue else { return KernelDelta::default() };
        let sets = q.hops.lock().unwrap_or_else(|e| e.into_inner());
        let mut gone: Vec<IpAddr> = Vec::new();
        for (i, set) in sets.sets.iter().enumerate() {
            if hit(i as u32 + 1) || set.members.iter().any(|m| hit(*m)) {
                gone.extend(set.hops.iter().map(|h| h.0));
            }
        }
        drop(sets);
        if gone.is_empty() {
            return KernelDelta::default();
        }
        gone.sort();
        gone.dedup();
        q.epoch.fetch_add(1, Ordering::Relaxed);
        KernelDelta { gone, ..Default::default() }
    }

    /// Whether a selected route is in the kernel as far as we know.
    pub fn installed(&self, prefix: &IpNet) -> Result<(), NotInstalled> {
        if let Some(h) = self.held.get(prefix) {
            return Err(h.clone());
        }
        if self.queue.is_none() {
            return Err(NotInstalled::Rejected("FIB programming is off (--no-fib)".into()));
        }
        match self.rejected.lock().ok().and_then(|r| r.get(prefix).cloned()) {
            Some(e) => Err(NotInstalled::Rejected(e)),
            None => Ok(()),
        }
    }

    /// Removes an earlier run's leftovers once `done` (every neighbor sent
    /// End-of-RIB) or after the timeout.
    pub fn sweep_stale(&mut self, done: bool) {
        let Some((stale, since)) = &self.stale else { return };
        if !done && since.elapsed() < STALE_TIMEOUT {
            return;
        }
        let gone: Vec<Work> = stale.iter().map(|p| (*p, 0)).collect();
        if !gone.is_empty() {
            log(&format!("removing {} stale BGP routes of an earlier run", gone.len()));
        }
        self.stale = None;
        self.local.extend(gone);
        if let Some(q) = &self.queue {
            q.retire.lock().unwrap_or_else(|e| e.into_inner()).append(&mut self.old_nexthops);
        }
        self.flush();
    }

    pub fn has_stale(&self) -> bool {
        self.stale.is_some()
    }

    /// Clean stop: every BGP route leaves the kernel.
    pub async fn clear(&mut self) {
        if self.queue.take().is_none() {
            return;
        }
        let _ = tokio::task::spawn_blocking(|| -> std::io::Result<()> {
            let mut sock = Socket::open(0)?;
            // A nexthop object's delete takes every route through it in one
            // walk of the FIB; what is left (routes that went without one)
            // goes route by route.
            let nhs = our_nexthops()?;
            retire(&mut sock, &nhs);
            let (_, ours) = read(true)?;
            let gone: Vec<Work> = ours.into_iter().map(|p| (p, 0)).collect();
            let n = gone.len();
            let (mut buf, mut seq, none) = (Vec::new(), 1, Mutex::new(HashMap::new()));
            let mut objects = Objects { base: 0, epoch: 0, state: Vec::new(), dirty: false };
            let mut batch = Batch { sock: &mut sock, buf: &mut buf, sets: &[], objects: &mut objects, seq: &mut seq };
            for chunk in gone.chunks(CHUNK) {
                batch.write(chunk, &none);
            }
            log(&format!("removed {n} routes from the FIB"));
            Ok(())
        })
        .await;
    }
}

/// Route changes `Fib` keeps room for between flushes.
const LOCAL_KEEP: usize = 8192;

/// How many queued route changes the writer takes at a time: sorted
/// together, they go to the kernel in prefix order, which its trie takes
/// faster (6 MB of slice and as much sort scratch at most; 65,536 was 0.1
/// to 0.2 s slower on a full table).
const WRITER_SLICE: usize = 262_144;

fn writer(mut sock: Socket, q: Arc<Queue>, rejected: Arc<Mutex<HashMap<IpNet, String>>>, base: u32) {
    let mut seq = 1u32;
    let mut retry: Vec<Work> = Vec::new();
    let mut buf = Vec::new();
    let mut objects = Objects { base, epoch: 0, state: Vec::new(), dirty: false };
    loop {
        let (mut work, drained) = {
            let mut w = q.work.lock().unwrap_or_else(|e| e.into_inner());
            if w.is_empty() {
                let wait = if retry.is_empty() { Duration::from_secs(3600) } else { Duration::from_secs(5) };
                w = q.ready.wait_timeout(w, wait).unwrap_or_else(|e| e.into_inner()).0;
            }
            // A slice at a time: the writer's own copy, and the sort's
            // scratch space, stay small however far the RIB is ahead.
            let n = w.len().min(WRITER_SLICE);
            let work: Vec<Work> = w.drain(..n).collect();
            // Drained: a burst's room goes back (churn must not ratchet
            // bgpd's memory up).
            if w.is_empty() && w.capacity() > LOCAL_KEEP {
                w.shrink_to(LOCAL_KEEP);
            }
            (work, w.is_empty())
        };
        // The last state of a prefix wins: a stable sort keeps arrival order
        // among equal prefixes, and only the last of each run is written.
        work.sort_by_key(|(p, _)| *p);
        // In place: reversed, the last state of a run comes first, and
        // dedup keeps the first.
        work.reverse();
        work.dedup_by_key(|(p, _)| *p);
        work.reverse();
        // Earlier refusals go again, unless this slice supersedes them.
        let mut again = std::mem::take(&mut retry);
        again.retain(|(p, _)| work.binary_search_by_key(p, |(x, _)| *x).is_err());
        // The sets are few; a copy of the list keeps the lock short.
        let sets = q.hops.lock().unwrap_or_else(|e| e.into_inner()).sets.clone();
        objects.sync(q.epoch.load(Ordering::Relaxed));
        let mut batch = Batch { sock: &mut sock, buf: &mut buf, sets: &sets, objects: &mut objects, seq: &mut seq };
        for chunk in again.chunks(CHUNK).chain(work.chunks(CHUNK)) {
            retry.extend(batch.write(chunk, &rejected));
        }
        if let Some(made) = objects.made() {
            *q.made.lock().unwrap_or_else(|e| e.into_inner()) = made;
        }
        if drained {
            let old = std::mem::take(&mut *q.retire.lock().unwrap_or_else(|e| e.into_inner()));
            if !old.is_empty() {
                log(&format!("removing {} nexthop objects of an earlier run", old.len()));
                retire(&mut sock, &old);
            }
        }
    }
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
            log(&format!("FIB: no nexthop object for {} ({why}); its routes go with their gateways", via.join(", ")));
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
fn our_nexthops() -> std::io::Result<Vec<u32>> {
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
fn retire(sock: &mut Socket, ids: &[u32]) {
    let mut seq = 1;
    let mut ids = ids.to_vec();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for id in ids {
        let mut buf = Vec::new();
        netlink::nexthop_del(&mut buf, seq, id);
        let errno = request(sock, &buf, &mut seq);
        if errno != 0 && errno != nix::libc::ENOENT {
            log(&format!("FIB: cannot remove nexthop object {id}: {}", std::io::Error::from_raw_os_error(errno)));
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
    fn write(&mut self, chunk: &[Work], rejected: &Mutex<HashMap<IpNet, String>>) -> Vec<Work> {
        // Objects first: their requests take sequence numbers of their own.
        for (_, id) in chunk.iter().filter(|(_, id)| *id != 0) {
            self.objects.ensure(self.sock, self.seq, self.sets, *id);
        }
        let mut buf = std::mem::take(self.buf);
        buf.clear();
        let first = *self.seq;
        for (i, (p, id)) in chunk.iter().enumerate() {
            let ack = i + 1 == chunk.len();
            // Known by now: present, or refused a moment ago.
            let nh = if *id == 0 { None } else { self.objects.ensure(self.sock, self.seq, self.sets, *id) };
            let seq = first.wrapping_add(i as u32);
            match (*id, nh) {
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
            log(&format!("FIB: netlink send failed: {e}; {} routes will be retried", chunk.len()));
            return chunk.to_vec();
        }
        let mut refused: Vec<(usize, i32)> = Vec::new();
        let mut done = false;
        while !done {
            let got = self.sock.recv_acks(|s, errno| {
                let Some(i) = s.checked_sub(first).map(|i| i as usize).filter(|i| *i < chunk.len()) else { return };
                // Deleting what is not there is fine.
                if errno != 0 && !(chunk[i].1 == 0 && errno == nix::libc::ESRCH) {
                    refused.push((i, errno));
                }
                done |= s == last;
            });
            if let Err(e) = got {
                log(&format!("FIB: netlink receive failed: {e}"));
                break;
            }
        }
        let mut r = rejected.lock().unwrap_or_else(|e| e.into_inner());
        if !r.is_empty() {
            // Whatever was not refused now is in (or out of) the kernel.
            for (i, (p, _)) in chunk.iter().enumerate() {
                if !refused.iter().any(|(j, _)| *j == i) {
                    r.remove(p);
                }
            }
        }
        let mut failed = Vec::new();
        for (i, errno) in refused {
            let (p, id) = chunk[i];
            let why = std::io::Error::from_raw_os_error(errno).to_string();
            let via: Vec<String> = self.gateways(id).iter().map(|a| a.to_string()).collect();
            log(&format!("FIB: kernel refused {p} via {}: {why}; will retry", via.join(", ")));
            r.insert(p, why);
            failed.push((p, id));
        }
        failed
    }
}
