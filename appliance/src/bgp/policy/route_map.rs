//! Route-maps as FRR runs them: entries in order, the first whose
//! matches all hold decides; a permit entry's sets apply, then its `call`,
//! then `on-match next|goto` may carry on to later entries. No entry
//! matching denies.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use super::lists::{large_text, AsPathList, CommunityList};
use super::{Action, PrefixList};
use crate::bgp::packet::{Afi, Origin, PathAttrs};

/// Where a route-map finds the lists and maps it names: the config.
pub trait Definitions {
    fn prefix_list(&self, afi: Afi, name: &str) -> Option<&PrefixList>;
    fn community_list(&self, name: &str) -> Option<&CommunityList>;
    fn large_community_list(&self, name: &str) -> Option<&CommunityList>;
    fn as_path_list(&self, name: &str) -> Option<&AsPathList>;
    fn route_map(&self, name: &str) -> Option<&RouteMap>;
}

/// The route a map runs over, with what its matches and sets may ask
/// besides the attributes.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub prefix: &'a IpNet,
    /// Inbound: the neighbor it came from; outbound: ours on the session
    /// (`set ip next-hop peer-address`).
    pub peer_address: Option<IpAddr>,
    /// The interface of a redistributed route (`match interface`).
    pub interface: Option<&'a str>,
    /// Outbound: the next hop before bgpd rewrote it (`set ip next-hop
    /// unchanged`).
    pub unchanged_next_hop: Option<IpAddr>,
}

impl<'a> Subject<'a> {
    pub fn prefix(prefix: &'a IpNet) -> Subject<'a> {
        Subject { prefix, peer_address: None, interface: None, unchanged_next_hop: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// `match ip address prefix-list NAME` / `match ipv6 address ...`.
    PrefixList(Afi, String),
    /// `match community NAME [exact-match]`.
    Community(String, bool),
    /// `match large-community NAME [exact-match]`.
    LargeCommunity(String, bool),
    /// `match as-path NAME`.
    AsPath(String),
    /// `match interface IFNAME`: redistributed routes on that interface.
    Interface(String),
    /// `match metric N`.
    Metric(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    Addr(IpAddr),
    PeerAddress,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    LocalPreference(u32),
    Metric(u32),
    /// `set community A:B ... [additive]`; an empty list with `none`.
    Community(Vec<u32>, bool),
    /// `set large-community A:B:C ... [additive]`; empty with `none`.
    LargeCommunity(Vec<[u32; 3]>, bool),
    /// `set comm-list NAME delete`.
    CommListDelete(String),
    AsPathPrepend(Vec<u32>),
    Weight(u32),
    Tag(u32),
    Origin(Origin),
    /// `set ip next-hop ...` (Addr v4) / `set ipv6 next-hop global X`.
    NextHop(NextHop),
}

/// `on-match next` / `on-match goto N`: where a permit entry carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMatch {
    Next,
    Goto(u32),
}

impl fmt::Display for Match {
    /// The clause as written after `match`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exact = |e: &bool| if *e { " exact-match" } else { "" };
        match self {
            Match::PrefixList(afi, l) => {
                let kw = if *afi == Afi::Ipv4 { "ip" } else { "ipv6" };
                write!(f, "{kw} address prefix-list {l}")
            }
            Match::Community(l, e) => write!(f, "community {l}{}", exact(e)),
            Match::LargeCommunity(l, e) => write!(f, "large-community {l}{}", exact(e)),
            Match::AsPath(l) => write!(f, "as-path {l}"),
            Match::Interface(i) => write!(f, "interface {i}"),
            Match::Metric(m) => write!(f, "metric {m}"),
        }
    }
}

impl fmt::Display for Set {
    /// The clause as written after `set`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let additive = |a: &bool| if *a { " additive" } else { "" };
        match self {
            Set::LocalPreference(v) => write!(f, "local-preference {v}"),
            Set::Metric(v) => write!(f, "metric {v}"),
            Set::Community(l, _) if l.is_empty() => f.write_str("community none"),
            Set::Community(l, add) => write!(f, "community {}{}", super::lists::communities_text(l), additive(add)),
            Set::LargeCommunity(l, _) if l.is_empty() => f.write_str("large-community none"),
            Set::LargeCommunity(l, add) => write!(f, "large-community {}{}", large_text(l), additive(add)),
            Set::CommListDelete(l) => write!(f, "comm-list {l} delete"),
            Set::AsPathPrepend(l) => {
                let l: Vec<String> = l.iter().map(|a| a.to_string()).collect();
                write!(f, "as-path prepend {}", l.join(" "))
            }
            Set::Weight(w) => write!(f, "weight {w}"),
            Set::Tag(t) => write!(f, "tag {t}"),
            Set::Origin(o) => f.write_str(match o {
                Origin::Igp => "origin igp",
                Origin::Egp => "origin egp",
                Origin::Incomplete => "origin incomplete",
            }),
            Set::NextHop(NextHop::Addr(IpAddr::V6(a))) => write!(f, "ipv6 next-hop global {a}"),
            Set::NextHop(NextHop::Addr(a)) => write!(f, "ip next-hop {a}"),
            Set::NextHop(NextHop::PeerAddress) => f.write_str("ip next-hop peer-address"),
            Set::NextHop(NextHop::Unchanged) => f.write_str("ip next-hop unchanged"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMapEntry {
    pub action: Action,
    pub matches: Vec<Match>,
    pub sets: Vec<Set>,
    pub call: Option<String>,
    pub on_match: Option<OnMatch>,
    pub description: Option<String>,
}

impl RouteMapEntry {
    pub fn new(action: Action) -> RouteMapEntry {
        RouteMapEntry { action, matches: vec![], sets: vec![], call: None, on_match: None, description: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteMap {
    pub entries: BTreeMap<u32, RouteMapEntry>,
    pub invoked: Invoked,
}

/// How often a route-map, and each of its entries, decided a route: FRR's
/// `Invoked` counts in `show route-map`. Shared by the copies a config
/// change makes, and not part of the configuration: any two compare equal.
#[derive(Debug, Clone, Default)]
pub struct Invoked(Arc<Mutex<(u64, BTreeMap<u32, u64>)>>);

impl Invoked {
    fn count(&self, seq: Option<u32>) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        if let Some(s) = seq {
            *g.1.entry(s).or_default() += 1;
        }
    }

    /// The map's count and the count of entry `seq`.
    pub fn get(&self, seq: u32) -> (u64, u64) {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (g.0, g.1.get(&seq).copied().unwrap_or(0))
    }
}

impl PartialEq for Invoked {
    fn eq(&self, _: &Invoked) -> bool {
        true
    }
}

impl Eq for Invoked {}

/// How deep `call` may nest (FRR's limit too): a map that calls itself
/// denies rather than loops.
const CALL_DEPTH: usize = 10;

impl RouteMap {
    /// Runs the map over a route. None: denied.
    /// Whether no route gets past it: no entry, or a first entry that
    /// denies without a match (FRR users' `route-map NONE deny 10`).
    pub fn denies_all(&self) -> bool {
        self.entries.values().next().is_none_or(|e| e.action == Action::Deny && e.matches.is_empty())
    }

    pub fn apply(&self, s: &Subject, attrs: &PathAttrs, d: &dyn Definitions) -> Option<PathAttrs> {
        self.run(s, attrs.clone(), d, 0)
    }

    fn run(&self, s: &Subject, mut a: PathAttrs, d: &dyn Definitions, depth: usize) -> Option<PathAttrs> {
        if depth > CALL_DEPTH {
            return None;
        }
        let mut from = 0u32;
        let mut permitted = false;
        loop {
            let hit = self.entries.range(from..).find(|(_, e)| e.matches.iter().all(|m| matches(m, s, &a, d)));
            let Some((seq, e)) = hit else {
                if !permitted {
                    self.invoked.count(None);
                }
                return permitted.then_some(a);
            };
            self.invoked.count(Some(*seq));
            if e.action == Action::Deny {
                return None;
            }
            permitted = true;
            for set in &e.sets {
                apply_set(set, s, &mut a, d);
            }
            if let Some(name) = &e.call {
                a = d.route_map(name)?.run(s, a, d, depth + 1)?;
            }
            from = match e.on_match {
                None => return Some(a),
                Some(OnMatch::Next) => seq.checked_add(1)?,
                // FRR refuses a goto backwards; the parser does too.
                Some(OnMatch::Goto(n)) => n.max(seq.saturating_add(1)),
            };
        }
    }
}

fn matches(m: &Match, s: &Subject, a: &PathAttrs, d: &dyn Definitions) -> bool {
    match m {
        Match::PrefixList(afi, name) => {
            *afi == Afi::of(s.prefix) && d.prefix_list(*afi, name).is_some_and(|l| l.permits(s.prefix))
        }
        Match::Community(name, exact) => d.community_list(name).is_some_and(|l| l.permits(a, *exact)),
        Match::LargeCommunity(name, exact) => d.large_community_list(name).is_some_and(|l| l.permits(a, *exact)),
        Match::AsPath(name) => d.as_path_list(name).is_some_and(|l| l.permits(a)),
        Match::Interface(i) => s.interface == Some(i.as_str()),
        Match::Metric(m) => a.med.get().unwrap_or(0) == *m,
    }
}

fn apply_set(set: &Set, s: &Subject, a: &mut PathAttrs, d: &dyn Definitions) {
    match set {
        Set::LocalPreference(v) => a.local_pref = Some(*v).into(),
        Set::Metric(v) => a.med = Some(*v).into(),
        Set::Community(list, additive) => {
            let c = merged(a.communities(), list, *additive);
            a.set_communities(&c);
        }
        Set::LargeCommunity(list, additive) => {
            a.rare_mut().large_communities = merged(a.large_communities(), list, *additive);
            a.tidy_rare();
        }
        Set::CommListDelete(name) => {
            if let Some(l) = d.community_list(name) {
                let kept: Vec<u32> = a.communities().iter().copied().filter(|c| !l.permits_one(*c)).collect();
                a.set_communities(&kept);
            }
        }
        Set::AsPathPrepend(asns) => {
            // One rebuild of the set's words for the whole list.
            let mut p = a.as_path().owned();
            for asn in asns.iter().rev() {
                p.prepend(*asn, 1);
            }
            a.set_as_path(&p);
        }
        Set::Weight(w) => {
            a.rare_mut().weight = Some(*w);
        }
        Set::Tag(t) => {
            a.rare_mut().tag = Some(*t);
        }
        Set::Origin(o) => a.origin = *o,
        Set::NextHop(nh) => {
            let hop = match nh {
                NextHop::Addr(x) => Some(*x),
                NextHop::PeerAddress => s.peer_address,
                NextHop::Unchanged => s.unchanged_next_hop,
            };
            // A next hop of the other family would make the route unusable.
            if let Some(h) = hop.filter(|h| h.is_ipv4() == matches!(s.prefix, IpNet::V4(_))) {
                a.set_next_hop(Some(h));
            }
        }
    }
}

/// `set ... [additive]`: the new values after the route's (additive) or
/// alone, each once.
fn merged<T: Copy + PartialEq>(have: &[T], add: &[T], additive: bool) -> Vec<T> {
    let mut out: Vec<T> = if additive { have.to_vec() } else { Vec::new() };
    for x in add {
        if !out.contains(x) {
            out.push(*x);
        }
    }
    out
}

pub fn community_text(c: u32) -> String {
    match c {
        0xFFFF_FF01 => "no-export".into(),
        0xFFFF_FF02 => "no-advertise".into(),
        0xFFFF_FF03 => "local-AS".into(),
        0xFFFF_0000 => "graceful-shutdown".into(),
        0xFFFF_029A => "blackhole".into(),
        _ => format!("{}:{}", c >> 16, c & 0xffff),
    }
}

pub fn parse_community(s: &str) -> Option<u32> {
    match s {
        "no-export" => Some(0xFFFF_FF01),
        "no-advertise" => Some(0xFFFF_FF02),
        "local-AS" | "local-as" => Some(0xFFFF_FF03),
        "graceful-shutdown" => Some(0xFFFF_0000),
        "blackhole" => Some(0xFFFF_029A),
        _ => {
            let (a, b) = s.split_once(':')?;
            Some((a.parse::<u16>().ok()? as u32) << 16 | b.parse::<u16>().ok()? as u32)
        }
    }
}

#[cfg(test)]
#[path = "route_map_tests.rs"]
mod tests;
