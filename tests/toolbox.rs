//! What an operator reaches for inside a router: `ping` and `traceroute`
//! (vtysh's and the applets, no bgpd needed), `debug bgp ...` switches and
//! the log ring of `show logging`, NOTIFICATIONs that say what was wrong,
//! and the Prometheus metrics scraped with curl and read by a Prometheus
//! text-format parser as a peer comes up and its prefixes change. Needs
//! root, namespaces and FRR: run through scripts/test.

mod common;

use common::netns::*;
use common::*;

/// bgpbox (AS 65001) and FRR (AS 65002) on 192.0.2.0/24; FRR announces
/// what `nets` says.
fn pair(tag: &str) -> (Ns, Ns) {
    let (a, b) = (Ns::new(&format!("{tag}a")), Ns::new(&format!("{tag}b")));
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    b.addr("vm", "203.0.113.1/24");
    b.addr("vm", "198.51.100.1/24");
    (a, b)
}

fn frr_conf(nets: &[&str]) -> String {
    let nets: String = nets.iter().map(|n| format!("  network {n}\n")).collect();
    format!(
        "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n \
         neighbor 192.0.2.1 timers 3 9\n address-family ipv4 unicast\n{nets} exit-address-family\n"
    )
}

const OURS: &str = "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n \
                    neighbor 192.0.2.2 remote-as 65002\n neighbor 192.0.2.2 timers 3 9\n";

/// One scrape, parsed: the value of `name` whose labels include `want`.
fn metric(ns: &Ns, port: u16, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    let text = ns.try_exec(&["curl", "-sf", &format!("http://127.0.0.1:{port}/metrics")]).ok()?;
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));
    scrape.samples.iter().find(|s| s.metric == name && want.iter().all(|(k, v)| s.labels.get(k) == Some(*v))).map(|s| {
        match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        }
    })
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn metrics_follow_a_peer_and_its_prefixes() {
    require_root();
    let (a, b) = pair("mt");
    let port = 9342;
    let x = Bgpbox::start_args(&a, "mt-a", OURS, &["--metrics", &format!("127.0.0.1:{port}")]);
    let peer = [("peer", "192.0.2.2"), ("afi", "ipv4"), ("peer_as", "65002"), ("local_as", "65001")];
    let ctx = || {
        format!(
            "{}\n{}",
            x.log_text(),
            a.try_exec(&["curl", "-s", &format!("http://127.0.0.1:{port}/metrics")]).unwrap_or_default()
        )
    };
    eventually("the metrics listener", ctx, || metric(&a, port, "frr_bgp_peer_state", &peer).is_some());
    assert_eq!(metric(&a, port, "frr_bgp_peer_state", &peer), Some(0.0), "no FRR yet: down");
    // Only where it was asked to listen.
    assert!(a.try_exec(&["curl", "-sf", &format!("http://192.0.2.1:{port}/metrics")]).is_err());
    let status =
        a.exec(&["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://127.0.0.1:{port}/other")]);
    assert_eq!(status.trim(), "404");

    let frr = Frr::start(&b, &frr_conf(&["203.0.113.0/24"]));
    eventually("Established, one prefix", ctx, || {
        metric(&a, port, "frr_bgp_peer_state", &peer) == Some(1.0)
            && metric(&a, port, "frr_bgp_peer_prefixes_received_count_total", &peer) == Some(1.0)
    });
    assert!(metric(&a, port, "frr_bgp_peer_message_received_total", &peer).unwrap() >= 2.0);
    assert!(metric(&a, port, "bgpbox_resident_memory_bytes", &[]).unwrap() > 1e6);
    let _ = b.exec(&[
        "vtysh",
        "-N",
        &b.name,
        "-c",
        "configure terminal",
        "-c",
        "router bgp 65002",
        "-c",
        "address-family ipv4 unicast",
        "-c",
        "network 198.51.100.0/24",
    ]);
    eventually("two prefixes", ctx, || {
        metric(&a, port, "frr_bgp_peer_prefixes_received_count_total", &peer) == Some(2.0)
    });
    assert_eq!(metric(&a, port, "frr_bgp_rib_count_total", &[("afi", "ipv4")]), Some(2.0));
    drop(frr);
    eventually("down again", ctx, || metric(&a, port, "frr_bgp_peer_state", &peer) == Some(0.0));
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn debug_switches_fill_the_log_ring() {
    require_root();
    let (a, b) = pair("dg");
    let file = workdir().join("dg-a.file.log");
    let x = Bgpbox::start(&a, "dg-a", &format!("log file {} informational\n{OURS}", file.display()));
    x.vtysh(&["debug bgp updates in", "debug bgp neighbor-events"]).unwrap();
    let dbg = x.show("show debugging");
    assert!(
        dbg.contains("BGP neighbor-events debugging is on") && dbg.contains("BGP updates debugging is on (inbound)"),
        "{dbg}"
    );
    let _frr = Frr::start(&b, &frr_conf(&["203.0.113.0/24"]));
    x.wait_established("192.0.2.2");
    let ctx = || x.show("show logging");
    eventually("the UPDATE and the state changes in the ring", ctx, || {
        let l = x.show("show logging");
        l.contains("neighbor 192.0.2.2 rcvd UPDATE w/ attr: nexthop 192.0.2.2, origin i, path 65002, metric 0; 1 announced: 203.0.113.0/24")
            && l.contains("neighbor 192.0.2.2 went from OpenConfirm to Established")
    });
    // `log file PATH LEVEL`: the file has the lines too.
    let f = std::fs::read_to_string(&file).unwrap();
    assert!(f.contains("INFO  bgpd/bgp: neighbor 192.0.2.2 Up: AS 65002") && f.contains("rcvd UPDATE"), "{f}");
    // Lines the switches asked for reach the console log too.
    assert!(x.log_text().contains("DEBUG bgpd/bgp: neighbor 192.0.2.2 rcvd UPDATE"), "{}", x.log_text());
    x.vtysh(&["no debug bgp updates", "no debug bgp neighbor-events"]).unwrap();
    assert_eq!(x.show("show debugging"), "BGP debugging status:\n\n");
    // A change from vtysh is logged with its lines.
    x.vtysh(&["configure terminal", "router bgp 65001", "neighbor 192.0.2.2 description frr"]).unwrap();
    assert!(x
        .show("show logging")
        .contains("applied from vtysh: router bgp 65001 / neighbor 192.0.2.2 description frr"));
}

/// A peer with the wrong AS: the NOTIFICATION says which AS it sent, and
/// healthcheck says it was never up.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn a_wrong_peer_as_is_named() {
    require_root();
    let (a, b) = pair("wa");
    let x = Bgpbox::start(&a, "wa-a", &OURS.replace("remote-as 65002", "remote-as 65099"));
    let _frr = Frr::start(&b, &frr_conf(&[]));
    let ctx = || x.log_text();
    eventually("the refusal, with the AS", ctx, || {
        x.log_text().contains("neighbor 192.0.2.2: NOTIFICATION sent: OPEN Message Error/Bad Peer AS (AS 65002)")
    });
    let health = try_run(&[&bgpbox_bin(), "healthcheck", "--socket", x.socket.to_str().unwrap()]).unwrap_err();
    assert!(health.contains("neighbor 192.0.2.2: never up"), "{health}");
}

/// Three namespaces in a row: `ping` and `traceroute` from the first to
/// the last, through vtysh (with no bgpd running) and as applets.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn ping_and_traceroute_without_a_distribution() {
    require_root();
    let (a, r, c) = (Ns::new("pga"), Ns::new("pgr"), Ns::new("pgc"));
    veth(&a, "eth0", &["192.0.2.1/24", "2001:db8:1::1/64"], &r, "eth0", &["192.0.2.254/24", "2001:db8:1::ff/64"]);
    veth(&r, "eth1", &["198.51.100.254/24", "2001:db8:2::ff/64"], &c, "eth0", &["198.51.100.1/24", "2001:db8:2::1/64"]);
    a.ip(&["route", "add", "default", "via", "192.0.2.254"]);
    a.ip(&["-6", "route", "add", "default", "via", "2001:db8:1::ff"]);
    c.ip(&["route", "add", "default", "via", "198.51.100.254"]);
    c.ip(&["-6", "route", "add", "default", "via", "2001:db8:2::ff"]);
    let bin = bgpbox_bin();
    let nobody = workdir().join("no-bgpd.sock");
    let sock = nobody.to_str().unwrap();
    let out = a.exec(&[&bin, "vtysh", "--socket", sock, "-c", "ping 198.51.100.1 count 2"]);
    assert!(out.starts_with("PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.\n64 bytes from 198.51.100.1: icmp_seq=1 ttl=63 time="), "{out}");
    assert!(out.contains("2 packets transmitted, 2 received, 0% packet loss"), "{out}");
    let out = a.exec(&[&bin, "vtysh", "--socket", sock, "-c", "ping ipv6 2001:db8:2::1 count 1 source 2001:db8:1::1"]);
    assert!(out.contains("64 bytes from 2001:db8:2::1: icmp_seq=1 ttl=63"), "{out}");
    let out = a.exec(&[&bin, "vtysh", "--socket", sock, "-c", "traceroute 198.51.100.1"]);
    let hops: Vec<&str> = out.lines().skip(1).collect();
    assert!(
        hops.len() == 2 && hops[0].starts_with(" 1  192.0.2.254  ") && hops[1].starts_with(" 2  198.51.100.1  "),
        "{out}"
    );
    let out = a.exec(&[&bin, "traceroute", "-6", "2001:db8:2::1"]);
    assert!(out.contains(" 1  2001:db8:1::ff  ") && out.contains(" 2  2001:db8:2::1  "), "{out}");
    // Unanswered: the loss is said and the exit status says so.
    r.ip(&["link", "set", "eth1", "down"]);
    let e = a.try_exec(&[&bin, "ping", "-c", "2", "-i", "0.2", "198.51.100.1"]).unwrap_err();
    assert!(e.contains("100% packet loss") || e.contains("Unreachable"), "{e}");
    assert!(a
        .try_exec(&[&bin, "vtysh", "--socket", sock, "-c", "show bgp summary"])
        .unwrap_err()
        .contains("bgpd is not running"));
}
