//! A route-map subset: match prefix-list; set local-preference, metric,
//! community, as-path prepend.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

use super::{Action, PrefixList};
use crate::bgp::packet::{Afi, PathAttrs};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// `match ip address prefix-list NAME` / `match ipv6 address ...`.
    PrefixList(Afi, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    LocalPreference(u32),
    Metric(u32),
    /// `set community A:B ... [additive]`; an empty list with `none`.
    Community(Vec<u32>, bool),
    AsPathPrepend(Vec<u32>),
}

impl fmt::Display for Match {
    /// The clause as written after `match`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::PrefixList(afi, l) => {
                let kw = if *afi == Afi::Ipv4 { "ip" } else { "ipv6" };
                write!(f, "{kw} address prefix-list {l}")
            }
        }
    }
}

impl fmt::Display for Set {
    /// The clause as written after `set`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Set::LocalPreference(v) => write!(f, "local-preference {v}"),
            Set::Metric(v) => write!(f, "metric {v}"),
            Set::Community(l, _) if l.is_empty() => f.write_str("community none"),
            Set::Community(l, add) => {
                let l: Vec<String> = l.iter().map(|c| community_text(*c)).collect();
                write!(f, "community {}{}", l.join(" "), if *add { " additive" } else { "" })
            }
            Set::AsPathPrepend(l) => {
                let l: Vec<String> = l.iter().map(|a| a.to_string()).collect();
                write!(f, "as-path prepend {}", l.join(" "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMapEntry {
    pub action: Action,
    pub matches: Vec<Match>,
    pub sets: Vec<Set>,
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

impl RouteMap {
    /// Runs the map over a route. None: denied. The first entry whose
    /// matches all hold decides; no such entry denies (FRR's default).
    pub fn apply(
        &self,
        prefix: &IpNet,
        attrs: &PathAttrs,
        lists: &BTreeMap<(Afi, String), PrefixList>,
    ) -> Option<PathAttrs> {
        for (seq, e) in &self.entries {
            let hit = e.matches.iter().all(|m| match m {
                Match::PrefixList(afi, name) => {
                    *afi == Afi::of(prefix) && lists.get(&(*afi, name.clone())).is_some_and(|l| l.permits(prefix))
                }
            });
            if !hit {
                continue;
            }
            self.invoked.count(Some(*seq));
            if e.action == Action::Deny {
                return None;
            }
            let mut a = attrs.clone();
            for s in &e.sets {
                match s {
                    Set::LocalPreference(v) => a.local_pref = Some(*v),
                    Set::Metric(v) => a.med = Some(*v),
                    Set::Community(list, additive) => {
                        let mut cs: Vec<u32> = if *additive { a.communities.to_vec() } else { Vec::new() };
                        for c in list {
                            if !cs.contains(c) {
                                cs.push(*c);
                            }
                        }
                        a.communities = cs.into();
                    }
                    Set::AsPathPrepend(asns) => {
                        for asn in asns.iter().rev() {
                            a.as_path.prepend(*asn, 1);
                        }
                    }
                }
            }
            return Some(a);
        }
        self.invoked.count(None);
        None
    }
}

pub fn community_text(c: u32) -> String {
    match c {
        0xFFFF_FF01 => "no-export".into(),
        0xFFFF_FF02 => "no-advertise".into(),
        0xFFFF_FF03 => "local-AS".into(),
        _ => format!("{}:{}", c >> 16, c & 0xffff),
    }
}

pub fn parse_community(s: &str) -> Option<u32> {
    match s {
        "no-export" => Some(0xFFFF_FF01),
        "no-advertise" => Some(0xFFFF_FF02),
        "local-AS" => Some(0xFFFF_FF03),
        _ => {
            let (a, b) = s.split_once(':')?;
            Some((a.parse::<u16>().ok()? as u32) << 16 | b.parse::<u16>().ok()? as u32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::PrefixListEntry;
    use super::*;
    use crate::bgp::packet::AsPath;

    #[test]
    fn match_and_set() {
        let mut lists = BTreeMap::new();
        let mut l = PrefixList::default();
        l.entries.insert(
            5,
            PrefixListEntry {
                action: Action::Permit,
                prefix: Some("10.1.0.0/16".parse().unwrap()),
                ge: None,
                le: Some(24),
            },
        );
        lists.insert((Afi::Ipv4, "mine".to_string()), l);
        let mut rm = RouteMap::default();
        rm.entries.insert(
            10,
            RouteMapEntry {
                action: Action::Permit,
                matches: vec![Match::PrefixList(Afi::Ipv4, "mine".into())],
                sets: vec![
                    Set::LocalPreference(200),
                    Set::Metric(5),
                    Set::Community(vec![parse_community("65001:100").unwrap()], true),
                    Set::AsPathPrepend(vec![65001, 65001]),
                ],
            },
        );
        rm.entries.insert(20, RouteMapEntry { action: Action::Deny, matches: vec![], sets: vec![] });
        let attrs =
            PathAttrs { as_path: AsPath::sequence(&[65000]), communities: vec![1].into(), ..Default::default() };
        let out = rm.apply(&"10.1.2.0/24".parse().unwrap(), &attrs, &lists).unwrap();
        assert_eq!(out.local_pref, Some(200));
        assert_eq!(out.med, Some(5));
        assert_eq!(&out.communities[..], [1, 65001 << 16 | 100]);
        assert_eq!(out.as_path.to_string(), "65001 65001 65000");
        assert!(rm.apply(&"10.2.0.0/24".parse().unwrap(), &attrs, &lists).is_none());
        assert!(RouteMap::default().apply(&"10.2.0.0/24".parse().unwrap(), &attrs, &lists).is_none());
        assert_eq!(community_text(65001 << 16 | 100), "65001:100");
        assert_eq!(parse_community("70000:1"), None);
    }
}
