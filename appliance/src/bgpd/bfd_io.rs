//! BFD's edge: the sessions of `crate::bfd` (one per `bfd peer` and per
//! BGP neighbor with `bfd`) over UDP. Packets arrive on port 3784 in a
//! receiving thread per family, which drops any not sent with TTL 255
//! (RFC 5881 5: from the link itself); they leave from a port of the
//! dynamic range with TTL 255. State changes go to the Speaker.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::event::{Event, Events};
use super::sockopt;
use crate::bfd::{Control, Diag, Out, Session, State};
use crate::bgp::config::{BfdSession, Config};

/// The UDP port of single-hop BFD Control packets (RFC 5881 4).
pub const PORT: u16 = 3784;

pub struct Entry {
    pub cfg: BfdSession,
    pub session: Session,
    /// Up since the last report: only a Down from Up reaches BGP (a
    /// handshake that falls back from Init is no verdict on the path).
    was_up: bool,
}

#[derive(Default)]
pub struct Bfd {
    pub entries: HashMap<IpAddr, Entry>,
    tx4: Option<UdpSocket>,
    tx6: Option<UdpSocket>,
    listening: bool,
    next_discr: u32,
    /// Packets refused by the session checks, said once per sender.
    said: std::collections::HashSet<IpAddr>,
}

/// A state change for the Speaker: a BGP neighbor's path is up or down.
pub struct Change {
    pub peer: IpAddr,
    pub up: bool,
    pub why: Diag,
}

impl Bfd {
    /// Sessions as the config has them: new ones start Down, changed
    /// ones get their timers, gone ones stop. The sockets open with the
    /// first session.
    pub fn sync(&mut self, cfg: &Config, events: &Events, now: Instant) {
        let want = cfg.bfd_sessions();
        self.entries.retain(|peer, _| want.iter().any(|s| s.peer == *peer));
        for s in want {
            match self.entries.get_mut(&s.peer) {
                Some(e) => {
                    if e.cfg.timers != s.timers {
                        let out = e.session.set_timers(now, s.timers);
                        e.cfg = s;
                        let peer = e.cfg.peer;
                        self.send_all(peer, out);
                    } else {
                        e.cfg = s;
                    }
                }
                None => {
                    self.next_discr = self.next_discr.wrapping_add(1).max(1);
                    // Discriminators unique per run and unlikely to repeat
                    // across runs (a peer may remember the last one).
                    let seed = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos() & 0xffff_0000);
                    let discr = (seed | self.next_discr).max(1);
                    let session = Session::new(discr, s.timers, now);
                    self.entries.insert(s.peer, Entry { cfg: s, session, was_up: false });
                }
            }
        }
        if !self.entries.is_empty() && !self.listening {
            self.listening = true;
            self.open(events);
        }
    }

    fn open(&mut self, events: &Events) {
        for v6 in [false, true] {
            let any: IpAddr = if v6 { Ipv6Addr::UNSPECIFIED.into() } else { Ipv4Addr::UNSPECIFIED.into() };
            match listen(SocketAddr::new(any, PORT), v6) {
                Ok(rx) => {
                    let tx = events.clone();
                    let _ = std::thread::Builder::new().name("bfd-rx".into()).spawn(move || receive(rx, v6, tx));
                }
                Err(e) => {
                    crate::error!("bfd", "cannot listen on UDP {PORT} ({}): {e}", if v6 { "IPv6" } else { "IPv4" })
                }
            }
            // RFC 5881 4: the source port is one of 49152-65535.
            let sender = (49152..49352).find_map(|p| UdpSocket::bind(SocketAddr::new(any, p)).ok());
            match sender {
                Some(s) => {
                    if let Err(e) = sockopt::set_ttl(s.as_raw_fd(), v6, 255) {
                        crate::error!("bfd", "cannot send with TTL 255: {e}");
                    }
                    let _ = s.set_nonblocking(true);
                    if v6 {
                        self.tx6 = Some(s);
                    } else {
                        self.tx4 = Some(s);
                    }
                }
                None => crate::error!("bfd", "no UDP port of 49152-49351 to send from"),
            }
        }
    }

    /// The sessions for the shows, by peer address; the local address is
    /// the config's, else the BGP session's.
    pub fn rows<'a>(&'a self, sp: &crate::bgp::speaker::Speaker) -> Vec<super::show::BfdRow<'a>> {
        let mut rows: Vec<super::show::BfdRow> = self
            .entries
            .values()
            .map(|e| super::show::BfdRow {
                peer: e.cfg.peer,
                local: e.cfg.local.or_else(|| sp.peer_at(e.cfg.peer).and_then(|p| p.local_addr())),
                dynamic: e.cfg.for_bgp
                    && !sp.config().bfd.as_ref().is_some_and(|b| b.peers.iter().any(|p| p.addr == e.cfg.peer)),
                session: &e.session,
            })
            .collect();
        rows.sort_by_key(|r| r.peer);
        rows
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.values().filter_map(|e| e.session.next_deadline()).min()
    }

    /// Timers due; the changes of BGP neighbors' paths.
    pub fn timeout(&mut self, now: Instant) -> Vec<Change> {
        let due: Vec<IpAddr> = self
            .entries
            .iter()
            .filter(|(_, e)| e.session.next_deadline().is_some_and(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        let mut changes = Vec::new();
        for peer in due {
            let Some(e) = self.entries.get_mut(&peer) else { continue };
            let out = e.session.timeout(now);
            changes.extend(self.send_all(peer, out));
        }
        changes
    }

    /// A packet from `from`: to its session (by our discriminator, or by
    /// the sender while the peer does not know it yet).
    pub fn received(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) -> Vec<Change> {
        let peer = from.ip().to_canonical();
        let c = match Control::decode(bytes) {
            Ok(c) => c,
            Err(e) => {
                if self.said.insert(peer) {
                    crate::warn!("bfd", "packet from {peer} dropped: {e}");
                }
                return Vec::new();
            }
        };
        crate::debug_on!(
            crate::log::Debug::Bfd,
            "bfd",
            "peer {peer}: rcvd {} (diag {}), my discriminator {}, yours {}",
            c.state.name(),
            c.diag,
            c.my_discr,
            c.your_discr
        );
        let key = match c.your_discr {
            0 => self.entries.contains_key(&peer).then_some(peer),
            d => self.entries.iter().find(|(_, e)| e.session.local_discr() == d).map(|(p, _)| *p),
        };
        let Some(key) = key.filter(|k| *k == peer) else {
            if self.said.insert(peer) {
                crate::warn!(
                    "bfd",
                    "packet from {peer} dropped: no BFD session for it (`bfd` / `neighbor {peer} bfd`)"
                );
            }
            return Vec::new();
        };
        let Some(e) = self.entries.get_mut(&key) else { return Vec::new() };
        let out = e.session.received(now, &c);
        self.send_all(key, out)
    }

    fn send_all(&mut self, peer: IpAddr, out: Vec<Out>) -> Vec<Change> {
        let mut changes = Vec::new();
        for o in out {
            match o {
                Out::Send(c) => {
                    let sock = if peer.is_ipv6() { &self.tx6 } else { &self.tx4 };
                    if let Some(s) = sock {
                        let _ = s.send_to(&c.encode(), SocketAddr::new(peer, PORT));
                    }
                }
                Out::Changed(state, diag) => {
                    crate::info!("bfd", "peer {peer}: {} ({diag})", state.name());
                    let Some(e) = self.entries.get_mut(&peer) else { continue };
                    // RFC 5882 3.2: AdminDown, ours or the peer's, is no
                    // failure of the path: it lets BGP go its own way.
                    let admin =
                        state == State::AdminDown || e.session.remote().is_some_and(|r| r.state == State::AdminDown);
                    let report = match state {
                        State::Up => !std::mem::replace(&mut e.was_up, true),
                        _ if admin => std::mem::replace(&mut e.was_up, false) || state == State::AdminDown,
                        State::Down => std::mem::replace(&mut e.was_up, false),
                        _ => false,
                    };
                    if e.cfg.for_bgp && report {
                        changes.push(Change { peer, up: state == State::Up || admin, why: diag });
                    }
                }
            }
        }
        changes
    }
}

fn listen(addr: SocketAddr, v6: bool) -> std::io::Result<UdpSocket> {
    let s = if v6 {
        // IPv6 only: the IPv4 socket has the other family.
        let fd = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Inet6,
            nix::sys::socket::SockType::Datagram,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        nix::sys::socket::setsockopt(&fd, nix::sys::socket::sockopt::Ipv6V6Only, &true)?;
        let sa = nix::sys::socket::SockaddrIn6::from(match addr {
            SocketAddr::V6(a) => a,
            SocketAddr::V4(_) => return Err(std::io::ErrorKind::InvalidInput.into()),
        });
        nix::sys::socket::bind(fd.as_raw_fd(), &sa)?;
        UdpSocket::from(fd)
    } else {
        UdpSocket::bind(addr)?
    };
    sockopt::set_recv_ttl(s.as_raw_fd(), v6)?;
    Ok(s)
}

fn receive(s: UdpSocket, v6: bool, tx: Events) {
    let mut buf = [0u8; 512];
    loop {
        match sockopt::recv_with_ttl(s.as_raw_fd(), &mut buf) {
            // GTSM for BFD: anything but 255 crossed a router.
            Ok((n, from, Some(255))) => {
                if tx.send(Event::Bfd(from, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                crate::error!("bfd", "receive ({}): {e}", if v6 { "IPv6" } else { "IPv4" });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bfd::Timers;

    /// What reaches BGP: Up, and Down only from Up; a handshake falling
    /// back from Init says nothing; AdminDown lets BGP go its own way.
    #[test]
    fn only_verdicts_on_the_path_reach_bgp() {
        let now = Instant::now();
        let peer: IpAddr = "192.0.2.2".parse().unwrap();
        let cfg = BfdSession { peer, local: None, timers: Timers::default(), for_bgp: true };
        let mut b = Bfd::default();
        b.entries.insert(peer, Entry { cfg, session: Session::new(7, Timers::default(), now), was_up: false });
        let mut say = |s: State, d: Diag| -> Vec<(bool, Diag)> {
            b.send_all(peer, vec![Out::Changed(s, d)]).into_iter().map(|c| (c.up, c.why)).collect()
        };
        assert_eq!(say(State::Init, Diag::None), vec![]);
        assert_eq!(say(State::Down, Diag::DetectionTimeExpired), vec![], "never up: no verdict");
        assert_eq!(say(State::Up, Diag::None), vec![(true, Diag::None)]);
        assert_eq!(say(State::Down, Diag::DetectionTimeExpired), vec![(false, Diag::DetectionTimeExpired)]);
        assert_eq!(say(State::Down, Diag::DetectionTimeExpired), vec![], "said once");
        assert_eq!(say(State::Up, Diag::None), vec![(true, Diag::None)]);
        assert_eq!(say(State::AdminDown, Diag::AdminDown), vec![(true, Diag::AdminDown)], "no failure");
    }
}
