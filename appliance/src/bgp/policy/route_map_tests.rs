use super::super::lists::{AsPathEntry, CommunityEntry, Members, Pattern};
use super::super::PrefixListEntry;
use super::*;
use crate::bgp::packet::AsPath;

#[derive(Default)]
struct Defs {
    prefix_lists: BTreeMap<(Afi, String), PrefixList>,
    community_lists: BTreeMap<String, CommunityList>,
    as_path_lists: BTreeMap<String, AsPathList>,
    route_maps: BTreeMap<String, RouteMap>,
}

impl Definitions for Defs {
    fn prefix_list(&self, afi: Afi, name: &str) -> Option<&PrefixList> {
        self.prefix_lists.get(&(afi, name.to_string()))
    }
    fn community_list(&self, name: &str) -> Option<&CommunityList> {
        self.community_lists.get(name)
    }
    fn large_community_list(&self, _: &str) -> Option<&CommunityList> {
        None
    }
    fn as_path_list(&self, name: &str) -> Option<&AsPathList> {
        self.as_path_lists.get(name)
    }
    fn route_map(&self, name: &str) -> Option<&RouteMap> {
        self.route_maps.get(name)
    }
}

fn entry(action: Action, matches: Vec<Match>, sets: Vec<Set>) -> RouteMapEntry {
    RouteMapEntry { matches, sets, ..RouteMapEntry::new(action) }
}

fn prefix(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn match_and_set() {
    let mut d = Defs::default();
    let mut l = PrefixList::default();
    l.entries.insert(
        5,
        PrefixListEntry { action: Action::Permit, prefix: Some(prefix("10.1.0.0/16")), ge: None, le: Some(24) },
    );
    d.prefix_lists.insert((Afi::Ipv4, "mine".to_string()), l);
    let mut rm = RouteMap::default();
    rm.entries.insert(
        10,
        entry(
            Action::Permit,
            vec![Match::PrefixList(Afi::Ipv4, "mine".into())],
            vec![
                Set::LocalPreference(200),
                Set::Metric(5),
                Set::Community(vec![parse_community("65001:100").unwrap()], true),
                Set::AsPathPrepend(vec![65001, 65001]),
            ],
        ),
    );
    rm.entries.insert(20, entry(Action::Deny, vec![], vec![]));
    let attrs = PathAttrs::default().with_as_path(&AsPath::sequence(&[65000])).with_communities(&[1]);
    let p = prefix("10.1.2.0/24");
    let out = rm.apply(&Subject::prefix(&p), &attrs, &d).unwrap();
    assert_eq!(out.local_pref.get(), Some(200));
    assert_eq!(out.med.get(), Some(5));
    assert_eq!(out.communities(), [1, 65001 << 16 | 100]);
    assert_eq!(out.as_path().to_string(), "65001 65001 65000");
    let other = prefix("10.2.0.0/24");
    assert!(rm.apply(&Subject::prefix(&other), &attrs, &d).is_none());
    assert!(RouteMap::default().apply(&Subject::prefix(&other), &attrs, &d).is_none());
    assert_eq!(community_text(65001 << 16 | 100), "65001:100");
    assert_eq!(parse_community("70000:1"), None);
}

/// Community and as-path matches, `on-match next`, `call`, and the sets
/// only a route-map of this kind reaches: weight, next hop, large
/// communities.
#[test]
fn lists_on_match_and_call() {
    let mut d = Defs::default();
    let mut cl = CommunityList::default();
    cl.entries.insert(
        5,
        CommunityEntry {
            action: Action::Permit,
            members: Members::Standard(vec![parse_community("65000:666").unwrap()]),
        },
    );
    d.community_lists.insert("BLACKHOLE".into(), cl);
    let mut al = AsPathList::default();
    al.entries.insert(5, AsPathEntry { action: Action::Permit, pattern: Pattern::new("^65000_").unwrap() });
    d.as_path_lists.insert("FROM-65000".into(), al);
    let mut tagger = RouteMap::default();
    tagger.entries.insert(10, entry(Action::Permit, vec![], vec![Set::LargeCommunity(vec![[65001, 1, 1]], true)]));
    d.route_maps.insert("TAG".into(), tagger);
    let mut rm = RouteMap::default();
    rm.entries.insert(5, entry(Action::Deny, vec![Match::Community("BLACKHOLE".into(), false)], vec![]));
    let mut e = entry(Action::Permit, vec![Match::AsPath("FROM-65000".into())], vec![Set::Weight(200)]);
    e.on_match = Some(OnMatch::Next);
    rm.entries.insert(10, e);
    let mut e = entry(Action::Permit, vec![], vec![Set::NextHop(NextHop::PeerAddress)]);
    e.call = Some("TAG".into());
    rm.entries.insert(20, e);
    let p = prefix("198.51.100.0/24");
    let s = Subject { peer_address: Some("192.0.2.1".parse().unwrap()), ..Subject::prefix(&p) };
    let a = PathAttrs::default().with_as_path(&AsPath::sequence(&[65000, 3356]));
    let out = rm.apply(&s, &a, &d).unwrap();
    assert_eq!(out.rare.as_ref().unwrap().weight, Some(200), "entry 10 applied");
    assert_eq!(out.next_hop(), Some("192.0.2.1".parse().unwrap()), "and then entry 20");
    assert_eq!(out.large_communities(), [[65001, 1, 1]], "and the map it calls");
    let other = PathAttrs::default().with_as_path(&AsPath::sequence(&[3356]));
    let out = rm.apply(&s, &other, &d).unwrap();
    assert!(out.rare.as_ref().unwrap().weight.is_none(), "entry 10 did not match");
    let bh = a.clone().with_communities(&[parse_community("65000:666").unwrap()]);
    assert!(rm.apply(&s, &bh, &d).is_none());
    // A map that calls itself denies instead of looping.
    let mut looping = RouteMap::default();
    let mut e = entry(Action::Permit, vec![], vec![]);
    e.call = Some("LOOP".into());
    looping.entries.insert(10, e);
    d.route_maps.insert("LOOP".into(), looping.clone());
    assert!(looping.apply(&s, &a, &d).is_none());
}
