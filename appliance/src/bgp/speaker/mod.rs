//! The routing core of bgpd, sans-IO: neighbors (session FSM plus their
//! Adj-RIB-Out), the RIB, import and export policy, origination.
//!
//! # The contract (as quinn-proto's `Connection`)
//! - **Events in.** The daemon calls in with what happened and the time:
//!   `accept`, `connected`, `closed`, `message`, `framing_error` (the TCP
//!   side), `output_blocked` / `output_drained` (a peer that stops
//!   reading), `set_host` (addresses and routes of the host), `reconfigure`,
//!   `clear`, `clear_soft`, `shutdown`; and `timeout` once `next_deadline`
//!   has passed, `work` while `has_work`.
//! - **Outputs out.** `take_output` hands over what to do, in order:
//!   connections to open, bytes to send, connections to close, routes for
//!   the FIB (`Output::Fib`, already decided: see `fib.rs`) and log lines.
//!   Nothing here touches a socket or reads the clock.
//! - **Reads.** `show` and `healthcheck` read the state through the
//!   getters; nothing outside changes it but the calls above.
//!
//! One concern a file: `neighbor.rs` (sessions and their events),
//! `import.rs` (UPDATEs into the RIB), `export.rs` (the RIB out to each
//! neighbor), `adj_rib_out.rs` (what each neighbor has been sent and what
//! waits), `originate.rs` (`network`), `reconfigure.rs` (config changes and
//! `clear`), `fib.rs` (what a selection means for the kernel), `host.rs`.

mod adj_rib_in;
mod adj_rib_out;
mod bfd;
mod debugging;
mod dynamic;
mod export;
mod fib;
mod graceful;
mod host;
mod import;
mod interface;
mod neighbor;
mod next_hop;
mod originate;
mod reconfigure;
mod update_group;

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;

pub use dynamic::Refusal;
pub use fib::{fib_hops, Hop, Hops};
pub use graceful::Stale;
pub use host::{Host, HostRoute};
pub use neighbor::Peer;
pub use reconfigure::Refused;

use super::config::{Config, NeighborId};
use super::family::PerFamily;
use super::fsm::{Action, ConnId};
use super::hash::FastMap;
use super::packet::{Afi, PathAttrs};
use super::rib::{Interner, PeerId, Table};
use crate::log::Level;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection to `peer` (`scope`: the interface of a
    /// link-local address, else 0).
    Connect {
        conn: ConnId,
        peer: IpAddr,
        scope: u32,
    },
    Send(ConnId, Vec<u8>),
    Close(ConnId),
    /// The selected next hops for a prefix (none: remove it).
    Fib(IpNet, Hops),
    Log(Level, String),
}

/// Paths of a neighbor that went down, still to leave the RIB.
#[derive(Debug)]
struct Withdrawal {
    peer: PeerId,
    afi: Afi,
    prefixes: Vec<IpNet>,
}

/// How many prefixes one slice of a withdrawal handles.
pub const WITHDRAW_SLICE: usize = 8192;

pub struct Speaker {
    config: Config,
    router_id: Ipv4Addr,
    /// Indexed by PeerId - 1; a removed neighbor keeps its slot.
    peers: Vec<Peer>,
    tables: PerFamily<Table>,
    host: Host,
    interner: Interner,
    /// The routes out of one `flush_peer`: equal ones share a set while
    /// they are grouped into UPDATEs, and all go with the slice.
    packing: Interner,
    /// Neighbors whose routes out are computed together.
    groups: update_group::UpdateGroups,
    scratch: export::Scratch,
    /// One more at each session up or down and each change of the host's
    /// addresses or links: what update-groups rest on besides the config.
    export_epoch: u64,
    conns: FastMap<ConnId, usize>,
    /// What we originate (`network`, `redistribute`), with its attributes.
    originated: FastMap<IpNet, Arc<PathAttrs>>,
    /// RFC 8212 and oversized-route warnings already given.
    said: HashSet<(NeighborId, Afi, bool)>,
    oversize_said: HashSet<(PeerId, usize)>,
    /// The export slots in use (see `AdjRibOut`).
    slots: u32,
    epoch: Instant,
    out: Vec<Output>,
    /// An emptied list of session actions, reused for the next message
    /// (one allocation less for every UPDATE in).
    spare_actions: Vec<Action>,
    /// A full table leaves in slices, so that its FIB deletes start at
    /// once and the daemon keeps answering meanwhile.
    withdrawing: VecDeque<Withdrawal>,
    /// After `shutdown`: sessions close, the RIB is left as it is (the
    /// daemon removes every route from the FIB in one go).
    stopping: bool,
    /// Graceful restart: bgpd started over an earlier run's routes, and
    /// the families they were of (see `graceful.rs`).
    restarting: bool,
    fib_kept: PerFamily<bool>,
    /// Until when our End-of-RIB may wait for the neighbors' after a
    /// graceful restart.
    defer_until: Option<Instant>,
    /// Counts the configurations applied (what follows the config, like
    /// BFD's sessions, compares it).
    generation: u64,
    /// FRR's table version: one more at every change of a selection.
    versions: PerFamily<u64>,
    /// `debug bgp ...` switches (see `debugging.rs`).
    debugs: debugging::Switches,
}

impl Speaker {
    pub fn new(config: Config, host: Host, now: Instant) -> Result<Speaker, Refused> {
        let mut s = Speaker {
            config: Config::default(),
            router_id: Ipv4Addr::UNSPECIFIED,
            peers: Vec::new(),
            tables: PerFamily::default(),
            host,
            interner: Interner::default(),
            packing: Interner::default(),
            groups: Default::default(),
            scratch: Default::default(),
            export_epoch: 0,
            conns: FastMap::default(),
            originated: FastMap::default(),
            said: HashSet::new(),
            oversize_said: HashSet::new(),
            slots: 0,
            epoch: now,
            out: Vec::new(),
            spare_actions: Vec::new(),
            withdrawing: VecDeque::new(),
            stopping: false,
            restarting: false,
            fib_kept: PerFamily::default(),
            defer_until: None,
            generation: 0,
            versions: PerFamily::default(),
            debugs: Default::default(),
        };
        s.reconfigure(now, config)?;
        Ok(s)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// FRR's "BGP table version": the selections changed so far.
    pub fn table_version(&self, afi: Afi) -> u64 {
        self.versions[afi]
    }

    /// Whether neighbor `p` was sent `prefix`.
    pub fn advertises(&self, p: &Peer, prefix: &IpNet) -> bool {
        p.adj_out.was_sent(&self.tables[Afi::of(prefix)], prefix)
    }

    /// The table version a neighbor has: all of it once nothing waits
    /// for it, as FRR's TblVer column says; 0 while down.
    pub fn peer_table_version(&self, p: &Peer, afi: Afi) -> u64 {
        if p.conn.is_some() && !p.adj_out.has_pending() {
            self.versions[afi]
        } else {
            0
        }
    }

    /// Goes up with every configuration applied.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn router_id(&self) -> Ipv4Addr {
        self.router_id
    }

    /// The route reflector's cluster: `bgp cluster-id`, else the router-id.
    pub fn cluster_id(&self) -> Ipv4Addr {
        self.config.bgp.as_ref().and_then(|b| b.cluster_id).unwrap_or(self.router_id)
    }

    /// `bgp default ipv4-unicast`: whether IPv4 is on for neighbors
    /// that do not say.
    pub(super) fn default_ipv4(&self) -> bool {
        self.config.bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast)
    }

    pub fn local_as(&self) -> u32 {
        self.config.bgp.as_ref().map_or(0, |b| b.asn)
    }

    /// Every neighbor slot, removed ones included (see `configured`).
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The neighbors in the configuration.
    pub fn configured(&self) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(|p| !p.removed)
    }

    /// A neighbor by what FRR's commands name it: address or interface.
    pub fn peer(&self, name: &NeighborId) -> Option<&Peer> {
        self.configured().find(|p| p.cfg.id == *name)
    }

    /// The neighbor at an address (an interface neighbor's once learnt).
    pub fn peer_at(&self, addr: IpAddr) -> Option<&Peer> {
        self.peer_on(addr, 0)
    }

    /// The neighbor at an address on interface `scope` (0: any), the one
    /// bound to that interface first.
    pub fn peer_on(&self, addr: IpAddr, scope: u32) -> Option<&Peer> {
        let at: Vec<&Peer> = self.configured().filter(|p| p.remote == Some(addr)).collect();
        match scope {
            0 => at.first().copied(),
            s => at.iter().find(|p| p.ifindex == s).or_else(|| at.iter().find(|p| p.ifindex == 0)).copied(),
        }
    }

    /// The neighbor a connection is for.
    pub fn conn_peer(&self, conn: ConnId) -> Option<&Peer> {
        self.conns.get(&conn).and_then(|&i| self.peers.get(i))
    }

    /// The neighbor a path came from (None: originated here).
    pub fn peer_by_id(&self, id: PeerId) -> Option<&Peer> {
        id.checked_sub(1).and_then(|i| self.peers.get(i as usize))
    }

    pub fn table(&self, afi: Afi) -> &Table {
        &self.tables[afi]
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// How many distinct attribute sets are interned.
    pub fn attr_sets(&self) -> usize {
        self.interner.len()
    }

    /// The bytes of the attribute sets: each with its `Arc`, and what it
    /// holds on the heap.
    pub fn attr_bytes(&self) -> usize {
        self.interner.bytes()
    }

    /// Update-groups with neighbors up, and the routes out kept for them.
    pub fn update_groups(&self) -> (usize, usize) {
        self.groups.counts()
    }

    pub fn is_originated(&self, p: &IpNet) -> bool {
        originate::is_originated(&self.originated, p)
    }

    /// Seconds since the daemon started, for route ages.
    pub fn clock(&self, now: Instant) -> u32 {
        now.saturating_duration_since(self.epoch).as_secs() as u32
    }

    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// How much output is waiting: the daemon performs it before it grows.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// Everything to do, including the UPDATEs the changes since the last
    /// call produced: the caller decides the batch (e.g. all messages one
    /// socket read brought), so a burst of changes to one prefix sends only
    /// its last state.
    pub fn take_output(&mut self) -> Vec<Output> {
        self.flush();
        std::mem::take(&mut self.out)
    }

    /// `take_output` into `buf` (empty), which leaves its room here: a
    /// batch's list of thousands of outputs then costs no allocation
    /// (musl's malloc mapped and unmapped it in doubling steps, a batch at
    /// a time).
    pub fn take_output_into(&mut self, buf: &mut Vec<Output>) {
        self.flush();
        std::mem::swap(&mut self.out, buf);
    }

    fn log(&mut self, level: Level, line: String) {
        self.out.push(Output::Log(level, line));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let stale = self.peers.iter().filter_map(|p| p.stale.as_ref().and_then(|s| s.until())).chain(self.defer_until);
        self.peers.iter().filter_map(|p| p.next_deadline()).chain(stale).min()
    }

    pub fn timeout(&mut self, now: Instant) {
        self.stale_timeout(now);
        for i in 0..self.peers.len() {
            self.send_hold_check(now, i);
            if self.peers[i].session.next_deadline().is_some_and(|t| t <= now) {
                let a = self.peers[i].session.timeout(now);
                self.run(now, i, a);
            }
        }
    }

    /// Whether a withdrawal is still going on, or UPDATEs wait for
    /// neighbors that read (call `work`).
    pub fn has_work(&self) -> bool {
        !self.withdrawing.is_empty() || self.has_output_work()
    }

    /// The host's addresses or routes changed.
    pub fn set_host(&mut self, now: Instant, h: Host) {
        if h == self.host {
            return;
        }
        let links = h.links != self.host.links;
        if links || h.addresses != self.host.addresses || h.names != self.host.names {
            self.export_epoch += 1;
        }
        self.host = h;
        if links {
            self.links_changed(now);
        }
        self.seek_on_subnets(now);
        for i in 0..self.peers.len() {
            self.peers[i].session.retry_soon(now);
            let a = self.peers[i].session.timeout(now);
            self.run(now, i, a);
        }
        self.originate(now);
        self.flush();
    }
}

#[cfg(test)]
mod dynamic_tests;
#[cfg(test)]
mod graceful_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod interface_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod update_group_tests;
