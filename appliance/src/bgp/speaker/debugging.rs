//! What `debug bgp neighbor-events|updates [in|out]|keepalives` asks the
//! speaker for: lines made only while their switch is on, out as
//! `Output::Log(Level::Debug, ...)`, which the daemon writes whatever the
//! log levels (they were asked for by name).

use std::collections::BTreeSet;

use super::Speaker;
use crate::bgp::fsm::State;
use crate::bgp::packet::{Message, Update};
use crate::log::{Debug, Level};

/// The switches as bits, in the speaker (sans-IO: the daemon sets them).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Switches(u32);

impl Switches {
    fn on(self, d: Debug) -> bool {
        self.0 & (1 << d as u32) != 0
    }
}

impl Speaker {
    /// The `debug` switches on now.
    pub fn set_debugs(&mut self, on: &BTreeSet<Debug>) {
        self.debugs = Switches(on.iter().fold(0, |b, d| b | 1 << *d as u32));
    }

    pub(super) fn debugging(&self, d: Debug) -> bool {
        self.debugs.on(d)
    }

    fn debug_line(&mut self, d: Debug, line: impl FnOnce() -> String) {
        if self.debugging(d) {
            let l = line();
            self.log(Level::Debug, l);
        }
    }

    /// neighbor-events: a session's state moved (FRR's "went from").
    pub(super) fn debug_state(&mut self, i: usize, was: State) {
        let is = self.peers[i].session.state();
        if was != is {
            let name = self.peers[i].cfg.id.clone();
            self.debug_line(Debug::NeighborEvents, || {
                format!("neighbor {name} went from {} to {}", was.name(), is.name())
            });
        }
    }

    pub(super) fn debug_event(&mut self, i: usize, what: impl FnOnce() -> String) {
        let name = self.peers[i].cfg.id.clone();
        self.debug_line(Debug::NeighborEvents, || format!("neighbor {name}: {}", what()));
    }

    /// keepalives and updates in: a message received.
    pub(super) fn debug_rcvd(&mut self, i: usize, m: &Message) {
        let name = self.peers[i].cfg.id.clone();
        match m {
            Message::Keepalive => self.debug_line(Debug::Keepalives, || format!("neighbor {name} rcvd KEEPALIVE")),
            Message::Update(u) => self.debug_line(Debug::UpdatesIn, || format!("neighbor {name} rcvd {}", summary(u))),
            _ => {}
        }
    }

    /// keepalives: one sent.
    pub(super) fn debug_sent(&mut self, i: usize, m: &Message) {
        if matches!(m, Message::Keepalive) {
            let name = self.peers[i].cfg.id.clone();
            self.debug_line(Debug::Keepalives, || format!("neighbor {name} sending KEEPALIVE"));
        }
    }

    /// updates out: what one round packed for a neighbor.
    pub(super) fn debug_packed(&mut self, i: usize, messages: u64, bytes: usize) {
        let name = self.peers[i].cfg.id.clone();
        self.debug_line(Debug::UpdatesOut, || format!("neighbor {name} send {messages} UPDATE(s), {bytes} bytes"));
    }
}

/// An UPDATE as FRR's update debugging says it: the attributes, then the
/// prefixes (the first few).
fn summary(u: &Update) -> String {
    let mut s = String::from("UPDATE");
    if let Some(a) = &u.attrs {
        let hop = a.next_hop().map(|h| h.to_string()).or(u.mp_next_hop.map(|(g, _)| g.to_string()));
        s +=
            &format!(" w/ attr: nexthop {}, origin {}, path {}", hop.unwrap_or_default(), a.origin.code(), a.as_path());
        if let Some(m) = a.med.get() {
            s += &format!(", metric {m}");
        }
    }
    let list = |v: &[ipnet::IpNet]| {
        let mut t: Vec<String> = v.iter().take(8).map(|p| p.to_string()).collect();
        if v.len() > 8 {
            t.push(format!("and {} more", v.len() - 8));
        }
        t.join(" ")
    };
    if !u.announced.is_empty() {
        s += &format!("; {} announced: {}", u.announced.len(), list(&u.announced));
    }
    if !u.withdrawn.is_empty() {
        s += &format!("; {} withdrawn: {}", u.withdrawn.len(), list(&u.withdrawn));
    }
    if let Some(afi) = u.end_of_rib {
        s += &format!(" End-of-RIB for {}", afi.name());
    }
    s
}
