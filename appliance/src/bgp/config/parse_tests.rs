//! The seed's configs, errors with line numbers, and the write-back.

use super::*;
use crate::bgp::config::render;
use crate::bgp::fsm::RemoteAs;
use ipnet::IpNet;

const RYZEN: &str = include_str!("../../../../tests/data/seed/RyzenRouter.conf");
const OPLX: &str = include_str!("../../../../tests/data/seed/router-oplx.conf");
const IX: &str = include_str!("../../../../tests/data/seed/IX2105.conf");

#[test]
fn seed_configs_load_as_written() {
    let c = parse("RyzenRouter.conf", RYZEN).unwrap();
    let b = c.bgp.as_ref().unwrap();
    assert_eq!(b.asn, 65001);
    assert_eq!(b.router_id, Some("192.168.2.203".parse().unwrap()));
    assert!(b.ebgp_requires_policy);
    let n = b.neighbor(&"192.168.2.254".parse().unwrap()).unwrap();
    assert_eq!(n.remote_as, RemoteAs::Asn(65000));
    let f = n.family(Afi::Ipv4, true);
    assert!(f.activate);
    assert_eq!(f.prefix_list_in.as_deref(), Some("allowed-in"));
    assert_eq!(f.prefix_list_out.as_deref(), Some("allowed-adv"));
    assert_eq!(b.family(Afi::Ipv4).networks, vec!["10.1.0.0/24".parse::<IpNet>().unwrap()]);
    let adv = &c.prefix_lists[&(Afi::Ipv4, "allowed-adv".to_string())];
    assert!(adv.permits(&"10.1.0.0/24".parse().unwrap()));
    assert!(!adv.permits(&"10.2.0.0/24".parse().unwrap()));

    let c = parse("router-oplx.conf", OPLX).unwrap();
    assert_eq!(c.bgp.as_ref().unwrap().router_id, None);

    let c = parse("IX2105.conf", IX).unwrap();
    let b = c.bgp.unwrap();
    assert!(!b.ebgp_requires_policy);
    assert_eq!(b.neighbors.len(), 2);
    assert!(b.neighbors.iter().all(|n| n.family(Afi::Ipv4, true).default_originate));
}

#[test]
fn running_config_reads_back_the_same() {
    for (name, text) in [("r", RYZEN), ("o", OPLX), ("i", IX)] {
        let c = parse(name, text).unwrap();
        let out = render(&c);
        assert_eq!(parse("rendered", &out).unwrap(), c, "{out}");
    }
    let out = render(&parse("r", RYZEN).unwrap());
    // The seed's lines appear as the seed writes them.
    for line in RYZEN.lines() {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn everything_else_frr_writes() {
    let text = "\
frr version 8.4.4
frr defaults traditional
hostname r1
log stdout
service integrated-vtysh-config
!
router bgp 4200000001
 bgp log-neighbor-changes
 no bgp default ipv4-unicast
 neighbor 2001:db8::1 remote-as external
 neighbor 2001:db8::1 description the upstream, with spaces
 neighbor 2001:db8::1 timers 10 30
 neighbor 2001:db8::1 timers connect 5
 neighbor 2001:db8::1 password s3cret
 neighbor 2001:db8::1 ttl-security hops 1
 neighbor 2001:db8::1 update-source eth0
 neighbor 192.0.2.9 remote-as internal
 neighbor 192.0.2.9 passive
 neighbor 192.0.2.9 shutdown message down for maintenance
 !
 address-family ipv6 unicast
  network 2001:db8:1::/48
  neighbor 2001:db8::1 activate
  neighbor 2001:db8::1 route-map UP in
  neighbor 2001:db8::1 route-map UP out
  neighbor 2001:db8::1 next-hop-self
  neighbor 2001:db8::1 maximum-prefix 1000
  maximum-paths 4
 exit-address-family
exit
!
ipv6 prefix-list mine seq 5 permit 2001:db8:1::/48 le 64
ip prefix-list v4 permit 10.0.0.0/8 ge 16 le 24
ip prefix-list v4 deny any
!
route-map UP permit 10
 match ipv6 address prefix-list mine
 set local-preference 200
 set metric 7
 set community 65000:1 no-export additive
 set as-path prepend 4200000001 4200000001
exit
!
route-map UP deny 20
exit
!
line vty
!
end
";
    let c = parse("full.conf", text).unwrap();
    let b = c.bgp.as_ref().unwrap();
    assert_eq!(b.asn, 4_200_000_001);
    let n = b.neighbor(&"2001:db8::1".parse().unwrap()).unwrap();
    assert_eq!(n.description.as_deref(), Some("the upstream, with spaces"));
    assert_eq!(n.timers, Some((10, 30)));
    assert_eq!(n.password.as_deref(), Some("s3cret"));
    assert!(!n.family(Afi::Ipv4, b.default_ipv4_unicast).activate);
    assert!(n.family(Afi::Ipv6, b.default_ipv4_unicast).activate);
    let i = b.neighbor(&"192.0.2.9".parse().unwrap()).unwrap();
    assert_eq!(i.shutdown.as_deref(), Some("down for maintenance"));
    assert_eq!(c.prefix_lists[&(Afi::Ipv4, "v4".to_string())].entries.keys().copied().collect::<Vec<_>>(), vec![5, 10]);
    assert_eq!(c.route_maps["UP"].entries.len(), 2);
    let again = parse("again", &render(&c)).unwrap();
    assert_eq!(again, c, "{}", render(&c));
}

#[track_caller]
fn error(text: &str) -> String {
    parse("bgpd.conf", text).unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_text() {
    assert_eq!(
        error("router bgp 65001\n neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 frobnicate\n"),
        "bgpd.conf:3: % Invalid input: unknown neighbor option `frobnicate`: neighbor 192.0.2.1 frobnicate"
    );
    assert_eq!(error("!\nrouter ospf\n"), "bgpd.conf:2: % Not supported by bgpbox: OSPF: router ospf");
    assert_eq!(error("!\nfrobnicate\n"), "bgpd.conf:2: % Unknown command: frobnicate");
    assert_eq!(
        error("router bgp 65001\n neighbor 192.0.2.1 description x\n"),
        "bgpd.conf:2: % Invalid input: neighbor 192.0.2.1: specify remote-as or peer-group first (`neighbor 192.0.2.1 remote-as ASN`): neighbor 192.0.2.1 description x"
    );
    assert_eq!(
        error("router bgp 70000000000\n"),
        "bgpd.conf:1: % Invalid input: 70000000000 is not an AS number (1 to 4294967295): router bgp 70000000000"
    );
    assert!(error("ip prefix-list x seq 5 permit 10.1.0.1/24\n").contains("did you mean 10.1.0.0/24?"));
    assert!(error("ip prefix-list x permit 10.0.0.0/8 le 4\n").contains("le 4 must be from 8 to 32"));
    assert!(error("ip prefix-list x permit 2001:db8::/32\n").contains("does not belong in an `ip prefix-list`"));
    assert!(error("router bgp 1\n address-family ipv4 unicast\n  network 2001:db8::/32\n").contains(":3:"));
    assert!(error("router bgp 1\nrouter bgp 2\n").contains("already running as AS 1"));
    assert!(error("router bgp 1\n neighbor 192.0.2.1 remote-as 2\n neighbor 192.0.2.1 timers 10 2\n")
        .contains("hold time 2"));
    assert!(error("route-map X permit 10\n match source-protocol bgp\n").contains(":2:"));
}

#[test]
fn every_bad_line_is_named_at_once() {
    let text = "router bgp 65001\n neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 frobnicate\n address-family ipv4 unicast\n  network 10.0.0.1/8\n exit-address-family\nexit\nip prefix-list x permit 2001:db8::/32\n";
    let e = parse("bgpd.conf", text).unwrap_err();
    let lines: Vec<usize> = e.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 5, 8], "{e}");
    assert_eq!(e.to_string().lines().count(), 3);
    assert!(e
        .to_string()
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("bgpd.conf:5: % Invalid input: 10.0.0.1/8 has host bits set"));
}

/// A zebra-era paste: FRR's vty and its other daemons' lines are accepted,
/// each with a note that says why it means nothing here.
#[test]
fn lines_of_frr_s_other_daemons_are_noted_not_refused() {
    let text = "\
hostname r1
password zebra
enable password zebra
service integrated-vtysh-config
service password-encryption
debug bgp updates
debug zebra rib
agentx
ip forwarding
ipv6 forwarding
ip nht resolve-via-default
!
interface eth0
 description uplink
 ip address 192.0.2.1/24
 ipv6 nd suppress-ra
exit
!
router bgp 65001
 no bgp hard-administrative-reset
 no bgp graceful-restart notification
 bgp graceful-restart
 neighbor 192.0.2.2 remote-as 65002
exit
!
line vty
 exec-timeout 0 0
!
end
";
    let p = parse_noted("zebra.conf", text).unwrap();
    assert_eq!(p.config.hostname.as_deref(), Some("r1"));
    assert_eq!(p.config.bgp.as_ref().unwrap().neighbors.len(), 1);
    // One note a line: the interface block's three lines too. `debug
    // bgp updates` is a switch bgpbox has; zebra's is not.
    assert_eq!(p.notes.len(), 17, "{:#?}", p.notes);
    assert!(p.notes.iter().any(|n| n.contains("debug zebra rib (not a switch bgpbox has")), "{:#?}", p.notes);
    assert_eq!(crate::bgp::config::debug_lines(&p.config.logging.debugs), vec!["debug bgp updates"]);
    assert!(p.notes[0].starts_with("zebra.conf:2: ignored: password zebra (vty passwords"), "{}", p.notes[0]);
    assert!(
        p.notes.iter().any(|n| n.contains("zebra.conf:13: ignored: interface eth0 (interface blocks")),
        "{:#?}",
        p.notes
    );
    // Graceful restart is bgpbox's own; its notification knob is not.
    assert!(p.notes.iter().any(|n| n.starts_with("zebra.conf:21: ignored: no bgp graceful-restart notification")));
    assert_eq!(p.config.bgp.as_ref().unwrap().graceful_restart, crate::bgp::config::GrMode::Restart);
    // None of it is written back.
    let out = render(&p.config);
    assert!(!out.contains("password") && !out.contains("interface"), "{out}");
}

/// Features bgpbox does not have are named; a block's lines go with it.
#[test]
fn unsupported_features_are_named_once_per_block() {
    let text = "\
router ospf
 ospf router-id 192.0.2.1
 network 192.0.2.0/24 area 0
exit
!
router bgp 65001
 neighbor 192.0.2.2 remote-as 65002
 rpki polling_period 300
 !
 address-family l2vpn evpn
  neighbor 192.0.2.2 activate
  advertise-all-vni
 exit-address-family
exit
!
vrf red
 vni 100
exit-vrf
!
ip route 0.0.0.0/0 192.0.2.254 table 10
";
    let e = parse("dc.conf", text).unwrap_err();
    let got: Vec<String> = e.0.iter().map(|e| format!("{}: {}", e.line, e.message)).collect();
    assert_eq!(
        got,
        vec![
            "1: % Not supported by bgpbox: OSPF",
            "8: % Not supported by bgpbox: RPKI",
            "10: % Not supported by bgpbox: address-family l2vpn evpn (EVPN)",
            "16: % Not supported by bgpbox: VRFs",
            "20: % Invalid input: table: not supported by bgpbox in static routes",
        ]
    );
}

#[test]
fn router_wide_knobs_read_back() {
    let text = "router bgp 65001\n bgp deterministic-med\n bgp bestpath compare-routerid\n bgp bestpath as-path multipath-relax\n timers bgp 3 9\n neighbor 192.0.2.2 remote-as 65002\nexit\n";
    let c = parse("k.conf", text).unwrap();
    let b = c.bgp.as_ref().unwrap();
    assert!(b.multipath_relax && b.compare_routerid);
    assert_eq!((b.deterministic_med, b.timers), (Some(true), Some((3, 9))));
    let out = render(&c);
    for l in text.lines().filter(|l| l.starts_with(" bgp") || l.starts_with(" timers")) {
        assert!(out.contains(l), "{l:?} not in\n{out}");
    }
    assert_eq!(parse("again", &out).unwrap(), c);
    assert!(parse("k", "router bgp 1\n timers bgp 10 2\n").unwrap_err().to_string().contains("hold time 2"));
}

/// Kubernetes nodes in a peer-group, as MetalLB and Cilium setups write
/// it: the group's settings apply to its members, a member's own win, and
/// the running config writes the group form back.
#[test]
fn peer_groups_apply_to_members_and_read_back() {
    let text = "\
router bgp 64512
 bgp router-id 192.0.2.1
 neighbor K8S peer-group
 neighbor K8S remote-as 64513
 neighbor K8S password s3cret
 neighbor K8S timers 3 9
 neighbor 192.0.2.11 peer-group K8S
 neighbor 192.0.2.12 peer-group K8S
 neighbor 192.0.2.12 description the odd one
 neighbor 192.0.2.12 timers 10 30
 !
 address-family ipv4 unicast
  neighbor K8S route-map IN in
  neighbor K8S route-map OUT out
  neighbor K8S soft-reconfiguration inbound
  neighbor 192.0.2.12 route-map OUT2 out
 exit-address-family
exit
";
    let c = parse("k8s.conf", text).unwrap();
    let b = c.bgp.as_ref().unwrap();
    let eff = b.effective_neighbors();
    assert_eq!(eff.len(), 2);
    for n in &eff {
        assert_eq!(n.remote_as, RemoteAs::Asn(64513));
        assert_eq!(n.password.as_deref(), Some("s3cret"));
        assert_eq!(n.family(Afi::Ipv4, true).route_map_in.as_deref(), Some("IN"));
        assert!(n.family(Afi::Ipv4, true).activate);
    }
    assert_eq!((eff[0].timers, eff[1].timers), (Some((3, 9)), Some((10, 30))));
    assert_eq!(eff[0].family(Afi::Ipv4, true).route_map_out.as_deref(), Some("OUT"));
    assert_eq!(eff[1].family(Afi::Ipv4, true).route_map_out.as_deref(), Some("OUT2"));
    assert_eq!(eff[1].description.as_deref(), Some("the odd one"));
    let out = render(&c);
    for l in [
        " neighbor K8S peer-group",
        " neighbor K8S remote-as 64513",
        " neighbor K8S timers 3 9",
        " neighbor 192.0.2.11 peer-group K8S",
        " neighbor 192.0.2.12 timers 10 30",
        "  neighbor K8S route-map IN in",
        "  neighbor 192.0.2.12 route-map OUT2 out",
    ] {
        assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
    }
    // Members write only what is their own.
    assert!(!out.contains("neighbor 192.0.2.11 remote-as") && !out.contains("neighbor 192.0.2.11 timers"), "{out}");
    let again = parse("again", &out).unwrap();
    assert_eq!(again.bgp.as_ref().unwrap().effective_neighbors(), eff, "{out}");
    assert_eq!(render(&again), out);
}

#[test]
fn peer_group_mistakes_are_named() {
    let e = error("router bgp 1\n neighbor UPSTREAM remote-as 2\n");
    assert!(e.contains("UPSTREAM is neither a neighbor address, an interface neighbor nor a peer-group (create the group with `neighbor UPSTREAM peer-group`"), "{e}");
    let e = error("router bgp 1\n neighbor 192.0.2.1 peer-group G\n");
    assert!(e.contains("no peer-group G"), "{e}");
    let e = error("router bgp 1\n neighbor G peer-group\n neighbor 192.0.2.1 peer-group G\n");
    assert!(e.contains("peer-group G has no remote-as"), "{e}");
    let e = error("router bgp 1\n neighbor G peer-group\n neighbor G remote-as 2\n neighbor 192.0.2.1 remote-as 3\n neighbor 192.0.2.1 peer-group G\n");
    assert!(e.contains("has its own remote-as, and peer-group G another"), "{e}");
    let e = error("router bgp 1\n neighbor G peer-group\n neighbor G remote-as 2\n neighbor 192.0.2.1 peer-group G\n no neighbor G peer-group\n");
    assert!(e.contains("peer-group G has members (192.0.2.1): unbind them first"), "{e}");
    // Leaving the group: a member without a remote-as of its own goes, one
    // with its own stays.
    let c = parse("g", "router bgp 1\n neighbor G peer-group\n neighbor G remote-as 2\n neighbor 192.0.2.1 peer-group G\n neighbor 192.0.2.2 remote-as 2\n neighbor 192.0.2.2 peer-group G\n no neighbor 192.0.2.1 peer-group\n no neighbor 192.0.2.2 peer-group\n").unwrap();
    let b = c.bgp.unwrap();
    assert_eq!(
        b.neighbors.iter().map(|n| (n.id.to_string(), n.peer_group.clone())).collect::<Vec<_>>(),
        vec![("192.0.2.2".to_string(), None)]
    );
}

#[test]
fn redistribute_reads_back() {
    let text = "router bgp 65001\n redistribute connected\n address-family ipv6 unicast\n  redistribute static route-map RM metric 9\n  redistribute kernel\n exit-address-family\nexit\n";
    let c = parse("r.conf", text).unwrap();
    let b = c.bgp.as_ref().unwrap();
    assert!(b.family(Afi::Ipv4).redistribute.contains_key(&crate::bgp::config::Source::Connected));
    let s6 = &b.family(Afi::Ipv6).redistribute[&crate::bgp::config::Source::Static];
    assert_eq!((s6.metric, s6.route_map.as_deref()), (Some(9), Some("RM")));
    let out = render(&c);
    assert!(out.contains("  redistribute static metric 9 route-map RM\n"), "{out}");
    assert!(out.contains(" address-family ipv4 unicast\n  redistribute connected\n"), "{out}");
    assert_eq!(parse("again", &out).unwrap(), c);
    assert!(error("router bgp 1\n redistribute ospf\n")
        .contains("bgpbox redistributes connected, static and kernel routes"));
    assert!(error("router bgp 1\n redistribute connected metric x\n").contains("x is not a metric"));
}

#[test]
fn neighbor_path_options_read_back() {
    let text = "router bgp 65001\n neighbor G peer-group\n neighbor G remote-as 65000\n neighbor 192.0.2.1 peer-group G\n \
        address-family ipv4 unicast\n  neighbor G allowas-in 2\n  neighbor G as-override\n  neighbor G remove-private-AS all replace-AS\n  \
        neighbor G next-hop-self force\n  neighbor 192.0.2.1 allowas-in origin\n exit-address-family\nexit\n";
    let c = parse("p.conf", text).unwrap();
    let n = &c.bgp.as_ref().unwrap().effective_neighbors()[0];
    let f = n.family(Afi::Ipv4, true);
    assert_eq!(f.allowas_in, Some(crate::bgp::config::AllowasIn::Origin), "the member's own");
    assert!(f.as_override && f.next_hop_self && f.next_hop_self_force);
    assert_eq!(f.remove_private_as, Some(crate::bgp::config::RemovePrivate { all: true, replace: true }));
    let out = render(&c);
    for l in [
        "  neighbor G allowas-in 2",
        "  neighbor G remove-private-AS all replace-AS",
        "  neighbor G next-hop-self force",
        "  neighbor 192.0.2.1 allowas-in origin",
    ] {
        assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
    }
    assert_eq!(parse("again", &out).unwrap().bgp.unwrap().effective_neighbors(), c.bgp.unwrap().effective_neighbors());
    assert!(error("router bgp 1\n neighbor 192.0.2.1 remote-as 2\n neighbor 192.0.2.1 allowas-in 11\n")
        .contains("expected 1 to 10 or origin"));
}

#[test]
fn soft_reconfiguration_and_send_community_are_kept() {
    let text = "router bgp 65001\n neighbor 192.0.2.1 remote-as 65000\n address-family ipv4 unicast\n  neighbor 192.0.2.1 soft-reconfiguration inbound\n  no neighbor 192.0.2.1 send-community large\n  no neighbor 192.0.2.1 send-community\n exit-address-family\nexit\n";
    let c = parse("s.conf", text).unwrap();
    let f = c.bgp.as_ref().unwrap().neighbors[0].family(Afi::Ipv4, true).clone();
    assert!(f.soft_reconfiguration);
    assert_eq!((f.no_send.standard, f.no_send.extended, f.no_send.large), (true, false, true));
    let out = render(&c);
    for l in [
        "  neighbor 192.0.2.1 soft-reconfiguration inbound",
        "  no neighbor 192.0.2.1 send-community",
        "  no neighbor 192.0.2.1 send-community large",
    ] {
        assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
    }
    assert_eq!(parse("again", &out).unwrap(), c);
    // Sending them again: the default, nothing written.
    let back = parse(
        "b",
        &format!("{text}router bgp 65001\n address-family ipv4 unicast\n  neighbor 192.0.2.1 send-community all\n"),
    )
    .unwrap();
    assert!(!render(&back).contains("send-community"), "{}", render(&back));
}

#[test]
fn listen_ranges_read_back_and_their_mistakes_are_named() {
    let text = "router bgp 65000\n bgp listen limit 20\n neighbor K8S peer-group\n neighbor K8S remote-as 64513\n \
                bgp listen range 192.0.2.0/24 peer-group K8S\n bgp listen range 2001:db8::/64 peer-group K8S\n";
    let c = parse("r", text).unwrap();
    let b = c.bgp.as_ref().unwrap();
    assert_eq!(b.listen_limit(), 20);
    assert_eq!(b.listen_group("192.0.2.9".parse().unwrap()), Some("K8S"));
    let n = b.dynamic_neighbor("2001:db8::9".parse().unwrap()).unwrap();
    assert_eq!((n.remote_as, n.passive, n.peer_group.as_deref()), (RemoteAs::Asn(64513), true, Some("K8S")));
    assert!(b.dynamic_neighbor("198.51.100.1".parse().unwrap()).is_none());
    let out = render(&c);
    assert!(out.contains(" neighbor K8S remote-as 64513\n bgp listen range 192.0.2.0/24 peer-group K8S\n"), "{out}");
    assert_eq!(parse("again", &out).unwrap(), c);
    // Removing the group removes its ranges; `no` forms.
    let gone = parse("r", &format!("{text} no bgp listen range 2001:db8::/64\n no bgp listen limit\n")).unwrap();
    assert_eq!(gone.bgp.as_ref().unwrap().listen_ranges.len(), 1);
    assert_eq!(gone.bgp.as_ref().unwrap().listen_limit(), 100);
    let err = |t: &str| parse("x.conf", t).unwrap_err().to_string();
    assert!(err("router bgp 1\n bgp listen range 192.0.2.0/24 peer-group NOPE\n").contains("no peer-group NOPE"));
    // Link-local ranges are taken (each neighbor is tied to its interface).
    assert!(parse("x.conf", "router bgp 1\n neighbor G peer-group\n bgp listen range fe80::/64 peer-group G\n").is_ok());
    assert!(err("router bgp 1\n bgp listen limit 0\n").contains("1 to 65535"));
}

#[test]
fn graceful_restart_reads_back() {
    use crate::bgp::config::GrMode;
    let text = "router bgp 65001\n bgp graceful-restart\n bgp graceful-restart restart-time 90\n \
                bgp graceful-restart stalepath-time 300\n no bgp graceful-restart notification\n \
                neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 graceful-restart-disable\n";
    let p = parse_noted("r", text).unwrap();
    let b = p.config.bgp.as_ref().unwrap();
    assert_eq!((b.graceful_restart, b.gr_restart_time, b.gr_stalepath_time), (GrMode::Restart, Some(90), Some(300)));
    assert_eq!(b.neighbors[0].graceful_restart, Some(GrMode::Disable));
    assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
    let out = render(&p.config);
    assert!(out.contains(" bgp graceful-restart\n bgp graceful-restart restart-time 90\n"), "{out}");
    assert!(out.contains(" neighbor 192.0.2.1 graceful-restart-disable\n"), "{out}");
    assert_eq!(parse("again", &out).unwrap(), p.config);
    let c = parse("r", "router bgp 1\n bgp graceful-restart-disable\n").unwrap();
    assert_eq!(c.bgp.unwrap().graceful_restart, GrMode::Disable);
    assert!(parse("r", "router bgp 1\n bgp graceful-restart restart-time 5000\n").is_err());
}

#[test]
fn bfd_reads_back_and_its_mistakes_are_named() {
    let text = "router bgp 65001\n neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 bfd profile fast\n \
                neighbor 192.0.2.2 remote-as 65002\n neighbor 192.0.2.2 bfd\nexit\nbfd\n profile fast\n  detect-multiplier 4\n  \
                receive-interval 50\n  transmit-interval 60\n  echo-mode\n exit\n peer 192.0.2.2 local-address 192.0.2.100\n  \
                passive-mode\n exit\nexit\n";
    let p = parse_noted("r", text).unwrap();
    assert_eq!(p.notes.len(), 1, "echo-mode is noted: {:?}", p.notes);
    let sessions = p.config.bfd_sessions();
    assert_eq!(sessions.len(), 2);
    let two = sessions.iter().find(|s| s.peer.to_string() == "192.0.2.2").unwrap();
    assert!(two.for_bgp && two.timers.passive && two.local == Some("192.0.2.100".parse().unwrap()));
    let one = sessions.iter().find(|s| s.peer.to_string() == "192.0.2.1").unwrap();
    assert_eq!((one.timers.detect_mult, one.timers.receive_interval, one.timers.transmit_interval), (4, 50, 60));
    let out = render(&p.config);
    assert!(
        out.contains(" neighbor 192.0.2.1 bfd profile fast\n") && out.contains(" neighbor 192.0.2.2 bfd\n"),
        "{out}"
    );
    assert!(out.contains("bfd\n profile fast\n  detect-multiplier 4\n"), "{out}");
    assert_eq!(parse("again", &out).unwrap(), p.config);
    let err = |t: &str| parse("x.conf", t).unwrap_err().to_string();
    assert!(err("bfd\n peer 192.0.2.1 multihop local-address 192.0.2.2\n").contains("single hop BFD"));
    assert!(err("bfd\n profile p\n  detect-multiplier 1\n").contains("2 to 255"));
    assert!(err("bfd\n profile p\n  receive-interval 5\n").contains("10 to 60000"));
}

#[test]
fn interface_neighbors_read_and_write_as_frr_does() {
    let c = parse(
        "t",
        "router bgp 65001\n neighbor FABRIC peer-group\n neighbor FABRIC remote-as external\n neighbor swp1 interface peer-group FABRIC\n \
         neighbor eth0 interface\n neighbor eth0 remote-as 65002\n neighbor eth0 description cable\n neighbor eth1 interface v6only remote-as internal\n \
         neighbor fe80::2 remote-as external\n neighbor fe80::2 interface eth2\n address-family ipv6 unicast\n  neighbor eth0 activate\n exit-address-family\n",
    )
    .unwrap();
    let b = c.bgp.as_ref().unwrap();
    let eth0 = b.effective_neighbor(&"eth0".parse().unwrap()).unwrap();
    assert_eq!((eth0.remote_as, eth0.wants_extended_nexthop()), (RemoteAs::Asn(65002), true));
    assert!(b.effective_neighbor(&"eth1".parse().unwrap()).unwrap().wants_extended_nexthop(), "v6only too, as FRR");
    assert_eq!(b.effective_neighbor(&"swp1".parse().unwrap()).unwrap().remote_as, RemoteAs::External);
    assert_eq!(b.neighbor(&"fe80::2".parse().unwrap()).unwrap().interface.as_deref(), Some("eth2"));
    let out = render(&c);
    for l in [
        " neighbor swp1 interface peer-group FABRIC",
        " neighbor eth0 interface remote-as 65002",
        " neighbor eth0 description cable",
        " neighbor eth1 interface v6only remote-as internal",
        " neighbor fe80::2 interface eth2",
        "  neighbor eth0 activate",
    ] {
        assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
    }
    assert!(!out.contains("neighbor swp1 peer-group") && !out.contains("neighbor eth0 remote-as"), "{out}");
    assert_eq!(render(&parse("again", &out).unwrap()), out);

    // Waiting for its remote-as, an interface neighbor is not one yet.
    let c = parse("t", "router bgp 1\n neighbor eth0 interface\n").unwrap();
    assert!(c.bgp.as_ref().unwrap().effective_neighbors().is_empty());
    assert!(render(&c).contains(" neighbor eth0 interface\n"));
    let c = parse("t", "router bgp 1\n neighbor eth0 interface remote-as 2\n no neighbor eth0 interface\n").unwrap();
    assert!(c.bgp.as_ref().unwrap().neighbors.is_empty());

    let e = error("router bgp 1\n neighbor G peer-group\n neighbor G interface remote-as 2\n");
    assert!(e.contains("G is a peer-group: an interface neighbor needs another name"), "{e}");
    let e = error("router bgp 1\n neighbor eth0 description x\n");
    assert!(e.contains("the interface neighbor with `neighbor eth0 interface remote-as ...`"), "{e}");
    let e = error("router bgp 1\n neighbor eth0 interface peer-group NOPE\n");
    assert!(e.contains("no peer-group NOPE"), "{e}");
    assert!(parse("t", "router bgp 1\n neighbor eth0 interface peer-group NOPE\n").is_err(), "nothing half-made");
}

#[test]
fn log_and_debug_lines_read_and_write_as_frr_does() {
    let text = "log file /var/log/bgpd.log informational\nlog syslog\nlog stdout warnings\nlog commands\n\
                log timestamp precision 6\ndebug bgp neighbor-events\ndebug bgp updates out\ndebug bgp keepalives\n";
    let c = parse("t", text).unwrap();
    let out = render(&c);
    for l in [
        "log file /var/log/bgpd.log informational",
        "log stdout warnings",
        "log syslog",
        "log commands",
        "log timestamp precision 6",
        "debug bgp neighbor-events",
        "debug bgp updates out",
        "debug bgp keepalives",
    ] {
        assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
    }
    assert_eq!(parse("again", &out).unwrap(), c);
    let s = c.logging.sinks();
    assert_eq!(s.syslog, Some(crate::log::Level::Debug), "FRR's default level");
    assert_eq!(s.console, Some(crate::log::Level::Warn));
    assert_eq!(s.precision, Some(6));
    let c = parse("t", &format!("{text}no log syslog\nno debug bgp keepalives\nno log timestamp precision\n")).unwrap();
    let out = render(&c);
    assert!(!out.contains("log syslog") && !out.contains("keepalives") && !out.contains("precision"), "{out}");
    assert!(error("log file\n").contains("expected `log stdout|syslog [LEVEL]`"));
    assert!(error("log stdout loud\n").contains("loud: expected a level"));
    assert!(error("log timestamp precision 7\n").contains("0 to 6"));
}
