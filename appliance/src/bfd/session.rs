//! One BFD session (RFC 5880 6.2, 6.8), asynchronous mode, single hop:
//! a pure state machine driven by received packets and a clock the
//! caller gives; it returns the packets to send and the state changes.

use std::time::{Duration, Instant};

use super::packet::{Control, Diag, State};

/// What a session is set to (FRR's defaults: 3 x 300 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub detect_mult: u8,
    /// Milliseconds.
    pub receive_interval: u32,
    pub transmit_interval: u32,
    /// Waits for the peer's first packet before sending.
    pub passive: bool,
    pub shutdown: bool,
}

impl Default for Timers {
    fn default() -> Self {
        Timers { detect_mult: 3, receive_interval: 300, transmit_interval: 300, passive: false, shutdown: false }
    }
}

/// What came of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Send(Control),
    Changed(State, Diag),
}

/// A slow rate while not Up (RFC 5880 6.8.3: at least one second).
const SLOW_US: u32 = 1_000_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub timers: Timers,
    local_discr: u32,
    remote_discr: u32,
    state: State,
    diag: Diag,
    remote: Option<Control>,
    /// A Poll sequence of ours waits for the peer's Final.
    polling: bool,
    next_tx: Option<Instant>,
    detect_at: Option<Instant>,
    since: Instant,
    rng: u32,
}

impl Session {
    pub fn new(local_discr: u32, timers: Timers, now: Instant) -> Session {
        let mut s = Session {
            timers,
            local_discr,
            remote_discr: 0,
            state: if timers.shutdown { State::AdminDown } else { State::Down },
            diag: if timers.shutdown { Diag::AdminDown } else { Diag::None },
            remote: None,
            polling: false,
            next_tx: None,
            detect_at: None,
            since: now,
            rng: local_discr | 1,
        };
        s.schedule(now);
        s
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn diag(&self) -> Diag {
        self.diag
    }

    pub fn local_discr(&self) -> u32 {
        self.local_discr
    }

    pub fn remote_discr(&self) -> u32 {
        self.remote_discr
    }

    /// The peer's last packet (its timers, state and diagnostic).
    pub fn remote(&self) -> Option<&Control> {
        self.remote.as_ref()
    }

    /// Since when the session is in its state.
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [self.next_tx, self.detect_at].into_iter().flatten().min()
    }

    /// New settings: a shutdown or its end changes the state; new timers
    /// of an Up session go out in a Poll sequence.
    pub fn set_timers(&mut self, now: Instant, t: Timers) -> Vec<Out> {
        let old = std::mem::replace(&mut self.timers, t);
        let mut out = Vec::new();
        if t.shutdown && self.state != State::AdminDown {
            self.change(now, State::AdminDown, Diag::AdminDown, &mut out);
        } else if !t.shutdown && self.state == State::AdminDown {
            self.change(now, State::Down, Diag::None, &mut out);
        } else if self.state == State::Up
            && (old.transmit_interval, old.receive_interval) != (t.transmit_interval, t.receive_interval)
        {
            self.polling = true;
        }
        self.schedule(now);
        out
    }

    fn desired_min_tx(&self) -> u32 {
        match self.state {
            State::Up => self.timers.transmit_interval * 1000,
            _ => SLOW_US.max(self.timers.transmit_interval * 1000),
        }
    }

    fn packet(&self, fin: bool) -> Control {
        Control {
            diag: self.diag,
            state: self.state,
            poll: self.polling && !fin,
            fin,
            demand: false,
            detect_mult: self.timers.detect_mult,
            my_discr: self.local_discr,
            your_discr: self.remote_discr,
            desired_min_tx: self.desired_min_tx(),
            required_min_rx: self.timers.receive_interval * 1000,
            required_min_echo_rx: 0,
        }
    }

    /// The time until the next periodic packet: the slower of our rate
    /// and what the peer can take, less 0-25% jitter (RFC 5880 6.8.7).
    fn interval(&mut self) -> Option<Duration> {
        let remote_rx = self.remote.as_ref().map_or(SLOW_US, |r| r.required_min_rx);
        if remote_rx == 0 {
            return None;
        }
        let us = self.desired_min_tx().max(remote_rx) as u64;
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let cut = if self.timers.detect_mult == 1 { 10 + self.rng % 16 } else { self.rng % 26 };
        Some(Duration::from_micros(us * (100 - cut as u64) / 100))
    }

    fn schedule(&mut self, now: Instant) {
        let silent = self.timers.passive && self.remote_discr == 0;
        self.next_tx = if silent { None } else { self.interval().map(|d| now + d) };
    }

    /// A packet for this session (already validated and matched).
    pub fn received(&mut self, now: Instant, c: &Control) -> Vec<Out> {
        let mut out = Vec::new();
        self.remote_discr = c.my_discr;
        if c.fin {
            self.polling = false;
        }
        let rate_changed = self.remote.as_ref().is_none_or(|r| r.required_min_rx != c.required_min_rx);
        self.remote = Some(c.clone());
        if c.poll {
            out.push(Out::Send(self.packet(true)));
        }
        if self.state == State::AdminDown {
            return out;
        }
        let next = match (self.state, c.state) {
            (State::Down | State::Init | State::Up, State::AdminDown) if self.state != State::Down => {
                Some((State::Down, Diag::NeighborDown))
            }
            (State::Down, State::Down) => Some((State::Init, Diag::None)),
            (State::Down, State::Init) => Some((State::Up, Diag::None)),
            (State::Init, State::Init | State::Up) => Some((State::Up, Diag::None)),
            (State::Up, State::Down) => Some((State::Down, Diag::NeighborDown)),
            _ => None,
        };
        if let Some((s, d)) = next {
            self.change(now, s, d, &mut out);
        }
        self.detect_at = match self.state {
            State::Init | State::Up => {
                let us = (self.timers.receive_interval as u64 * 1000).max(c.desired_min_tx as u64);
                Some(now + Duration::from_micros(us * c.detect_mult as u64))
            }
            _ => None,
        };
        if rate_changed || self.next_tx.is_none() {
            self.schedule(now);
        }
        out
    }

    /// Timers: a periodic packet, or the detection time run out.
    pub fn timeout(&mut self, now: Instant) -> Vec<Out> {
        let mut out = Vec::new();
        if self.detect_at.is_some_and(|t| t <= now) {
            self.detect_at = None;
            self.remote_discr = 0;
            self.change(now, State::Down, Diag::DetectionTimeExpired, &mut out);
        }
        if self.next_tx.is_some_and(|t| t <= now) {
            out.push(Out::Send(self.packet(false)));
            self.schedule(now);
        }
        out
    }

    fn change(&mut self, now: Instant, s: State, d: Diag, out: &mut Vec<Out>) {
        if s == self.state {
            return;
        }
        self.state = s;
        self.diag = d;
        self.since = now;
        // Up, the rate changes (from the slow one): a Poll says so.
        self.polling = s == State::Up;
        out.push(Out::Changed(s, d));
        // The peer learns at once.
        out.push(Out::Send(self.packet(false)));
        self.schedule(now);
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
