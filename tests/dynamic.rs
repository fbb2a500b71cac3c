//! Dynamic neighbors against real peers: three FRR routers and a BIRD in
//! one `bgp listen range`, one FRR outside it, `bgp listen limit`, and a
//! flood of connections from outside every range. Documentation prefixes
//! only, on a switch of the test's own. Needs root: run scripts/test.

mod common;

use std::time::{Duration, Instant};

use common::netns::*;
use common::*;

const IX: &str = "192.0.2.254";

fn server(me: &str, asn: u32, net: &str) -> String {
    format!(
        "router bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor {IX} remote-as 65000\n \
         neighbor {IX} timers 3 9\n neighbor {IX} timers connect 1\n address-family ipv4 unicast\n  network {net}\n \
         exit-address-family\n"
    )
}

fn home(extra: &str) -> String {
    format!(
        "router bgp 65000
 bgp router-id {IX}
 no bgp ebgp-requires-policy
{extra} neighbor SERVERS peer-group
 neighbor SERVERS remote-as external
 neighbor SERVERS timers 3 9
 bgp listen range 192.0.2.0/26 peer-group SERVERS
exit
"
    )
}

fn prefixes(b: &Bgpbox) -> serde_json::Value {
    b.json("show bgp ipv4 unicast json")["routes"].clone()
}

#[test]
#[ignore = "needs root, namespaces, FRR and BIRD: run scripts/test"]
fn frr_and_bird_in_a_listen_range() {
    require_root();
    let mut sw = Switch::named("dynsw");
    let (h, n1, n2, n3, n4, out) =
        (Ns::new("dynh"), Ns::new("dyn1"), Ns::new("dyn2"), Ns::new("dyn3"), Ns::new("dyn4"), Ns::new("dyno"));
    sw.attach(&h, "eth0", &["192.0.2.254/24"]);
    for (ns, a) in [(&n1, "192.0.2.1/24"), (&n2, "192.0.2.2/24"), (&n3, "192.0.2.3/24"), (&n4, "192.0.2.4/24")] {
        sw.attach(ns, "eth0", &[a]);
    }
    sw.attach(&out, "eth0", &["192.0.2.200/24"]);
    for (ns, a) in
        [(&n1, "198.51.100.1/26"), (&n2, "198.51.100.65/26"), (&n3, "198.51.100.129/26"), (&out, "203.0.113.1/24")]
    {
        ns.addr("vm", a);
    }
    let b = Bgpbox::start(&h, "dyn-home", &home(""));
    let _f1 = Frr::start(&n1, &server("192.0.2.1", 65001, "198.51.100.0/26"));
    let _f2 = Frr::start(&n2, &server("192.0.2.2", 65002, "198.51.100.64/26"));
    let f3 = Frr::start(&n3, &server("192.0.2.3", 65003, "198.51.100.128/26"));
    let _fo = Frr::start(&out, &server("192.0.2.200", 65009, "203.0.113.0/24"));
    let bird = Bird::start(
        &n4,
        &format!(
            "router id 192.0.2.4;\nprotocol device {{}}\nprotocol static vms {{ ipv4; route 198.51.100.192/26 blackhole; }}\n\
             protocol bgp ix {{ local 192.0.2.4 as 65004; neighbor {IX} as 65000; hold time 9; connect retry time 1;\n  \
             ipv4 {{ import all; export where source = RTS_STATIC; }}; }}\n"
        ),
    );
    let ctx = || format!("bgpbox:\n{}\n{}", b.log_text(), b.show("show bgp summary"));
    let nets = ["198.51.100.0/26", "198.51.100.64/26", "198.51.100.128/26", "198.51.100.192/26"];
    eventually("four dynamic neighbors and their routes", ctx, || {
        nets.iter().zip(1..).all(|(p, i)| b.next_hop("ipv4", p) == Some(format!("192.0.2.{i}")))
    });
    let summary = b.show("show bgp summary");
    assert!(summary.contains("*192.0.2.1      4      65001"), "{summary}");
    assert!(summary.contains("* - dynamic neighbor\n4 dynamic neighbor(s), limit 100"), "{summary}");
    assert!(!summary.contains("192.0.2.200"), "{summary}");
    assert!(!prefixes(&b)["203.0.113.0/24"].is_array(), "outside the range: nothing from it");
    assert!(b
        .log_text()
        .contains("connection from 192.0.2.200 refused: not a configured neighbor nor in a listen range"));
    let group = b.show("show bgp peer-group SERVERS");
    assert!(group.contains("  1 IPv4 listen range(s)\n    192.0.2.0/26\n"), "{group}");
    assert!(group.contains("    192.0.2.4 (dynamic) Established"), "{group}");
    // Neighbors that go leave nothing behind: not the neighbor, not a route.
    bird.birdc("disable ix");
    let f3_shutdown = |no: &str| {
        let line = format!("{no}neighbor 192.0.2.254 shutdown");
        run(&["vtysh", "-N", &f3.name, "-c", "configure terminal", "-c", "router bgp 65003", "-c", &line]);
    };
    f3_shutdown("");
    eventually("two gone", ctx, || {
        let s = b.show("show bgp summary");
        !s.contains("192.0.2.3 ") && !s.contains("192.0.2.4 ") && s.contains("2 dynamic neighbor(s)")
    });
    let routes = prefixes(&b);
    assert!(!routes["198.51.100.128/26"].is_array() && !routes["198.51.100.192/26"].is_array(), "{routes}");
    assert_eq!(b.next_hop("ipv4", "198.51.100.192/26"), None);
    // The limit holds a third out.
    b.vtysh(&["configure terminal", "router bgp 65000", "bgp listen limit 2", "end"]).unwrap();
    f3_shutdown("no ");
    eventually("the third refused", ctx, || {
        b.log_text().contains("connection from 192.0.2.3 refused: bgp listen limit 2 reached")
    });
    assert!(b.show("show bgp summary").contains("2 dynamic neighbor(s), limit 2"), "{}", ctx());
    let conf = b.show("show running-config");
    assert!(
        conf.contains(" bgp listen limit 2\n") && conf.contains(" bgp listen range 192.0.2.0/26 peer-group SERVERS\n")
    );
    assert!(!conf.contains("neighbor 192.0.2.1 "), "dynamic neighbors are not configuration: {conf}");
}

/// 2,000 connections from fifty addresses outside every range: the
/// configured session stays up and `show bgp summary` keeps answering
/// in under a second.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn a_flood_from_outside_the_ranges() {
    require_root();
    let feeder = std::env::var("BGPBOX_FEEDER").expect("BGPBOX_FEEDER: run through scripts/test");
    let mut sw = Switch::named("flsw");
    let (h, peer, fl) = (Ns::new("flh"), Ns::new("flp"), Ns::new("flf"));
    sw.attach(&h, "eth0", &["192.0.2.254/24"]);
    sw.attach(&peer, "eth0", &["192.0.2.1/24"]);
    let sources: Vec<String> = (150..200).map(|i| format!("192.0.2.{i}")).collect();
    let with_len: Vec<String> = sources.iter().map(|a| format!("{a}/24")).collect();
    sw.attach(&fl, "eth0", &with_len.iter().map(String::as_str).collect::<Vec<_>>());
    let b =
        Bgpbox::start(&h, "fl-home", &home(" neighbor 192.0.2.1 remote-as 65001\n neighbor 192.0.2.1 timers 3 9\n"));
    let _f = Frr::start(&peer, &server("192.0.2.1", 65001, "198.51.100.0/26"));
    let ctx = || format!("bgpbox:\n{}", b.log_text());
    eventually("the configured session", ctx, || b.established("192.0.2.1"));
    let mut flood = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &fl.name,
            &feeder,
            "flood",
            "--to",
            "192.0.2.254:179",
            "--count",
            "2000",
            "--seconds",
            "60",
        ])
        .arg("--from")
        .arg(sources.join(","))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut slowest = Duration::ZERO;
    while flood.try_wait().unwrap().is_none() {
        let t = Instant::now();
        let s = b.show("show bgp summary");
        slowest = slowest.max(t.elapsed());
        assert!(s.contains("192.0.2.1       4      65001"), "{s}");
        assert!(b.established("192.0.2.1"), "{}", ctx());
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = String::from_utf8(flood.wait_with_output().unwrap().stdout).unwrap();
    let made: usize = out.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(made >= 2000, "the flood made {made} connections: {out}");
    assert!(slowest < Duration::from_secs(1), "show bgp summary took {slowest:?} under the flood");
    assert!(b.established("192.0.2.1"));
    // Said once a minute per address, not once per connection.
    let said = b.log_text().matches("refused: not a configured neighbor").count();
    assert!(said <= sources.len() * 2, "{said} log lines for {made} connections");
    assert_eq!(b.json("show bgp summary json")["ipv4Unicast"]["dynamicPeers"], 0);
}
