//! The BGP session FSM (RFC 4271 8), sans-IO.
//!
//! One `Session` per neighbor. It is driven by calls that carry the time
//! (`now`) and answers with `Action`s for the daemon to carry out: open a
//! TCP connection, send a message, close, and the session going up or
//! down. Up to two connections may exist at once (one we opened, one the
//! peer opened) until the collision rules of 6.8 pick one.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{
    err, Afi, Capability, Codec, GracefulRestart, Message, Notification, Open, EXTENDED_MAX_LEN, MAX_LEN,
};

pub type ConnId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    /// FRR's spelling in `show bgp summary` and `show bgp neighbors`.
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteAs {
    Asn(u32),
    Internal,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub local_as: u32,
    pub remote_as: RemoteAs,
    pub router_id: Ipv4Addr,
    pub hold_time: u16,
    pub keepalive: u16,
    pub passive: bool,
    /// The longest wait between connection attempts; the first retry comes
    /// after one second, and the wait doubles up to this.
    pub connect_retry: Duration,
    pub families: Vec<Afi>,
    pub shutdown: Option<String>,
    /// The Graceful Restart capability to send (None: none).
    pub graceful_restart: Option<GracefulRestart>,
    /// Offer IPv4 unicast with IPv6 next hops (RFC 8950).
    pub extended_nexthop: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            local_as: 0,
            remote_as: RemoteAs::External,
            router_id: Ipv4Addr::UNSPECIFIED,
            hold_time: 180,
            keepalive: 60,
            passive: false,
            connect_retry: Duration::from_secs(30),
            families: vec![Afi::Ipv4],
            shutdown: None,
            graceful_restart: None,
            extended_nexthop: false,
        }
    }
}

/// What the OPEN exchange settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Codec,
    pub hold_time: u16,
    pub keepalive: u16,
    pub families: Vec<Afi>,
    pub peer: Open,
    pub route_refresh: bool,
    /// Both sides offered IPv4 unicast with IPv6 next hops (RFC 8950).
    pub extended_nexthop: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to the peer and report it as `ConnId`.
    Connect(ConnId),
    Send(ConnId, Message),
    /// Close the connection (after what was sent on it is flushed).
    Close(ConnId),
    /// The session is Established on this connection.
    Up(ConnId, Box<Negotiated>),
    /// The session left Established; routes learnt from it go (unless
    /// kept for a graceful restart: `notified` says whether a NOTIFICATION
    /// ended it, RFC 4724 4.2).
    Down(String, bool),
    /// An UPDATE for the RIB.
    Update(ConnId, Box<super::packet::Update>),
    /// The peer asked for our routes again (RFC 2918).
    RouteRefresh(Afi),
}

#[derive(Debug, Clone)]
struct Conn {
    id: ConnId,
    outbound: bool,
    state: State,
    hold_deadline: Option<Instant>,
    keepalive_at: Option<Instant>,
    negotiated: Option<Negotiated>,
}

/// RFC 4271 suggests 4 minutes for the hold timer until the OPEN arrives.
const OPEN_HOLD: Duration = Duration::from_secs(240);
const FIRST_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Session {
    pub cfg: SessionConfig,
    conns: Vec<Conn>,
    next_id: ConnId,
    connecting: Option<ConnId>,
    retry_at: Option<Instant>,
    retry_wait: Duration,
    started: bool,
    /// What a connection attempt hears while stopped: why we stopped
    /// (Cease, Maximum Number of Prefixes) or Administrative Shutdown.
    refusal: Option<Notification>,
    since: Instant,
    shown: State,
    pub last_error: Option<String>,
    pub established_count: u32,
    pub dropped_count: u32,
}

impl Session {
    pub fn new(cfg: SessionConfig, now: Instant) -> Session {
        Session::with_ids(cfg, now, 0)
    }

    /// A session whose connection ids start after `base`, so that ids stay
    /// unique across the daemon's sessions.
    pub fn with_ids(cfg: SessionConfig, now: Instant, base: ConnId) -> Session {
        Session {
            cfg,
            conns: Vec::new(),
            next_id: base,
            connecting: None,
            retry_at: None,
            retry_wait: FIRST_RETRY,
            started: false,
            refusal: None,
            since: now,
            shown: State::Idle,
            last_error: None,
            established_count: 0,
            dropped_count: 0,
        }
    }

    /// The state as FRR shows it: the most advanced connection's, or
    /// Connect while a connection is being opened, else Active (waiting
    /// for the next attempt or for the peer), or Idle when stopped.
    pub fn state(&self) -> State {
        if let Some(s) = self.conns.iter().map(|c| c.state).max_by_key(|s| rank(*s)) {
            return s;
        }
        match (self.started, self.connecting) {
            (false, _) => State::Idle,
            (true, Some(_)) => State::Connect,
            (true, None) => State::Active,
        }
    }

    /// Since when the session has been in its current state (for "Up/Down").
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.conns.iter().find(|c| c.state == State::Established).and_then(|c| c.negotiated.as_ref())
    }

    pub fn established_conn(&self) -> Option<ConnId> {
        self.conns.iter().find(|c| c.state == State::Established).map(|c| c.id)
    }

    fn note_state(&mut self, now: Instant) {
        let s = self.state();
        if s != self.shown {
            self.shown = s;
            self.since = now;
        }
    }

    /// ManualStart: begin connecting (unless passive or shut down).
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.cfg.shutdown.is_some() {
            return out;
        }
        self.started = true;
        self.refusal = None;
        if !self.cfg.passive && self.connecting.is_none() && self.conns.is_empty() {
            self.retry_at = Some(now);
        }
        self.poll(now, &mut out);
        self.note_state(now);
        out
    }

    /// ManualStop: Cease to every connection, no more attempts.
    pub fn stop(&mut self, now: Instant, why: Notification) -> Vec<Action> {
        let mut out = Vec::new();
        self.started = false;
        self.retry_at = None;
        self.connecting = None;
        self.refusal = (why.code == err::CEASE && why.subcode == err::MAX_PREFIXES).then(|| why.clone());
        let was_up = self.established_conn().is_some();
        for c in std::mem::take(&mut self.conns) {
            if matches!(c.state, State::OpenSent | State::OpenConfirm | State::Established) {
                out.push(Action::Send(c.id, Message::Notification(why.clone())));
            }
            out.push(Action::Close(c.id));
        }
        let reason = format!("{} sent", why.describe());
        if was_up {
            self.dropped_count += 1;
            out.push(Action::Down(reason.clone(), true));
        }
        self.last_error = Some(reason);
        self.note_state(now);
        out
    }

    /// Something changed that may make the peer reachable (an address or
    /// route appeared): try now rather than at the end of the backoff.
    pub fn retry_soon(&mut self, now: Instant) {
        if self.started && !self.cfg.passive && self.conns.is_empty() && self.connecting.is_none() {
            self.retry_at = Some(now);
            self.retry_wait = FIRST_RETRY;
        }
    }

    /// An outbound attempt (`Action::Connect(id)`) succeeded, or the peer
    /// connected to us (`outbound: false`, with a fresh id from
    /// `new_conn_id`).
    pub fn connected(&mut self, now: Instant, id: ConnId, outbound: bool) -> Vec<Action> {
        let mut out = Vec::new();
        if outbound {
            if self.connecting != Some(id) {
                out.push(Action::Close(id));
                return out;
            }
            self.connecting = None;
        }
        if !self.started {
            if !outbound {
                // Not configured to run (shut down, or stopped by
                // maximum-prefix): refuse, saying which.
                let n = self.refusal.clone().unwrap_or_else(|| Notification::cease(err::ADMIN_SHUTDOWN, ""));
                out.push(Action::Send(id, Message::Notification(n)));
            }
            out.push(Action::Close(id));
            return out;
        }
        if !outbound && self.conns.iter().any(|c| !c.outbound) {
            out.push(Action::Send(
                id,
                Message::Notification(Notification::new(err::CEASE, err::CONNECTION_REJECTED, [])),
            ));
            out.push(Action::Close(id));
            return out;
        }
        self.retry_at = None;
        out.push(Action::Send(id, Message::Open(self.our_open())));
        self.conns.push(Conn {
            id,
            outbound,
            state: State::OpenSent,
            hold_deadline: Some(now + OPEN_HOLD),
            keepalive_at: None,
            negotiated: None,
        });
        self.note_state(now);
        out
    }

    /// Whether a connection is open or being opened.
    pub fn has_connection(&self) -> bool {
        !self.conns.is_empty() || self.connecting.is_some()
    }

    /// The last connection id given (a new session for the same slot
    /// starts after it).
    pub fn last_conn_id(&self) -> ConnId {
        self.next_id
    }

    pub fn new_conn_id(&mut self) -> ConnId {
        self.next_id += 1;
        self.next_id
    }

    /// The outbound attempt failed, or a connection closed under us.
    pub fn closed(&mut self, now: Instant, id: ConnId, why: &str) -> Vec<Action> {
        let mut out = Vec::new();
        if self.connecting == Some(id) {
            self.connecting = None;
            self.last_error = Some(why.to_string());
            self.schedule_retry(now);
        } else if self.conns.iter().any(|c| c.id == id) {
            self.drop_conn(now, id, why.to_string(), false, &mut out);
        }
        self.note_state(now);
        out
    }

    pub fn received(&mut self, now: Instant, id: ConnId, msg: Message) -> Vec<Action> {
        let mut out = Vec::new();
        self.received_into(now, id, msg, &mut out);
        out
    }

    /// `received`, onto the end of `out` (the caller's buffer, reused:
    /// a message in is mostly an UPDATE, which is one action).
    pub fn received_into(&mut self, now: Instant, id: ConnId, msg: Message, out: &mut Vec<Action>) {
        let Some(i) = self.conns.iter().position(|c| c.id == id) else { return };
        let state = self.conns[i].state;
        match (state, msg) {
            (_, Message::Notification(n)) => {
                let why = format!("{} received", n.describe());
                out.push(Action::Close(id));
                self.drop_conn(now, id, why, true, out);
            }
            (State::OpenSent, Message::Open(open)) => self.on_open(now, i, open, out),
            (State::OpenConfirm, Message::Keepalive) => {
                let c = &mut self.conns[i];
                c.state = State::Established;
                c.hold_deadline = hold_deadline(now, c.negotiated.as_ref());
                let neg = c.negotiated.clone().expect("negotiated in OpenConfirm");
                self.retry_wait = FIRST_RETRY;
                self.established_count += 1;
                self.last_error = None;
                out.push(Action::Up(id, Box::new(neg)));
            }
            (State::Established, Message::Keepalive) => self.refresh_hold(now, i),
            (State::Established, Message::Update(u)) => {
                self.refresh_hold(now, i);
                out.push(Action::Update(id, u));
            }
            (State::Established, Message::RouteRefresh(r)) => {
                self.refresh_hold(now, i);
                if let (Some(afi), 1) = (Afi::from_code(r.afi), r.safi) {
                    out.push(Action::RouteRefresh(afi));
                }
            }
            (s, m) => {
                // RFC 6608 subcodes: which state got the unexpected message.
                let sub = match s {
                    State::OpenSent => 1,
                    State::OpenConfirm => 2,
                    _ => 3,
                };
                let what = match m {
                    Message::Open(_) => "OPEN",
                    Message::Update(_) => "UPDATE",
                    Message::Keepalive => "KEEPALIVE",
                    Message::RouteRefresh(_) => "ROUTE-REFRESH",
                    Message::Notification(_) => "NOTIFICATION",
                };
                self.fail(
                    now,
                    id,
                    Notification::new(err::FSM, sub, []),
                    format!("unexpected {what} in {}", s.name()),
                    out,
                );
            }
        }
        self.note_state(now);
    }

    /// A message from the peer did not decode: tell it why and close.
    pub fn decode_error(&mut self, now: Instant, id: ConnId, n: Notification) -> Vec<Action> {
        let mut out = Vec::new();
        let why = n.describe();
        self.fail(now, id, n, why, &mut out);
        self.note_state(now);
        out
    }

    /// The earliest time `poll` has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let conns = self.conns.iter().flat_map(|c| [c.hold_deadline, c.keepalive_at]).flatten();
        conns.chain(self.retry_at).min()
    }

    /// Fires the timers that are due.
    pub fn timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.poll(now, &mut out);
        self.note_state(now);
        out
    }

    fn poll(&mut self, now: Instant, out: &mut Vec<Action>) {
        let expired: Vec<ConnId> =
            self.conns.iter().filter(|c| c.hold_deadline.is_some_and(|t| t <= now)).map(|c| c.id).collect();
        for id in expired {
            let n = Notification::new(err::HOLD_TIMER_EXPIRED, 0, []);
            self.fail(now, id, n, "Hold Timer Expired".into(), out);
        }
        for c in &mut self.conns {
            if let Some(t) = c.keepalive_at.filter(|t| *t <= now) {
                out.push(Action::Send(c.id, Message::Keepalive));
                let every = Duration::from_secs(c.negotiated.as_ref().map_or(60, |n| n.keepalive as u64));
                // Catch up from `now`, not from t, after a stall.
                c.keepalive_at = Some(now.max(t) + every);
            }
        }
        if self.retry_at.is_some_and(|t| t <= now) && self.started && self.connecting.is_none() && self.conns.is_empty()
        {
            self.retry_at = None;
            let id = self.new_conn_id();
            self.connecting = Some(id);
            out.push(Action::Connect(id));
        }
    }

    fn refresh_hold(&mut self, now: Instant, i: usize) {
        let c = &mut self.conns[i];
        c.hold_deadline = hold_deadline(now, c.negotiated.as_ref());
    }

    fn fail(&mut self, now: Instant, id: ConnId, n: Notification, why: String, out: &mut Vec<Action>) {
        out.push(Action::Send(id, Message::Notification(n)));
        out.push(Action::Close(id));
        self.drop_conn(now, id, why, true, out);
    }

    fn drop_conn(&mut self, now: Instant, id: ConnId, why: String, notified: bool, out: &mut Vec<Action>) {
        let Some(i) = self.conns.iter().position(|c| c.id == id) else { return };
        let c = self.conns.remove(i);
        if c.state == State::Established {
            self.dropped_count += 1;
            out.push(Action::Down(why.clone(), notified));
        }
        self.last_error = Some(why);
        if self.conns.is_empty() && self.started {
            self.schedule_retry(now);
        }
    }

    fn schedule_retry(&mut self, now: Instant) {
        if self.cfg.passive || !self.started {
            return;
        }
        self.retry_at = Some(now + self.retry_wait);
        self.retry_wait = (self.retry_wait * 2).min(self.cfg.connect_retry.max(FIRST_RETRY));
    }
}

fn rank(s: State) -> u8 {
    match s {
        State::Idle => 0,
        State::Active => 1,
        State::Connect => 2,
        State::OpenSent => 3,
        State::OpenConfirm => 4,
        State::Established => 5,
    }
}

fn hold_deadline(now: Instant, neg: Option<&Negotiated>) -> Option<Instant> {
    match neg.map(|n| n.hold_time) {
        Some(0) => None,
        Some(h) => Some(now + Duration::from_secs(h as u64)),
        None => Some(now + OPEN_HOLD),
    }
}

#[path = "fsm_open.rs"]
mod open;
#[cfg(test)]
#[path = "fsm_tests.rs"]
mod tests;
