//! Policy lists, route-map clauses, static routes and the smaller
//! neighbor options: parsed as FRR writes them, and written back so.

use crate::bgp::config::{parse, render, StaticVia};
use crate::bgp::packet::{AsPath, PathAttrs};
use crate::bgp::policy::{parse_community, Definitions, Subject};

/// What FRR 8.4 writes for an ISP edge's policy.
const EDGE: &str = "\
ip route 192.0.2.0/24 Null0
ip route 198.51.100.0/24 blackhole tag 7 250
ip route 0.0.0.0/0 203.0.113.1
ipv6 route 2001:db8:100::/48 reject
!
router bgp 64500
 bgp router-id 192.0.2.1
 bgp cluster-id 192.0.2.100
 neighbor 203.0.113.1 remote-as 64496
 neighbor 203.0.113.1 local-as 64510 no-prepend replace-as
 neighbor 203.0.113.1 disable-connected-check
 neighbor 203.0.113.1 advertisement-interval 5
 no neighbor 203.0.113.1 enforce-first-as
 neighbor 203.0.113.1 capability extended-nexthop
 neighbor 192.0.2.2 remote-as internal
 !
 address-family ipv4 unicast
  neighbor 192.0.2.2 route-reflector-client
  neighbor 203.0.113.1 route-map TRANSIT-IN in
 exit-address-family
exit
!
bgp as-path access-list BOGON-ASNS seq 5 deny _(0|23456|645[0-1][0-9])_
bgp as-path access-list BOGON-ASNS seq 10 permit .*
bgp community-list standard BLACKHOLE seq 5 permit 64500:666
bgp community-list expanded CUSTOMERS seq 5 permit ^64500:1[0-9][0-9]$
bgp community-list 10 seq 5 permit no-export
bgp large-community-list standard LC seq 5 permit 64500:1:1
!
route-map TRANSIT-IN deny 5
 match community BLACKHOLE
exit
!
route-map TRANSIT-IN permit 10
 description from the transit
 match as-path BOGON-ASNS
 set large-community 64500:2:1 additive
 set weight 100
 set ip next-hop peer-address
 call TAG
 on-match next
exit
!
route-map TRANSIT-IN permit 20
 set comm-list CUSTOMERS delete
exit
!
route-map TAG permit 10
 set tag 77
exit
!
end
";

#[test]
fn an_isp_edge_reads_back() {
    let c = parse("edge.conf", EDGE).unwrap();
    assert_eq!(c.statics.len(), 4);
    assert_eq!(c.statics[0].via, StaticVia::Blackhole(true));
    assert_eq!((c.statics[1].tag, c.statics[1].distance), (Some(7), Some(250)));
    let b = c.bgp.as_ref().unwrap();
    assert_eq!(b.cluster_id, Some("192.0.2.100".parse().unwrap()));
    let n = b.neighbor(&"203.0.113.1".parse().unwrap()).unwrap();
    assert_eq!(n.local_as.map(|l| (l.asn, l.no_prepend, l.replace_as)), Some((64510, true, true)));
    assert!(!n.enforce_first_as && n.disable_connected_check && n.extended_nexthop);
    let out = render(&c);
    assert_eq!(parse("rendered", &out).unwrap(), c, "{out}");
    for line in EDGE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('!')) {
        assert!(out.lines().any(|o| o == line), "`{line}` is not written back as FRR writes it:\n{out}");
    }
}

#[test]
fn the_edge_policy_runs() {
    let c = parse("edge.conf", EDGE).unwrap();
    let map = c.route_map("TRANSIT-IN").unwrap();
    let p = "198.51.100.0/24".parse().unwrap();
    let s = Subject { peer_address: Some("203.0.113.1".parse().unwrap()), ..Subject::prefix(&p) };
    let cs = |l: &[&str]| -> Box<[u32]> { l.iter().map(|c| parse_community(c).unwrap()).collect() };
    let a = PathAttrs::default()
        .with_as_path(&AsPath::sequence(&[64496, 3356]))
        .with_communities(&cs(&["64500:150", "64500:20"]));
    let out = map.apply(&s, &a, &c).unwrap();
    assert_eq!(out.weight(), Some(100));
    assert_eq!(out.rare.as_ref().unwrap().tag, Some(77), "the called map ran");
    assert_eq!(out.large_communities(), [[64500, 2, 1]]);
    assert_eq!(out.communities(), &cs(&["64500:20"])[..], "comm-list delete of entry 20, after on-match next");
    let bogon = a.clone().with_as_path(&AsPath::sequence(&[64496, 23456]));
    let out = map.apply(&s, &bogon, &c).unwrap();
    assert_eq!(out.weight(), None, "entry 10 does not match; 20 still permits");
    let blackholed = a.with_communities(&cs(&["64500:666"]));
    assert!(map.apply(&s, &blackholed, &c).is_none());
}

#[test]
fn list_and_static_mistakes_are_named() {
    let err = |t: &str| parse("x.conf", t).unwrap_err().to_string();
    assert!(err("bgp as-path access-list A permit (\n").contains("is not a regular expression"));
    assert!(err("bgp community-list standard C permit 1:2:3\n").contains("1:2:3 is not a community"));
    assert!(err("bgp large-community-list standard L permit 1:2\n").contains("1:2 is not a large community"));
    assert!(err("bgp community-list standard C permit 1:1\nbgp community-list expanded C permit .*\n")
        .contains("C is a standard list"));
    assert!(err("bgp community-list standard C permit\n").contains("needs what to match"));
    assert!(err("ip route 10.0.0.0/8 2001:db8::1\n").contains("not of the prefix's family"));
    assert!(err("ip route 10.0.0.0 255.0.255.0 Null0\n").contains("is not a network mask"));
    assert!(err("route-map M permit 10\n on-match goto 5\n").contains("must go forward"));
    assert!(err("route-map M permit 10\n match ip address ACL\n").contains("access-lists are not supported"));
    let c = parse("x.conf", "ip route 10.0.0.0 255.0.0.0 Null0\nno ip route 10.0.0.0/8 Null0\n").unwrap();
    assert!(c.statics.is_empty());
    // FRR 6's spellings.
    let c = parse("x.conf", "ip community-list standard C permit 1:1\nip as-path access-list A permit ^1_\n").unwrap();
    assert!(c.community_list("C").is_some() && c.as_path_list("A").is_some());
}
