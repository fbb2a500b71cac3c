//! The `bfd` block (FRR's bfdd) and what BGP neighbors ask of it: the
//! model, its lines, and the sessions that follow from them.

use std::fmt::Write;
use std::net::IpAddr;

use super::model::Config;
use super::types::{Bfd, BfdPeer, BfdTimers};
use super::words::{invalid, num, LineError, Node, R};
use crate::bfd::Timers;

/// One session bfdd would run: its peer, and the settings that apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdSession {
    pub peer: IpAddr,
    pub local: Option<IpAddr>,
    pub timers: Timers,
    /// Asked for by a BGP neighbor (`neighbor X bfd`), not only configured.
    pub for_bgp: bool,
}

impl Config {
    /// Every BFD session: each `peer` of the `bfd` block, and each BGP
    /// neighbor with `bfd`; a peer's own settings over its profile's over
    /// FRR's defaults.
    pub fn bfd_sessions(&self) -> Vec<BfdSession> {
        let empty = Bfd::default();
        let bfd = self.bfd.as_ref().unwrap_or(&empty);
        let apply = |t: &mut Timers, x: &BfdTimers| {
            t.detect_mult = x.detect_multiplier.unwrap_or(t.detect_mult);
            t.receive_interval = x.receive_interval.unwrap_or(t.receive_interval);
            t.transmit_interval = x.transmit_interval.unwrap_or(t.transmit_interval);
            t.shutdown |= x.shutdown;
            t.passive |= x.passive;
        };
        let timers = |profile: Option<&String>, own: Option<&BfdTimers>| {
            let mut t = Timers::default();
            if let Some(p) = profile.and_then(|p| bfd.profiles.get(p)) {
                apply(&mut t, p);
            }
            if let Some(o) = own {
                apply(&mut t, o);
            }
            t
        };
        let mut out: Vec<BfdSession> = bfd
            .peers
            .iter()
            .map(|p| BfdSession {
                peer: p.addr,
                local: p.local_address,
                timers: timers(p.profile.as_ref(), Some(&p.timers)),
                for_bgp: false,
            })
            .collect();
        for n in self.bgp.iter().flat_map(|b| b.effective_neighbors()) {
            // An interface neighbor's address is learnt: BFD follows
            // numbered neighbors only.
            let (Some(profile), Some(addr)) = (&n.bfd, n.id.addr()) else { continue };
            match out.iter_mut().find(|s| s.peer == addr) {
                Some(s) => s.for_bgp = true,
                None => out.push(BfdSession {
                    peer: addr,
                    local: None,
                    timers: timers(profile.as_ref(), None),
                    for_bgp: true,
                }),
            }
        }
        out
    }
}

/// A line of the `bfd` block itself.
pub(super) fn bfd_line(cfg: &mut Config, w: &[&str]) -> R {
    let bfd = cfg.bfd.get_or_insert_with(Bfd::default);
    match w {
        ["peer", a, opts @ ..] => {
            let addr: IpAddr = num(a, "an IP address")?;
            let (mut interface, mut local_address) = (None, None);
            let mut rest = opts;
            loop {
                match rest {
                    ["interface", i, tail @ ..] => (interface, rest) = (Some(i.to_string()), tail),
                    ["local-address", l, tail @ ..] => (local_address, rest) = (Some(num(l, "an IP address")?), tail),
                    ["multihop", ..] => return invalid("multihop BFD: bgpbox has single hop BFD (RFC 5881)"),
                    ["vrf", ..] => return invalid("VRFs: not supported by bgpbox"),
                    [] => break,
                    [x, ..] => return invalid(format!("unexpected `{x}`")),
                }
            }
            match bfd.peers.iter_mut().find(|p| p.addr == addr) {
                Some(p) => (p.interface, p.local_address) = (interface, local_address),
                None => bfd.peers.push(BfdPeer {
                    addr,
                    interface,
                    local_address,
                    profile: None,
                    timers: BfdTimers::default(),
                }),
            }
            Ok(Some(Node::BfdPeer(addr)))
        }
        ["no", "peer", a, ..] => {
            let addr: IpAddr = num(a, "an IP address")?;
            bfd.peers.retain(|p| p.addr != addr);
            Ok(None)
        }
        ["profile", name] => {
            bfd.profiles.entry(name.to_string()).or_default();
            Ok(Some(Node::BfdProfile(name.to_string())))
        }
        ["no", "profile", name] => {
            bfd.profiles.remove(*name);
            Ok(None)
        }
        ["exit"] => Ok(Some(Node::Config)),
        _ => Err(LineError::Unknown),
    }
}

/// A line of a `peer` (`profile`: of a `profile`) block.
pub(super) fn timers_line(cfg: &mut Config, node: &Node, w: &[&str]) -> R {
    let bfd = cfg.bfd.get_or_insert_with(Bfd::default);
    let (t, peer_profile) = match node {
        Node::BfdPeer(a) => match bfd.peers.iter_mut().find(|p| p.addr == *a) {
            Some(p) => (&mut p.timers, Some(&mut p.profile)),
            None => return Err(LineError::Unknown),
        },
        Node::BfdProfile(n) => (bfd.profiles.entry(n.clone()).or_default(), None),
        _ => return Err(LineError::Unknown),
    };
    let interval = |v: &str| -> Result<u32, LineError> {
        match v.parse::<u32>() {
            Ok(n @ 10..=60000) => Ok(n),
            _ => invalid(format!("{v}: an interval is 10 to 60000 ms")),
        }
    };
    match w {
        ["detect-multiplier", n] => match n.parse::<u8>() {
            Ok(m @ 2..=255) => t.detect_multiplier = Some(m),
            _ => return invalid(format!("detect-multiplier {n}: 2 to 255")),
        },
        ["receive-interval", v] => t.receive_interval = Some(interval(v)?),
        ["transmit-interval", v] => t.transmit_interval = Some(interval(v)?),
        ["no", "detect-multiplier", ..] => t.detect_multiplier = None,
        ["no", "receive-interval", ..] => t.receive_interval = None,
        ["no", "transmit-interval", ..] => t.transmit_interval = None,
        ["shutdown"] => t.shutdown = true,
        ["no", "shutdown"] => t.shutdown = false,
        ["passive-mode"] => t.passive = true,
        ["no", "passive-mode"] => t.passive = false,
        ["profile", p] if peer_profile.is_some() => *peer_profile.expect("a peer") = Some(p.to_string()),
        ["no", "profile", ..] if peer_profile.is_some() => *peer_profile.expect("a peer") = None,
        ["exit"] => return Ok(Some(Node::Bfd)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

/// The block as FRR writes it.
pub(super) fn render(s: &mut String, bfd: &Bfd) {
    s.push_str("bfd\n");
    let timers = |s: &mut String, t: &BfdTimers| {
        if let Some(m) = t.detect_multiplier {
            let _ = writeln!(s, "  detect-multiplier {m}");
        }
        if let Some(v) = t.receive_interval {
            let _ = writeln!(s, "  receive-interval {v}");
        }
        if let Some(v) = t.transmit_interval {
            let _ = writeln!(s, "  transmit-interval {v}");
        }
        if t.passive {
            s.push_str("  passive-mode\n");
        }
        if t.shutdown {
            s.push_str("  shutdown\n");
        }
    };
    for (name, t) in &bfd.profiles {
        let _ = writeln!(s, " profile {name}");
        timers(s, t);
        s.push_str(" exit\n !\n");
    }
    for p in &bfd.peers {
        let _ = write!(s, " peer {}", p.addr);
        if let Some(l) = p.local_address {
            let _ = write!(s, " local-address {l}");
        }
        if let Some(i) = &p.interface {
            let _ = write!(s, " interface {i}");
        }
        s.push('\n');
        if let Some(pr) = &p.profile {
            let _ = writeln!(s, "  profile {pr}");
        }
        timers(s, &p.timers);
        s.push_str(" exit\n !\n");
    }
    s.push_str("exit\n!\n");
}
