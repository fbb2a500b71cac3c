//! `bgp community-list`, `bgp large-community-list` and `bgp as-path
//! access-list`: ordered entries, the first that matches decides, no
//! match denies (FRR's rules). Expanded lists and as-path lists are
//! regular expressions over the text FRR prints for the route.

use std::collections::BTreeMap;
use std::fmt;

use regex_lite::Regex;

use super::Action;
use crate::bgp::packet::PathAttrs;

/// A regular expression as written, compiled. Two compare equal when
/// written alike.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    re: Regex,
}

impl Pattern {
    /// An expression in FRR's dialect, where `_` stands for any delimiter
    /// of an AS path or community string: its start or end, a space, a
    /// comma, a brace or a parenthesis.
    pub fn new(text: &str) -> Result<Pattern, String> {
        let translated = text.replace('_', "(^|[ ,{}()]|$)");
        let re = Regex::new(&translated).map_err(|e| format!("{text} is not a regular expression: {e}"))?;
        Ok(Pattern { text: text.to_string(), re })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Pattern {
    fn eq(&self, o: &Pattern) -> bool {
        self.text == o.text
    }
}

impl Eq for Pattern {}

/// What one community-list entry asks of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Standard list: all of these communities (none: `internet`, any).
    Standard(Vec<u32>),
    /// Standard large-community list: all of these.
    Large(Vec<[u32; 3]>),
    /// Expanded list: a regular expression over the communities' text.
    Expanded(Pattern),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityEntry {
    pub action: Action,
    pub members: Members,
}

/// A community-list or large-community-list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommunityList {
    pub entries: BTreeMap<u32, CommunityEntry>,
}

impl CommunityList {
    /// FRR numbers entries in fives when no `seq` is written.
    pub fn next_seq(&self) -> u32 {
        self.entries.keys().next_back().map_or(5, |s| s + 5)
    }

    /// `match community NAME [exact-match]`: with exact-match a standard
    /// entry matches only a route whose communities are exactly its own.
    pub fn permits(&self, a: &PathAttrs, exact: bool) -> bool {
        for e in self.entries.values() {
            let hit = match &e.members {
                Members::Standard(want) => subset(want, a.communities(), exact),
                Members::Large(want) => subset(want, a.large_communities(), exact),
                Members::Expanded(re) => {
                    let text = if a.large_communities().is_empty() {
                        communities_text(a.communities())
                    } else {
                        large_text(a.large_communities())
                    };
                    re.is_match(&text)
                }
            };
            if hit {
                return e.action == Action::Permit;
            }
        }
        false
    }

    /// The communities of a route this list permits (`set comm-list NAME
    /// delete`): each community checked alone.
    pub fn permits_one(&self, c: u32) -> bool {
        self.entries.values().find(|e| one_matches(&e.members, c)).is_some_and(|e| e.action == Action::Permit)
    }
}

fn one_matches(m: &Members, c: u32) -> bool {
    match m {
        Members::Standard(want) => want.is_empty() || want == &[c],
        Members::Large(_) => false,
        Members::Expanded(re) => re.is_match(&super::community_text(c)),
    }
}

fn subset<T: PartialEq>(want: &[T], have: &[T], exact: bool) -> bool {
    if want.is_empty() {
        return !exact || have.is_empty();
    }
    want.iter().all(|w| have.contains(w)) && (!exact || have.iter().all(|h| want.contains(h)))
}

pub fn communities_text(cs: &[u32]) -> String {
    cs.iter().map(|c| super::community_text(*c)).collect::<Vec<_>>().join(" ")
}

pub fn large_text(ls: &[[u32; 3]]) -> String {
    ls.iter().map(|l| format!("{}:{}:{}", l[0], l[1], l[2])).collect::<Vec<_>>().join(" ")
}

pub fn parse_large(s: &str) -> Option<[u32; 3]> {
    let mut it = s.split(':').map(|x| x.parse::<u32>().ok());
    let v = [it.next()??, it.next()??, it.next()??];
    it.next().is_none().then_some(v)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsPathEntry {
    pub action: Action,
    pub pattern: Pattern,
}

/// `bgp as-path access-list NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AsPathList {
    pub entries: BTreeMap<u32, AsPathEntry>,
}

impl AsPathList {
    pub fn next_seq(&self) -> u32 {
        self.entries.keys().next_back().map_or(5, |s| s + 5)
    }

    pub fn permits(&self, a: &PathAttrs) -> bool {
        let text = a.as_path().to_string();
        self.entries.values().find(|e| e.pattern.is_match(&text)).is_some_and(|e| e.action == Action::Permit)
    }
}

impl fmt::Display for CommunityEntry {
    /// `permit 65000:1 65000:2` / `deny ^65000:.*$`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.members {
            Members::Standard(cs) if cs.is_empty() => "internet".to_string(),
            Members::Standard(cs) => communities_text(cs),
            Members::Large(ls) => large_text(ls),
            Members::Expanded(p) => p.text().to_string(),
        };
        write!(f, "{} {what}", self.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::packet::AsPath;
    use crate::bgp::policy::parse_community;

    fn attrs(path: &[u32], cs: &[&str]) -> PathAttrs {
        let cs: Vec<u32> = cs.iter().map(|c| parse_community(c).unwrap()).collect();
        PathAttrs::default().with_as_path(&AsPath::sequence(path)).with_communities(&cs)
    }

    fn entry(action: Action, members: Members) -> CommunityEntry {
        CommunityEntry { action, members }
    }

    #[test]
    fn as_path_regex_with_frr_underscore() {
        let mut l = AsPathList::default();
        let p = |t: &str| Pattern::new(t).unwrap();
        l.entries.insert(5, AsPathEntry { action: Action::Deny, pattern: p("_64512_") });
        l.entries.insert(10, AsPathEntry { action: Action::Permit, pattern: p("^65000(_[0-9]+)*$") });
        assert!(l.permits(&attrs(&[65000], &[])));
        assert!(l.permits(&attrs(&[65000, 3356, 15169], &[])));
        assert!(!l.permits(&attrs(&[65000, 64512], &[])), "denied by the first entry");
        assert!(!l.permits(&attrs(&[650001], &[])), "_ is a delimiter, not any character");
        assert!(!l.permits(&attrs(&[3356], &[])), "no entry matches: deny");
        assert!(Pattern::new("(").is_err());
    }

    #[test]
    fn standard_expanded_and_exact() {
        let mut l = CommunityList::default();
        l.entries.insert(5, entry(Action::Deny, Members::Standard(vec![parse_community("no-export").unwrap()])));
        l.entries.insert(10, entry(Action::Permit, Members::Standard(vec![parse_community("65000:100").unwrap()])));
        assert!(l.permits(&attrs(&[1], &["65000:100", "65000:200"]), false));
        assert!(!l.permits(&attrs(&[1], &["65000:100", "65000:200"]), true), "exact-match");
        assert!(l.permits(&attrs(&[1], &["65000:100"]), true));
        assert!(!l.permits(&attrs(&[1], &["65000:100", "no-export"]), false));
        assert!(!l.permits(&attrs(&[1], &[]), false));
        let mut e = CommunityList::default();
        e.entries.insert(5, entry(Action::Permit, Members::Expanded(Pattern::new("^65000:1[0-9]{2}$").unwrap())));
        assert!(e.permits(&attrs(&[1], &["65000:150"]), false));
        assert!(!e.permits(&attrs(&[1], &["65000:150", "65000:1"]), false));
        assert!(e.permits_one(parse_community("65000:199").unwrap()));
        assert!(!e.permits_one(parse_community("65000:99").unwrap()));
    }

    #[test]
    fn large_lists() {
        let mut l = CommunityList::default();
        l.entries.insert(5, entry(Action::Permit, Members::Large(vec![parse_large("65000:1:2").unwrap()])));
        let mut a = attrs(&[1], &[]);
        assert!(!l.permits(&a, false));
        a.rare_mut().large_communities = vec![[65000, 1, 2], [65000, 3, 4]];
        assert!(l.permits(&a, false));
        assert!(!l.permits(&a, true));
        assert_eq!(parse_large("1:2"), None);
        assert_eq!(parse_large("1:2:3:4"), None);
        assert_eq!(large_text(a.large_communities()), "65000:1:2 65000:3:4");
    }
}
