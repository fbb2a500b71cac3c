//! Dynamic neighbors (`bgp listen range PREFIX peer-group NAME`): a
//! connection from an address in a range becomes a passive neighbor
//! configured from the range's group, up to `bgp listen limit`; when its
//! session ends it goes, with its routes, and its slot is reused once
//! those are withdrawn (a peer coming and going costs nothing lasting).

use std::fmt;
use std::net::IpAddr;
use std::time::Instant;

use super::{Peer, Speaker};
use crate::bgp::fsm::{ConnId, Session};
use crate::bgp::rib::PeerId;

/// Why an incoming connection was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither a neighbor nor in a listen range.
    NotNeighbor,
    /// In a range, but `bgp listen limit` dynamic neighbors are up.
    Limit(u32),
    /// In a range whose peer-group has no remote-as.
    NoRemoteAs(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Refusal::NotNeighbor => f.write_str("not a configured neighbor nor in a listen range"),
            Refusal::Limit(n) => write!(f, "bgp listen limit {n} reached"),
            Refusal::NoRemoteAs(g) => {
                write!(f, "peer-group {g} of its listen range has no remote-as (`neighbor {g} remote-as ...`)")
            }
        }
    }
}

impl Speaker {
    /// An inbound TCP connection: the id to use for it, if it comes from
    /// a configured neighbor or from a listen range.
    /// `scope`: the interface a link-local `remote` came over (else 0).
    pub fn accept(&mut self, now: Instant, remote: IpAddr, scope: u32, local: IpAddr) -> Result<ConnId, Refusal> {
        // The neighbor at that address on that interface first; then an
        // interface neighbor there that has no peer yet; a link-local
        // neighbor bound to no interface last.
        let at = |p: &Peer, any_link: bool| {
            p.remote == Some(remote) && !p.removed && (scope == 0 || p.ifindex == scope || (any_link && p.ifindex == 0))
        };
        let i = match self.peers.iter().position(|p| at(p, false)) {
            Some(i) => i,
            None => match self.learn_on_link(now, scope, remote) {
                Some(i) => i,
                None => match self.peers.iter().position(|p| at(p, true)) {
                    Some(i) => i,
                    None => self.add_dynamic(now, remote, scope)?,
                },
            },
        };
        let id = self.peers[i].session.new_conn_id();
        self.debug_event(i, || format!("connection {id} from {remote} accepted"));
        self.conns.insert(id, i);
        self.peers[i].local_addr = Some(local);
        let a = self.peers[i].session.connected(now, id, false);
        self.run(now, i, a);
        Ok(id)
    }

    /// How many dynamic neighbors there are now.
    pub fn dynamic_count(&self) -> usize {
        self.peers.iter().filter(|p| p.dynamic && !p.removed).count()
    }

    fn add_dynamic(&mut self, now: Instant, remote: IpAddr, scope: u32) -> Result<usize, Refusal> {
        let b = self.config.bgp.as_ref().ok_or(Refusal::NotNeighbor)?;
        let group = b.listen_group(remote).ok_or(Refusal::NotNeighbor)?.to_string();
        let n = b.dynamic_neighbor(remote).ok_or(Refusal::NoRemoteAs(group))?;
        let limit = b.listen_limit();
        if self.dynamic_count() >= limit as usize {
            return Err(Refusal::Limit(limit));
        }
        // A free slot: a dynamic neighbor gone whose routes are withdrawn,
        // the same address's first.
        let free = |p: &Peer| p.dynamic && p.removed && !self.withdrawing.iter().any(|w| w.peer == p.id);
        let reuse = self
            .peers
            .iter()
            .position(|p| free(p) && p.remote == Some(remote))
            .or_else(|| self.peers.iter().position(free));
        let cfg = self.session_config(&n, Some(remote));
        let i = match reuse {
            Some(i) => {
                // Connection ids go on from the old session's: a late event
                // of its connections must not reach the new one.
                let base = self.peers[i].session.last_conn_id();
                self.conns.retain(|_, v| *v != i);
                let id = self.peers[i].id;
                self.peers[i] = Peer::new(id, n, Session::with_ids(cfg, now, base));
                i
            }
            None => {
                let id = self.peers.len() as PeerId + 1;
                self.peers.push(Peer::new(id, n, Session::with_ids(cfg, now, (id as u64) << 32)));
                self.peers.len() - 1
            }
        };
        // A link-local neighbor is the one on the interface it came over.
        self.peers[i].ifindex = scope;
        let a = self.peers[i].session.start(now);
        self.run(now, i, a);
        // Dynamic from here: before its connection, it would go at once.
        self.peers[i].dynamic = true;
        Ok(i)
    }
}
