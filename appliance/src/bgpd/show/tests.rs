//! Each show on Speakers built in the test (the seed's three routers on
//! one subnet, wired in memory): no daemon, no sockets.

use std::collections::HashMap;
use std::time::Instant;

use ipnet::IpNet;

use super::*;
use crate::bgp::speaker::tests::{seed, Lan};
use crate::bgpd::fib::NotInstalled;

/// The FIB as a test wants it: everything installed but what is listed.
struct Fib(HashMap<IpNet, NotInstalled>);

impl Installed for Fib {
    fn installed(&self, p: &IpNet) -> Result<(), NotInstalled> {
        self.0.get(p).cloned().map_or(Ok(()), Err)
    }
}

fn view<'a>(lan: &'a Lan, name: &str, fib: &'a Fib, since: &'a HashMap<IpNet, Instant>) -> View<'a> {
    View { speaker: &lan.node(name).sp, fib, kernel_since: since, started: lan.now, now: lan.now }
}

/// The whole of a paged show, `budget` prefixes a slice.
fn all(p: &mut dyn Paged, v: &View, budget: usize) -> String {
    let mut out = String::new();
    while let Some(part) = p.next(v, budget) {
        out.push_str(&part);
    }
    out
}

/// The seed with the servers' LAN interface named as in the container.
fn lan() -> Lan {
    let mut lan = seed();
    for name in ["ryzen", "oplx"] {
        let i = lan.idx(name);
        let mut h = lan.nodes[i].sp.host().clone();
        let lan_addr = h.addresses[0];
        h.names.insert(lan_addr, "eth0".into());
        let now = lan.now;
        lan.nodes[i].sp.set_host(now, h);
    }
    lan.settle();
    lan
}

#[test]
fn show_ip_route_bgp_as_in_the_seed() {
    let lan = lan();
    // The home router's default is shadowed by the container's own.
    let fib = Fib([("0.0.0.0/0".parse().unwrap(), NotInstalled::Shadowed)].into());
    let since = HashMap::new();
    let v = view(&lan, "ryzen", &fib, &since);
    let out = all(&mut RouteShow::new(Afi::Ipv4, Some(Proto::Bgp), None, false), &v, 1000);
    let (codes, routes) = out.split_once("\n\n").unwrap();
    assert!(codes.starts_with("Codes: K - kernel route, C - connected, S - static, R - RIP,"));
    assert!(codes.ends_with("       t - trapped, o - offload failure"));
    let lines: Vec<&str> = routes.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("B   0.0.0.0/0 [20/0] via 192.0.2.254, eth0, weight 1, 00:00:0"), "{}", lines[0]);
    assert!(lines[1].starts_with("B>* 203.0.113.0/24 [20/0] via 192.0.2.204, eth0, weight 1, 00:00:0"), "{}", lines[1]);
    // A refused route is `B>r`, JSON says the same.
    let fib = Fib([("203.0.113.0/24".parse().unwrap(), NotInstalled::Rejected("Invalid argument".into()))].into());
    let v = view(&lan, "ryzen", &fib, &since);
    let out = all(&mut RouteShow::new(Afi::Ipv4, Some(Proto::Bgp), None, false), &v, 1000);
    assert!(out.contains("B>r 203.0.113.0/24 [20/0]"), "{out}");
    let js = all(&mut RouteShow::new(Afi::Ipv4, Some(Proto::Bgp), None, true), &v, 1);
    let j: serde_json::Value = serde_json::from_str(&js).unwrap();
    assert_eq!(j["203.0.113.0/24"][0]["installed"], false);
    assert_eq!(j["0.0.0.0/0"][0]["nexthops"][0]["ip"], "192.0.2.254");
}

#[test]
fn show_bgp_summary_text_and_json() {
    let lan = lan();
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ryzen", &fib, &since);
    let out = summary(&v, None, true, false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[1], "IPv4 Unicast Summary (VRF default):");
    assert_eq!(lines[2], "BGP router identifier 192.0.2.203, local AS number 65001 vrf-id 0");
    assert_eq!(
        lines[7],
        "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc"
    );
    let row: Vec<&str> = lines[8].split_whitespace().collect();
    assert_eq!(row[..3], ["192.0.2.254", "4", "65000"]);
    // Up/Down, then what was received (the default and Oplx's network)
    // and sent (our network only: the outbound list).
    assert_eq!(row[row.len() - 4..], ["00:00:05", "2", "1", "N/A"], "{}", lines[8]);
    assert_eq!(lines.last(), Some(&"Total number of neighbors 1"));
    let j: serde_json::Value = serde_json::from_str(&summary(&v, Some(Afi::Ipv4), false, true)).unwrap();
    let p = &j["ipv4Unicast"]["peers"]["192.0.2.254"];
    assert_eq!(
        (p["state"].as_str(), p["pfxRcd"].as_u64(), p["pfxSnt"].as_u64()),
        (Some("Established"), Some(2), Some(1))
    );
    let (rcvd, sent) = lan.node("ryzen").sp.peers()[0].messages();
    assert_eq!((p["msgRcvd"].as_u64(), p["msgSent"].as_u64()), (Some(rcvd), Some(sent)));
    assert!(rcvd >= 4, "OPEN, KEEPALIVE, the UPDATEs, End-of-RIB are messages each: {rcvd}");
}

#[test]
fn show_bgp_neighbors_text_and_json() {
    let lan = lan();
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ryzen", &fib, &since);
    let out = neighbors(&v, None, false).unwrap();
    assert!(out.starts_with("BGP neighbor is 192.0.2.254, remote AS 65000, local AS 65001, external link\n"), "{out}");
    for want in [
        "  BGP version 4, remote router ID 192.0.2.254, local router ID 192.0.2.203",
        "  BGP state = Established, up for 00:00:05",
        "  Hold time is 180, keepalive interval is 60 seconds",
        "    Route refresh: advertised and received",
        "  Incoming update prefix filter list is *allowed-in",
        "  2 accepted prefixes",
        "Local host: 192.0.2.203\nForeign host: 192.0.2.254",
    ] {
        assert!(out.contains(want), "{want:?} not in\n{out}");
    }
    let j: serde_json::Value = serde_json::from_str(&neighbors(&v, None, true).unwrap()).unwrap();
    assert_eq!(j["192.0.2.254"]["bgpState"], "Established");
    assert_eq!(j["192.0.2.254"]["addressFamilyInfo"]["ipv4Unicast"]["sentPrefixCounter"], 1);
    assert_eq!(
        neighbors(&v, Some("192.0.2.9".parse().unwrap()), false).unwrap_err(),
        "% No such neighbor in this view/vrf: 192.0.2.9"
    );
}

#[test]
fn the_bgp_table_pages_to_the_same_text() {
    let lan = lan();
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ix", &fib, &since);
    let whole = all(&mut TableShow::new(Afi::Ipv4, Rows::All, false), &v, 1000);
    assert_eq!(all(&mut TableShow::new(Afi::Ipv4, Rows::All, false), &v, 1), whole);
    assert!(whole.contains("*> 198.51.100.0/24  192.0.2.203              0             0 65001 i"), "{whole}");
    assert!(whole.ends_with("Displayed  2 routes and 2 total paths\n"), "{whole}");
    let version = lan.node("ix").sp.table_version(Afi::Ipv4);
    assert!(version >= 2, "one more at each selection change: {version}");
    assert!(whole.starts_with(&format!("BGP table version is {version}, ")), "{whole}");
    let js = all(&mut TableShow::new(Afi::Ipv4, Rows::All, true), &v, 1);
    let j: serde_json::Value = serde_json::from_str(&js).unwrap();
    assert_eq!(j["routes"]["203.0.113.0/24"][0]["path"], "65002");
    assert_eq!(j["totalRoutes"], 2);
}

/// `show bgp ipv4 unicast PREFIX|ADDRESS`: FRR's entry layout.
#[test]
fn one_prefix_as_frr_prints_it() {
    let lan = lan();
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ryzen", &fib, &since);
    let one = super::prefix_detail(&v, Afi::Ipv4, "203.0.113.0/24".parse().unwrap(), false).unwrap();
    let want = "BGP routing table entry for 203.0.113.0/24, version 0
Paths: (1 available, best #1, table default)
  Not advertised to any peer
  65000 65002
    192.0.2.204 from 192.0.2.254 (192.0.2.254)
      Origin IGP, valid, external, best
      Last update: ";
    assert!(one.starts_with(want), "{one}");
    // An address: the longest prefix that holds it.
    let by_addr = super::prefix_detail(&v, Afi::Ipv4, "203.0.113.9/32".parse().unwrap(), false).unwrap();
    assert!(by_addr.starts_with("BGP routing table entry for 203.0.113.0/24"), "{by_addr}");
    let own = super::prefix_detail(&v, Afi::Ipv4, "198.51.100.0/24".parse().unwrap(), true).unwrap();
    let j: serde_json::Value = serde_json::from_str(&own).unwrap();
    assert_eq!(j["paths"][0]["weight"], 32768, "{j}");
    assert_eq!(j["paths"][0]["peer"]["type"], "local");
    assert_eq!(j["advertisedTo"]["192.0.2.254"], serde_json::json!({}));
    let none = super::prefix_detail(&v, Afi::Ipv4, "192.0.2.128/25".parse().unwrap(), false);
    assert_eq!(none, Err("% Network not in table".to_string()));
}

/// `show bgp peer-group`, as FRR 8.4 prints it.
#[test]
fn show_bgp_peer_group_as_frr_prints_it() {
    let mut lan = Lan::new();
    let ix =
        "router bgp 65000\n bgp router-id 192.0.2.254\n no bgp ebgp-requires-policy\n neighbor SERVERS peer-group\n \
        neighbor SERVERS remote-as external\n neighbor K8S peer-group\n neighbor K8S remote-as 64513\n \
        neighbor 192.0.2.203 peer-group SERVERS\n neighbor 192.0.2.11 peer-group K8S\n \
        address-family ipv6 unicast\n  neighbor K8S activate\n exit-address-family\n";
    lan.add("ix", "192.0.2.254", ix, &[]);
    lan.add("ryzen", "192.0.2.203", &crate::bgp::speaker::tests::server(65001, "192.0.2.203", "198.51.100.0/24"), &[]);
    lan.start();
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ix", &fib, &since);
    assert_eq!(
        peer_groups(&v, None, false).unwrap(),
        "\nBGP peer-group K8S, remote AS 64513\n  Peer-group type is external\n  Configured address-families: IPv4 Unicast; IPv6 Unicast;\n  Peer-group members:\n    192.0.2.11  Active \n\
         \nBGP peer-group SERVERS\n  Peer-group type is external\n  Configured address-families: IPv4 Unicast;\n  Peer-group members:\n    192.0.2.203  Established \n"
    );
    let j: serde_json::Value = serde_json::from_str(&peer_groups(&v, Some("K8S"), true).unwrap()).unwrap();
    assert_eq!(j["K8S"]["remoteAs"], 64513);
    assert_eq!(j["K8S"]["members"]["192.0.2.11"]["status"], "Active");
    assert_eq!(peer_groups(&v, Some("NONE"), false).unwrap_err(), "% No such peer-group NONE");
}

/// `show bgp community-list` and `show bgp as-path-access-list`, text and
/// JSON.
#[test]
fn policy_lists_as_frr_prints_them() {
    let mut lan = Lan::new();
    let conf = "router bgp 65000\n bgp router-id 192.0.2.254\nexit\n\
                bgp community-list standard BLACKHOLE seq 5 permit 65000:666\n\
                bgp community-list 110 seq 5 deny ^65000:1.*$\n\
                bgp as-path access-list SHORT seq 5 permit ^[0-9]+$\n";
    lan.add("ix", "192.0.2.254", conf, &[]);
    let (fib, since) = (Fib(HashMap::new()), HashMap::new());
    let v = view(&lan, "ix", &fib, &since);
    let text = super::community_lists(&v, false, None, false).unwrap();
    assert_eq!(
        text,
        "Community expanded list 110\n    deny ^65000:1.*$\nNamed Community standard list BLACKHOLE\n    permit 65000:666\n"
    );
    let j: serde_json::Value = serde_json::from_str(&super::community_lists(&v, false, None, true).unwrap()).unwrap();
    assert_eq!(j["BLACKHOLE"]["entries"][0]["entry"], "permit 65000:666");
    assert_eq!(j["110"]["expanded"], true);
    let j: serde_json::Value = serde_json::from_str(&super::as_path_lists(&v, None, true).unwrap()).unwrap();
    assert_eq!(j["SHORT"]["entries"][0]["regExp"], "^[0-9]+$");
    assert_eq!(super::as_path_lists(&v, Some("NOPE"), false), Err("% Can't find as-path access-list: NOPE".into()));
}
