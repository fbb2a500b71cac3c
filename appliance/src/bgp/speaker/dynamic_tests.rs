//! Dynamic neighbors on the in-memory LAN: the home router with a listen
//! range instead of a neighbor per server.

use super::tests::{server, Lan};
use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ix_conf(limit: &str) -> String {
    format!(
        "router bgp 65000
 bgp router-id 192.0.2.254
 no bgp ebgp-requires-policy
{limit} neighbor SERVERS peer-group
 neighbor SERVERS remote-as external
 bgp listen range 192.0.2.0/25 peer-group SERVERS
 address-family ipv4 unicast
  neighbor SERVERS default-originate
 exit-address-family
exit
"
    )
}

fn lan(limit: &str) -> Lan {
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", &ix_conf(limit), &[]);
    lan.add("s1", "192.0.2.1", &server(65001, "192.0.2.1", "198.51.100.0/24"), &["198.51.100.1/24"]);
    lan.add("s2", "192.0.2.2", &server(65002, "192.0.2.2", "203.0.113.0/24"), &["203.0.113.1/24"]);
    // Outside the range: refused.
    lan.add("s3", "192.0.2.200", &server(65003, "192.0.2.200", "203.0.113.128/25"), &["203.0.113.129/25"]);
    lan.start();
    lan
}

#[test]
fn servers_in_a_listen_range_come_and_go() {
    let mut lan = lan("");
    let ix = &lan.node("ix").sp;
    assert_eq!(ix.dynamic_count(), 2);
    assert!(ix.peer_at(ip("192.0.2.1")).is_some_and(|p| p.is_dynamic() && p.is_up()));
    assert!(ix.peer_at(ip("192.0.2.200")).is_none(), "outside the range");
    assert_eq!(lan.hop("s1", "203.0.113.0/24"), Some(vec![ip("192.0.2.2")]));
    assert_eq!(lan.hop("s2", "0.0.0.0/0"), Some(vec![ip("192.0.2.254")]), "the group's default-originate");
    assert_eq!(lan.hop("s3", "0.0.0.0/0"), None);
    // A server that leaves takes its neighbor and its routes with it.
    let s2 = server(65002, "192.0.2.2", "203.0.113.0/24");
    lan.reconfigure(
        "s2",
        &s2.replace(
            " neighbor 192.0.2.254 remote-as 65000\n",
            " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.254 shutdown\n",
        ),
    );
    let ix = &lan.node("ix").sp;
    assert_eq!(ix.dynamic_count(), 1);
    assert!(ix.peer_at(ip("192.0.2.2")).is_none());
    assert_eq!(lan.hop("ix", "203.0.113.0/24"), None);
    assert_eq!(lan.hop("s1", "203.0.113.0/24"), None);
    // It comes back in the same slot: no slot per visit.
    let slots = lan.node("ix").sp.peers().len();
    lan.reconfigure("s2", &s2);
    lan.advance(60);
    assert_eq!(lan.hop("s1", "203.0.113.0/24"), Some(vec![ip("192.0.2.2")]));
    assert_eq!(lan.node("ix").sp.peers().len(), slots);
    // A change to the group reaches the dynamic neighbors; removing the
    // range ends their sessions.
    lan.reconfigure("ix", &ix_conf("").replace("  neighbor SERVERS default-originate\n", ""));
    assert_eq!(lan.hop("s1", "0.0.0.0/0"), None);
    lan.reconfigure("ix", &ix_conf("").replace(" bgp listen range 192.0.2.0/25 peer-group SERVERS\n", ""));
    assert_eq!(lan.node("ix").sp.dynamic_count(), 0);
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None);
}

#[test]
fn the_listen_limit_holds_others_out() {
    let lan = lan(" bgp listen limit 1\n");
    let ix = &lan.node("ix").sp;
    assert_eq!(ix.dynamic_count(), 1);
    assert_eq!(ix.configured().filter(|p| p.is_up()).count(), 1, "one of the two servers only");
    let now = lan.now;
    let cfg = crate::bgp::config::parse("ix", &ix_conf_with_limit()).unwrap();
    let mut sp = Speaker::new(cfg, super::tests::host("192.0.2.254", &[]), now).unwrap();
    assert!(sp.accept(now, ip("192.0.2.1"), 0, ip("192.0.2.254")).is_ok());
    assert_eq!(sp.accept(now, ip("192.0.2.2"), 0, ip("192.0.2.254")), Err(Refusal::Limit(1)));
    assert_eq!(sp.accept(now, ip("192.0.2.200"), 0, ip("192.0.2.254")), Err(Refusal::NotNeighbor));
    assert_eq!(sp.peers().len(), 1, "a refused connection costs no slot");
}

fn ix_conf_with_limit() -> String {
    ix_conf(" bgp listen limit 1\n")
}

#[test]
fn a_connection_that_closes_early_frees_its_place() {
    let now = std::time::Instant::now();
    let cfg = crate::bgp::config::parse("ix", &ix_conf_with_limit()).unwrap();
    let mut sp = Speaker::new(cfg, super::tests::host("192.0.2.254", &[]), now).unwrap();
    let c = sp.accept(now, ip("192.0.2.1"), 0, ip("192.0.2.254")).unwrap();
    sp.closed(now, c, "Connection reset by peer");
    assert_eq!(sp.dynamic_count(), 0);
    assert!(sp.accept(now, ip("192.0.2.2"), 0, ip("192.0.2.254")).is_ok(), "the place is free again");
    // A group without remote-as makes no neighbor, and says why.
    let cfg =
        crate::bgp::config::parse("ix", &ix_conf("").replace(" neighbor SERVERS remote-as external\n", "")).unwrap();
    let mut sp = Speaker::new(cfg, super::tests::host("192.0.2.254", &[]), now).unwrap();
    assert_eq!(sp.accept(now, ip("192.0.2.1"), 0, ip("192.0.2.254")), Err(Refusal::NoRemoteAs("SERVERS".into())));
}

/// A link-local range (FRR refuses one): each dynamic neighbor is tied to
/// the interface its connection came over, so one fe80:: address on two
/// interfaces is two neighbors, and its routes go out of its own.
#[test]
fn a_link_local_range_ties_each_neighbor_to_its_interface() {
    let now = std::time::Instant::now();
    let conf = ix_conf("").replace("192.0.2.0/25", "fe80::/64");
    let cfg = crate::bgp::config::parse("ix", &conf).unwrap();
    let mut sp = Speaker::new(cfg, super::tests::host("192.0.2.254", &[]), now).unwrap();
    let c1 = sp.accept(now, ip("fe80::5"), 3, ip("fe80::1")).unwrap();
    let c2 = sp.accept(now, ip("fe80::5"), 4, ip("fe80::1")).unwrap();
    assert_ne!(c1, c2);
    assert_eq!(sp.dynamic_count(), 2);
    let mut on: Vec<u32> = sp.configured().map(|p| p.ifindex()).collect();
    on.sort();
    assert_eq!(on, vec![3, 4]);
    assert_eq!(
        sp.accept(now, ip("fe80::5"), 3, ip("fe80::1")).map(|_| sp.dynamic_count()),
        Ok(2),
        "the same one again"
    );
}
