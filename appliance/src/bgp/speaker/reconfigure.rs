//! Configuration changes and operator actions (`clear bgp`, shutdown):
//! every check that can refuse a change runs before anything changes, so
//! a refused change leaves the running config and the sessions as they
//! were. Applied, a change touches only what it changed: sessions reset
//! only when their own settings change; an import policy change asks for
//! the routes again (ROUTE-REFRESH); everything is re-exported and the
//! Adj-RIB-Out diff sends only what changed.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::{Peer, Speaker};
use crate::bgp::config::{Config, LocalAs, Neighbor, NeighborFamily, NeighborId};
use crate::bgp::fsm::{Session, SessionConfig, State};
use crate::bgp::packet::{self, err, Afi, Message, Notification};
use crate::bgp::policy::{AsPathList, CommunityList, Definitions, Match, PrefixList, RouteMap, Set};
use crate::bgp::rib::PeerId;
use crate::log::Level;

/// Why the speaker refuses a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No `bgp router-id` and no IPv4 address to take one from.
    NoRouterId,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Refused::NoRouterId => {
                f.write_str("no router-id: set `bgp router-id A.B.C.D` (there is no IPv4 address to take one from)")
            }
        }
    }
}

impl std::error::Error for Refused {}

/// Everything a neighbor's import (or export) policy depends on: when it
/// differs between two configs, the neighbor's routes are asked for
/// again (or its table is walked again).
#[derive(Debug, PartialEq, Eq)]
struct Policy {
    requires_policy: bool,
    /// What routes out depend on besides the families' settings.
    out: Option<(Option<Ipv4Addr>, Option<LocalAs>)>,
    families: Vec<FamilyPolicy>,
}

/// One family's part: the neighbor's settings, its prefix-list and
/// route-map of the direction, and every definition that route-map uses.
#[derive(Debug, PartialEq, Eq)]
struct FamilyPolicy {
    settings: NeighborFamily,
    prefix_list: Option<PrefixList>,
    route_map: Option<RouteMap>,
    used: Vec<Used>,
}

/// A definition a route-map uses, as it stands in one config.
#[derive(Debug, PartialEq, Eq)]
enum Used {
    PrefixList(Option<PrefixList>),
    CommunityList(Option<CommunityList>),
    AsPathList(Option<AsPathList>),
    RouteMap(Option<RouteMap>),
}

/// What route-map `name` uses, through the maps it calls.
fn used_by(c: &Config, name: &str) -> Vec<Used> {
    let (mut out, mut seen, mut todo) = (Vec::new(), HashSet::new(), vec![name.to_string()]);
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        let map = c.route_map(&n);
        out.push(Used::RouteMap(map.cloned()));
        for e in map.iter().flat_map(|m| m.entries.values()) {
            todo.extend(e.call.clone());
            for m in &e.matches {
                out.push(match m {
                    Match::PrefixList(a, l) => Used::PrefixList(c.prefix_list(*a, l).cloned()),
                    Match::Community(l, _) => Used::CommunityList(c.community_list(l).cloned()),
                    Match::LargeCommunity(l, _) => Used::CommunityList(c.large_community_list(l).cloned()),
                    Match::AsPath(l) => Used::AsPathList(c.as_path_list(l).cloned()),
                    Match::Interface(_) | Match::Metric(_) => continue,
                });
            }
            for s in &e.sets {
                if let Set::CommListDelete(l) = s {
                    out.push(Used::CommunityList(c.community_list(l).cloned()));
                }
            }
        }
    }
    out
}

impl Policy {
    fn of(c: &Config, id: &NeighborId, inbound: bool) -> Option<Policy> {
        let b = c.bgp.as_ref()?;
        let n = b.effective_neighbor(id).or_else(|| id.addr().and_then(|a| b.dynamic_neighbor(a)))?;
        let families = [Afi::Ipv4, Afi::Ipv6]
            .into_iter()
            .map(|afi| {
                let f = n.family(afi, b.default_ipv4_unicast);
                let (list, map) =
                    if inbound { (&f.prefix_list_in, &f.route_map_in) } else { (&f.prefix_list_out, &f.route_map_out) };
                FamilyPolicy {
                    settings: direction(f, inbound),
                    prefix_list: list.as_ref().and_then(|l| c.prefix_list(afi, l)).cloned(),
                    route_map: map.as_ref().and_then(|m| c.route_map(m)).cloned(),
                    used: map.as_ref().map(|m| used_by(c, m)).unwrap_or_default(),
                }
            })
            .collect();
        let out = (!inbound).then_some((b.cluster_id, n.local_as));
        Some(Policy { requires_policy: b.ebgp_requires_policy, out, families })
    }
}

/// A neighbor's family settings with those of the other direction left
/// out: a route-map out must not ask the peer for its routes again (nor
/// reset a peer that cannot refresh), an inbound prefix-list must not
/// send ours again.
fn direction(f: &NeighborFamily, inbound: bool) -> NeighborFamily {
    let mut f = f.clone();
    if inbound {
        (f.prefix_list_out, f.route_map_out, f.default_originate, f.as_override) = (None, None, false, false);
        (f.next_hop_self, f.next_hop_self_force, f.remove_private_as) = (false, false, None);
        f.no_send = Default::default();
    } else {
        (f.prefix_list_in, f.route_map_in, f.maximum_prefix, f.allowas_in) = (None, None, None, None);
        f.soft_reconfiguration = false;
    }
    f
}

/// The router-id a config gives on this host (FRR's choice when none is
/// set: the highest IPv4 address that is not a loopback).
fn router_id(c: &Config, host: &super::Host) -> Result<Ipv4Addr, Refused> {
    match (c.bgp.as_ref().and_then(|b| b.router_id), &c.bgp) {
        (Some(id), _) => Ok(id),
        (None, None) => Ok(host.highest_v4().unwrap_or(Ipv4Addr::UNSPECIFIED)),
        (None, Some(_)) => host.highest_v4().ok_or(Refused::NoRouterId),
    }
}

impl Speaker {
    /// Applies a new configuration, or refuses it and changes nothing.
    pub fn reconfigure(&mut self, now: Instant, new: Config) -> Result<(), Refused> {
        let new_id = router_id(&new, &self.host)?;
        let old = std::mem::replace(&mut self.config, new);
        self.generation += 1;
        let restart_all =
            old.bgp.as_ref().map(|b| b.asn) != self.config.bgp.as_ref().map(|b| b.asn) || new_id != self.router_id;
        self.router_id = new_id;
        for i in 0..self.peers.len() {
            self.reconfigure_peer(now, i, restart_all);
        }
        self.add_peers(now);
        self.seek_on_subnets(now);
        self.note_unnumbered_bfd();
        // BFD no longer asked for: a session it held down starts.
        for i in 0..self.peers.len() {
            if self.peers[i].bfd_held && self.peers[i].cfg.bfd.is_none() {
                self.peers[i].bfd_held = false;
                let a = self.peers[i].session.start(now);
                self.run(now, i, a);
            }
        }
        for i in 0..self.peers.len() {
            let id = self.peers[i].cfg.id.clone();
            if self.peers[i].conn.is_some() && Policy::of(&old, &id, true) != Policy::of(&self.config, &id, true) {
                self.refresh_in(now, i);
            }
        }
        // A neighbor's routes out are computed again where what they
        // depend on changed: each would be sent again.
        let walk: Vec<bool> = (0..self.peers.len())
            .map(|i| {
                let id = &self.peers[i].cfg.id;
                Policy::of(&old, id, false) != Policy::of(&self.config, id, false)
            })
            .collect();
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let (sel, local_as) = (self.selection(afi), self.local_as());
            let changes = self.tables[afi].reselect(&Self::peer_info(&self.peers, local_as), sel);
            for c in changes {
                self.emit(now, afi, c);
            }
        }
        self.originate(now);
        for (i, walk) in walk.into_iter().enumerate() {
            if walk {
                self.export_all(i);
            }
        }
        self.flush();
        Ok(())
    }

    /// A neighbor that went away, or whose session settings changed.
    fn reconfigure_peer(&mut self, now: Instant, i: usize, restart_all: bool) {
        let id = self.peers[i].cfg.id.clone();
        let b = self.config.bgp.as_ref();
        // A dynamic neighbor whose address is now configured becomes that
        // neighbor; one gone needs nothing.
        if self.peers[i].dynamic && b.is_some_and(|b| b.effective_neighbor(&id).is_some()) {
            self.peers[i].dynamic = false;
        } else if self.peers[i].dynamic && self.peers[i].removed {
            return;
        }
        let n = match self.peers[i].dynamic {
            true => b.and_then(|b| b.dynamic_neighbor(id.addr()?)),
            false => b.and_then(|b| b.effective_neighbor(&id)),
        };
        let Some(n) = n else {
            if !self.peers[i].removed {
                self.stop_peer(now, i, Notification::new(err::CEASE, err::PEER_DECONFIGURED, []));
                self.peers[i].removed = true;
            }
            return;
        };
        let sc = self.session_config(&n, self.peers[i].remote);
        let old = &self.peers[i].cfg;
        let transport = n.password != old.password
            || n.interface != old.interface
            || n.v6only != old.v6only
            || n.ttl_security_hops != old.ttl_security_hops
            || n.update_source != old.update_source
            || n.ebgp_multihop != old.ebgp_multihop;
        let revived = std::mem::take(&mut self.peers[i].removed);
        if !(restart_all || transport || revived || sc != self.peers[i].session.cfg) {
            self.peers[i].set_cfg(n);
            self.bind_interface(i);
            return;
        }
        if self.peers[i].session.state() != State::Idle {
            let why = match &sc.shutdown {
                Some(m) => Notification::cease(err::ADMIN_SHUTDOWN, m),
                None => Notification::new(err::CEASE, err::OTHER_CONFIG_CHANGE, []),
            };
            self.stop_peer(now, i, why);
        }
        self.peers[i].session.cfg = sc;
        self.peers[i].overflow = false;
        self.peers[i].set_cfg(n);
        self.bind_interface(i);
        let a = self.peers[i].session.start(now);
        self.run(now, i, a);
    }

    /// Neighbors new in the configuration. Peers are indexed by PeerId: a
    /// removed one keeps its slot rather than renumbering the others' paths.
    fn add_peers(&mut self, now: Instant) {
        // A dynamic neighbor gone leaves its slot to the next dynamic one.
        let existing: HashSet<NeighborId> =
            self.peers.iter().filter(|p| !(p.dynamic && p.removed)).map(|p| p.cfg.id.clone()).collect();
        let added: Vec<Neighbor> = self
            .config
            .bgp
            .iter()
            .flat_map(|b| b.effective_neighbors().into_iter().filter(|n| !existing.contains(&n.id)))
            .collect();
        for n in added {
            let id = self.peers.len() as PeerId + 1;
            let session = Session::with_ids(self.session_config(&n, n.id.addr()), now, (id as u64) << 32);
            self.peers.push(Peer::new(id, n, session));
            let i = self.peers.len() - 1;
            self.bind_interface(i);
            let a = self.peers[i].session.start(now);
            self.run(now, i, a);
        }
    }

    /// The session's settings; passive while the peer's address is not
    /// known (an interface neighbor's, until it is learnt on the link).
    pub(super) fn session_config(&self, n: &Neighbor, remote: Option<IpAddr>) -> SessionConfig {
        let b = self.config.bgp.as_ref();
        let (asn, default_v4) = b.map_or((0, true), |b| (b.asn, b.default_ipv4_unicast));
        let (keepalive, hold_time) = n.timers.or(b.and_then(|b| b.timers)).unwrap_or((60, 180));
        SessionConfig {
            // `local-as`: the AS this neighbor knows us by.
            local_as: n.local_as.map_or(asn, |l| l.asn),
            remote_as: n.remote_as,
            router_id: self.router_id,
            hold_time,
            keepalive,
            passive: n.passive || remote.is_none(),
            connect_retry: Duration::from_secs(n.connect_retry.unwrap_or(30) as u64),
            families: n.active_families(default_v4),
            shutdown: n.shutdown.clone(),
            graceful_restart: self.gr_capability(n),
            extended_nexthop: n.wants_extended_nexthop(),
        }
    }

    /// Inbound policy changed (or `clear bgp X soft in`): run it again
    /// over the stored Adj-RIB-In, else ask the peer for its routes.
    fn refresh_in(&mut self, now: Instant, i: usize) {
        let Some(families) = self.peers[i].negotiated.as_ref().map(|n| n.families.clone()) else { return };
        let refresh = self.reapply_in(now, i, &families);
        if refresh.is_empty() {
            return;
        }
        let p = &self.peers[i];
        let (Some(neg), Some(conn)) = (&p.negotiated, p.conn) else { return };
        let addr = p.cfg.id.clone();
        if neg.route_refresh {
            for afi in refresh {
                let msg = Message::RouteRefresh(packet::RouteRefresh { afi: afi.code(), subtype: 0, safi: 1 });
                self.send(i, conn, &msg);
            }
            self.log(Level::Info, format!("neighbor {addr}: inbound policy changed: route refresh sent"));
        } else {
            self.log(
                Level::Info,
                format!("neighbor {addr}: inbound policy changed and the peer cannot refresh: resetting"),
            );
            let a = self.peers[i].session.stop(now, Notification::cease(err::ADMIN_RESET, "policy changed"));
            self.run(now, i, a);
            let a = self.peers[i].session.start(now);
            self.run(now, i, a);
        }
    }

    pub(super) fn stop_peer(&mut self, now: Instant, i: usize, why: Notification) {
        let a = self.peers[i].session.stop(now, why);
        self.run(now, i, a);
    }

    /// Clean stop: Cease to every peer. The RIB is left as it is: the
    /// daemon removes every BGP route from the FIB in one go, and no path
    /// is selected or written again on the way out.
    pub fn shutdown(&mut self, now: Instant, message: &str) {
        self.stopping = true;
        self.withdrawing.clear();
        for i in 0..self.peers.len() {
            self.stop_peer(now, i, Notification::cease(err::ADMIN_SHUTDOWN, message));
        }
        self.out.retain(|o| !matches!(o, super::Output::Fib(..)));
    }

    /// `clear bgp`: hard reset of one or all sessions.
    pub fn clear(&mut self, now: Instant, which: Option<&NeighborId>) -> usize {
        let mut n = 0;
        for i in 0..self.peers.len() {
            let p = &self.peers[i];
            if p.removed || which.is_some_and(|a| *a != p.cfg.id) || p.cfg.shutdown.is_some() {
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
    pub fn clear_soft(&mut self, now: Instant, which: Option<&NeighborId>, inbound: bool, outbound: bool) -> usize {
        let mut n = 0;
        for i in 0..self.peers.len() {
            if which.is_some_and(|a| *a != self.peers[i].cfg.id) || self.peers[i].conn.is_none() {
                continue;
            }
            if inbound {
                self.refresh_in(now, i);
            }
            if outbound {
                self.open_adj_out(i);
                self.export_all(i);
            }
            n += 1;
        }
        self.flush();
        n
    }
}
