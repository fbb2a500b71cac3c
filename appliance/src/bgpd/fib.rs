//! `Fib`: what of the RIB goes into the kernel. The Speaker decides the
//! next hops of each selection (`speaker::fib_hops`); here they are held
//! back when the kernel has its own route for the prefix (distance) or no
//! next hop is reachable, and the rest is handed to the FIB writer thread
//! (`fib_writer.rs`, through `fib_queue.rs`), 12 bytes an IPv4 route.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::fib_queue::Pending;
use super::fib_writer::{delete_routes, our_nexthops, retire, writer, Hop, Queue, NH_BASE};
use super::kernel_watch::read;
use crate::bgp::speaker::{Hops, Host};
use crate::log::Debug;
use crate::netlink::Socket;

/// Whether a selected route is in the kernel: what `show` asks the FIB.
pub trait Installed {
    fn installed(&self, prefix: &IpNet) -> Result<(), NotInstalled>;
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
    old_links: Option<Host>,
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
fn links(k: &Host) -> Vec<(IpNet, u32)> {
    k.table.iter().filter(|r| r.gateways.is_empty() && r.oif != 0).map(|r| (r.prefix, r.oif)).collect()
}

pub struct Fib {
    queue: Option<Arc<Queue>>,
    kernel: Host,
    /// Routes the kernel refused, with the reason (shared with the writer).
    pub rejected: Arc<Mutex<HashMap<IpNet, String>>>,
    /// Routes we decided not to install, and why.
    pub not_installed: HashMap<IpNet, NotInstalled>,
    /// BGP routes found at start (an earlier bgpd's), kept until sessions
    /// have re-sent their tables, then removed if still unclaimed.
    stale: Option<(HashSet<IpNet>, Instant)>,
    local: Pending,
    /// Host id of our nexthop set 0 (sets are `base + i`).
    nh_base: u32,
    /// An earlier run's nexthop objects, retired with its stale routes.
    old_nexthops: Vec<u32>,
    /// Recent answers of `Host::link_of`: a full table has a handful of
    /// next hops, asked about for every route.
    link_cache: Vec<(IpAddr, Option<u32>)>,
    /// Recent single next hops and their set ids (see `hop_set`).
    hop_cache: Vec<(Hop, u32)>,
}

/// Route changes `Fib` keeps room for between bursts, a family.
const LOCAL_KEEP: usize = 8192;

/// How long stale routes of an earlier run may wait for End-of-RIB.
pub const STALE_TIMEOUT: Duration = Duration::from_secs(120);

impl Fib {
    pub async fn start(enabled: bool) -> Result<Fib, String> {
        let rejected = Arc::new(Mutex::new(HashMap::new()));
        let mut fib = Fib {
            queue: None,
            kernel: Host::default(),
            rejected,
            not_installed: HashMap::new(),
            stale: None,
            local: Pending::default(),
            nh_base: NH_BASE,
            old_nexthops: Vec::new(),
            link_cache: Vec::new(),
            hop_cache: Vec::new(),
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
            crate::info!(
                "fib",
                "{} BGP routes from an earlier run kept until the neighbors have re-sent theirs",
                stale.len()
            );
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
        // The sets and maps here are empty for most of a full table's
        // routes: looking first spares hashing the prefix for each.
        if let Some((stale, _)) = self.stale.as_mut().filter(|(s, _)| !s.is_empty()) {
            stale.remove(&prefix);
        }
        let hops = hops.as_slice();
        // One next hop (a full table's case) stays on the stack.
        let mut one: [Hop; 1] = [hops.first().copied().unwrap_or((IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0))];
        let many: Vec<Hop>;
        let want: &[Hop] = if hops.is_empty() {
            self.forget_not_installed(&prefix);
            &[]
        } else if self.kernel.routes.contains(&prefix) {
            crate::debug_on!(
                Debug::Zebra,
                "fib",
                "{prefix}: a kernel, connected or static route has it: not installed"
            );
            self.not_installed.insert(prefix, NotInstalled::Shadowed);
            &[]
        } else {
            // A hop that comes with its interface (a link-local one) needs
            // no lookup; the others go where their network is connected.
            let ok: &[Hop] = if let [(h, given)] = hops {
                match if *given != 0 { Some(*given) } else { self.link_of(h) } {
                    Some(oif) => {
                        one[0].1 = oif;
                        &one
                    }
                    None => &[],
                }
            } else {
                many = hops
                    .iter()
                    .filter_map(|(h, given)| {
                        if *given != 0 { Some(*given) } else { self.link_of(h) }.map(|oif| (*h, oif))
                    })
                    .collect();
                &many
            };
            if ok.is_empty() {
                crate::debug_on!(Debug::Nht, "nht", "{prefix}: no next hop of {hops:?} is reachable: held back");
                self.not_installed.insert(prefix, NotInstalled::Unreachable);
            } else {
                self.forget_not_installed(&prefix);
            }
            ok
        };
        if self.queue.is_some() {
            let id = self.hop_set(want);
            self.local.push(prefix, id);
        }
    }

    fn forget_not_installed(&mut self, prefix: &IpNet) {
        if !self.not_installed.is_empty() {
            self.not_installed.remove(prefix);
        }
    }

    /// The writer's id of a next-hop set. Sets are never renumbered, so
    /// the few single hops of a full table are remembered here: no lock
    /// and no hashing for each route.
    fn hop_set(&mut self, want: &[Hop]) -> u32 {
        if let [one] = want {
            if let Some((_, id)) = self.hop_cache.iter().find(|(h, _)| h == one) {
                return *id;
            }
        }
        let Some(q) = &self.queue else { return 0 };
        let id = q.hops.lock().unwrap_or_else(|e| e.into_inner()).id(want);
        if let [one] = want {
            if self.hop_cache.len() >= 64 {
                self.hop_cache.clear();
            }
            self.hop_cache.push((*one, id));
        }
        id
    }

    /// Route changes waiting for the writer.
    pub fn backlog(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.work.lock().map_or(0, |w| w.len())) + self.local.len()
    }

    /// Hands what `set` gathered to the writer.
    pub fn flush(&mut self) {
        if let (Some(q), false) = (&self.queue, self.local.is_empty()) {
            let mut w = q.work.lock().unwrap_or_else(|e| e.into_inner());
            w.append(&mut self.local);
            q.ready.notify_one();
        }
        // A burst (a whole table withdrawn at once) must not stay reserved.
        self.local.shrink(LOCAL_KEEP);
    }

    /// The kernel's view changed: routes may become (un)reachable or
    /// (un)shadowed. The daemon re-sends the selected routes the returned
    /// delta says are affected, not a whole table.
    pub fn kernel_changed(&mut self, k: &Host) -> KernelDelta {
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
        let via: Vec<String> = gone.iter().map(|h| h.to_string()).collect();
        crate::info!(
            "fib",
            "the nexthop objects via {} are gone (and their routes): writing them again",
            via.join(", ")
        );
        q.epoch.fetch_add(1, Ordering::Relaxed);
        KernelDelta { gone, ..Default::default() }
    }
}

impl Fib {
    /// Selected routes not in the kernel: (for a better route, for an
    /// unreachable next hop, refused by the kernel).
    pub fn counts(&self) -> (usize, usize, usize) {
        let shadowed = self.not_installed.values().filter(|n| matches!(n, NotInstalled::Shadowed)).count();
        let refused = self.rejected.lock().map_or(0, |r| r.len());
        (shadowed, self.not_installed.len() - shadowed, refused)
    }
}

impl Installed for Fib {
    /// Whether a selected route is in the kernel as far as we know.
    fn installed(&self, prefix: &IpNet) -> Result<(), NotInstalled> {
        if let Some(h) = self.not_installed.get(prefix) {
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
}

impl Fib {
    /// Removes an earlier run's leftovers once `done` (every neighbor sent
    /// End-of-RIB) or after the timeout.
    pub fn sweep_stale(&mut self, done: bool) {
        let Some((stale, since)) = &self.stale else { return };
        if !done && since.elapsed() < STALE_TIMEOUT {
            return;
        }
        if !stale.is_empty() {
            crate::info!("fib", "removing {} stale BGP routes of an earlier run", stale.len());
        }
        for p in stale {
            self.local.push(*p, 0);
        }
        self.stale = None;
        if let Some(q) = &self.queue {
            q.retire.lock().unwrap_or_else(|e| e.into_inner()).append(&mut self.old_nexthops);
        }
        self.flush();
    }

    /// The families an earlier run left routes of (graceful restart's
    /// Forwarding State).
    pub fn kept_families(&self) -> crate::bgp::family::PerFamily<bool> {
        let mut kept = crate::bgp::family::PerFamily::<bool>::default();
        for p in self.stale.iter().flat_map(|(s, _)| s.iter()) {
            kept[crate::bgp::packet::Afi::of(p)] = true;
        }
        kept
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
            let (_, left) = read(true)?;
            delete_routes(&mut sock, &left);
            crate::info!(
                "fib",
                "removed bgpd's routes from the FIB ({} nexthop objects, {} routes)",
                nhs.len(),
                left.len()
            );
            Ok(())
        })
        .await;
    }
}
