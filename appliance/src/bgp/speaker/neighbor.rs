//! Neighbors: a session (the FSM of `fsm.rs`) with its connection, what
//! the OPENs settled, counters, and the Adj-RIB-Out; the session events
//! the daemon reports, and what a session going up or down means.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::adj_rib_in::AdjRibIn;
use super::adj_rib_out::{AdjRibOut, Shape};
use super::graceful::Stale;
use super::{Output, Speaker, Withdrawal, WITHDRAW_SLICE};
use crate::bgp::config::{Neighbor, NeighborId};
use crate::bgp::family::PerFamily;
use crate::bgp::fsm::{Action, ConnId, Negotiated, RemoteAs, Session};
use crate::bgp::packet::{self, decode, err, Afi, Codec, Message, Notification};
use crate::bgp::rib::PeerId;
use crate::log::Level;

pub struct Peer {
    pub(super) id: PeerId,
    pub(super) cfg: Neighbor,
    /// Its address: the configured one, or an interface neighbor's as
    /// learnt on the link (None: not yet).
    pub(super) remote: Option<IpAddr>,
    /// The interface of an interface neighbor or of a link-local address
    /// (0: none, or not there now).
    pub(super) ifindex: u32,
    pub(super) session: Session,
    /// The established connection.
    pub(super) conn: Option<ConnId>,
    pub(super) negotiated: Option<Negotiated>,
    pub(super) local_addr: Option<IpAddr>,
    pub(super) adj_out: AdjRibOut,
    /// Before policy, with soft-reconfiguration inbound only.
    pub(super) adj_in: AdjRibIn,
    /// Prefixes accepted into the RIB.
    pub(super) accepted: PerFamily<usize>,
    pub(super) msgs_in: u64,
    pub(super) msgs_out: u64,
    pub(super) eor: PerFamily<bool>,
    /// Our End-of-RIB is due once the initial table has gone out whole
    /// (RFC 4724: a peer may sweep stale routes on it).
    pub(super) eor_due: bool,
    /// Stopped for exceeding maximum-prefix, until cleared.
    pub(super) overflow: bool,
    /// No longer in the configuration (a dynamic neighbor: its session
    /// ended).
    pub(super) removed: bool,
    /// Made from a listen range, not configured.
    pub(super) dynamic: bool,
    /// Its routes kept while it restarts (graceful restart).
    pub(super) stale: Option<Stale>,
    /// Held down by BFD: started again when BFD is Up.
    pub(super) bfd_held: bool,
    /// What its routes out depend on (`Shape`), as of a config
    /// generation and of its settings.
    pub(super) shape: Option<(u64, PerFamily<Shape>)>,
    /// Since when the peer has not read what we sent (RFC 9687).
    pub(super) blocked_since: Option<Instant>,
    /// The session's state as last seen (for `debug bgp neighbor-events`).
    pub(super) seen_state: crate::bgp::fsm::State,
}

/// RFC 9687's Send Hold Timer when the session has no hold time.
const SEND_HOLD_DEFAULT: Duration = Duration::from_secs(480);

impl Peer {
    pub(super) fn new(id: PeerId, cfg: Neighbor, session: Session) -> Peer {
        Peer {
            id,
            remote: cfg.id.addr(),
            ifindex: 0,
            cfg,
            session,
            conn: None,
            negotiated: None,
            local_addr: None,
            adj_out: AdjRibOut::default(),
            adj_in: AdjRibIn::default(),
            accepted: PerFamily::default(),
            msgs_in: 0,
            msgs_out: 0,
            eor: PerFamily::default(),
            eor_due: false,
            overflow: false,
            removed: false,
            dynamic: false,
            stale: None,
            bfd_held: false,
            shape: None,
            blocked_since: None,
            seen_state: crate::bgp::fsm::State::Idle,
        }
    }

    /// New settings: what it is sent is judged again.
    pub(super) fn set_cfg(&mut self, n: Neighbor) {
        self.cfg = n;
        self.shape = None;
    }

    pub fn id(&self) -> PeerId {
        self.id
    }

    /// What FRR shows for it: its address, or its interface's name.
    pub fn name(&self) -> &NeighborId {
        &self.cfg.id
    }

    /// Its address, configured or learnt on the link.
    pub fn remote(&self) -> Option<IpAddr> {
        self.remote
    }

    /// The interface an interface neighbor (or a link-local one) is on.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn config(&self) -> &Neighbor {
        &self.cfg
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    pub fn local_addr(&self) -> Option<IpAddr> {
        self.local_addr
    }

    pub fn accepted(&self, afi: Afi) -> usize {
        self.accepted[afi]
    }

    /// How many prefixes of the family we advertise to it.
    pub fn advertised(&self, afi: Afi) -> usize {
        self.adj_out.len(afi)
    }

    /// What its Adj-RIB-Out holds outside the RIB, in bytes.
    pub fn adj_out_bytes(&self) -> usize {
        self.adj_out.heap_bytes()
    }

    /// What it sent, before policy (soft-reconfiguration inbound).
    pub fn adj_rib_in(&self) -> &AdjRibIn {
        &self.adj_in
    }

    /// Messages received and sent (FRR's MsgRcvd / MsgSent).
    pub fn messages(&self) -> (u64, u64) {
        (self.msgs_in, self.msgs_out)
    }

    /// Its routes kept while it restarts gracefully, if any.
    pub fn stale(&self) -> Option<&Stale> {
        self.stale.as_ref()
    }

    /// Held down because its BFD session is down.
    pub fn bfd_held(&self) -> bool {
        self.bfd_held
    }

    /// A dynamic neighbor (from `bgp listen range`).
    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    pub fn overflow(&self) -> bool {
        self.overflow
    }

    pub fn end_of_rib(&self, afi: Afi) -> bool {
        self.eor[afi]
    }

    pub fn is_up(&self) -> bool {
        self.conn.is_some()
    }

    pub fn ebgp(&self, local_as: u32) -> bool {
        self.cfg.is_ebgp(local_as)
    }

    pub fn remote_asn(&self) -> Option<u32> {
        match self.cfg.remote_as {
            RemoteAs::Asn(a) => Some(a),
            _ => self.negotiated.as_ref().map(|n| n.peer.asn),
        }
    }

    pub(super) fn active(&self, afi: Afi) -> bool {
        self.conn.is_some() && self.negotiated.as_ref().is_some_and(|n| n.families.contains(&afi))
    }

    pub(super) fn codec(&self) -> Codec {
        self.negotiated.as_ref().map(|n| n.codec).unwrap_or_default()
    }

    fn send_hold(&self) -> Duration {
        match self.negotiated.as_ref().map_or(0, |n| n.hold_time) {
            0 => SEND_HOLD_DEFAULT,
            h => Duration::from_secs(h as u64),
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let send_hold = self.blocked_since.map(|t| t + self.send_hold());
        [self.session.next_deadline(), send_hold].into_iter().flatten().min()
    }
}

impl Speaker {
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
        let Some(i) = self.conns.remove(&conn) else { return };
        self.debug_event(i, || format!("connection {conn} closed: {why}"));
        let a = self.peers[i].session.closed(now, conn, why);
        self.run(now, i, a);
    }

    /// One whole message (from `packet::frame`) arrived on `conn`.
    pub fn message(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(&i) = self.conns.get(&conn) else { return };
        self.peers[i].msgs_in += 1;
        let codec = self.peers[i].codec();
        // The reader frames up to the extended size; what was negotiated
        // on this connection is known only here (RFC 8654 5).
        let decoded = if bytes.len() > codec.max_len {
            Err(Notification::new(err::HEADER, err::BAD_LENGTH, (bytes.len() as u16).to_be_bytes()))
        } else {
            decode(bytes, &codec)
        };
        let a = match decoded {
            Ok(m) => {
                self.debug_rcvd(i, &m);
                let mut a = std::mem::take(&mut self.spare_actions);
                self.peers[i].session.received_into(now, conn, m, &mut a);
                a
            }
            Err(n) => {
                let addr = self.peers[i].cfg.id.clone();
                self.log(
                    Level::Warn,
                    format!("neighbor {addr}: malformed message: {}: sending NOTIFICATION", n.describe()),
                );
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

    /// The connection's output queue is full: the peer is not reading.
    /// Its UPDATEs wait in its Adj-RIB-Out until `output_drained`.
    pub fn output_blocked(&mut self, now: Instant, conn: ConnId) {
        if let Some(&i) = self.conns.get(&conn) {
            self.peers[i].blocked_since.get_or_insert(now);
        }
    }

    pub fn output_drained(&mut self, conn: ConnId) {
        if let Some(&i) = self.conns.get(&conn) {
            self.peers[i].blocked_since = None;
            self.flush_peer(i);
        }
    }

    /// RFC 9687: a peer that has not read for the send hold time is gone.
    pub(super) fn send_hold_check(&mut self, now: Instant, i: usize) {
        let p = &self.peers[i];
        let (Some(since), Some(conn)) = (p.blocked_since, p.conn) else { return };
        if now < since + p.send_hold() {
            return;
        }
        let addr = p.cfg.id.clone();
        self.peers[i].blocked_since = None;
        self.log(
            Level::Warn,
            format!("neighbor {addr}: it has read nothing for the send hold time (RFC 9687): closing"),
        );
        let n = Notification::new(err::SEND_HOLD_TIMER_EXPIRED, 0, []);
        let a = self.peers[i].session.decode_error(now, conn, n);
        self.run(now, i, a);
    }

    pub(super) fn send(&mut self, i: usize, conn: ConnId, m: &Message) {
        let mut buf = Vec::new();
        packet::encode(m, &self.peers[i].codec(), &mut buf);
        self.peers[i].msgs_out += 1;
        self.out.push(Output::Send(conn, buf));
    }

    pub(super) fn run(&mut self, now: Instant, i: usize, mut actions: Vec<Action>) {
        for a in actions.drain(..) {
            match a {
                Action::Connect(conn) => {
                    let p = &self.peers[i];
                    match p.remote {
                        Some(peer) => {
                            self.debug_event(i, || format!("connecting to {peer} (connection {conn})"));
                            let p = &self.peers[i];
                            self.conns.insert(conn, i);
                            self.out.push(Output::Connect { conn, peer, scope: p.ifindex });
                        }
                        // Not known yet (see `interface.rs`): the attempt fails at once.
                        None => {
                            let a = self.peers[i].session.closed(now, conn, "no address of the peer known on the link");
                            self.run(now, i, a);
                        }
                    }
                }
                Action::Send(conn, m) => {
                    self.debug_sent(i, &m);
                    if let Message::Notification(n) = &m {
                        let addr = self.peers[i].cfg.id.clone();
                        self.log(Level::Warn, format!("neighbor {addr}: NOTIFICATION sent: {}", n.describe()));
                    }
                    self.send(i, conn, &m)
                }
                Action::Close(conn) => {
                    self.conns.remove(&conn);
                    self.out.push(Output::Close(conn));
                }
                Action::Up(conn, neg) => self.up(now, i, conn, *neg),
                Action::Down(why, notified) => self.down(now, i, &why, notified),
                Action::Update(_, u) => self.update(now, i, *u),
                Action::RouteRefresh(afi) => {
                    self.refresh_out(i, afi);
                    self.flush_peer(i);
                }
            }
        }
        let was = self.peers[i].seen_state;
        self.debug_state(i, was);
        self.peers[i].seen_state = self.peers[i].session.state();
        // A dynamic neighbor whose connection closed before the session
        // came up goes too: it must not hold a place under the limit.
        let p = &mut self.peers[i];
        if p.dynamic && !p.session.has_connection() && p.conn.is_none() {
            p.removed = true;
        }
        // Kept for the next message's actions (see `message`).
        if self.spare_actions.capacity() == 0 {
            self.spare_actions = actions;
        }
    }

    fn up(&mut self, now: Instant, i: usize, conn: ConnId, neg: Negotiated) {
        self.finish_withdrawal(now, self.peers[i].id);
        let p = &mut self.peers[i];
        p.conn = Some(conn);
        p.eor = PerFamily::default();
        p.blocked_since = None;
        let fams: Vec<&str> = neg.families.iter().map(|f| f.name()).collect();
        let line = format!(
            "neighbor {} Up: AS {}, router-id {}, hold time {}s, families {}",
            p.cfg.id,
            neg.peer.asn,
            neg.peer.bgp_id,
            neg.hold_time,
            fams.join(", ")
        );
        p.negotiated = Some(neg);
        self.log(Level::Info, line);
        self.stale_up(now, i);
        for afi in PerFamily::<()>::AFIS {
            let keep = self.keeps_adj_in(i, afi);
            self.peers[i].adj_in.reset(afi, keep);
        }
        self.check_policy(i);
        self.peers[i].eor_due = true;
        self.open_adj_out(i);
        self.export_all(i);
        self.flush_peer(i);
    }

    fn down(&mut self, now: Instant, i: usize, why: &str, notified: bool) {
        let addr = self.peers[i].cfg.id.clone();
        self.log(Level::Warn, format!("neighbor {addr} Down: {why}"));
        let id = self.peers[i].id;
        // Kept for a graceful restart, or withdrawn.
        let (keep, time) = if self.stopping { (Vec::new(), 0) } else { self.gr_keep(i, notified) };
        self.close_adj_out(i);
        let p = &mut self.peers[i];
        p.conn = None;
        p.adj_in = AdjRibIn::default();
        for afi in PerFamily::<()>::AFIS {
            if !keep.contains(&afi) {
                p.accepted[afi] = 0;
            }
        }
        p.blocked_since = None;
        p.eor_due = false;
        // A dynamic neighbor goes with its session (FRR's rule).
        p.removed |= p.dynamic;
        if self.stopping {
            return;
        }
        if !keep.is_empty() {
            self.keep_stale(now, i, &keep, time);
        }
        for afi in PerFamily::<()>::AFIS.into_iter().filter(|a| !keep.contains(a)) {
            let prefixes = self.tables[afi].prefixes_of(id);
            if !prefixes.is_empty() {
                self.withdrawing.push_back(Withdrawal { peer: id, afi, prefixes });
            }
        }
        self.work(now, WITHDRAW_SLICE);
    }

    /// Takes up to `budget` prefixes of pending withdrawals out of the RIB.
    pub fn work(&mut self, now: Instant, budget: usize) {
        let mut left = budget;
        while left > 0 {
            let Some(w) = self.withdrawing.front_mut() else { break };
            let (id, afi) = (w.peer, w.afi);
            let take = left.min(w.prefixes.len());
            let slice: Vec<IpNet> = w.prefixes.drain(w.prefixes.len() - take..).collect();
            let done = w.prefixes.is_empty();
            if done {
                self.withdrawing.pop_front();
            }
            left -= take;
            // Last first: the FIB's deletions then come in descending order
            // across slices, the kernel's fastest (see fib_writer).
            for prefix in slice.into_iter().rev() {
                self.rib_update(now, afi, prefix, None, id);
            }
            // A table gone: its attribute sets with it, now rather than
            // when the interner next sweeps (a flapping peer would leave
            // up to a table's worth of them behind).
            if done {
                self.interner.sweep();
            }
        }
        self.flush();
    }

    /// Finishes the withdrawal of `id`'s old paths (before it is up again).
    fn finish_withdrawal(&mut self, now: Instant, id: PeerId) {
        let (mine, rest): (std::collections::VecDeque<Withdrawal>, _) =
            std::mem::take(&mut self.withdrawing).into_iter().partition(|w| w.peer == id);
        self.withdrawing = rest;
        for w in mine {
            for prefix in w.prefixes {
                self.rib_update(now, w.afi, prefix, None, id);
            }
        }
    }
}
