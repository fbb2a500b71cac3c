//! The RIB out to each neighbor: what a neighbor should have for a
//! prefix given the selection (split horizon, iBGP rules, RFC 8212,
//! outbound policy, next hop, AS_PATH), into its Adj-RIB-Out, and from
//! there into UPDATEs no larger than it accepts.

use std::sync::Arc;
use std::time::Instant;

use ipnet::IpNet;

use super::adj_rib_out::{AdjRibOut, Shape};
use super::neighbor::Peer;
use super::update_group::Memo;
use super::{Output, Speaker};
use crate::bgp::config::{Config, NeighborFamily, NoSend};
use crate::bgp::family::PerFamily;
use crate::bgp::hash::FastMap;
use crate::bgp::packet::{
    end_of_rib, fits, fits_any, pack_announce, pack_withdraw, Afi, AsPath, Codec, Origin, PathAttrs,
};
use crate::bgp::policy::{Definitions, Match, Subject};
use crate::bgp::rib::{Change, Path, LOCAL};
use crate::log::Level;

impl Speaker {
    /// A selection changed: the FIB, and every neighbor's Adj-RIB-Out
    /// marks the prefix to look at when it next packs.
    pub(super) fn emit(&mut self, _now: Instant, afi: Afi, c: Change) {
        self.versions[afi] += 1;
        let hops = self.fib_hops(&c.selected);
        self.out.push(Output::Fib(c.prefix, hops));
        let (config, generation) = (&self.config, self.generation);
        for p in self.peers.iter_mut() {
            if p.adj_out.slot().is_some_and(|s| c.sent & 1 << s != 0) {
                p.adj_out.entry_gone(c.prefix);
            }
            if p.active(afi) && !shape(config, generation, p, afi).quiet {
                p.adj_out.touch(c.prefix);
            }
        }
    }

    /// Neighbor `i`'s route for `prefix` now, unless it cannot fit a
    /// message the neighbor accepts: then it is not sent (and withdrawn if
    /// it was), said once per attribute set, as FRR and BIRD do.
    /// `by_set`: the neighbor's update-group, when nothing of its export
    /// looks at the prefix (about 2.4 prefixes share a set in a real
    /// table): its route out is then computed once per best path's
    /// neighbor and attribute set, for the group (see `update_group`), or
    /// for this slice in `memo` when the neighbor is alone in it.
    fn export_now(
        &mut self,
        i: usize,
        afi: Afi,
        prefix: &IpNet,
        best: Option<Path>,
        by_set: Option<u32>,
        w: &mut Scratch,
    ) -> Option<usize> {
        if let (Some(g), Some(b)) = (by_set, &best) {
            if *prefix != default_route(afi) {
                if !self.sends_to(i, afi, b) {
                    return None;
                }
                let key = (g, b.peer, Arc::as_ptr(&b.attrs) as usize);
                let shared = self.groups.shared(g);
                let known = if shared { self.groups.get(g, b.peer, &b.attrs) } else { w.memo.get(&key).map(|x| &x.1) };
                // Known, as most are: used by reference, cloned once a
                // slice (by `slot`), not once a prefix and neighbor.
                if let Some(a) = known {
                    let a = a.as_ref()?;
                    return match w.sets.slot(&self.peers[i].codec(), a, prefix) {
                        Some(k) => Some(k),
                        None => self.too_long(i, prefix, &a.clone()),
                    };
                }
                let a = self.export_shared(i, afi, prefix, b);
                if shared {
                    self.groups.insert(g, b.peer, &b.attrs, a.clone());
                } else {
                    w.memo.insert(key, (b.attrs.clone(), a.clone()));
                }
                let a = a?;
                return w.sets.slot(&self.peers[i].codec(), &a, prefix).or_else(|| self.too_long(i, prefix, &a));
            }
        }
        let a = self.export(i, afi, prefix, best.as_ref())?;
        w.sets.slot(&self.peers[i].codec(), &a, prefix).or_else(|| self.too_long(i, prefix, &a))
    }

    /// `prefix` with `a` does not fit a message neighbor `i` accepts:
    /// said once per attribute set. Always None (nothing to send).
    fn too_long(&mut self, i: usize, prefix: &IpNet, a: &PathAttrs) -> Option<usize> {
        let p = &self.peers[i];
        // By content: the sets of a slice go with it.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(a, &mut h);
        if self.oversize_said.insert((p.id, std::hash::Hasher::finish(&h) as usize)) {
            let (addr, max) = (p.cfg.id.clone(), p.codec().max_len);
            self.log(
                Level::Warn,
                format!("neighbor {addr}: {prefix}: attributes too long for a {max}-byte UPDATE: not sent"),
            );
        }
        None
    }

    pub(super) fn export_all(&mut self, i: usize) {
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            if self.peers[i].active(afi) {
                self.export_family(i, afi);
            }
        }
    }

    /// Everything of a family to neighbor `i` again: a walk over the table
    /// that `flush_peer` takes a slice at a time (a full table's routes
    /// are never copied), and the default route of default-originate.
    /// Nothing to walk for a neighbor that is sent nothing and holds
    /// nothing (a feed's session coming up after the others').
    pub(super) fn export_family(&mut self, i: usize, afi: Afi) {
        let p = &mut self.peers[i];
        if p.adj_out.len(afi) == 0 && shape(&self.config, self.generation, p, afi).quiet {
            return;
        }
        let out = &mut self.peers[i].adj_out;
        out.walk(afi);
        out.look_again(default_route(afi));
    }

    /// A neighbor's export slot: the bit the RIB keeps for what it was
    /// sent (see `AdjRibOut`); none free past 32 neighbors up at once.
    pub(super) fn open_adj_out(&mut self, i: usize) {
        self.close_adj_out(i);
        let free = (0..32u8).find(|s| self.slots & 1 << s == 0);
        if let Some(s) = free {
            self.slots |= 1 << s;
        }
        self.peers[i].adj_out = AdjRibOut::new(free);
        self.export_epoch += 1;
    }

    /// Forgets what neighbor `i` was sent, and frees its slot.
    pub(super) fn close_adj_out(&mut self, i: usize) {
        if let Some(s) = self.peers[i].adj_out.slot() {
            for afi in PerFamily::<()>::AFIS {
                self.tables[afi].clear_slot(s);
            }
            self.slots &= !(1 << s);
        }
        self.peers[i].adj_out = AdjRibOut::default();
        self.export_epoch += 1;
    }

    /// A route refresh: what the family was sent is forgotten, and all of
    /// it goes again.
    pub(super) fn refresh_out(&mut self, i: usize, afi: Afi) {
        if let Some(s) = self.peers[i].adj_out.slot() {
            self.tables[afi].clear_slot(s);
        }
        self.peers[i].adj_out.forget(afi);
        self.export_family(i, afi);
    }

    /// What neighbor `i` should have for `prefix`, given the best path.
    fn export(&mut self, i: usize, afi: Afi, prefix: &IpNet, best: Option<&Path>) -> Option<Arc<PathAttrs>> {
        let b = self.config.bgp.as_ref()?;
        let local_as = b.asn;
        let q = &self.peers[i];
        let f: &NeighborFamily = q.cfg.family(afi, b.default_ipv4_unicast);
        let ebgp = q.ebgp(local_as);
        if f.default_originate && *prefix == default_route(afi) {
            let mut a =
                PathAttrs { origin: Origin::Igp, local_pref: (!ebgp).then_some(100).into(), ..Default::default() };
            let path = if ebgp { AsPath::sequence(&[local_as]) } else { AsPath::default() };
            let (hop, link_local) = self.next_hop_self(i, afi);
            a.set_parts(&path, hop, link_local, &[]);
            return Some(self.packing.intern(a));
        }
        let best = best?;
        if !self.sends_to(i, afi, best) {
            return None;
        }
        self.export_shared(i, afi, prefix, best)
    }

    /// Whether neighbor `i` may have `best` at all, by what only it is
    /// judged on (its update-group's members share the rest): not back to
    /// where it came from, not with its own AS in the path.
    fn sends_to(&self, i: usize, afi: Afi, best: &Path) -> bool {
        let q = &self.peers[i];
        let local_as = self.local_as();
        let as_override =
            self.config.bgp.as_ref().is_some_and(|b| q.cfg.family(afi, b.default_ipv4_unicast).as_override);
        !(best.peer == q.id
            || (q.ebgp(local_as) && !as_override && q.remote_asn().is_some_and(|r| best.attrs.as_path().contains(r))))
    }

    /// What neighbor `i` should have for `prefix` by what its update-group
    /// shares: iBGP and reflection rules, RFC 8212, outbound policy, the
    /// attributes rewritten for it.
    fn export_shared(&mut self, i: usize, afi: Afi, prefix: &IpNet, best: &Path) -> Option<Arc<PathAttrs>> {
        let b = self.config.bgp.as_ref()?;
        let q = &self.peers[i];
        let f: &NeighborFamily = q.cfg.family(afi, b.default_ipv4_unicast);
        let ebgp = q.ebgp(b.asn);
        let reflect = match self.ibgp_source(best, afi) {
            Some(from_client) if !ebgp => {
                // RFC 4456 6: iBGP to iBGP only through a reflector, from
                // a client to all, from a non-client to clients.
                if !(from_client || f.route_reflector_client) {
                    return None;
                }
                true
            }
            _ => false,
        };
        if self.policy_blocked(q, afi, false) {
            return None;
        }
        if let Some(name) = &f.prefix_list_out {
            if !self.config.prefix_list(afi, name).is_some_and(|l| l.permits(prefix)) {
                return None;
            }
        }
        let mut a = self.rewrite_for(i, afi, f, best, reflect);
        if let Some(name) = &f.route_map_out {
            let s = Subject {
                peer_address: self.peers[i].local_addr,
                unchanged_next_hop: best.attrs.next_hop(),
                ..Subject::prefix(prefix)
            };
            a = self.config.route_map(name)?.apply(&s, &a, &self.config)?;
        }
        strip_communities(&mut a, f.no_send);
        a.clear_local();
        Some(self.packing.intern(a))
    }

    /// For a path learned over iBGP: whether its neighbor is a route
    /// reflector client for the family. None: not from iBGP.
    fn ibgp_source(&self, best: &Path, afi: Afi) -> Option<bool> {
        let b = self.config.bgp.as_ref()?;
        let from = self.peers.get((best.peer as usize).checked_sub(1)?)?;
        (!from.ebgp(b.asn)).then(|| from.cfg.family(afi, b.default_ipv4_unicast).route_reflector_client)
    }

    /// The best path's attributes as neighbor `i` gets them: next hop,
    /// AS_PATH, LOCAL_PREF and MED by the rules of RFC 4271 5.1.
    fn rewrite_for(&self, i: usize, afi: Afi, f: &NeighborFamily, best: &Path, reflect: bool) -> PathAttrs {
        // A reflected route keeps its next hop unless forced (FRR's rule).
        let next_hop_self = if reflect { f.next_hop_self_force } else { f.next_hop_self };
        let q = &self.peers[i];
        let local_as = self.local_as();
        let ebgp = q.ebgp(local_as);
        let from = &best.attrs;
        let (mut hop, mut link_local) = (from.next_hop(), from.link_local());
        if next_hop_self || best.peer == LOCAL || !self.keeps_next_hop(i, afi, from) {
            (hop, link_local) = self.next_hop_self(i, afi);
        } else if !(ebgp && self.same_link(best.peer, i)) {
            // A link-local next hop means nothing off its link: FRR passes
            // one on only to eBGP on the link it came over.
            link_local = None;
        }
        let mut path = None;
        if ebgp {
            let mut p = path_for(from.as_path(), f, q.remote_asn(), local_as);
            match q.cfg.local_as {
                // The neighbor sees us as `local-as`, in front of our own
                // AS unless replace-as.
                Some(l) => {
                    if !l.replace_as {
                        p.prepend(local_as, 1);
                    }
                    p.prepend(l.asn, 1);
                }
                None => p.prepend(local_as, 1),
            }
            path = Some(p);
        }
        // The copy with its new words in one go: a route out computed
        // costs one packing, not a copy of the words and a packing.
        let mut a = from.with_path_and_hops(path.as_ref(), hop, link_local);
        if ebgp {
            a.local_pref = None.into();
            if best.peer != LOCAL {
                a.med = None.into();
            }
            if let Some(r) = a.rare.as_mut() {
                r.originator_id = None;
                r.cluster_list.clear();
            }
        } else {
            a.local_pref = Some(a.local_pref.get().unwrap_or(100)).into();
        }
        if reflect {
            // RFC 4456 8: who it began with, and the clusters it crossed.
            let from = self.peers[best.peer as usize - 1].negotiated.as_ref().map(|n| n.peer.bgp_id);
            let cluster = self.cluster_id();
            let r = a.rare_mut();
            r.originator_id = r.originator_id.or(from);
            r.cluster_list.insert(0, cluster);
        }
        a
    }

    /// Sends what each neighbor's Adj-RIB-Out gained or lost.
    pub fn flush(&mut self) {
        for i in 0..self.peers.len() {
            self.flush_peer(i);
        }
    }

    /// Encodes the next slice of what neighbor `i` is owed: each prefix's
    /// route now against what it was sent; those that share attributes
    /// go out together.
    pub(super) fn flush_peer(&mut self, i: usize) {
        let deferred = self.eor_deferred();
        let p = &mut self.peers[i];
        if !(p.adj_out.has_pending() || p.eor_due) || p.blocked_since.is_some() {
            return;
        }
        let Some(conn) = p.conn else {
            p.adj_out.clear_pending();
            return;
        };
        let mut w = std::mem::take(&mut self.scratch);
        p.adj_out.take(&self.tables, &mut w.prefixes);
        let mut by_set: PerFamily<Option<u32>> = PerFamily::default();
        for afi in PerFamily::<()>::AFIS {
            if shape(&self.config, self.generation, &mut self.peers[i], afi).by_set {
                by_set[afi] = self.update_group(i, afi);
            }
        }
        // Announcements sharing attributes go out together: each prefix
        // with its set's index, gathered into runs below (no list per
        // set: a real table has 2.4 prefixes a set).
        let prefixes = std::mem::take(&mut w.prefixes);
        for &prefix in &prefixes {
            let afi = Afi::of(&prefix);
            let (best, bit) = self.tables[afi].best_marking(&prefix, self.peers[i].adj_out.slot());
            let now = self.export_now(i, afi, &prefix, best, by_set[afi], &mut w);
            let out = &mut self.peers[i].adj_out;
            match now {
                Some(k) => {
                    out.mark(&mut self.tables[afi], prefix, bit, true);
                    w.items.push((k, prefix));
                }
                None => {
                    if out.mark(&mut self.tables[afi], prefix, bit, false) {
                        w.withdrawn.push(prefix);
                    }
                }
            }
        }
        w.prefixes = prefixes;
        let p = &mut self.peers[i];
        let codec = p.codec();
        // Sized once: grown by doubling, a slice's UPDATEs were
        // copied at each step (memcpy was 7% of the time exporting).
        let mut buf = Vec::with_capacity(6 * (w.items.len() + w.withdrawn.len()) + 96 * w.sets.list.len());
        let mut n = w.pack(&codec, &mut buf) as u64;
        // The initial table is out whole: End-of-RIB for each family.
        if p.eor_due && !p.adj_out.has_pending() && !deferred {
            p.eor_due = false;
            for afi in p.negotiated.as_ref().map(|x| x.families.clone()).unwrap_or_default() {
                end_of_rib(afi, &mut buf);
                n += 1;
            }
        }
        if !buf.is_empty() {
            p.msgs_out += n;
            self.debug_packed(i, n, buf.len());
            self.out.push(Output::Send(conn, buf));
        }
        // Its room stays for the next slice (a few thousand sets).
        self.packing.clear();
        w.clear();
        self.scratch = w;
    }

    /// Whether UPDATEs wait for neighbors that read (see `work`).
    pub(super) fn has_output_work(&self) -> bool {
        let deferred = self.eor_deferred();
        self.peers.iter().any(|p| {
            p.conn.is_some() && p.blocked_since.is_none() && (p.adj_out.has_pending() || (p.eor_due && !deferred))
        })
    }
}

/// What `flush_peer` works in, kept between slices: a slice's lists are
/// up to a few hundred kilobytes each, which musl's malloc maps and unmaps
/// every time (page faults and munmap were 8% of the time exporting).
#[derive(Debug, Default)]
pub(super) struct Scratch {
    prefixes: Vec<IpNet>,
    memo: Memo,
    withdrawn: Vec<IpNet>,
    sets: SliceSets,
    items: Vec<(usize, IpNet)>,
    starts: Vec<usize>,
    cursor: Vec<usize>,
    list: Vec<IpNet>,
}

/// The attribute sets a slice announces, by identity, and whether each
/// fits an UPDATE with any one prefix (judged once a set, not once a
/// prefix).
#[derive(Debug, Default)]
struct SliceSets {
    list: Vec<Arc<PathAttrs>>,
    index: FastMap<usize, usize>,
    roomy: Vec<bool>,
}

impl SliceSets {
    /// `a`'s index in the slice (added on first use), or None when
    /// `prefix` with it does not fit an UPDATE of `codec`.
    fn slot(&mut self, codec: &Codec, a: &Arc<PathAttrs>, prefix: &IpNet) -> Option<usize> {
        let ptr = Arc::as_ptr(a) as usize;
        let k = match self.index.get(&ptr) {
            Some(&k) => k,
            None => {
                let roomy = fits_any(codec, a);
                if !roomy && !fits(codec, a, prefix) {
                    return None;
                }
                self.list.push(a.clone());
                self.roomy.push(roomy);
                self.index.insert(ptr, self.list.len() - 1);
                return Some(self.list.len() - 1);
            }
        };
        (self.roomy[k] || fits(codec, a, prefix)).then_some(k)
    }

    fn clear(&mut self) {
        self.list.clear();
        self.index.clear();
        self.roomy.clear();
    }
}

/// A prefix's run: its set's, one for each family.
fn run_of(set: usize, p: &IpNet) -> usize {
    2 * set + usize::from(Afi::of(p) == Afi::Ipv6)
}

impl Scratch {
    /// The slice's withdrawals, then its announcements into `buf`, in
    /// runs by (set, family) gathered in one counting pass (comparison
    /// sorts of the slice were 9% of the time exporting); how many
    /// UPDATEs.
    fn pack(&mut self, codec: &Codec, buf: &mut Vec<u8>) -> usize {
        self.withdrawn.sort_unstable();
        let mut n = pack_withdraw(codec, &self.withdrawn, buf);
        let runs = 2 * self.sets.list.len();
        self.starts.clear();
        self.starts.resize(runs + 1, 0);
        for (k, p) in &self.items {
            self.starts[run_of(*k, p) + 1] += 1;
        }
        for r in 0..runs {
            self.starts[r + 1] += self.starts[r];
        }
        self.list.clear();
        self.list.resize(self.items.len(), IpNet::default());
        self.cursor.clone_from(&self.starts);
        for (k, p) in &self.items {
            let r = run_of(*k, p);
            self.list[self.cursor[r]] = *p;
            self.cursor[r] += 1;
        }
        for r in 0..runs {
            let list = &self.list[self.starts[r]..self.starts[r + 1]];
            n += pack_announce(codec, &self.sets.list[r / 2], list, buf);
        }
        n
    }

    fn clear(&mut self) {
        self.prefixes.clear();
        self.memo.clear();
        self.withdrawn.clear();
        self.sets.clear();
        self.items.clear();
        self.starts.clear();
        self.cursor.clear();
        self.list.clear();
    }
}

/// Neighbor `p`'s `Shape` for a family, judged once per config generation.
fn shape(c: &Config, generation: u64, p: &mut Peer, afi: Afi) -> Shape {
    if let Some((g, q)) = &p.shape {
        if *g == generation {
            return q[afi];
        }
    }
    let mut q = PerFamily::<Shape>::default();
    if let Some(b) = c.bgp.as_ref() {
        for afi in PerFamily::<()>::AFIS {
            let f = p.cfg.family(afi, b.default_ipv4_unicast);
            let blocked = b.ebgp_requires_policy && p.ebgp(b.asn) && !f.has_policy_out();
            let no_list = f.prefix_list_out.as_ref().is_some_and(|l| c.prefix_list(afi, l).is_none());
            let no_map = f.route_map_out.as_ref().is_some_and(|m| c.route_map(m).is_none_or(|m| m.denies_all()));
            q[afi] = Shape {
                quiet: !f.default_originate && (blocked || no_list || no_map),
                by_set: f.prefix_list_out.is_none()
                    && f.route_map_out.as_ref().is_none_or(|m| !map_sees_prefix(c, m, 0)),
            };
        }
    }
    let r = q[afi];
    p.shape = Some((generation, q));
    r
}

fn map_sees_prefix(c: &Config, name: &str, depth: usize) -> bool {
    let Some(map) = c.route_map(name) else { return false };
    map.entries.values().any(|e| {
        e.matches.iter().any(|m| matches!(m, Match::PrefixList(..) | Match::Interface(_)))
            || e.call.as_ref().is_some_and(|n| depth >= 10 || map_sees_prefix(c, n, depth + 1))
    })
}

/// The AS_PATH an eBGP neighbor gets before we prepend ours:
/// `remove-private-AS`, then `as-override`.
fn path_for(p: AsPath<&[u32]>, f: &NeighborFamily, peer_as: Option<u32>, local_as: u32) -> AsPath {
    let mut p = p.owned();
    if let Some(r) = f.remove_private_as {
        if r.all || p.all(is_private) {
            p = p.map(|a| match (is_private(a), r.replace) {
                (false, _) => Some(a),
                (true, true) => Some(local_as),
                (true, false) => None,
            });
        }
    }
    if let (true, Some(peer)) = (f.as_override, peer_as) {
        p = p.map(|a| Some(if a == peer { local_as } else { a }));
    }
    p
}

/// `no neighbor X send-community ...`: the kinds not sent go.
fn strip_communities(a: &mut PathAttrs, no: NoSend) {
    if no.standard && !a.communities().is_empty() {
        a.set_communities(&[]);
    }
    if let Some(r) = a.rare.as_mut() {
        if no.large {
            r.large_communities.clear();
        }
        if no.extended {
            // EXTENDED COMMUNITIES (16) and IPv6 ones (25) travel as
            // attributes bgpbox passes on unread.
            r.other.retain(|x| !matches!(x.code, 16 | 25));
        }
    }
}

/// Private AS numbers (RFC 6996).
fn is_private(a: u32) -> bool {
    (64_512..=65_534).contains(&a) || (4_200_000_000..=4_294_967_294).contains(&a)
}

pub(super) fn default_route(afi: Afi) -> IpNet {
    match afi {
        Afi::Ipv4 => IpNet::V4(ipnet::Ipv4Net::default()),
        Afi::Ipv6 => IpNet::V6(ipnet::Ipv6Net::default()),
    }
}
