//! A route-map subset: match prefix-list; set local-preference, metric,
//! community, as-path prepend.

use std::collections::BTreeMap;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMapEntry {
    pub action: Action,
    pub matches: Vec<Match>,
    pub sets: Vec<Set>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteMap {
    pub entries: BTreeMap<u32, RouteMapEntry>,
}

impl RouteMap {
    /// Runs the map over a route. None: denied. The first entry whose
    /// matches all hold decides; no such entry denies (FRR's default).
    pub fn apply(
        &self,
        prefix: &IpNet,
        attrs: &PathAttrs,
        lists: &BTreeMap<(Afi, String), PrefixList>,
    ) -> Option<PathAttrs> {
        for e in self.entries.values() {
            let hit = e.matches.iter().all(|m| match m {
                Match::PrefixList(afi, name) => {
                    *afi == Afi::of(prefix) && lists.get(&(*afi, name.clone())).is_some_and(|l| l.permits(prefix))
                }
            });
            if !hit {
                continue;
            }
            if e.action == Action::Deny {
                return None;
            }
            let mut a = attrs.clone();
            for s in &e.sets {
                match s {
                    Set::LocalPreference(v) => a.local_pref = Some(*v),
                    Set::Metric(v) => a.med = Some(*v),
                    Set::Community(list, additive) => {
                        if !additive {
                            a.communities.clear();
                        }
                        for c in list {
                            if !a.communities.contains(c) {
                                a.communities.push(*c);
                            }
                        }
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
        let attrs = PathAttrs { as_path: AsPath::sequence(&[65000]), communities: vec![1], ..Default::default() };
        let out = rm.apply(&"10.1.2.0/24".parse().unwrap(), &attrs, &lists).unwrap();
        assert_eq!(out.local_pref, Some(200));
        assert_eq!(out.med, Some(5));
        assert_eq!(out.communities, vec![1, 65001 << 16 | 100]);
        assert_eq!(out.as_path.to_string(), "65001 65001 65000");
        assert!(rm.apply(&"10.2.0.0/24".parse().unwrap(), &attrs, &lists).is_none());
        assert!(RouteMap::default().apply(&"10.2.0.0/24".parse().unwrap(), &attrs, &lists).is_none());
        assert_eq!(community_text(65001 << 16 | 100), "65001:100");
        assert_eq!(parse_community("70000:1"), None);
    }
}
