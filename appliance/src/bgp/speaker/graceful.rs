//! Graceful restart (RFC 4724), both roles. As helper: when a neighbor
//! that offered it goes without a NOTIFICATION, its routes stay (in the
//! RIB and the FIB), marked stale, for its restart time; when it is back,
//! each route it sends again is fresh, and what it has not re-sent by its
//! End-of-RIB (or the stale-path time) goes. As restarting speaker (`bgp
//! graceful-restart`): the capability says so after a restart (R) and for
//! the families whose routes bgpd kept in the kernel (F).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::{Speaker, Withdrawal, WITHDRAW_SLICE};
use crate::bgp::config::{GrMode, Neighbor};
use crate::bgp::family::PerFamily;
use crate::bgp::packet::{Afi, GracefulRestart};
use crate::log::Level;

/// FRR's defaults (the last: `select-defer-time`).
const RESTART_TIME: u16 = 120;
const STALEPATH_TIME: u16 = 360;
const SELECT_DEFER_TIME: Duration = Duration::from_secs(360);

/// A neighbor's routes kept while it restarts.
#[derive(Debug, Default)]
pub struct Stale {
    prefixes: PerFamily<HashSet<IpNet>>,
    /// Until when they are kept: the restart time, then, once the
    /// neighbor is back, the stale-path time.
    until: Option<Instant>,
}

impl Stale {
    pub fn contains(&self, p: &IpNet) -> bool {
        self.prefixes[Afi::of(p)].contains(p)
    }

    pub fn len(&self) -> usize {
        self.prefixes[Afi::Ipv4].len() + self.prefixes[Afi::Ipv6].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn until(&self) -> Option<Instant> {
        self.until
    }

    /// The neighbor sent the prefix again (or withdrew it): not stale.
    pub(super) fn refreshed(&mut self, p: &IpNet) {
        self.prefixes[Afi::of(p)].remove(p);
    }
}

impl Speaker {
    fn gr_mode(&self, n: &Neighbor) -> GrMode {
        let b = self.config.bgp.as_ref();
        n.graceful_restart.or(b.map(|b| b.graceful_restart)).unwrap_or_default()
    }

    /// The Graceful Restart capability we send `n` (None: disabled).
    pub(super) fn gr_capability(&self, n: &Neighbor) -> Option<GracefulRestart> {
        let b = self.config.bgp.as_ref()?;
        let time = b.gr_restart_time.unwrap_or(RESTART_TIME);
        match self.gr_mode(n) {
            GrMode::Disable => None,
            // A helper names no family: it does not restart gracefully.
            GrMode::Helper => Some(GracefulRestart { restarting: false, notification: false, time, families: vec![] }),
            GrMode::Restart => Some(GracefulRestart {
                restarting: self.restarting,
                notification: false,
                time,
                families: n
                    .active_families(b.default_ipv4_unicast)
                    .into_iter()
                    .map(|a| (a.code(), Afi::SAFI_UNICAST, self.fib_kept[a]))
                    .collect(),
            }),
        }
    }

    /// bgpd started over routes an earlier run left in the kernel (per
    /// family): its OPENs say it restarted, until every neighbor has sent
    /// its table again.
    ///
    /// Meanwhile our End-of-RIB waits (RFC 4724 4.1): a helper sweeps our
    /// stale routes at it, so it must follow the routes we learn from the
    /// other neighbors, at most FRR's select-defer-time.
    pub fn set_restarted(&mut self, now: Instant, kept: PerFamily<bool>) {
        self.restarting = kept[Afi::Ipv4] || kept[Afi::Ipv6];
        self.fib_kept = kept;
        self.defer_until = self.restarting.then(|| now + SELECT_DEFER_TIME);
        self.refresh_session_configs();
    }

    /// Whether our End-of-RIB waits for the neighbors' (see above).
    pub(super) fn eor_deferred(&self) -> bool {
        self.restarting && self.restarts_gracefully()
    }

    /// The restart is over: every neighbor has sent its table, or the
    /// deferral ran out. Later OPENs are plain, and our End-of-RIBs go.
    fn restart_done(&mut self) {
        self.restarting = false;
        self.defer_until = None;
        self.refresh_session_configs();
        self.flush();
    }

    /// Whether bgpd restarts gracefully (`bgp graceful-restart`): then a
    /// stop closes the sessions without a Cease and leaves the FIB.
    pub fn restarts_gracefully(&self) -> bool {
        self.config.bgp.as_ref().is_some_and(|b| b.graceful_restart == GrMode::Restart)
    }

    /// The stop of a graceful restart: every connection closes, with no
    /// NOTIFICATION, so the neighbors keep our routes (RFC 4724 4.1).
    pub fn stop_for_restart(&mut self) {
        self.stopping = true;
        self.withdrawing.clear();
        self.out.retain(|o| !matches!(o, super::Output::Fib(..)));
        let conns: Vec<_> = self.conns.keys().copied().collect();
        for c in conns {
            self.out.push(super::Output::Close(c));
        }
        self.conns.clear();
    }

    fn refresh_session_configs(&mut self) {
        for i in 0..self.peers.len() {
            let cfg = self.session_config(&self.peers[i].cfg.clone(), self.peers[i].remote);
            self.peers[i].session.cfg = cfg;
        }
    }

    /// The families of neighbor `i`'s routes to keep as its session ends
    /// (none: a NOTIFICATION ended it, graceful restart is off here, the
    /// neighbor did not offer it, or it is a dynamic neighbor).
    pub(super) fn gr_keep(&self, i: usize, notified: bool) -> (Vec<Afi>, u16) {
        let p = &self.peers[i];
        let cap = p.negotiated.as_ref().and_then(|n| n.peer.graceful_restart());
        match cap {
            Some(c) if !notified && !p.dynamic && c.time > 0 && self.gr_mode(&p.cfg) != GrMode::Disable => {
                let fams = c
                    .families
                    .iter()
                    .filter(|(_, safi, _)| *safi == Afi::SAFI_UNICAST)
                    .filter_map(|(afi, _, _)| Afi::from_code(*afi))
                    .collect();
                (fams, c.time)
            }
            _ => (Vec::new(), 0),
        }
    }

    /// Keeps neighbor `i`'s routes of `fams` as stale for `time` seconds.
    pub(super) fn keep_stale(&mut self, now: Instant, i: usize, fams: &[Afi], time: u16) {
        let id = self.peers[i].id;
        let mut stale = Stale { until: Some(now + Duration::from_secs(time as u64)), ..Default::default() };
        for &afi in fams {
            stale.prefixes[afi] = self.tables[afi].prefixes_of(id).into_iter().collect();
        }
        let (addr, n) = (self.peers[i].cfg.id.clone(), stale.len());
        self.peers[i].stale = Some(stale);
        self.log(
            Level::Info,
            format!("neighbor {addr}: graceful restart: {n} routes kept (stale) for up to {time}s while it restarts"),
        );
    }

    /// Neighbor `i` is up again: the families its new OPEN does not keep
    /// (no F bit) lose their stale routes now; the others wait for its
    /// End-of-RIB, at most the stale-path time.
    pub(super) fn stale_up(&mut self, now: Instant, i: usize) {
        let Some(stale) = &self.peers[i].stale else { return };
        let kept: Vec<Afi> = self.peers[i]
            .negotiated
            .as_ref()
            .and_then(|n| n.peer.graceful_restart())
            .map(|c| c.families.iter().filter(|f| f.2).filter_map(|f| Afi::from_code(f.0)).collect())
            .unwrap_or_default();
        let gone: Vec<Afi> =
            PerFamily::<()>::AFIS.into_iter().filter(|a| !stale.prefixes[*a].is_empty() && !kept.contains(a)).collect();
        for afi in gone {
            self.sweep(now, i, afi, "it did not keep its forwarding state");
        }
        let time = self.config.bgp.as_ref().and_then(|b| b.gr_stalepath_time).unwrap_or(STALEPATH_TIME);
        if let Some(s) = &mut self.peers[i].stale {
            s.until = Some(now + Duration::from_secs(time as u64));
        }
    }

    /// End-of-RIB from neighbor `i`: what it did not send again goes.
    pub(super) fn stale_eor(&mut self, now: Instant, i: usize, afi: Afi) {
        if self.peers[i].stale.is_some() {
            self.sweep(now, i, afi, "End-of-RIB received");
        }
        if self.restarting && self.initial_sync_done() {
            self.restart_done();
        }
    }

    /// Stale routes whose time is up go; a deferral that ran out ends.
    pub(super) fn stale_timeout(&mut self, now: Instant) {
        if self.defer_until.is_some_and(|t| t <= now) {
            self.restart_done();
        }
        for i in 0..self.peers.len() {
            if self.peers[i].stale.as_ref().and_then(|s| s.until).is_some_and(|t| t <= now) {
                for afi in PerFamily::<()>::AFIS {
                    self.sweep(now, i, afi, "restart or stale-path time expired");
                }
            }
        }
    }

    fn sweep(&mut self, now: Instant, i: usize, afi: Afi, why: &str) {
        let Some(s) = &mut self.peers[i].stale else { return };
        let prefixes: Vec<IpNet> = s.prefixes[afi].drain().collect();
        if s.is_empty() {
            self.peers[i].stale = None;
        }
        if prefixes.is_empty() {
            return;
        }
        let (addr, id) = (self.peers[i].cfg.id.clone(), self.peers[i].id);
        self.log(
            Level::Info,
            format!(
                "neighbor {addr}: graceful restart: {} stale {} routes removed ({why})",
                prefixes.len(),
                afi.name()
            ),
        );
        self.withdrawing.push_back(Withdrawal { peer: id, afi, prefixes });
        self.work(now, WITHDRAW_SLICE);
    }
}
