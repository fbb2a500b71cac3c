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
        | netlink::GROUP_IPV6_ROUTE;
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
                        changed |= view.apply(m);
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
/// route came or went (shadowing), and, when the interface addresses
/// changed, next hops that became (un)reachable.
pub struct KernelDelta {
    shadow: HashSet<IpNet>,
    old_addresses: Option<Vec<IpNet>>,
}

impl KernelDelta {
    pub fn is_empty(&self) -> bool {
        self.shadow.is_empty() && self.old_addresses.is_none()
    }

    pub fn shadows(&self, prefix: &IpNet) -> bool {
        self.shadow.contains(prefix)
    }

    /// Whether `hop`'s reachability changed (false when addresses did not).
    pub fn reach_changed(&self, fib: &Fib, hop: &IpAddr) -> bool {
        let Some(old) = &self.old_addresses else { return false };
        old.iter().any(|a| a.trunc().contains(hop)) != fib.reachable(hop)
    }
}

/// Work for the FIB writer: a prefix and an interned next-hop set (0:
/// delete). 24 bytes a route, so a full table waiting for the kernel
/// costs little.
type Work = (IpNet, u32);

/// The distinct next-hop sets (few: one per neighbor, plus multipath
/// combinations), shared with the writer.
#[derive(Default)]
struct HopSets {
    sets: Vec<Arc<[IpAddr]>>,
    index: HashMap<Arc<[IpAddr]>, u32>,
}

impl HopSets {
    fn id(&mut self, hops: &[IpAddr]) -> u32 {
        if hops.is_empty() {
            return 0;
        }
        if let Some(&i) = self.index.get(hops) {
            return i;
        }
        let a: Arc<[IpAddr]> = hops.into();
        self.sets.push(a.clone());
        let i = self.sets.len() as u32;
        self.index.insert(a, i);
        i
    }
}

/// The queue between the RIB and the writer thread.
#[derive(Default)]
struct Queue {
    work: Mutex<std::collections::VecDeque<Work>>,
    ready: Condvar,
    hops: Mutex<HopSets>,
}

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
        };
        if !enabled {
            return Ok(fib);
        }
        let (k, ours) = tokio::task::spawn_blocking(|| read(true))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the kernel's routes: {e}"))?;
        let stale: HashSet<IpNet> = ours.into_iter().collect();
        if !stale.is_empty() {
            log(&format!(
                "{} BGP routes from an earlier run kept until the neighbors have re-sent theirs",
                stale.len()
            ));
        }
        let queue = Arc::new(Queue::default());
        let sock = Socket::open(0).map_err(|e| format!("netlink: {e}"))?;
        let (q, rej) = (queue.clone(), fib.rejected.clone());
        std::thread::Builder::new()
            .name("fib".into())
            .spawn(move || writer(sock, q, rej))
            .map_err(|e| e.to_string())?;
        fib.queue = Some(queue);
        fib.kernel = k;
        fib.stale = Some((stale, Instant::now()));
        Ok(fib)
    }

    pub fn reachable(&self, hop: &IpAddr) -> bool {
        self.kernel.addresses.iter().any(|a| a.trunc().contains(hop))
    }

    /// The selected next hops for a prefix (none: withdraw).
    pub fn set(&mut self, prefix: IpNet, hops: Hops) {
        if let Some((stale, _)) = &mut self.stale {
            stale.remove(&prefix);
        }
        let hops = hops.as_slice();
        let want: Vec<IpAddr> = if hops.is_empty() {
            self.held.remove(&prefix);
            Vec::new()
        } else if self.kernel.routes.contains(&prefix) {
            self.held.insert(prefix, NotInstalled::Shadowed);
            Vec::new()
        } else {
            let ok: Vec<IpAddr> = hops.iter().filter(|h| self.reachable(h)).copied().collect();
            if ok.is_empty() {
                self.held.insert(prefix, NotInstalled::Unreachable);
            } else {
                self.held.remove(&prefix);
            }
            ok
        };
        if let Some(q) = &self.queue {
            let id = q.hops.lock().unwrap_or_else(|e| e.into_inner()).id(&want);
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
        let old_addresses = if old.addresses != k.addresses { Some(old.addresses) } else { None };
        KernelDelta { shadow, old_addresses }
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
            let (_, ours) = read(true)?;
            let mut sock = Socket::open(0)?;
            let gone: Vec<Work> = ours.into_iter().map(|p| (p, 0)).collect();
            let n = gone.len();
            let (mut buf, mut seq, none) = (Vec::new(), 1, Mutex::new(HashMap::new()));
            for chunk in gone.chunks(CHUNK) {
                write_batch(&mut sock, &mut buf, chunk, &[], &none, &mut seq);
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

fn writer(mut sock: Socket, q: Arc<Queue>, rejected: Arc<Mutex<HashMap<IpNet, String>>>) {
    let mut seq = 1u32;
    let mut retry: Vec<Work> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let mut work = {
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
            work
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
        for chunk in again.chunks(CHUNK).chain(work.chunks(CHUNK)) {
            retry.extend(write_batch(&mut sock, &mut buf, chunk, &sets, &rejected, &mut seq));
        }
    }
}

/// Routes a netlink send carries.
const CHUNK: usize = 2000;

/// Sends one chunk. Only its last message asks for an acknowledgement:
/// the kernel handles a send in order and reports every error anyway, so
/// when that ack arrives the chunk is done, and a full table costs a few
/// hundred acks instead of a million. Returns the routes the kernel
/// refused (to retry later).
fn write_batch(
    sock: &mut Socket,
    buf: &mut Vec<u8>,
    chunk: &[Work],
    sets: &[Arc<[IpAddr]>],
    rejected: &Mutex<HashMap<IpNet, String>>,
    seq: &mut u32,
) -> Vec<Work> {
    let hops = |id: u32| if id == 0 { &[][..] } else { &sets[id as usize - 1][..] };
    buf.clear();
    let first = *seq;
    for (i, (p, id)) in chunk.iter().enumerate() {
        netlink::route_change(buf, *seq, p, hops(*id), i + 1 == chunk.len());
        *seq = seq.wrapping_add(1);
    }
    let last = seq.wrapping_sub(1);
    if let Err(e) = sock.send(buf) {
        log(&format!("FIB: netlink send failed: {e}; {} routes will be retried", chunk.len()));
        return chunk.to_vec();
    }
    let mut refused: Vec<(usize, i32)> = Vec::new();
    let mut done = false;
    while !done {
        let got = sock.recv_acks(|s, errno| {
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
        let via: Vec<String> = hops(id).iter().map(|a| a.to_string()).collect();
        log(&format!("FIB: kernel refused {p} via {}: {why}; will retry", via.join(", ")));
        r.insert(p, why);
        failed.push((p, id));
    }
    failed
}
