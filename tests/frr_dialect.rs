//! The FRR dialect's behaviours against real peers in network namespaces:
//! bgpbox as a route reflector for FRR clients, community and as-path
//! filtering of what BIRD sends with soft reconfiguration inbound, and
//! static routes in the kernel and redistributed to FRR. Documentation
//! prefixes only. Needs root: run through scripts/test.

mod common;

use std::time::Duration;

use common::netns::*;
use common::*;

/// One iBGP client of the reflector: FRR with a VM network.
fn client(me: &str, net: &str) -> String {
    format!(
        "router bgp 65000\n bgp router-id {me}\n neighbor 192.0.2.254 remote-as internal\n neighbor 192.0.2.254 timers 3 9\n \
         address-family ipv4 unicast\n  network {net}\n exit-address-family\n"
    )
}

/// RFC 4456 with FRR 8.4 as the clients: each gets the other's network
/// with the other as next hop, ORIGINATOR_ID and CLUSTER_LIST as FRR
/// shows them; a client's own route reflected back is not taken.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn route_reflector_for_frr_clients() {
    require_root();
    let mut sw = Switch::named("rrsw");
    let (rr, c1, c2) = (Ns::new("rr"), Ns::new("rrc1"), Ns::new("rrc2"));
    sw.attach(&rr, "eth0", &["192.0.2.254/24"]);
    sw.attach(&c1, "eth0", &["192.0.2.1/24"]);
    sw.attach(&c2, "eth0", &["192.0.2.2/24"]);
    c1.addr("vm", "198.51.100.1/24");
    c2.addr("vm", "203.0.113.1/24");
    let f1 = Frr::start(&c1, &client("192.0.2.1", "198.51.100.0/24"));
    let f2 = Frr::start(&c2, &client("192.0.2.2", "203.0.113.0/24"));
    let b = Bgpbox::start(
        &rr,
        "rr",
        "router bgp 65000
 bgp router-id 192.0.2.254
 bgp cluster-id 192.0.2.100
 neighbor CLIENTS peer-group
 neighbor CLIENTS remote-as internal
 neighbor CLIENTS timers 3 9
 neighbor 192.0.2.1 peer-group CLIENTS
 neighbor 192.0.2.2 peer-group CLIENTS
 !
 address-family ipv4 unicast
  neighbor CLIENTS route-reflector-client
 exit-address-family
exit
",
    );
    let ctx = || {
        format!(
            "bgpbox:\n{}\n{}\nFRR c2:\n{}",
            b.log_text(),
            b.show("show bgp ipv4 unicast"),
            f2.vtysh("show bgp ipv4 unicast 198.51.100.0/24")
        )
    };
    eventually("both clients up", ctx, || b.established("192.0.2.1") && b.established("192.0.2.2"));
    eventually("c1's network at c2", ctx, || {
        f2.json("show bgp ipv4 unicast 198.51.100.0/24 json")["paths"][0]["originatorId"] == "192.0.2.1"
    });
    let p = &f2.json("show bgp ipv4 unicast 198.51.100.0/24 json")["paths"][0];
    assert_eq!(p["clusterList"]["list"][0], "192.0.2.100", "{p}");
    assert_eq!(p["nexthops"][0]["ip"], "192.0.2.1", "the client's next hop is kept: {p}");
    eventually("c2's network at c1, in its kernel", ctx, || {
        c1.routes(false).lines().any(|l| l.starts_with("203.0.113.0/24 via 192.0.2.2"))
    });
    // The reflector's own FIB has both, via each client.
    assert_eq!(b.next_hop("ipv4", "198.51.100.0/24").as_deref(), Some("192.0.2.1"));
    assert_eq!(b.next_hop("ipv4", "203.0.113.0/24").as_deref(), Some("192.0.2.2"));
    // c1 has only its own route for its network: ours came back to it
    // with its ORIGINATOR_ID and FRR, like bgpbox, drops such a route.
    let own = f1.json("show bgp ipv4 unicast 198.51.100.0/24 json");
    assert_eq!(own["paths"].as_array().map(|a| a.len()), Some(1), "{own}");
}

/// BIRD sends routes with communities, large communities and prepends;
/// bgpbox's route-map in denies by community-list, keeps by as-path list,
/// tags with a large community. With soft-reconfiguration inbound the
/// denied routes are in received-routes, and a changed route-map is run
/// again over them with no ROUTE-REFRESH to BIRD.
#[test]
#[ignore = "needs root, namespaces and BIRD: run scripts/test"]
fn community_and_as_path_filtering_of_bird() {
    require_root();
    let (na, nb) = (Ns::new("cla"), Ns::new("clb"));
    veth(&na, "eth0", &["192.0.2.1/24"], &nb, "eth0", &["192.0.2.2/24"]);
    let bird = Bird::start(
        &nb,
        "router id 192.0.2.2;
protocol device {}
protocol static s4 { ipv4;
  route 203.0.113.0/26 blackhole { bgp_community.add((65002,666)); };
  route 203.0.113.64/26 blackhole { bgp_large_community.add((65002,1,1)); };
  route 203.0.113.128/26 blackhole { bgp_path.prepend(64999); };
  route 203.0.113.192/26 blackhole;
}
protocol bgp a4 { local 192.0.2.2 as 65002; neighbor 192.0.2.1 as 65001; hold time 9;
  ipv4 { import all; export where source = RTS_STATIC; }; }
",
    );
    let conf = |deny: &str| {
        format!(
            "router bgp 65001
 bgp router-id 192.0.2.1
 neighbor 192.0.2.2 remote-as 65002
 neighbor 192.0.2.2 timers 3 9
 !
 address-family ipv4 unicast
  neighbor 192.0.2.2 soft-reconfiguration inbound
  neighbor 192.0.2.2 route-map FROM-BIRD in
 exit-address-family
exit
!
bgp as-path access-list DIRECT seq 5 permit ^65002$
bgp community-list standard BLACKHOLE seq 5 permit 65002:666
!
route-map FROM-BIRD {deny} 5
 match community BLACKHOLE
exit
!
route-map FROM-BIRD permit 10
 match as-path DIRECT
 set large-community 65001:9:9 additive
exit
"
        )
    };
    let a = Bgpbox::start(&na, "cl-a", &conf("deny"));
    let ctx = || {
        format!(
            "bgpbox:\n{}\n{}\nBIRD:\n{}",
            a.log_text(),
            a.show("show bgp ipv4 unicast"),
            bird.birdc("show protocols all a4")
        )
    };
    eventually("BIRD's routes through the policy", ctx, || a.next_hop("ipv4", "203.0.113.64/26").is_some());
    let table = a.json("show bgp ipv4 unicast json")["routes"].clone();
    let have = |p: &str| table[p].is_array();
    assert!(!have("203.0.113.0/26"), "community-list BLACKHOLE denies: {table}");
    assert!(!have("203.0.113.128/26"), "the as-path list lets only ^65002$ through: {table}");
    assert!(have("203.0.113.64/26") && have("203.0.113.192/26"), "{table}");
    let detail = a.show("show bgp ipv4 unicast 203.0.113.64/26");
    assert!(detail.contains("65002:1:1 65001:9:9"), "the large community is added: {detail}");
    let received = a.show("show bgp ipv4 unicast neighbors 192.0.2.2 received-routes");
    assert!(received.contains("Total number of prefixes 4"), "all four, before policy: {received}");
    // The blackhole entry becomes a permit: run again over the stored
    // routes, nothing asked of BIRD.
    a.vtysh(&["configure terminal", "route-map FROM-BIRD permit 5", "end"]).unwrap();
    eventually("the community route accepted", ctx, || a.next_hop("ipv4", "203.0.113.0/26").is_some());
    assert!(a.log_text().contains("inbound policy applied again to 4 stored IPv4 Unicast routes"), "{}", ctx());
    assert!(!a.log_text().contains("route refresh sent"), "{}", ctx());
    // `clear bgp X soft in` does the same.
    a.vtysh(&["clear bgp 192.0.2.2 soft in"]).unwrap();
    eventually("applied again on clear", ctx, || a.log_text().matches("applied again to 4 stored").count() == 2);
}

/// `ip route` in bgpd.conf: in the kernel as FRR's zebra puts them
/// (proto static, metric 20), in `show ip route static`, redistributed to
/// FRR; removed from the kernel when removed from the config, at once and
/// across a restart.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn static_routes_in_the_kernel_and_to_frr() {
    require_root();
    let (na, nb) = (Ns::new("sta"), Ns::new("stb"));
    veth(&na, "eth0", &["192.0.2.1/24"], &nb, "eth0", &["192.0.2.2/24"]);
    let frr = Frr::start(
        &nb,
        "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n",
    );
    let conf = "ip route 203.0.113.0/24 Null0
ip route 198.51.100.0/24 192.0.2.2 tag 5
!
router bgp 65001
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 neighbor 192.0.2.2 remote-as 65002
 neighbor 192.0.2.2 timers 3 9
 !
 address-family ipv4 unicast
  redistribute static
 exit-address-family
exit
";
    let mut a = Bgpbox::start(&na, "st-a", conf);
    let ctx = || format!("bgpbox:\n{}\nkernel:\n{}", a.log_text(), na.routes(false));
    eventually("the static routes in the kernel", ctx, || {
        let k = na.routes(false);
        k.contains("blackhole 203.0.113.0/24 proto static metric 20")
            && k.contains("198.51.100.0/24 via 192.0.2.2 dev eth0 proto static metric 20")
    });
    let shown = a.show("show ip route static");
    assert!(shown.contains("S>* 203.0.113.0/24 [1/0] unreachable (blackhole), weight 1"), "{shown}");
    assert!(shown.contains("S>* 198.51.100.0/24 [1/0] via 192.0.2.2, eth0, weight 1"), "{shown}");
    let at_frr = || frr.json("show bgp ipv4 unicast json")["routes"].clone();
    eventually("the blackhole's prefix at FRR", ctx, || at_frr()["203.0.113.0/24"][0]["origin"] == "incomplete");
    // Removed in vtysh: gone from the kernel and from FRR.
    a.vtysh(&["configure terminal", "no ip route 203.0.113.0/24 Null0", "end", "write memory"]).unwrap();
    eventually("the blackhole gone", ctx, || !na.routes(false).contains("203.0.113.0/24"));
    eventually("withdrawn from FRR", ctx, || !at_frr()["203.0.113.0/24"].is_array());
    // A restart with a config that lost the other one takes it away too;
    // netsetup's routes (metric 0) are not bgpd's to remove.
    na.ip(&["route", "add", "192.0.2.128/25", "via", "192.0.2.2", "proto", "static"]);
    a.stop();
    let saved = std::fs::read_to_string(&a.conf).unwrap();
    assert!(!saved.contains("203.0.113.0/24") && saved.contains("ip route 198.51.100.0/24 192.0.2.2 tag 5"), "{saved}");
    std::fs::write(&a.conf, saved.replace("ip route 198.51.100.0/24 192.0.2.2 tag 5\n", "")).unwrap();
    let a = Bgpbox::start_file(&bgpbox_bin(), &na, "st-a", &a.conf.clone());
    let ctx = || format!("bgpbox:\n{}\nkernel:\n{}", a.log_text(), na.routes(false));
    eventually("the stale static removed at start", ctx, || !na.routes(false).contains("198.51.100.0/24"));
    assert!(na.routes(false).contains("192.0.2.128/25 via 192.0.2.2"), "{}", ctx());
}

fn gr_pair(tag: &str) -> (Ns, Ns) {
    let (na, nb) = (Ns::new(&format!("{tag}a")), Ns::new(&format!("{tag}b")));
    veth(&na, "eth0", &["192.0.2.1/24"], &nb, "eth0", &["192.0.2.2/24"]);
    na.addr("vm", "198.51.100.1/24");
    nb.addr("vm", "203.0.113.1/24");
    (na, nb)
}

fn frr_gr_conf() -> String {
    "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n bgp graceful-restart\n \
     bgp graceful-restart preserve-fw-state\n neighbor 192.0.2.1 remote-as 65001\n neighbor 192.0.2.1 timers 3 9\n \
     address-family ipv4 unicast\n  network 203.0.113.0/24\n exit-address-family\n"
        .to_string()
}

fn bgpbox_gr_conf(restart: bool) -> String {
    format!(
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n{} neighbor 192.0.2.2 remote-as 65002\n \
         neighbor 192.0.2.2 timers 3 9\n address-family ipv4 unicast\n  network 198.51.100.0/24\n exit-address-family\n",
        if restart { " bgp graceful-restart\n" } else { "" }
    )
}

/// RFC 4724 with FRR 8.4 restarting (`bgp graceful-restart`, bgpd killed
/// and started again): bgpbox, a helper by default, keeps its
/// route in the kernel, shown stale (`S>`), until FRR is back.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn bgpbox_helps_frr_restart() {
    require_root();
    let (na, nb) = gr_pair("grh");
    let frr = Frr::start(&nb, &frr_gr_conf());
    let a = Bgpbox::start(&na, "grh-a", &bgpbox_gr_conf(false));
    let ctx = || format!("bgpbox:\n{}\n{}", a.log_text(), a.show("show bgp ipv4 unicast"));
    eventually("FRR's route", ctx, || a.next_hop("ipv4", "203.0.113.0/24").as_deref() == Some("192.0.2.2"));
    frr.kill_bgpd();
    eventually("the route kept stale", ctx, || a.show("show bgp ipv4 unicast").contains("S> 203.0.113.0/24"));
    assert!(na.routes(false).contains("203.0.113.0/24 via 192.0.2.2"), "still in the kernel: {}", na.routes(false));
    assert!(a.log_text().contains("neighbor 192.0.2.2: graceful restart: 1 routes kept (stale) for up to 120s"));
    frr.start_bgpd(&nb, &[]);
    eventually("fresh again", ctx, || {
        a.established("192.0.2.2") && a.show("show bgp ipv4 unicast").contains("*> 203.0.113.0/24")
    });
    assert!(!a.log_text().contains("routes removed"), "the route never left: {}", ctx());
}

/// bgpbox restarting (`bgp graceful-restart`): stopped with SIGTERM, it
/// closes without a Cease and leaves its FIB; FRR (a helper by default)
/// keeps its route, stale, until bgpbox is back and has sent its table.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn frr_helps_bgpbox_restart() {
    require_root();
    let (na, nb) = gr_pair("grr");
    let frr = Frr::start(&nb, &frr_gr_conf());
    let mut a = Bgpbox::start(&na, "grr-a", &bgpbox_gr_conf(true));
    let at_frr = || frr.json("show bgp ipv4 unicast 198.51.100.0/24 json")["paths"][0].clone();
    let ctx = || format!("bgpbox:\n{}\nFRR:\n{}", a.log_text(), frr.vtysh("show bgp ipv4 unicast 198.51.100.0/24"));
    eventually("bgpbox's route at FRR", ctx, || at_frr()["valid"] == true);
    eventually("FRR's route in bgpbox's kernel", ctx, || na.routes(false).contains("203.0.113.0/24"));
    a.stop();
    let log = a.log_text();
    assert!(log.contains("stopping for a graceful restart"), "{log}");
    assert!(na.routes(false).contains("203.0.113.0/24"), "the FIB stays: {}", na.routes(false));
    let ctx = || format!("bgpbox:\n{log}\nFRR:\n{}", frr.vtysh("show bgp ipv4 unicast 198.51.100.0/24"));
    eventually("stale at FRR", ctx, || at_frr()["stale"] == true);
    let conf = a.conf.clone();
    let b = Bgpbox::start_file(&bgpbox_bin(), &na, "grr-a", &conf);
    let ctx = || format!("bgpbox:\n{}\nFRR:\n{}", b.log_text(), frr.vtysh("show bgp ipv4 unicast 198.51.100.0/24"));
    eventually("fresh at FRR", ctx, || at_frr()["valid"] == true && at_frr()["stale"].is_null());
    let neighbor = frr.vtysh("show bgp neighbors 192.0.2.1");
    assert!(neighbor.contains("Graceful Restart"), "{neighbor}");
}

/// Drops every packet of `ns`'s eth0, both ways, while the link stays
/// up: a tc filter redirects them into a spare veth that goes nowhere
/// (this kernel has no netem and no nftables).
fn blackhole(ns: &Ns, on: bool) {
    if on {
        ns.ip(&["link", "add", "bh0", "type", "veth", "peer", "name", "bh1"]);
        ns.ip(&["link", "set", "bh0", "up"]);
        ns.ip(&["link", "set", "bh1", "up"]);
        ns.exec(&["tc", "qdisc", "add", "dev", "eth0", "clsact"]);
        for dir in ["ingress", "egress"] {
            let f = ["tc", "filter", "add", "dev", "eth0", dir, "protocol", "all", "u32", "match", "u32", "0", "0"];
            let mut a: Vec<&str> = f.to_vec();
            a.extend(["action", "mirred", "egress", "redirect", "dev", "bh0"]);
            ns.exec(&a);
        }
    } else {
        ns.exec(&["tc", "qdisc", "del", "dev", "eth0", "clsact"]);
        ns.ip(&["link", "del", "bh0"]);
    }
}

fn bfd_pair(tag: &str, bfd: bool) -> (Ns, Ns, Frr, Bgpbox) {
    let (na, nb) = gr_pair(tag);
    let with = if bfd { " neighbor 192.0.2.1 bfd\n" } else { "" };
    let frr = Frr::start(
        &nb,
        &format!(
            "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n \
             neighbor 192.0.2.1 timers 3 9\n{with} address-family ipv4 unicast\n  network 203.0.113.0/24\n exit-address-family\n"
        ),
    );
    if bfd {
        frr.start_bfdd(&nb, "bfd\n peer 192.0.2.1\n exit\nexit\n");
    }
    let with = if bfd { " neighbor 192.0.2.2 bfd\n" } else { "" };
    let a = Bgpbox::start(
        &na,
        &format!("{tag}-a"),
        &format!(
            "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n \
             neighbor 192.0.2.2 timers 3 9\n{with} address-family ipv4 unicast\n  network 198.51.100.0/24\n exit-address-family\n"
        ),
    );
    (na, nb, frr, a)
}

/// How long after the drop 203.0.113.0/24 leaves bgpbox's kernel table.
fn time_to_withdraw(na: &Ns, nb: &Ns, limit: Duration) -> Option<Duration> {
    blackhole(na, true);
    blackhole(nb, true);
    let t = std::time::Instant::now();
    wait_for(limit, || (!na.routes(false).contains("203.0.113.0/24")).then(|| t.elapsed()))
}

/// BFD with FRR 8.4's bfdd, 3 x 300 ms on both sides: the link dropping
/// every packet while it stays up takes the BGP session and its routes
/// down in under a second (the test prints the time); without BFD the
/// same drop waits for the hold time. With the link back, BFD and then
/// BGP come back.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn bfd_with_frr() {
    require_root();
    let (na, nb, frr, a) = bfd_pair("bfd", true);
    let ctx =
        || format!("bgpbox:\n{}\n{}\nFRR:\n{}", a.log_text(), a.show("show bfd peers"), frr.vtysh("show bfd peers"));
    eventually("BFD up on both sides", ctx, || {
        a.json("show bfd peers json")[0]["status"] == "up" && frr.vtysh("show bfd peers").contains("Status: up")
    });
    let peers = frr.vtysh("show bfd peers");
    assert!(peers.contains("Receive interval: 300ms") && peers.contains("Detect-multiplier: 3"), "{peers}");
    eventually("FRR's route", ctx, || na.routes(false).contains("203.0.113.0/24"));
    let brief = a.show("show bfd peers brief");
    assert!(brief.contains("Session count: 1") && brief.contains("192.0.2.2") && brief.contains(" up "), "{brief}");
    let took = time_to_withdraw(&na, &nb, Duration::from_secs(5)).unwrap_or_else(|| panic!("not withdrawn\n{}", ctx()));
    println!("BFD: the route left the FIB {took:?} after the drop");
    assert!(took < Duration::from_secs(1), "BFD took {took:?}\n{}", ctx());
    let log = a.log_text();
    assert!(log.contains("neighbor 192.0.2.2: BFD down (control detection time expired)"), "{log}");
    assert!(log.contains("Cease/BFD Down sent"), "{log}");
    blackhole(&na, false);
    blackhole(&nb, false);
    eventually("BFD and BGP back", ctx, || a.established("192.0.2.2") && na.routes(false).contains("203.0.113.0/24"));
    assert!(a.log_text().contains("neighbor 192.0.2.2: BFD up: the session starts again"));
}

/// The same drop without BFD: the route stays until the hold time (9 s).
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn without_bfd_the_hold_time() {
    require_root();
    let (na, nb, _frr, a) = bfd_pair("nobfd", false);
    let ctx = || format!("bgpbox:\n{}", a.log_text());
    eventually("FRR's route", ctx, || na.routes(false).contains("203.0.113.0/24"));
    let took =
        time_to_withdraw(&na, &nb, Duration::from_secs(15)).unwrap_or_else(|| panic!("not withdrawn\n{}", ctx()));
    println!("without BFD: the route left the FIB {took:?} after the drop");
    assert!(took > Duration::from_secs(5), "{took:?}");
    assert!(a.log_text().contains("Hold Timer Expired"), "{}", ctx());
}

/// RFC 4724 end to end: bgpbox (`bgp graceful-restart`) between two FRR
/// routers, a ping crossing it from one to the other's network; `kill -9`
/// of its bgpd and a new one: both FRRs keep its routes as stale (their
/// json says so), nothing is withdrawn, no ping is lost, and once it is
/// back nothing is stale.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn kill_9_with_a_ping_across() {
    require_root();
    let (x, a, b) = (Ns::new("gpx"), Ns::new("gpa"), Ns::new("gpb"));
    veth(&x, "eth0", &["198.51.100.2/25"], &a, "ethx", &["198.51.100.1/25"]);
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    x.addr("vm", "198.51.100.129/25");
    b.addr("vm", "203.0.113.1/24");
    a.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    let frr = |me: &str, asn: u32, peer: &str, net: &str| {
        format!(
            "router bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor {peer} remote-as 65001\n \
             neighbor {peer} timers 3 9\n address-family ipv4 unicast\n  network {net}\n exit-address-family\n"
        )
    };
    let fx = Frr::start(&x, &frr("198.51.100.2", 65003, "198.51.100.1", "198.51.100.128/25"));
    let _fb = Frr::start(&b, &frr("192.0.2.2", 65002, "192.0.2.1", "203.0.113.0/24"));
    let conf = "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n bgp graceful-restart\n \
                neighbor 198.51.100.2 remote-as 65003\n neighbor 198.51.100.2 timers 3 9\n \
                neighbor 192.0.2.2 remote-as 65002\n neighbor 192.0.2.2 timers 3 9\n";
    let old = Bgpbox::start(&a, "gp-a", conf);
    let at_x = || fx.json("show bgp ipv4 unicast 203.0.113.0/24 json")["paths"][0].clone();
    let ctx = || format!("bgpbox:\n{}\nFRR x:\n{}", old.log_text(), fx.vtysh("show bgp ipv4 unicast"));
    eventually("the far network at x", ctx, || at_x()["valid"] == true && x.routes(false).contains("203.0.113.0/24"));
    eventually("and back at b", ctx, || b.routes(false).contains("198.51.100.128/25"));
    let ping = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &x.name,
            "ping",
            "-q",
            "-i",
            "0.2",
            "-c",
            "50",
            "-W",
            "1",
            "-I",
            "198.51.100.129",
            "203.0.113.1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let conf_path = old.conf.clone();
    old.signal("-KILL");
    eventually("stale at x", ctx, || at_x()["stale"] == true);
    assert!(x.routes(false).contains("203.0.113.0/24"), "nothing withdrawn: {}", x.routes(false));
    std::thread::sleep(Duration::from_secs(2));
    let new = Bgpbox::start_file(&bgpbox_bin(), &a, "gp-a", &conf_path);
    let ctx = || format!("bgpbox:\n{}\nFRR x:\n{}", new.log_text(), fx.vtysh("show bgp ipv4 unicast"));
    eventually("fresh at x", ctx, || at_x()["valid"] == true && at_x()["stale"].is_null());
    let out = String::from_utf8(ping.wait_with_output().unwrap().stdout).unwrap();
    println!("{out}");
    assert!(out.contains("50 packets transmitted, 50 received"), "pings lost across the restart:\n{out}\n{}", ctx());
}

/// IPv6 next hops as FRR installs them: a route that came with a global
/// and a link-local next hop goes by the link-local one, on the link it
/// came over; FRR's same fe80:: address on two links is two next hops.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn link_local_next_hops_keep_their_interface() {
    require_root();
    let (na, nb) = (Ns::new("lla"), Ns::new("llb"));
    veth(&na, "eth0", &["2001:db8::1/64"], &nb, "eth0", &["2001:db8::2/64"]);
    veth(&na, "eth1", &["2001:db8:1::1/64"], &nb, "eth1", &["2001:db8:1::2/64"]);
    // One MAC on both of FRR's links: one fe80:: address on both.
    let mac = nb.ip(&["-br", "link", "show", "eth0"]).split_whitespace().nth(2).unwrap().to_string();
    nb.ip(&["link", "set", "eth1", "down"]);
    nb.ip(&["link", "set", "eth1", "address", &mac]);
    nb.ip(&["link", "set", "eth1", "up"]);
    // Down took its address with it.
    nb.ip(&["-6", "addr", "add", "2001:db8:1::2/64", "dev", "eth1", "nodad"]);
    nb.addr("vm", "2001:db8:b::1/64");
    let neighbor = |a: &str| format!(" neighbor {a} remote-as 65001\n neighbor {a} timers 3 9\n");
    let _frr = Frr::start(
        &nb,
        &format!(
            "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n{}{} address-family ipv6 unicast\n  \
             network 2001:db8:b::/64\n  neighbor 2001:db8::1 activate\n  neighbor 2001:db8:1::1 activate\n exit-address-family\n",
            neighbor("2001:db8::1"),
            neighbor("2001:db8:1::1")
        ),
    );
    let a = Bgpbox::start(
        &na,
        "ll-a",
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n \
         neighbor 2001:db8::2 remote-as 65002\n neighbor 2001:db8:1::2 remote-as 65002\n address-family ipv6 unicast\n  \
         maximum-paths 2\n  neighbor 2001:db8::2 activate\n  neighbor 2001:db8:1::2 activate\n exit-address-family\n",
    );
    let ctx =
        || format!("bgpbox:\n{}\n{}\nkernel:\n{}", a.log_text(), a.show("show bgp ipv6 unicast"), na.routes(true));
    let ll = nb.ip(&["-6", "-br", "addr", "show", "eth0", "scope", "link"]);
    let ll = ll.split_whitespace().nth(2).unwrap().split('/').next().unwrap().to_string();
    assert!(nb.ip(&["-6", "-br", "addr", "show", "eth1", "scope", "link"]).contains(&ll));
    eventually("both links' next hops in the kernel", ctx, || {
        let k = na.routes(true);
        k.contains(&format!("nexthop via {ll} dev eth0")) && k.contains(&format!("nexthop via {ll} dev eth1"))
    });
    let table = a.show("show bgp ipv6 unicast");
    assert!(table.contains(&ll), "FRR's table shows the link-local next hop used: {table}");
    let route = a.show("show ipv6 route bgp");
    assert!(route.contains(&format!("via {ll}, eth0")) && route.contains(&format!("via {ll}, eth1")), "{route}");
    let detail = a.show("show bgp ipv6 unicast 2001:db8:b::/64");
    assert!(detail.contains(&format!("({ll}) (used)")), "{detail}");
}
