//! Neighbor discovery for interface neighbors (`neighbor eth0 interface`),
//! as FRR's zebra does it for BGP unnumbered: router advertisements on
//! each such interface every 10 seconds (and at once when one comes up or
//! a router solicits), a solicitation when one comes up, and the source of
//! every advertisement heard there is the peer's link-local address
//! (`Speaker::neighbor_found`). The messages are `crate::nd`'s.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn6};

use super::event::{Event, Events};
use super::sockopt;
use crate::nd::Kind;

/// FRR's advertisement interval on interfaces with BGP unnumbered.
pub const RA_INTERVAL: Duration = Duration::from_secs(10);

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// The interfaces we advertise on and the socket for it, opened the first
/// time the config has an interface neighbor.
#[derive(Default)]
pub struct Nd {
    sock: Option<Arc<OwnedFd>>,
    links: Vec<(u32, String)>,
    next: Option<Instant>,
    failed: bool,
}

impl Nd {
    /// The interface neighbors' interfaces (index, name), up now: a new
    /// one is solicited and advertised on at once.
    pub fn sync(&mut self, links: Vec<(u32, String)>, now: Instant, tx: &Events) {
        if links == self.links {
            return;
        }
        let new: Vec<u32> = links.iter().filter(|l| !self.links.contains(l)).map(|l| l.0).collect();
        self.links = links;
        if self.links.is_empty() {
            self.next = None;
            return;
        }
        if self.sock.is_none() {
            self.open(tx);
        }
        for i in new {
            self.send(i, &Kind::Solicit.encode(), ALL_ROUTERS);
            self.send(i, &Kind::Advert.encode(), ALL_NODES);
        }
        self.next.get_or_insert(now + RA_INTERVAL);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.next
    }

    /// The advertisement interval is over: one on every interface.
    pub fn timeout(&mut self, now: Instant) {
        if self.next.is_none_or(|t| t > now) {
            return;
        }
        for i in 0..self.links.len() {
            self.send(self.links[i].0, &Kind::Advert.encode(), ALL_NODES);
        }
        self.next = Some(now + RA_INTERVAL);
    }

    /// A router solicitation arrived on `ifindex`: answer it if ours.
    pub fn solicited(&mut self, ifindex: u32) {
        if self.links.iter().any(|l| l.0 == ifindex) {
            self.send(ifindex, &Kind::Advert.encode(), ALL_NODES);
        }
    }

    fn open(&mut self, tx: &Events) {
        let s = socket::socket(AddressFamily::Inet6, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::IcmpV6)
            .map_err(std::io::Error::from)
            .and_then(|fd| sockopt::set_nd_options(fd.as_raw_fd()).map(|()| Arc::new(fd)));
        match s {
            Ok(fd) => {
                let (rx, tx) = (fd.clone(), tx.clone());
                let spawned = std::thread::Builder::new().name("nd-rx".into()).spawn(move || receive(&rx, &tx));
                if let Err(e) = spawned {
                    crate::error!("nd", "cannot start the receiver: {e}");
                }
                self.sock = Some(fd);
            }
            Err(e) => crate::error!(
                "nd",
                "cannot open an ICMPv6 socket for neighbor discovery ({e}): interface neighbors learn their peer only \
                 from its connection"
            ),
        }
    }

    fn send(&mut self, ifindex: u32, msg: &[u8], to: Ipv6Addr) {
        let Some(fd) = &self.sock else { return };
        let dest = SockaddrIn6::from(SocketAddrV6::new(to, 0, 0, ifindex));
        match socket::sendto(fd.as_raw_fd(), msg, &dest, MsgFlags::MSG_DONTWAIT) {
            Ok(_) => self.failed = false,
            // Said once until one goes out again (a link still in DAD).
            Err(e) if !self.failed => {
                self.failed = true;
                crate::warn!("nd", "router advertisement on interface {ifindex}: {e}");
            }
            Err(_) => {}
        }
    }
}

/// What arrives with hop limit 255 from a link-local address (RFC 4861
/// 6.1: anything else was not sent on the link) goes to the main task.
fn receive(fd: &OwnedFd, tx: &Events) {
    let mut buf = [0u8; 1500];
    loop {
        match sockopt::recv_with_ttl(fd.as_raw_fd(), &mut buf) {
            Ok((n, SocketAddr::V6(from), Some(255))) if from.ip().segments()[0] & 0xffc0 == 0xfe80 => {
                let ev = match Kind::decode(&buf[..n]) {
                    Some(Kind::Advert) => Event::RouterAdvert(from.scope_id(), *from.ip()),
                    Some(Kind::Solicit) => Event::RouterSolicit(from.scope_id()),
                    None => continue,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                crate::error!("nd", "receive: {e}");
                return;
            }
        }
    }
}
