//! The FRR dialect's behaviours against real peers in network namespaces:
//! bgpbox as a route reflector for FRR clients, community and as-path
//! filtering of what BIRD sends with soft reconfiguration inbound, and
//! static routes in the kernel and redistributed to FRR. Documentation
//! prefixes only. Needs root: run through scripts/test.

mod common;

use std::time::Duration;

use common::netns::*;
use common::*;

fn eventually(what: &str, ctx: impl Fn() -> String, mut f: impl FnMut() -> bool) {
    if wait_for(Duration::from_secs(30), || f().then_some(())).is_none() {
        panic!("timed out waiting for: {what}\n{}", ctx());
    }
}

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

/// BFD with FRR 8.4's bfdd (`neighbor X bfd` on both sides): the sessions
/// come up, FRR frozen (a server losing power) is seen in well under a
/// second and takes the BGP session and its routes down at once, before
/// any hold timer; thawed, BFD and then BGP come back.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn bfd_with_frr() {
    require_root();
    let (na, nb) = gr_pair("bfd");
    let frr = Frr::start(
        &nb,
        "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n \
         neighbor 192.0.2.1 bfd\n address-family ipv4 unicast\n  network 203.0.113.0/24\n exit-address-family\n",
    );
    frr.start_bfdd(
        &nb,
        "bfd\n peer 192.0.2.1\n  detect-multiplier 3\n  receive-interval 100\n  transmit-interval 100\n exit\nexit\n",
    );
    let a = Bgpbox::start(
        &na,
        "bfd-a",
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n \
         neighbor 192.0.2.2 bfd profile fast\n address-family ipv4 unicast\n  network 198.51.100.0/24\n exit-address-family\nexit\n\
         bfd\n profile fast\n  detect-multiplier 3\n  receive-interval 100\n  transmit-interval 100\n exit\nexit\n",
    );
    let ctx =
        || format!("bgpbox:\n{}\n{}\nFRR:\n{}", a.log_text(), a.show("show bfd peers"), frr.vtysh("show bfd peers"));
    eventually("BFD up on both sides", ctx, || {
        a.json("show bfd peers json")[0]["status"] == "up" && frr.vtysh("show bfd peers").contains("Status: up")
    });
    eventually("FRR's route", ctx, || a.next_hop("ipv4", "203.0.113.0/24").is_some());
    let brief = a.show("show bfd peers brief");
    assert!(brief.contains("Session count: 1") && brief.contains("192.0.2.2") && brief.contains(" up "), "{brief}");
    // Frozen: no more BFD, no more keepalives; the TCP session stays.
    frr.signal("bfdd", "-STOP");
    frr.signal("bgpd", "-STOP");
    let t = std::time::Instant::now();
    eventually("the route gone with BFD", ctx, || a.next_hop("ipv4", "203.0.113.0/24").is_none());
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "BFD took {took:?}");
    let log = a.log_text();
    assert!(log.contains("neighbor 192.0.2.2: BFD down (control detection time expired)"), "{log}");
    assert!(log.contains("Cease/BFD Down sent"), "{log}");
    frr.signal("bfdd", "-CONT");
    frr.signal("bgpd", "-CONT");
    eventually("BFD and BGP back", ctx, || {
        a.established("192.0.2.2") && a.next_hop("ipv4", "203.0.113.0/24").is_some()
    });
    assert!(a.log_text().contains("neighbor 192.0.2.2: BFD up: the session starts again"));
}
