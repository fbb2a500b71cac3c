//! Route reflection, local-as, weight, community and as-path filtering,
//! and soft reconfiguration, on in-memory LANs (see `tests.rs`).

use super::tests::Lan;
use super::*;
use crate::bgp::rib::{Path, LOCAL};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn paths(lan: &Lan, node: &str, p: &str) -> Vec<Path> {
    lan.node(node).sp.table(Afi::Ipv4).paths(&p.parse().unwrap()).to_vec()
}

fn ibgp(me: &str, peers: &[(&str, bool)], net: Option<&str>, cluster: Option<&str>) -> String {
    let mut s = format!("router bgp 65000\n bgp router-id {me}\n");
    if let Some(c) = cluster {
        s += &format!(" bgp cluster-id {c}\n");
    }
    for (p, _) in peers {
        s += &format!(" neighbor {p} remote-as internal\n");
    }
    s += " address-family ipv4 unicast\n";
    for (p, client) in peers {
        if *client {
            s += &format!("  neighbor {p} route-reflector-client\n");
        }
    }
    if let Some(n) = net {
        s += &format!("  network {n}\n");
    }
    s + " exit-address-family\n"
}

/// RFC 4456: a reflector passes a client's route to other clients and to
/// non-clients, and a non-client's to clients, with ORIGINATOR_ID and
/// CLUSTER_LIST; a second reflector of the same cluster drops the copy
/// the first reflected to it.
#[test]
fn route_reflection() {
    let mut lan = Lan::new();
    let rr_peers = [("192.0.2.1", true), ("192.0.2.2", true), ("192.0.2.3", false), ("192.0.2.253", false)];
    lan.add("rr", "192.0.2.254", &ibgp("192.0.2.254", &rr_peers, None, Some("192.0.2.100")), &[]);
    let rr2_peers = [("192.0.2.1", true), ("192.0.2.254", false)];
    lan.add("rr2", "192.0.2.253", &ibgp("192.0.2.253", &rr2_peers, None, Some("192.0.2.100")), &[]);
    let to_rrs = [("192.0.2.254", false), ("192.0.2.253", false)];
    lan.add("c1", "192.0.2.1", &ibgp("192.0.2.1", &to_rrs, Some("198.51.100.0/24"), None), &["198.51.100.1/24"]);
    lan.add("c2", "192.0.2.2", &ibgp("192.0.2.2", &to_rrs[..1], None, None), &[]);
    lan.add("n3", "192.0.2.3", &ibgp("192.0.2.3", &to_rrs[..1], Some("203.0.113.0/24"), None), &["203.0.113.1/24"]);
    lan.start();
    // Client to client: next hop and the originator kept.
    let p = paths(&lan, "c2", "198.51.100.0/24");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].attrs.next_hop(), Some(ip("192.0.2.1")));
    assert_eq!(p[0].attrs.originator_id(), Some("192.0.2.1".parse().unwrap()));
    assert_eq!(p[0].attrs.cluster_list(), ["192.0.2.100".parse::<std::net::Ipv4Addr>().unwrap()]);
    assert_eq!(lan.hop("c2", "198.51.100.0/24"), Some(vec![ip("192.0.2.1")]));
    // Client to non-client, non-client to clients.
    assert_eq!(paths(&lan, "n3", "198.51.100.0/24").len(), 1);
    assert_eq!(lan.hop("c1", "203.0.113.0/24"), Some(vec![ip("192.0.2.3")]));
    assert_eq!(lan.hop("c2", "203.0.113.0/24"), Some(vec![ip("192.0.2.3")]));
    // rr2 has c1's route from c1 only: rr's reflection carries their
    // common cluster.
    let p = paths(&lan, "rr2", "198.51.100.0/24");
    assert_eq!(p.len(), 1, "{:?}", p);
    assert!(p[0].attrs.cluster_list().is_empty());
    // c1 does not take its own route back (ORIGINATOR_ID) from rr2, which
    // reflects rr's non-client route to its client c1.
    assert!(paths(&lan, "c1", "198.51.100.0/24").iter().all(|p| p.peer == LOCAL));
    // Without clients, iBGP routes are not passed on (RFC 4271).
    lan.reconfigure("rr", &ibgp("192.0.2.254", &rr_peers.map(|(a, _)| (a, false)), None, None));
    assert!(paths(&lan, "c2", "198.51.100.0/24").is_empty());
}

/// `local-as`: the neighbor sees us as another AS, in front of ours
/// unless replace-as; its routes get the alias unless no-prepend.
#[test]
fn local_as() {
    let a = |opts: &str| {
        format!(
            "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n \
             neighbor 192.0.2.2 local-as 65100{opts}\n address-family ipv4 unicast\n  network 198.51.100.0/24\n exit-address-family\n"
        )
    };
    let b = "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65100\n \
             address-family ipv4 unicast\n  network 203.0.113.0/24\n exit-address-family\n";
    let path = |lan: &Lan, node: &str, p: &str| paths(lan, node, p).first().map(|p| p.attrs.as_path().to_string());
    for (opts, to_b, to_a) in [
        ("", "65100 65001", "65100 65002"),
        (" no-prepend", "65100 65001", "65002"),
        (" no-prepend replace-as", "65100", "65002"),
    ] {
        let mut lan = Lan::new();
        lan.add("a", "192.0.2.1", &a(opts), &["198.51.100.1/24"]);
        lan.add("b", "192.0.2.2", b, &["203.0.113.1/24"]);
        lan.start();
        assert_eq!(path(&lan, "b", "198.51.100.0/24").as_deref(), Some(to_b), "local-as 65100{opts}");
        assert_eq!(path(&lan, "a", "203.0.113.0/24").as_deref(), Some(to_a), "local-as 65100{opts}");
    }
}

/// Two upstreams; a route-map in sets weight on one (it wins over a
/// shorter path), filters on a community and on an as-path list; soft
/// reconfiguration re-runs a changed policy over the stored routes with
/// no ROUTE-REFRESH, and lists what was denied in received-routes.
#[test]
fn weight_lists_and_soft_reconfiguration() {
    let upstream = |me: &str, asn: u32, prepend: &str| {
        format!(
            "router bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n no bgp network import-check\n neighbor 192.0.2.10 remote-as 65010\n \
             address-family ipv4 unicast\n  network 198.51.100.0/24\n  network 203.0.113.0/24\n  neighbor 192.0.2.10 route-map OUT out\n \
             exit-address-family\nroute-map OUT permit 10\n match ip address prefix-list BH\n set community 65010:666\n{prepend}\
             route-map OUT permit 20\n{prepend}ip prefix-list BH permit 203.0.113.0/24\n"
        )
    };
    let edge = |weight_from: &str| {
        format!(
            "router bgp 65010\n bgp router-id 192.0.2.10\n neighbor 192.0.2.1 remote-as 65001\n neighbor 192.0.2.2 remote-as 65002\n \
             address-family ipv4 unicast\n  neighbor 192.0.2.1 soft-reconfiguration inbound\n  neighbor 192.0.2.1 route-map IN1 in\n \
             neighbor 192.0.2.2 route-map IN2 in\n exit-address-family\n\
             bgp community-list standard BH permit 65010:666\nbgp as-path access-list VIA2 permit ^65002_\n\
             route-map IN1 deny 5\n match community BH\nroute-map IN1 permit 10\n{}\
             route-map IN2 deny 5\n match community BH\nroute-map IN2 permit 10\n match as-path VIA2\n{}",
            if weight_from == "1" { " set weight 500\n" } else { "" },
            if weight_from == "2" { " set weight 500\n" } else { "" },
        )
    };
    let mut lan = Lan::new();
    lan.add("up1", "192.0.2.1", &upstream("192.0.2.1", 65001, " set as-path prepend 65001 65001\n"), &[]);
    lan.add("up2", "192.0.2.2", &upstream("192.0.2.2", 65002, ""), &[]);
    lan.add("edge", "192.0.2.10", &edge("1"), &[]);
    lan.start();
    // The weighted, longer path wins; the community-tagged one is denied.
    assert_eq!(lan.hop("edge", "198.51.100.0/24"), Some(vec![ip("192.0.2.1")]));
    assert_eq!(lan.hop("edge", "203.0.113.0/24"), None);
    let e = lan.node("edge");
    let up1 = e.sp.peer_at(ip("192.0.2.1")).unwrap();
    assert_eq!(up1.adj_rib_in().len(Afi::Ipv4), 2, "received-routes keeps the denied one");
    assert_eq!(up1.accepted(Afi::Ipv4), 1);
    let (msgs_in, _) = lan.node("up1").sp.peer_at(ip("192.0.2.10")).unwrap().messages();
    // The weight moves to the other upstream: applied again from the
    // Adj-RIB-In for up1 (no message to it), by ROUTE-REFRESH for up2.
    lan.reconfigure("edge", &edge("2"));
    assert_eq!(lan.hop("edge", "198.51.100.0/24"), Some(vec![ip("192.0.2.2")]));
    let log = lan.node("edge").log.join("\n");
    assert!(log.contains("neighbor 192.0.2.1: inbound policy applied again to 2 stored IPv4 Unicast routes"), "{log}");
    assert!(log.contains("neighbor 192.0.2.2: inbound policy changed: route refresh sent"), "{log}");
    let (after, _) = lan.node("up1").sp.peer_at(ip("192.0.2.10")).unwrap().messages();
    assert_eq!(after, msgs_in, "up1 was asked for nothing");
    assert_eq!(lan.node("edge").sp.peers()[0].session().established_count, 1);
}
