//! The routing core of bgpd, sans-IO: neighbors (session FSM plus their
//! Adj-RIB-Out), the RIB, import and export policy, origination.
//!
//! The daemon calls in with events and the time, then takes `Output`s:
//! connections to open, bytes to send, connections to close, routes for
//! the FIB and log lines.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::config::{Config, Neighbor, NeighborFamily};
use super::fsm::{Action, ConnId, Negotiated, RemoteAs, Session, SessionConfig, State};
use super::packet::{
    self, decode, err, pack_announce, pack_withdraw, Afi, AsPath, Codec, Message, Notification, Origin, PathAttrs,
    Update,
};
use super::rib::{Change, Interner, Path, PeerId, PeerInfo, Selection, Table, LOCAL};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Connect {
        conn: ConnId,
        peer: IpAddr,
    },
    Send(ConnId, Vec<u8>),
    Close(ConnId),
    /// The selected next hops for a prefix (none: remove it).
    Fib(IpNet, Hops),
    Log(String),
}

/// Next hops for the FIB without an allocation in the common one-hop case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hops {
    None,
    One(IpAddr),
    Many(Box<[IpAddr]>),
}

impl Hops {
    pub fn as_slice(&self) -> &[IpAddr] {
        match self {
            Hops::None => &[],
            Hops::One(a) => std::slice::from_ref(a),
            Hops::Many(v) => v,
        }
    }

    pub fn from_vec(mut v: Vec<IpAddr>) -> Hops {
        match v.len() {
            0 => Hops::None,
            1 => Hops::One(v.pop().unwrap()),
            _ => Hops::Many(v.into_boxed_slice()),
        }
    }
}

/// What bgpd knows of the kernel: its addresses and its own routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kernel {
    /// Interface addresses with their prefix length.
    pub addresses: Vec<IpNet>,
    /// Prefixes of non-BGP routes in the main table (connected, kernel,
    /// static), for the `network` import check.
    pub routes: HashSet<IpNet>,
    /// Interface names by address, for `show ip route`.
    pub names: std::collections::BTreeMap<IpNet, String>,
    /// The non-BGP routes of the main table, for `show ip route`.
    pub table: Vec<KernelRoute>,
}

/// A route of the kernel's main table that bgpd did not make.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelRoute {
    pub prefix: IpNet,
    /// The kernel's protocol number (RTPROT_KERNEL, RTPROT_STATIC, ...).
    pub protocol: u8,
    /// A link-scope route without gateway: a connected network.
    pub connected: bool,
    pub metric: u32,
    pub gateways: Vec<IpAddr>,
    pub ifname: String,
    /// The interface index of a route straight on an interface (0: none).
    pub oif: u32,
}

impl Kernel {
    /// The interface `hop` is directly reachable on: the longest route
    /// without gateway that covers it (a connected network, or a device
    /// route). The kernel takes a gateway on exactly those terms, and
    /// removes the connected route when the link goes down, when an
    /// IPv4 address stays.
    pub fn link_of(&self, hop: &IpAddr) -> Option<u32> {
        self.table
            .iter()
            .filter(|r| r.gateways.is_empty() && r.oif != 0 && r.prefix.contains(hop))
            .max_by_key(|r| r.prefix.prefix_len())
            .map(|r| r.oif)
    }

    fn on_link(&self, a: IpAddr, b: IpAddr) -> bool {
        self.addresses.iter().any(|n| n.trunc().contains(&a) && n.trunc().contains(&b))
    }
}

pub struct Peer {
    pub id: PeerId,
    pub cfg: Neighbor,
    pub session: Session,
    /// The established connection.
    pub conn: Option<ConnId>,
    pub negotiated: Option<Negotiated>,
    pub local_addr: Option<IpAddr>,
    pub adj_out: [HashMap<IpNet, Arc<PathAttrs>>; 2],
    pending: HashMap<IpNet, Option<Arc<PathAttrs>>>,
    /// Prefixes accepted into the RIB, per family.
    pub accepted: [usize; 2],
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub eor: [bool; 2],
    /// Stopped for exceeding maximum-prefix, until cleared.
    pub overflow: bool,
    /// No longer in the configuration.
    pub removed: bool,
}

impl Peer {
    pub fn ebgp(&self, local_as: u32) -> bool {
        self.cfg.is_ebgp(local_as)
    }

    pub fn remote_asn(&self) -> Option<u32> {
        match self.cfg.remote_as {
            RemoteAs::Asn(a) => Some(a),
            _ => self.negotiated.as_ref().map(|n| n.peer.asn),
        }
    }

    fn active(&self, afi: Afi) -> bool {
        self.conn.is_some() && self.negotiated.as_ref().is_some_and(|n| n.families.contains(&afi))
    }
}

fn fi(afi: Afi) -> usize {
    match afi {
        Afi::Ipv4 => 0,
        Afi::Ipv6 => 1,
    }
}

pub struct Speaker {
    pub config: Config,
    pub router_id: Ipv4Addr,
    pub peers: Vec<Peer>,
    pub tables: [Table; 2],
    pub kernel: Kernel,
    interner: Interner,
    conns: HashMap<ConnId, usize>,
    originated: HashSet<IpNet>,
    policy_logged: HashSet<(IpAddr, Afi, bool)>,
    epoch: Instant,
    out: Vec<Output>,
    /// Paths of neighbors that went down, still to leave the RIB: a full
    /// table leaves in slices, so that its FIB deletes start at once and
    /// the daemon keeps answering meanwhile.
    withdrawing: std::collections::VecDeque<(PeerId, Afi, Vec<IpNet>)>,
}

/// How many prefixes one slice of a withdrawal handles.
pub const WITHDRAW_SLICE: usize = 8192;

impl Speaker {
    pub fn new(config: Config, kernel: Kernel, now: Instant) -> Result<Speaker, String> {
        let router_id = pick_router_id(&config, &kernel)?;
        let mut s = Speaker {
            config: Config::default(),
            router_id,
            peers: Vec::new(),
            tables: Default::default(),
            kernel,
            interner: Interner::default(),
            conns: HashMap::new(),
            originated: HashSet::new(),
            policy_logged: HashSet::new(),
            epoch: now,
            out: Vec::new(),
            withdrawing: Default::default(),
        };
        s.reconfigure(now, config)?;
        Ok(s)
    }

    /// How many distinct attribute sets are interned.
    pub fn attr_sets(&self) -> usize {
        self.interner.len()
    }

    pub fn local_as(&self) -> u32 {
        self.config.bgp.as_ref().map_or(0, |b| b.asn)
    }

    /// Everything to do, including the UPDATEs the changes since the last
    /// call produced: the caller decides the batch (e.g. all messages one
    /// socket read brought), so a burst of changes to one prefix sends only
    /// its last state.
    /// How much output is waiting: the daemon performs it before it grows.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    pub fn take_output(&mut self) -> Vec<Output> {
        self.flush();
        std::mem::take(&mut self.out)
    }

    fn log(&mut self, line: String) {
        self.out.push(Output::Log(line));
    }

    /// Seconds since the daemon started, for route ages.
    pub fn clock(&self, now: Instant) -> u32 {
        now.saturating_duration_since(self.epoch).as_secs() as u32
    }

    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    fn peer_info(peers: &[Peer], local_as: u32) -> impl Fn(PeerId) -> PeerInfo + '_ {
        move |id| {
            let p = &peers[id as usize - 1];
            PeerInfo {
                ebgp: p.ebgp(local_as),
                router_id: p.negotiated.as_ref().map_or(Ipv4Addr::UNSPECIFIED, |n| n.peer.bgp_id),
                addr: p.cfg.addr,
            }
        }
    }

    fn selection(&self, afi: Afi) -> Selection {
        match &self.config.bgp {
            Some(b) => {
                let f = b.family(afi);
                Selection {
                    maximum_paths: f.maximum_paths.unwrap_or(1).min(255) as u8,
                    maximum_paths_ibgp: f.maximum_paths_ibgp.unwrap_or(1).min(255) as u8,
                }
            }
            None => Selection::default(),
        }
    }

    fn session_config(&self, n: &Neighbor) -> SessionConfig {
        let b = self.config.bgp.as_ref().expect("neighbors live under router bgp");
        let (keepalive, hold_time) = n.timers.unwrap_or((60, 180));
        SessionConfig {
            local_as: b.asn,
            remote_as: n.remote_as,
            router_id: self.router_id,
            hold_time,
            keepalive,
            passive: n.passive,
            connect_retry: Duration::from_secs(n.connect_retry.unwrap_or(30) as u64),
            families: n.active_families(b.default_ipv4_unicast),
            shutdown: n.shutdown.clone(),
        }
    }

    /// Applies a new configuration, touching only what changed: sessions
    /// are reset only when their own settings change; policy changes are
    /// applied with a route refresh and a re-export.
    pub fn reconfigure(&mut self, now: Instant, new: Config) -> Result<(), String> {
        let old = std::mem::replace(&mut self.config, new);
        let new_id = pick_router_id(&self.config, &self.kernel)?;
        let (old_as, new_as) = (old.bgp.as_ref().map(|b| b.asn), self.config.bgp.as_ref().map(|b| b.asn));
        let restart_all = old_as != new_as || new_id != self.router_id;
        self.router_id = new_id;

        // Neighbors that went away, or whose session settings changed.
        for i in 0..self.peers.len() {
            let addr = self.peers[i].cfg.addr;
            let new_n = self.config.bgp.as_ref().and_then(|b| b.neighbor(addr)).cloned();
            match new_n {
                None => {
                    if !self.peers[i].removed {
                        self.stop_peer(now, i, Notification::new(err::CEASE, err::PEER_DECONFIGURED, []));
                        self.peers[i].removed = true;
                    }
                }
                Some(n) => {
                    let sc = self.session_config(&n);
                    let transport = n.password != self.peers[i].cfg.password
                        || n.ttl_security_hops != self.peers[i].cfg.ttl_security_hops
                        || n.update_source != self.peers[i].cfg.update_source
                        || n.ebgp_multihop != self.peers[i].cfg.ebgp_multihop;
                    let revived = std::mem::take(&mut self.peers[i].removed);
                    if restart_all || transport || revived || sc != self.peers[i].session.cfg {
                        let was_started = self.peers[i].session.state() != State::Idle;
                        if was_started {
                            let why = if sc.shutdown.is_some() {
                                Notification::cease(err::ADMIN_SHUTDOWN, sc.shutdown.as_deref().unwrap_or(""))
                            } else {
                                Notification::new(err::CEASE, err::OTHER_CONFIG_CHANGE, [])
                            };
                            self.stop_peer(now, i, why);
                        }
                        self.peers[i].session.cfg = sc;
                        self.peers[i].overflow = false;
                        self.peers[i].cfg = n;
                        let a = self.peers[i].session.start(now);
                        self.run(now, i, a);
                    } else {
                        self.peers[i].cfg = n;
                    }
                }
            }
        }
        // Peers are indexed by PeerId: a removed one keeps its slot (Idle,
        // `removed`) rather than renumbering the others' paths.
        let existing: HashSet<IpAddr> = self.peers.iter().map(|p| p.cfg.addr).collect();
        let added: Vec<Neighbor> = self
            .config
            .bgp
            .as_ref()
            .map(|b| b.neighbors.iter().filter(|n| !existing.contains(&n.addr)).cloned().collect())
            .unwrap_or_default();
        for n in added {
            let id = self.peers.len() as PeerId + 1;
            let session = Session::with_ids(self.session_config(&n), now, (id as u64) << 32);
            self.peers.push(Peer {
                id,
                cfg: n,
                session,
                conn: None,
                negotiated: None,
                local_addr: None,
                adj_out: Default::default(),
                pending: HashMap::new(),
                accepted: [0; 2],
                msgs_in: 0,
                msgs_out: 0,
                eor: [false; 2],
                overflow: false,
                removed: false,
            });
            let i = self.peers.len() - 1;
            let a = self.peers[i].session.start(now);
            self.run(now, i, a);
        }

        // Policy: ask for the routes again where import policy changed, and
        // re-export everything (the Adj-RIB-Out diff sends only changes).
        for i in 0..self.peers.len() {
            if self.peers[i].conn.is_none() {
                continue;
            }
            let addr = self.peers[i].cfg.addr;
            if import_policy_key(&old, addr) != import_policy_key(&self.config, addr) {
                self.refresh_in(now, i);
            }
        }
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let sel = self.selection(afi);
            let local_as = self.local_as();
            let changes = self.tables[fi(afi)].reselect(&Self::peer_info(&self.peers, local_as), sel);
            for c in changes {
                self.emit(now, afi, c);
            }
        }
        self.originate(now);
        for i in 0..self.peers.len() {
            self.export_all(i);
        }
        self.flush();
        Ok(())
    }

    fn refresh_in(&mut self, now: Instant, i: usize) {
        let p = &self.peers[i];
        let Some(neg) = &p.negotiated else { return };
        let Some(conn) = p.conn else { return };
        if neg.route_refresh {
            for afi in neg.families.clone() {
                let msg = Message::RouteRefresh(packet::RouteRefresh { afi: afi.code(), subtype: 0, safi: 1 });
                self.send(i, conn, &msg);
            }
            let addr = self.peers[i].cfg.addr;
            self.log(format!("neighbor {addr}: inbound policy changed: route refresh sent"));
        } else {
            let addr = self.peers[i].cfg.addr;
            self.log(format!("neighbor {addr}: inbound policy changed and the peer cannot refresh: resetting"));
            let a = self.peers[i].session.stop(now, Notification::cease(err::ADMIN_RESET, "policy changed"));
            self.run(now, i, a);
            let a = self.peers[i].session.start(now);
            self.run(now, i, a);
        }
    }

    fn stop_peer(&mut self, now: Instant, i: usize, why: Notification) {
        let a = self.peers[i].session.stop(now, why);
        self.run(now, i, a);
    }

    /// Clean stop: Cease to every peer. The daemon removes FIB routes.
    pub fn shutdown(&mut self, now: Instant, message: &str) {
        for i in 0..self.peers.len() {
            self.stop_peer(now, i, Notification::cease(err::ADMIN_SHUTDOWN, message));
        }
        self.flush();
    }

    /// `clear bgp`: hard reset of one or all sessions.
    pub fn clear(&mut self, now: Instant, which: Option<IpAddr>) -> usize {
        let mut n = 0;
        for i in 0..self.peers.len() {
            if which.is_some_and(|a| a != self.peers[i].cfg.addr) || self.peers[i].cfg.shutdown.is_some() {
                continue;
            }
            self.stop_peer(now, i, Notification::cease(err::ADMIN_RESET, ""));
            self.peers[i].overflow = false;
            let a = self.peers[i].session.start(now);
            self.run(now, i, a);
            n += 1;
        }
        self.flush();
        n
    }

    /// `clear bgp X soft in|out`.
    pub fn clear_soft(&mut self, now: Instant, which: Option<IpAddr>, inbound: bool, outbound: bool) -> usize {
        let mut n = 0;
        for i in 0..self.peers.len() {
            if which.is_some_and(|a| a != self.peers[i].cfg.addr) || self.peers[i].conn.is_none() {
                continue;
            }
            if inbound {
                self.refresh_in(now, i);
            }
            if outbound {
                self.peers[i].adj_out = Default::default();
                self.export_all(i);
            }
            n += 1;
        }
        self.flush();
        n
    }

    pub fn set_kernel(&mut self, now: Instant, k: Kernel) {
        if k == self.kernel {
            return;
        }
        self.kernel = k;
        for i in 0..self.peers.len() {
            self.peers[i].session.retry_soon(now);
            let a = self.peers[i].session.timeout(now);
            self.run(now, i, a);
        }
        self.originate(now);
        self.flush();
    }

    /// An inbound TCP connection: the id to use for it, if it comes from
    /// a configured neighbor.
    pub fn accept(&mut self, now: Instant, remote: IpAddr, local: IpAddr) -> Option<ConnId> {
        let i = self.peers.iter().position(|p| p.cfg.addr == remote && !p.removed)?;
        let id = self.peers[i].session.new_conn_id();
        self.conns.insert(id, i);
        self.peers[i].local_addr = Some(local);
        let a = self.peers[i].session.connected(now, id, false);
        self.run(now, i, a);
        Some(id)
    }

    /// Our outbound connection `conn` is up.
    pub fn connected(&mut self, now: Instant, conn: ConnId, local: IpAddr) {
        let Some(&i) = self.conns.get(&conn) else {
            self.out.push(Output::Close(conn));
            return;
        };
        self.peers[i].local_addr = Some(local);
        let a = self.peers[i].session.connected(now, conn, true);
        self.run(now, i, a);
    }

    pub fn closed(&mut self, now: Instant, conn: ConnId, why: &str) {
        let Some(&i) = self.conns.get(&conn) else { return };
        self.conns.remove(&conn);
        let a = self.peers[i].session.closed(now, conn, why);
        self.run(now, i, a);
    }

    /// One whole message (from `packet::frame`) arrived on `conn`.
    pub fn message(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(&i) = self.conns.get(&conn) else { return };
        self.peers[i].msgs_in += 1;
        let codec = self.codec(i);
        let a = match decode(bytes, &codec) {
            Ok(m) => self.peers[i].session.received(now, conn, m),
            Err(n) => {
                let addr = self.peers[i].cfg.addr;
                self.log(format!("neighbor {addr}: malformed message: {}: sending NOTIFICATION", n.describe()));
                self.peers[i].session.decode_error(now, conn, n)
            }
        };
        self.run(now, i, a);
    }

    /// The byte stream on `conn` broke framing (bad marker, length, type).
    pub fn framing_error(&mut self, now: Instant, conn: ConnId, n: Notification) {
        let Some(&i) = self.conns.get(&conn) else { return };
        let a = self.peers[i].session.decode_error(now, conn, n);
        self.run(now, i, a);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.peers.iter().filter_map(|p| p.session.next_deadline()).min()
    }

    pub fn timeout(&mut self, now: Instant) {
        for i in 0..self.peers.len() {
            if self.peers[i].session.next_deadline().is_some_and(|t| t <= now) {
                let a = self.peers[i].session.timeout(now);
                self.run(now, i, a);
            }
        }
    }

    fn codec(&self, i: usize) -> Codec {
        self.peers[i].negotiated.as_ref().map(|n| n.codec).unwrap_or_default()
    }

    fn send(&mut self, i: usize, conn: ConnId, m: &Message) {
        let mut buf = Vec::new();
        packet::encode(m, &self.codec(i), &mut buf);
        self.peers[i].msgs_out += 1;
        self.out.push(Output::Send(conn, buf));
    }

    fn run(&mut self, now: Instant, i: usize, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Connect(conn) => {
                    self.conns.insert(conn, i);
                    self.out.push(Output::Connect { conn, peer: self.peers[i].cfg.addr });
                }
                Action::Send(conn, m) => {
                    if let Message::Notification(n) = &m {
                        let addr = self.peers[i].cfg.addr;
                        self.log(format!("neighbor {addr}: NOTIFICATION sent: {}", n.describe()));
                    }
                    self.send(i, conn, &m)
                }
                Action::Close(conn) => {
                    self.conns.remove(&conn);
                    self.out.push(Output::Close(conn));
                }
                Action::Up(conn, neg) => self.up(now, i, conn, *neg),
                Action::Down(why) => self.down(now, i, &why),
                Action::Update(_, u) => self.update(now, i, *u),
                Action::RouteRefresh(afi) => {
                    self.peers[i].adj_out[fi(afi)].clear();
                    self.export_family(i, afi);
                    self.flush_peer(i);
                }
            }
        }
    }

    fn up(&mut self, now: Instant, i: usize, conn: ConnId, neg: Negotiated) {
        self.finish_withdrawal(now, self.peers[i].id);
        let p = &mut self.peers[i];
        p.conn = Some(conn);
        p.eor = [false; 2];
        let fams: Vec<String> = neg.families.iter().map(|f| format!("{f:?}")).collect();
        let line = format!(
            "neighbor {} Up: AS {}, router-id {}, hold time {}s, families {}",
            p.cfg.addr,
            neg.peer.asn,
            neg.peer.bgp_id,
            neg.hold_time,
            fams.join(",")
        );
        p.negotiated = Some(neg);
        self.log(line);
        self.check_policy(i);
        self.export_all(i);
        self.flush_peer(i);
        let fams = self.peers[i].negotiated.as_ref().map(|n| n.families.clone()).unwrap_or_default();
        for afi in fams {
            let mut buf = Vec::new();
            packet::end_of_rib(afi, &mut buf);
            self.peers[i].msgs_out += 1;
            self.out.push(Output::Send(conn, buf));
        }
        let _ = now;
    }

    /// RFC 8212 as FRR does it, but said out loud once per neighbor.
    fn check_policy(&mut self, i: usize) {
        let Some(b) = &self.config.bgp else { return };
        if !b.ebgp_requires_policy || !self.peers[i].ebgp(b.asn) {
            return;
        }
        let addr = self.peers[i].cfg.addr;
        for afi in self.peers[i].cfg.active_families(b.default_ipv4_unicast) {
            let f = self.peers[i].cfg.family(afi, b.default_ipv4_unicast);
            for (inbound, has) in [(true, f.has_policy_in()), (false, f.has_policy_out())] {
                if !has && self.policy_logged.insert((addr, afi, inbound)) {
                    let (dir, what) =
                        if inbound { ("in", "accepts no routes from") } else { ("out", "advertises nothing to") };
                    let af = if afi == Afi::Ipv4 { "ipv4" } else { "ipv6" };
                    self.out.push(Output::Log(format!(
                        "neighbor {addr}: eBGP without {dir}bound policy: bgpd {what} it (RFC 8212). Fix: under \
                         `address-family {af} unicast` add `neighbor {addr} prefix-list NAME {dir}` or `neighbor \
                         {addr} route-map NAME {dir}`, or turn the check off with `no bgp ebgp-requires-policy`"
                    )));
                }
            }
        }
    }

    /// Whether RFC 8212 blocks this neighbor in that direction.
    pub fn policy_blocked(&self, p: &Peer, afi: Afi, inbound: bool) -> bool {
        let Some(b) = &self.config.bgp else { return false };
        if !b.ebgp_requires_policy || !p.ebgp(b.asn) {
            return false;
        }
        let f = p.cfg.family(afi, b.default_ipv4_unicast);
        if inbound {
            !f.has_policy_in()
        } else {
            !f.has_policy_out()
        }
    }

    fn down(&mut self, now: Instant, i: usize, why: &str) {
        let addr = self.peers[i].cfg.addr;
        self.log(format!("neighbor {addr} Down: {why}"));
        let id = self.peers[i].id;
        let p = &mut self.peers[i];
        p.conn = None;
        p.adj_out = Default::default();
        p.pending.clear();
        p.accepted = [0; 2];
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let prefixes = self.tables[fi(afi)].prefixes_of(id);
            if !prefixes.is_empty() {
                self.withdrawing.push_back((id, afi, prefixes));
            }
        }
        self.work(now, WITHDRAW_SLICE);
    }

    /// Whether a withdrawal is still going on (call `work`).
    pub fn has_work(&self) -> bool {
        !self.withdrawing.is_empty()
    }

    /// Takes up to `budget` prefixes of pending withdrawals out of the RIB.
    pub fn work(&mut self, now: Instant, budget: usize) {
        let mut left = budget;
        while left > 0 {
            let Some((id, afi, list)) = self.withdrawing.front_mut() else { break };
            let (id, afi) = (*id, *afi);
            let take = left.min(list.len());
            let slice: Vec<IpNet> = list.drain(list.len() - take..).collect();
            if list.is_empty() {
                self.withdrawing.pop_front();
            }
            left -= take;
            for prefix in slice {
                self.rib_update(now, afi, prefix, None, id);
            }
        }
        self.flush();
    }

    /// Finishes the withdrawal of `id`'s old paths (before it is up again).
    fn finish_withdrawal(&mut self, now: Instant, id: PeerId) {
        let mine: std::collections::VecDeque<(PeerId, Afi, Vec<IpNet>)> = {
            let (mine, rest) = std::mem::take(&mut self.withdrawing).into_iter().partition(|w| w.0 == id);
            self.withdrawing = rest;
            mine
        };
        for (id, afi, list) in mine {
            for prefix in list {
                self.rib_update(now, afi, prefix, None, id);
            }
        }
    }

    fn update(&mut self, now: Instant, i: usize, u: Update) {
        let addr = self.peers[i].cfg.addr;
        for prob in &u.problems {
            let what = if prob.withdrawn { "treat-as-withdraw" } else { "attribute discarded" };
            self.out
                .push(Output::Log(format!("neighbor {addr}: malformed UPDATE: {}: {what} (RFC 7606)", prob.detail)));
        }
        if let Some(afi) = u.end_of_rib {
            self.peers[i].eor[fi(afi)] = true;
            return;
        }
        let id = self.peers[i].id;
        for prefix in &u.withdrawn {
            if self.peers[i].active(Afi::of(prefix)) {
                self.rib_update(now, Afi::of(prefix), *prefix, None, id);
            }
        }
        if u.announced.is_empty() {
            return;
        }
        let since = self.clock(now);
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            if !u.announced.iter().any(|p| Afi::of(p) == afi) || !self.peers[i].active(afi) {
                continue;
            }
            let Some(attrs) = u.attrs_for(afi) else { continue };
            let base = self.import_attrs(i, attrs);
            for prefix in u.announced.iter().filter(|p| Afi::of(p) == afi) {
                let path = base.as_ref().and_then(|a| self.import_prefix(i, afi, prefix, a));
                self.rib_update(now, afi, *prefix, path.map(|attrs| Path { peer: id, attrs, since }), id);
            }
            if let Some(max) = self.peers[i].cfg.family(afi, true).maximum_prefix {
                if self.peers[i].accepted[fi(afi)] > max as usize {
                    let n = self.peers[i].accepted[fi(afi)];
                    self.log(format!("neighbor {addr}: {n} prefixes exceed maximum-prefix {max}: session stopped until `clear bgp {addr}`"));
                    self.peers[i].overflow = true;
                    self.stop_peer(now, i, Notification::new(err::CEASE, err::MAX_PREFIXES, []));
                    return;
                }
            }
        }
    }

    /// The per-update part of import: loop detection, first AS, eBGP
    /// cleanup. None: every prefix of the update is rejected.
    fn import_attrs(&mut self, i: usize, mut a: PathAttrs) -> Option<Arc<PathAttrs>> {
        let local_as = self.local_as();
        let p = &self.peers[i];
        if a.as_path.contains(local_as) {
            return None;
        }
        if p.ebgp(local_as) {
            if let Some(peer_as) = p.negotiated.as_ref().map(|n| n.peer.asn) {
                if a.as_path.first_as() != Some(peer_as) {
                    return None;
                }
            }
            a.local_pref = None;
        }
        Some(self.interner.intern(a))
    }

    /// Prefix-list and route-map in. None: rejected.
    fn import_prefix(&mut self, i: usize, afi: Afi, prefix: &IpNet, a: &Arc<PathAttrs>) -> Option<Arc<PathAttrs>> {
        let p = &self.peers[i];
        if self.policy_blocked(p, afi, true) {
            return None;
        }
        let b = self.config.bgp.as_ref()?;
        let f = p.cfg.family(afi, b.default_ipv4_unicast);
        if let Some(name) = &f.prefix_list_in {
            if !self.config.prefix_lists.get(&(afi, name.clone())).is_some_and(|l| l.permits(prefix)) {
                return None;
            }
        }
        match &f.route_map_in {
            None => Some(a.clone()),
            Some(name) => {
                let out = self.config.route_maps.get(name)?.apply(prefix, a, &self.config.prefix_lists)?;
                Some(self.interner.intern(out))
            }
        }
    }

    fn rib_update(&mut self, now: Instant, afi: Afi, prefix: IpNet, path: Option<Path>, peer: PeerId) {
        let adding = path.is_some();
        let sel = self.selection(afi);
        let local_as = self.local_as();
        let (change, had) =
            self.tables[fi(afi)].update(prefix, path, peer, &Self::peer_info(&self.peers, local_as), sel);
        if peer != LOCAL {
            let acc = &mut self.peers[peer as usize - 1].accepted[fi(afi)];
            match (had, adding) {
                (false, true) => *acc += 1,
                (true, false) => *acc = acc.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(c) = change {
            self.emit(now, afi, c);
        }
    }

    /// A selection changed: the FIB and every neighbor's Adj-RIB-Out.
    fn emit(&mut self, _now: Instant, afi: Afi, c: Change) {
        let hops = match c.selected.as_slice() {
            [p] if p.peer != LOCAL => p.attrs.next_hop.map_or(Hops::None, Hops::One),
            [p, ..] if p.peer != LOCAL => Hops::from_vec(c.selected.iter().filter_map(|p| p.attrs.next_hop).collect()),
            _ => Hops::None,
        };
        self.out.push(Output::Fib(c.prefix, hops));
        for i in 0..self.peers.len() {
            if self.peers[i].active(afi) {
                let attrs = self.export(i, afi, &c.prefix, c.selected.first());
                self.set_out(i, c.prefix, attrs);
            }
        }
    }

    fn set_out(&mut self, i: usize, prefix: IpNet, attrs: Option<Arc<PathAttrs>>) {
        let p = &mut self.peers[i];
        let table = &mut p.adj_out[fi(Afi::of(&prefix))];
        let same = match (table.get(&prefix), &attrs) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || **a == **b,
            _ => false,
        };
        if same {
            return;
        }
        match &attrs {
            Some(a) => table.insert(prefix, a.clone()),
            None => table.remove(&prefix),
        };
        p.pending.insert(prefix, attrs);
    }

    fn export_all(&mut self, i: usize) {
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            if self.peers[i].active(afi) {
                self.export_family(i, afi);
            }
        }
    }

    fn export_family(&mut self, i: usize, afi: Afi) {
        let selected: Vec<(IpNet, Option<Path>)> =
            self.tables[fi(afi)].iter().map(|(p, paths, n)| (p, (n > 0).then(|| paths[0].clone()))).collect();
        let mut seen = HashSet::new();
        for (prefix, best) in selected {
            let attrs = self.export(i, afi, &prefix, best.as_ref());
            seen.insert(prefix);
            self.set_out(i, prefix, attrs);
        }
        // What we advertised that is no longer in the RIB, and the default
        // route of default-originate.
        let stale: Vec<IpNet> = self.peers[i].adj_out[fi(afi)].keys().filter(|p| !seen.contains(p)).copied().collect();
        for prefix in stale {
            let attrs = self.export(i, afi, &prefix, None);
            self.set_out(i, prefix, attrs);
        }
        let default = default_route(afi);
        if !seen.contains(&default) {
            let attrs = self.export(i, afi, &default, None);
            self.set_out(i, default, attrs);
        }
    }

    /// What neighbor `i` should have for `prefix`, given the best path.
    fn export(&mut self, i: usize, afi: Afi, prefix: &IpNet, best: Option<&Path>) -> Option<Arc<PathAttrs>> {
        let b = self.config.bgp.as_ref()?;
        let local_as = b.asn;
        let q = &self.peers[i];
        let f: &NeighborFamily = q.cfg.family(afi, b.default_ipv4_unicast);
        let ebgp = q.ebgp(local_as);
        let own = self.next_hop_self(i, afi);
        if f.default_originate && *prefix == default_route(afi) {
            let a = PathAttrs {
                origin: Origin::Igp,
                as_path: if ebgp { AsPath::sequence(&[local_as]) } else { AsPath::default() },
                next_hop: own,
                local_pref: (!ebgp).then_some(100),
                ..Default::default()
            };
            return Some(self.interner.intern(a));
        }
        let best = best?;
        if best.peer == q.id {
            return None;
        }
        if best.peer != LOCAL && !self.peers[best.peer as usize - 1].ebgp(local_as) && !ebgp {
            return None;
        }
        if self.policy_blocked(q, afi, false) {
            return None;
        }
        if ebgp && q.remote_asn().is_some_and(|r| best.attrs.as_path.contains(r)) {
            return None;
        }
        if let Some(name) = &f.prefix_list_out {
            if !self.config.prefix_lists.get(&(afi, name.clone())).is_some_and(|l| l.permits(prefix)) {
                return None;
            }
        }
        let mut a = (*best.attrs).clone();
        let keep_hop = !f.next_hop_self
            && best.peer != LOCAL
            && match (a.next_hop, ebgp) {
                // RFC 4271 5.1.3: a next hop on the subnet shared with the
                // receiving peer is kept (third-party next hop).
                (Some(nh), true) => self.kernel.on_link(nh, q.cfg.addr),
                (Some(_), false) => true,
                (None, _) => false,
            };
        if !keep_hop {
            a.next_hop = own;
            // On a shared link an IPv6 next hop goes with our link-local
            // address too (RFC 2545), as FRR sends it.
            a.link_local = if afi == Afi::Ipv6 && ebgp { self.link_local_toward(q.cfg.addr) } else { None };
        }
        if ebgp {
            a.as_path.prepend(local_as, 1);
            a.local_pref = None;
            if best.peer != LOCAL {
                a.med = None;
            }
        } else {
            a.local_pref = Some(a.local_pref.unwrap_or(100));
        }
        if let Some(name) = &f.route_map_out {
            a = self.config.route_maps.get(name)?.apply(prefix, &a, &self.config.prefix_lists)?;
        }
        Some(self.interner.intern(a))
    }

    /// Our link-local address on the interface that reaches `peer`.
    fn link_local_toward(&self, peer: IpAddr) -> Option<Ipv6Addr> {
        let k = &self.kernel;
        let ifname = k.addresses.iter().find(|a| a.trunc().contains(&peer)).and_then(|a| k.names.get(a))?;
        k.addresses.iter().find_map(|a| match a.addr() {
            IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80 && k.names.get(a) == Some(ifname) => Some(v),
            _ => None,
        })
    }

    fn next_hop_self(&self, i: usize, afi: Afi) -> Option<IpAddr> {
        let local = self.peers[i].local_addr?;
        match (afi, local) {
            (Afi::Ipv4, IpAddr::V4(_)) | (Afi::Ipv6, IpAddr::V6(_)) => Some(local),
            (Afi::Ipv6, IpAddr::V4(v4)) => {
                // An IPv6 route over an IPv4 session: a global IPv6 address
                // of ours, else the IPv4-mapped form.
                let v6 = self.kernel.addresses.iter().find_map(|a| match a.addr() {
                    IpAddr::V6(x) if (x.segments()[0] & 0xe000) == 0x2000 => Some(x),
                    _ => None,
                });
                Some(IpAddr::V6(v6.unwrap_or_else(|| v4.to_ipv6_mapped())))
            }
            (Afi::Ipv4, IpAddr::V6(_)) => {
                let v4 = self.kernel.addresses.iter().find_map(|a| match a.addr() {
                    IpAddr::V4(x) if !x.is_loopback() => Some(x),
                    _ => None,
                });
                v4.map(IpAddr::V4)
            }
        }
    }

    /// `network` statements: originated while the prefix is in the
    /// kernel's table (unless `no bgp network import-check`).
    fn originate(&mut self, now: Instant) {
        let Some(b) = &self.config.bgp else {
            let gone: Vec<IpNet> = self.originated.drain().collect();
            for p in gone {
                self.rib_update(now, Afi::of(&p), p, None, LOCAL);
            }
            return;
        };
        let check = b.network_import_check;
        let wanted: HashSet<IpNet> = [Afi::Ipv4, Afi::Ipv6]
            .iter()
            .flat_map(|afi| b.family(*afi).networks.clone())
            .filter(|p| !check || self.kernel.routes.contains(p))
            .collect();
        let gone: Vec<IpNet> = self.originated.difference(&wanted).copied().collect();
        let new: Vec<IpNet> = wanted.difference(&self.originated).copied().collect();
        for p in gone {
            self.originated.remove(&p);
            self.rib_update(now, Afi::of(&p), p, None, LOCAL);
        }
        let since = self.clock(now);
        for p in new {
            self.originated.insert(p);
            let unspec = match p {
                IpNet::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpNet::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            // FRR takes MED from the kernel route's metric: 0 for connected.
            let a = PathAttrs { origin: Origin::Igp, next_hop: Some(unspec), med: Some(0), ..Default::default() };
            let attrs = self.interner.intern(a);
            self.rib_update(now, Afi::of(&p), p, Some(Path { peer: LOCAL, attrs, since }), LOCAL);
        }
    }

    pub fn is_originated(&self, p: &IpNet) -> bool {
        self.originated.contains(p)
    }

    /// Sends what each neighbor's Adj-RIB-Out gained or lost.
    pub fn flush(&mut self) {
        for i in 0..self.peers.len() {
            self.flush_peer(i);
        }
    }

    fn flush_peer(&mut self, i: usize) {
        let p = &mut self.peers[i];
        if p.pending.is_empty() {
            return;
        }
        let Some(conn) = p.conn else {
            p.pending.clear();
            return;
        };
        let codec = p.negotiated.as_ref().map(|n| n.codec).unwrap_or_default();
        let mut withdrawn = Vec::new();
        // Announcements sharing attributes go out together: (attrs, IPv4, IPv6).
        type Group = (Arc<PathAttrs>, Vec<IpNet>, Vec<IpNet>);
        let mut groups: HashMap<*const PathAttrs, Group> = HashMap::new();
        for (prefix, a) in p.pending.drain() {
            match a {
                None => withdrawn.push(prefix),
                Some(a) => {
                    let g = groups.entry(Arc::as_ptr(&a)).or_insert_with(|| (a.clone(), Vec::new(), Vec::new()));
                    if Afi::of(&prefix) == Afi::Ipv4 {
                        g.1.push(prefix)
                    } else {
                        g.2.push(prefix)
                    }
                }
            }
        }
        let mut buf = Vec::new();
        withdrawn.sort();
        pack_withdraw(&codec, &withdrawn, &mut buf);
        for (_, (a, mut v4, mut v6)) in groups {
            v4.sort();
            v6.sort();
            pack_announce(&codec, &a, &v4, &mut buf);
            pack_announce(&codec, &a, &v6, &mut buf);
        }
        if !buf.is_empty() {
            p.msgs_out += 1;
            self.out.push(Output::Send(conn, buf));
        }
    }
}

fn default_route(afi: Afi) -> IpNet {
    match afi {
        Afi::Ipv4 => "0.0.0.0/0".parse().unwrap(),
        Afi::Ipv6 => "::/0".parse().unwrap(),
    }
}

/// Everything import policy for a neighbor depends on, to detect a change.
fn import_policy_key(c: &Config, addr: IpAddr) -> String {
    let Some(b) = &c.bgp else { return String::new() };
    let Some(n) = b.neighbor(addr) else { return String::new() };
    let mut key = format!("{}|", b.ebgp_requires_policy);
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let f = n.family(afi, b.default_ipv4_unicast);
        key.push_str(&format!("{f:?}|"));
        if let Some(l) = &f.prefix_list_in {
            key.push_str(&format!("{:?}|", c.prefix_lists.get(&(afi, l.clone()))));
        }
        if let Some(m) = &f.route_map_in {
            let map = c.route_maps.get(m);
            key.push_str(&format!("{map:?}|"));
            for e in map.iter().flat_map(|m| m.entries.values()) {
                for super::policy::Match::PrefixList(a, l) in &e.matches {
                    key.push_str(&format!("{:?}|", c.prefix_lists.get(&(*a, l.clone()))));
                }
            }
        }
    }
    key
}

fn pick_router_id(c: &Config, k: &Kernel) -> Result<Ipv4Addr, String> {
    if let Some(id) = c.bgp.as_ref().and_then(|b| b.router_id) {
        return Ok(id);
    }
    // As FRR: the highest IPv4 address that is not a loopback.
    let best = k
        .addresses
        .iter()
        .filter_map(|a| match a.addr() {
            IpAddr::V4(v) if !v.is_loopback() => Some(v),
            _ => None,
        })
        .max();
    match (best, &c.bgp) {
        (Some(id), _) => Ok(id),
        (None, None) => Ok(Ipv4Addr::UNSPECIFIED),
        (None, Some(_)) => {
            Err("no router-id: set `bgp router-id A.B.C.D` (there is no IPv4 address to take one from)".into())
        }
    }
}

#[cfg(test)]
#[path = "speaker_tests.rs"]
mod tests;
