//! UPDATEs into the RIB: the per-update checks (loops, first AS, eBGP
//! cleanup), inbound policy per prefix (prefix-list, route-map, RFC 8212),
//! maximum-prefix, and the Loc-RIB change each accepted path makes.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;

use super::{Peer, Speaker};
use crate::bgp::config::AllowasIn;
use crate::bgp::packet::{err, Afi, Notification, PathAttrs, Update};
use crate::bgp::policy::{Definitions, Subject};
use crate::bgp::rib::{Path, PeerId, PeerInfo, Selection, LOCAL};
use crate::log::Level;

impl Speaker {
    pub(super) fn update(&mut self, now: Instant, i: usize, mut u: Update) {
        let addr = self.peers[i].cfg.id.clone();
        for prob in &u.problems {
            let what = if prob.withdrawn { "treat-as-withdraw" } else { "attribute discarded" };
            self.log(Level::Warn, format!("neighbor {addr}: malformed UPDATE: {}: {what} (RFC 7606)", prob.detail));
        }
        if let Some(afi) = u.end_of_rib {
            self.peers[i].eor[afi] = true;
            self.stale_eor(now, i, afi);
            return;
        }
        let id = self.peers[i].id;
        for prefix in &u.withdrawn {
            if self.peers[i].active(Afi::of(prefix)) {
                self.peers[i].adj_in.set(*prefix, None);
                if let Some(s) = &mut self.peers[i].stale {
                    s.refreshed(prefix);
                }
                self.rib_update(now, Afi::of(prefix), *prefix, None, id);
            }
        }
        if u.announced.is_empty() {
            return;
        }
        let since = self.clock(now);
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            if !u.announced.iter().any(|p| Afi::of(p) == afi) || !self.peers[i].active(afi) {
                continue;
            }
            // IPv4 is read first: its attributes are moved out unless IPv6
            // needs them after.
            let last = afi == Afi::Ipv6 || !u.announced.iter().any(|p| Afi::of(p) == Afi::Ipv6);
            let attrs = if last { u.take_attrs_for(afi) } else { u.attrs_for(afi) };
            let Some(attrs) = attrs else { continue };
            if self.keeps_adj_in(i, afi) {
                let raw = self.interner.intern(attrs.clone());
                for prefix in u.announced.iter().filter(|p| Afi::of(p) == afi) {
                    self.peers[i].adj_in.set(*prefix, Some(raw.clone()));
                }
            }
            let base = self.import_attrs(i, afi, attrs);
            for prefix in u.announced.iter().filter(|p| Afi::of(p) == afi) {
                if let Some(s) = &mut self.peers[i].stale {
                    s.refreshed(prefix);
                }
                let path = base.as_ref().and_then(|a| self.import_prefix(i, afi, prefix, a));
                self.rib_update(now, afi, *prefix, path.map(|attrs| Path { peer: id, attrs, since }), id);
            }
            if self.maximum_prefix_exceeded(now, i, afi) {
                return;
            }
        }
    }

    fn maximum_prefix_exceeded(&mut self, now: Instant, i: usize, afi: Afi) -> bool {
        let Some(max) = self.peers[i].cfg.family(afi, true).maximum_prefix else { return false };
        let n = self.peers[i].accepted[afi];
        if n <= max as usize {
            return false;
        }
        let addr = self.peers[i].cfg.id.clone();
        self.log(
            Level::Warn,
            format!(
                "neighbor {addr}: {n} prefixes exceed maximum-prefix {max}: session stopped until `clear bgp {addr}`"
            ),
        );
        self.peers[i].overflow = true;
        self.stop_peer(now, i, Notification::new(err::CEASE, err::MAX_PREFIXES, []));
        true
    }

    /// The per-update part of import: loop detection, first AS, eBGP
    /// cleanup. None: every prefix of the update is rejected.
    pub(super) fn import_attrs(&mut self, i: usize, afi: Afi, mut a: PathAttrs) -> Option<Arc<PathAttrs>> {
        let local_as = self.local_as();
        let p = &self.peers[i];
        // Our own AS in the path is a loop (the AS a `local-as` neighbor
        // knows us by too), unless `allowas-in` says how often (or where)
        // it may stand.
        let alias = p.cfg.local_as.map(|l| l.asn).filter(|l| *l != local_as);
        let mine = a.as_path().count(local_as) + alias.map_or(0, |l| a.as_path().count(l));
        let allowed = match p.cfg.family(afi, true).allowas_in {
            None => 0,
            Some(AllowasIn::Times(n)) => n as usize,
            Some(AllowasIn::Origin) => usize::from(mine == 1 && a.as_path().origin_as() == Some(local_as)),
        };
        if mine > allowed {
            return None;
        }
        if p.ebgp(local_as) {
            if let Some(peer_as) = p.negotiated.as_ref().map(|n| n.peer.asn) {
                if p.cfg.enforce_first_as && a.as_path().first_as() != Some(peer_as) {
                    return None;
                }
            }
            a.local_pref = None.into();
            // Reflection attributes mean nothing across an AS border.
            if let Some(r) = a.rare.as_mut() {
                r.originator_id = None;
                r.cluster_list.clear();
            }
            if let Some(l) = p.cfg.local_as.filter(|l| !l.no_prepend) {
                a.prepend_as(l.asn, 1);
            }
        } else if a.originator_id() == Some(self.router_id) || a.cluster_list().contains(&self.cluster_id()) {
            // RFC 4456 8: a route reflected back to where it began.
            return None;
        }
        a.clear_local();
        Some(self.interner.intern(a))
    }

    /// Prefix-list and route-map in. None: rejected.
    pub(super) fn import_prefix(
        &mut self,
        i: usize,
        afi: Afi,
        prefix: &IpNet,
        a: &Arc<PathAttrs>,
    ) -> Option<Arc<PathAttrs>> {
        let p = &self.peers[i];
        if self.policy_blocked(p, afi, true) {
            return None;
        }
        let b = self.config.bgp.as_ref()?;
        let f = p.cfg.family(afi, b.default_ipv4_unicast);
        if let Some(name) = &f.prefix_list_in {
            if !self.config.prefix_list(afi, name).is_some_and(|l| l.permits(prefix)) {
                return None;
            }
        }
        match &f.route_map_in {
            None => Some(a.clone()),
            Some(name) => {
                let s = Subject { peer_address: p.remote, ..Subject::prefix(prefix) };
                let out = self.config.route_map(name)?.apply(&s, a, &self.config)?;
                Some(self.interner.intern(out))
            }
        }
    }

    pub(super) fn peer_info(peers: &[Peer], local_as: u32) -> impl Fn(PeerId) -> PeerInfo + '_ {
        move |id| {
            let p = &peers[id as usize - 1];
            PeerInfo {
                ebgp: p.ebgp(local_as),
                router_id: p.negotiated.as_ref().map_or(std::net::Ipv4Addr::UNSPECIFIED, |n| n.peer.bgp_id),
                addr: p.remote.unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
            }
        }
    }

    pub(super) fn selection(&self, afi: Afi) -> Selection {
        match &self.config.bgp {
            Some(b) => {
                let f = b.family(afi);
                Selection {
                    maximum_paths: f.maximum_paths.unwrap_or(1).min(255) as u8,
                    maximum_paths_ibgp: f.maximum_paths_ibgp.unwrap_or(1).min(255) as u8,
                    multipath_relax: b.multipath_relax,
                }
            }
            None => Selection::default(),
        }
    }

    /// Sets or removes `peer`'s path for a prefix; a new selection goes to
    /// the FIB and every neighbor.
    pub(super) fn rib_update(&mut self, now: Instant, afi: Afi, prefix: IpNet, path: Option<Path>, peer: PeerId) {
        let adding = path.is_some();
        let sel = self.selection(afi);
        let local_as = self.local_as();
        let (change, had) = self.tables[afi].update(prefix, path, peer, &Self::peer_info(&self.peers, local_as), sel);
        if peer != LOCAL {
            let acc = &mut self.peers[peer as usize - 1].accepted[afi];
            match (had, adding) {
                (false, true) => *acc += 1,
                (true, false) => *acc = acc.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(c) = change {
            self.emit(now, afi, c);
        }
    }

    /// RFC 8212 as FRR does it, but said out loud once per neighbor.
    pub(super) fn check_policy(&mut self, i: usize) {
        let Some(b) = &self.config.bgp else { return };
        if !b.ebgp_requires_policy || !self.peers[i].ebgp(b.asn) {
            return;
        }
        let addr = self.peers[i].cfg.id.clone();
        let mut lines = Vec::new();
        for afi in self.peers[i].cfg.active_families(b.default_ipv4_unicast) {
            let f = self.peers[i].cfg.family(afi, b.default_ipv4_unicast);
            for (inbound, has) in [(true, f.has_policy_in()), (false, f.has_policy_out())] {
                if !has && self.said.insert((addr.clone(), afi, inbound)) {
                    let (dir, what) =
                        if inbound { ("in", "accepts no routes from") } else { ("out", "advertises nothing to") };
                    let af = if afi == Afi::Ipv4 { "ipv4" } else { "ipv6" };
                    lines.push(format!(
                        "neighbor {addr}: eBGP without {dir}bound policy: bgpd {what} it (RFC 8212). Fix: under \
                         `address-family {af} unicast` add `neighbor {addr} prefix-list NAME {dir}` or `neighbor \
                         {addr} route-map NAME {dir}`, or turn the check off with `no bgp ebgp-requires-policy`"
                    ));
                }
            }
        }
        for l in lines {
            self.log(Level::Warn, l);
        }
    }

    /// Whether RFC 8212 blocks this neighbor in that direction.
    pub fn policy_blocked(&self, p: &Peer, afi: Afi, inbound: bool) -> bool {
        let Some(b) = &self.config.bgp else { return false };
        if !b.ebgp_requires_policy || !p.ebgp(b.asn) {
            return false;
        }
        let f = p.cfg.family(afi, b.default_ipv4_unicast);
        if inbound {
            !f.has_policy_in()
        } else {
            !f.has_policy_out()
        }
    }
}
