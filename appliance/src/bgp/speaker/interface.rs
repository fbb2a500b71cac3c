//! Neighbors on an interface rather than at an address: `neighbor eth0
//! interface` (unnumbered BGP) learns its peer's link-local address on the
//! link, from a router advertisement the daemon hears (`neighbor_found`) or
//! from the peer's own connection (`learn_on_link`); `neighbor fe80::1
//! interface eth0` ties a link-local address to its interface. When the
//! interface goes down or away the session ends and the address is
//! forgotten; the next one the link brings starts it again.

use std::net::IpAddr;
use std::time::Instant;

use super::host::is_link_local;
use super::Speaker;
use crate::bgp::packet::{err, Notification};
use crate::log::Level;

impl Speaker {
    /// The interface a neighbor is bound to: an interface neighbor's own,
    /// or `neighbor ADDR interface IFNAME`'s.
    fn interface_of(&self, i: usize) -> Option<&str> {
        let c = &self.peers[i].cfg;
        c.id.interface().or(c.interface.as_deref())
    }

    /// Looks up neighbor `i`'s interface on the host (at its start, and
    /// whenever the host's links change).
    pub(super) fn bind_interface(&mut self, i: usize) {
        let index = self.interface_of(i).and_then(|n| self.host.link_up(n)).unwrap_or(0);
        self.peers[i].ifindex = index;
    }

    /// The host's links changed: a neighbor whose interface went down or
    /// away goes down with it (no NOTIFICATION can cross a dead link), an
    /// interface neighbor forgets its peer's address; one whose interface
    /// came up waits for the link to name its peer.
    pub(super) fn links_changed(&mut self, now: Instant) {
        for i in 0..self.peers.len() {
            if self.peers[i].removed || self.interface_of(i).is_none() {
                continue;
            }
            let was = self.peers[i].ifindex;
            self.bind_interface(i);
            let is = self.peers[i].ifindex;
            if was == is || was == 0 {
                continue;
            }
            let name = self.peers[i].cfg.id.clone();
            self.log(Level::Warn, format!("neighbor {name}: its interface went down: the session ends"));
            self.stop_peer(now, i, Notification::new(err::CEASE, err::OTHER_CONFIG_CHANGE, []));
            if self.peers[i].cfg.id.interface().is_some() {
                self.peers[i].remote = None;
                self.peers[i].session.cfg.passive = true;
            }
            // Held down by maximum-prefix or BFD, it stays held.
            if !(self.peers[i].overflow || self.peers[i].bfd_held) {
                let a = self.peers[i].session.start(now);
                self.run(now, i, a);
            }
        }
    }

    /// BFD follows numbered neighbors only: said when a config asks it of
    /// an interface neighbor.
    pub(super) fn note_unnumbered_bfd(&mut self) {
        let names: Vec<String> = self
            .configured()
            .filter(|p| p.cfg.bfd.is_some() && p.cfg.id.interface().is_some())
            .map(|p| p.cfg.id.to_string())
            .collect();
        for n in names {
            self.log(
                Level::Warn,
                format!("neighbor {n} bfd: BFD on interface neighbors is not supported yet; the hold time detects a dead peer"),
            );
        }
    }

    /// FRR's first way to an interface neighbor's peer (unless `v6only`):
    /// the other end of a /30 or /31 IPv4 network on the interface.
    pub(super) fn seek_on_subnets(&mut self, now: Instant) {
        for i in 0..self.peers.len() {
            let p = &self.peers[i];
            if p.removed || p.remote.is_some() || p.cfg.v6only || p.ifindex == 0 {
                continue;
            }
            let Some(name) = p.cfg.id.interface() else { continue };
            if let Some(other) = self.host.other_end(name) {
                self.learn(now, i, IpAddr::V4(other));
                let a = self.peers[i].session.timeout(now);
                self.run(now, i, a);
            }
        }
    }

    /// The daemon heard a router advertisement from `addr` on interface
    /// `ifindex`: the peer of an interface neighbor there, unless that one
    /// already has a peer whose session is up.
    pub fn neighbor_found(&mut self, now: Instant, ifindex: u32, addr: IpAddr) {
        let Some(i) = self.unnumbered_on(ifindex) else { return };
        let p = &self.peers[i];
        if p.remote == Some(addr) || (p.remote.is_some() && p.session.has_connection()) {
            return;
        }
        self.learn(now, i, addr);
        let a = self.peers[i].session.timeout(now);
        self.run(now, i, a);
    }

    /// An incoming connection from link-local `remote` over `scope`: the
    /// peer of the interface neighbor there, if it has none yet.
    pub(super) fn learn_on_link(&mut self, now: Instant, scope: u32, remote: IpAddr) -> Option<usize> {
        let IpAddr::V6(v6) = remote else { return None };
        let i = self.unnumbered_on(scope).filter(|_| is_link_local(v6))?;
        if self.peers[i].remote.is_some() && self.peers[i].session.has_connection() {
            return None;
        }
        self.learn(now, i, remote);
        Some(i)
    }

    /// The interface neighbor on interface `ifindex` (up, configured).
    fn unnumbered_on(&self, ifindex: u32) -> Option<usize> {
        if ifindex == 0 {
            return None;
        }
        self.peers.iter().position(|p| !p.removed && p.ifindex == ifindex && p.cfg.id.interface().is_some())
    }

    fn learn(&mut self, now: Instant, i: usize, addr: IpAddr) {
        let p = &mut self.peers[i];
        let line = format!("neighbor {}: peer {addr} found on the link", p.cfg.id);
        p.remote = Some(addr);
        p.session.cfg.passive = p.cfg.passive;
        p.session.retry_soon(now);
        self.log(Level::Info, line);
    }

    /// The interfaces whose neighbors are to be found by router
    /// advertisements (index, name): those of interface neighbors, up.
    pub fn unnumbered_links(&self) -> Vec<(u32, String)> {
        let mut v: Vec<(u32, String)> = self
            .configured()
            .filter(|p| p.ifindex != 0)
            .filter_map(|p| Some((p.ifindex, p.cfg.id.interface()?.to_string())))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}
