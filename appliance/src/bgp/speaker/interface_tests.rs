//! Interface neighbors on the in-memory LAN: two routers on one link with
//! nothing but IPv6 link-local addresses (`neighbor eth0 interface`),
//! IPv4 carried over IPv6 next hops (RFC 8950), the link going down and
//! coming back.

use super::tests::Lan;
use super::*;

const ETH0: u32 = 7;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A host with one link, `eth0`, and only a link-local address on it.
fn link_local_host(ll: &str, up: bool) -> Host {
    let net: IpNet = format!("{ll}/64").parse().unwrap();
    let mut h = Host::default();
    h.addresses.push(net);
    h.names.insert(net, "eth0".into());
    h.links.insert("eth0".into(), (ETH0, up));
    h
}

fn conf(asn: u32, id: &str, v4: &str, v6: &str) -> String {
    format!(
        "router bgp {asn}\n bgp router-id {id}\n no bgp ebgp-requires-policy\n neighbor eth0 interface remote-as external\n \
         address-family ipv4 unicast\n  network {v4}\n exit-address-family\n address-family ipv6 unicast\n  network {v6}\n  \
         neighbor eth0 activate\n exit-address-family\n"
    )
}

fn pair() -> Lan {
    let mut lan = Lan::new();
    let (a, b) = (
        conf(65001, "192.0.2.1", "198.51.100.0/24", "2001:db8:1::/48"),
        conf(65002, "192.0.2.2", "203.0.113.0/24", "2001:db8:2::/48"),
    );
    // `network` needs the prefix on the host (import check): add it.
    let mut ha = link_local_host("fe80::a", true);
    ha.routes.extend(["198.51.100.0/24".parse::<IpNet>().unwrap(), "2001:db8:1::/48".parse().unwrap()]);
    let mut hb = link_local_host("fe80::b", true);
    hb.routes.extend(["203.0.113.0/24".parse::<IpNet>().unwrap(), "2001:db8:2::/48".parse().unwrap()]);
    lan.add_host("a", "fe80::a", &a, ha);
    lan.add_host("b", "fe80::b", &b, hb);
    lan.settle();
    lan
}

fn fib(lan: &Lan, node: &str, afi: Afi) -> Vec<(IpNet, Hops)> {
    lan.node(node).sp.fib_routes(afi).collect()
}

#[test]
fn the_peer_is_found_on_the_link_and_ipv4_goes_over_ipv6_next_hops() {
    let mut lan = pair();
    // Nobody knows an address: both sides wait.
    assert!(lan.links.is_empty());
    let p = lan.node("a").sp.peer(&"eth0".parse().unwrap()).unwrap();
    assert_eq!((p.remote(), p.ifindex()), (None, ETH0));
    assert_eq!(lan.node("a").sp.unnumbered_links(), vec![(ETH0, "eth0".to_string())]);

    // b's router advertisement reaches a: a connects, b learns a from
    // the connection itself.
    let now = lan.now;
    let i = lan.idx("a");
    lan.nodes[i].sp.neighbor_found(now, ETH0, ip("fe80::b"));
    lan.settle();
    for (node, peer) in [("a", "fe80::b"), ("b", "fe80::a")] {
        let p = lan.node(node).sp.peer(&"eth0".parse().unwrap()).unwrap();
        assert!(p.is_up(), "{node}: {:?}", lan.node(node).log);
        assert_eq!(p.remote(), Some(ip(peer)));
        assert!(p.negotiated().unwrap().extended_nexthop, "{node}: RFC 8950 negotiated");
        assert_eq!(p.negotiated().unwrap().families, vec![Afi::Ipv4, Afi::Ipv6]);
    }
    // The IPv4 route goes by b's link-local address on eth0.
    let want4 = vec![("203.0.113.0/24".parse().unwrap(), Hops::One((ip("fe80::b"), ETH0)))];
    assert_eq!(fib(&lan, "a", Afi::Ipv4), want4);
    let want6 = vec![("2001:db8:2::/48".parse().unwrap(), Hops::One((ip("fe80::b"), ETH0)))];
    assert_eq!(fib(&lan, "a", Afi::Ipv6), want6);
    let best = lan.node("b").sp.table(Afi::Ipv4).selected(&"198.51.100.0/24".parse().unwrap())[0].attrs.clone();
    assert_eq!((best.next_hop(), best.link_local()), (Some(ip("fe80::a")), Some("fe80::a".parse().unwrap())));
}

#[test]
fn the_link_going_down_ends_the_session_and_its_return_starts_it_again() {
    let mut lan = pair();
    let (now, i) = (lan.now, lan.idx("a"));
    lan.nodes[i].sp.neighbor_found(now, ETH0, ip("fe80::b"));
    lan.settle();
    assert_eq!(fib(&lan, "a", Afi::Ipv4).len(), 1);

    // eth0 goes down under a: the session ends at once, the routes go, the
    // peer's address is forgotten; b sees the connection close.
    let mut down = lan.node("a").sp.host().clone();
    down.links.insert("eth0".into(), (ETH0, false));
    lan.nodes[i].sp.set_host(now, down);
    lan.settle();
    let p = lan.node("a").sp.peer(&"eth0".parse().unwrap()).unwrap();
    assert!(!p.is_up() && p.remote().is_none(), "{:?}", lan.node("a").log);
    assert!(fib(&lan, "a", Afi::Ipv4).is_empty() && fib(&lan, "a", Afi::Ipv6).is_empty());
    assert!(lan.node("a").sp.unnumbered_links().is_empty(), "no advertisements on a dead link");
    assert!(lan.node("a").log.iter().any(|l| l.contains("eth0: its interface went down")));
    // An advertisement heard meanwhile (from another interface) changes nothing.
    lan.nodes[i].sp.neighbor_found(now, ETH0 + 1, ip("fe80::b"));
    lan.settle();
    assert!(lan.links.is_empty());

    // Back up: found again, up again, routes back.
    let up = link_local_host("fe80::a", true);
    let mut up2 = lan.node("a").sp.host().clone();
    up2.links = up.links;
    lan.nodes[i].sp.set_host(now, up2);
    lan.nodes[i].sp.neighbor_found(now, ETH0, ip("fe80::b"));
    lan.settle();
    lan.advance(5);
    assert!(lan.node("a").sp.peer(&"eth0".parse().unwrap()).unwrap().is_up(), "{:?}", lan.node("a").log);
    assert_eq!(fib(&lan, "a", Afi::Ipv4).len(), 1);
}

#[test]
fn a_connection_from_another_link_is_not_the_interface_neighbor() {
    let mut lan = pair();
    let now = lan.now;
    let i = lan.idx("a");
    // fe80::c on interface 9: not eth0's peer, and in no listen range.
    assert_eq!(lan.nodes[i].sp.accept(now, ip("fe80::c"), 9, ip("fe80::a")), Err(Refusal::NotNeighbor));
    // On eth0 it is (and becomes the peer).
    assert!(lan.nodes[i].sp.accept(now, ip("fe80::c"), ETH0, ip("fe80::a")).is_ok());
    assert_eq!(lan.node("a").sp.peer(&"eth0".parse().unwrap()).unwrap().remote(), Some(ip("fe80::c")));
}

/// A link-local neighbor bound to no interface does not take a connection
/// that came over an interface neighbor's interface.
#[test]
fn the_interface_neighbor_comes_before_an_unbound_link_local_one() {
    let mut lan = Lan::new();
    let conf = conf(65001, "192.0.2.1", "198.51.100.0/24", "2001:db8:1::/48")
        .replace(" neighbor eth0 interface", " neighbor fe80::c remote-as 65003\n neighbor eth0 interface");
    lan.add_host("a", "fe80::a", &conf, link_local_host("fe80::a", true));
    let (now, i) = (lan.now, lan.idx("a"));
    let c = lan.nodes[i].sp.accept(now, ip("fe80::c"), ETH0, ip("fe80::a")).unwrap();
    let sp = &lan.node("a").sp;
    assert_eq!(sp.peer(&"eth0".parse().unwrap()).unwrap().remote(), Some(ip("fe80::c")));
    assert_eq!(sp.conn_peer(c).unwrap().name().to_string(), "eth0");
    assert_eq!(sp.peer_on(ip("fe80::c"), ETH0).unwrap().name().to_string(), "eth0");
}

/// FRR's first way to the peer: the other end of a /31 (or /30) on the
/// interface, over IPv4; `v6only` waits for the link-local one.
#[test]
fn a_31_on_the_interface_names_the_peer_unless_v6only() {
    for (v6only, want) in [(false, Some(ip("192.0.2.1"))), (true, None)] {
        let mut lan = Lan::new();
        let mut conf = conf(65001, "192.0.2.10", "198.51.100.0/24", "2001:db8:1::/48");
        if v6only {
            conf = conf.replace("interface remote-as", "interface v6only remote-as");
        }
        let mut h = link_local_host("fe80::a", true);
        let net: IpNet = "192.0.2.0/31".parse().unwrap();
        h.addresses.push(net);
        h.names.insert(net, "eth0".into());
        lan.add_host("a", "192.0.2.0", &conf, h);
        lan.settle();
        assert_eq!(lan.node("a").sp.peer(&"eth0".parse().unwrap()).unwrap().remote(), want, "v6only {v6only}");
    }
}
