//! The container's life outside LXD: netsetup and healthcheck in network
//! namespaces. Needs root: run through scripts/test.

mod common;

use std::process::Command;
use std::time::Duration;

use common::netns::*;
use common::*;

fn applet(ns: &Ns, args: &[&str]) -> (i32, String, String) {
    let bin = bgpbox_bin();
    let out = Command::new("ip").args(["netns", "exec", &ns.name, &bin]).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn netsetup_is_idempotent_and_checks() {
    require_root();
    let a = Ns::new("na");
    let b = Ns::new("nb");
    veth(&a, "eth0", &[], &b, "peer", &["192.0.2.254/24"]);
    a.ip(&["link", "set", "eth0", "down"]);
    a.ip(&["link", "add", "eth1", "type", "bridge"]);
    // The network settings `bgpbox build` renders for the optiplex
    // profile, renumbered.
    let p = bgpbox_image::Profile::load(
        &repo().join("profiles/optiplex.toml"),
        &[
            "lan.addresses=[\"192.0.2.204/24\", \"2001:db8::204/64\"]".into(),
            "lan.gateway=192.0.2.254".into(),
            "vm_network.addresses=[\"203.0.113.1/24\"]".into(),
            "vm_network.mtu=1400".into(),
            "router.router_id=192.0.2.204".into(),
            "bgp.announce=[\"203.0.113.0/24\"]".into(),
            "neighbor[0].address=192.0.2.254".into(),
        ],
    )
    .unwrap();
    let conf = workdir().join("net-a.toml");
    std::fs::write(&conf, bgpbox_image::netconf::NetworkConfig::from_profile(&p).to_toml()).unwrap();
    let conf = conf.to_str().unwrap();

    let (code, out, err) = applet(&a, &["netsetup", "--config", conf]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("eth0: add address 192.0.2.204/24") && out.contains("route 0.0.0.0/0 via 192.0.2.254 dev eth0"),
        "{out}"
    );
    let routes = a.routes(false);
    assert!(routes.contains("default via 192.0.2.254 dev eth0 proto static"), "{routes}");
    assert!(a.ip(&["-br", "addr", "show", "eth1"]).contains("203.0.113.1/24"));
    assert!(a.ip(&["link", "show", "eth1"]).contains("mtu 1400"));
    assert_eq!(a.exec(&["sysctl", "-n", "net.ipv4.ip_forward"]).trim(), "1");
    assert_eq!(a.exec(&["sysctl", "-n", "net.ipv6.conf.all.forwarding"]).trim(), "1");
    assert_eq!(a.exec(&["sysctl", "-n", "net.ipv4.conf.eth0.rp_filter"]).trim(), "2");

    let (code, out, _) = applet(&a, &["netsetup", "--config", conf]);
    assert_eq!((code, out.trim()), (0, "netsetup: nothing to change"));
    let (code, out, _) = applet(&a, &["netsetup", "--config", conf, "--check"]);
    assert_eq!((code, out.trim()), (0, "netsetup: nothing to change"));
    // A manual change: --check sees it and exits 1; a run repairs it.
    a.ip(&["addr", "del", "203.0.113.1/24", "dev", "eth1"]);
    let (code, out, _) = applet(&a, &["netsetup", "--config", conf, "--check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("would change: eth1: add address 203.0.113.1/24"), "{out}");
    let (code, _, _) = applet(&a, &["netsetup", "--config", conf]);
    assert_eq!(code, 0);
    // A missing interface is named, and exits 1 after doing the rest.
    a.ip(&["link", "del", "eth1"]);
    let (code, _, err) = applet(&a, &["netsetup", "--config", conf]);
    assert_eq!(code, 1);
    assert!(err.contains("interface eth1: not found"), "{err}");
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn healthcheck_follows_the_session() {
    require_root();
    let a = Ns::new("ha");
    let b = Ns::new("hb");
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    a.addr("vm", "198.51.100.1/24");
    let conf = |me: &str, peer: &str, asn: u32, peer_as: u32| {
        format!(
            "router bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor {peer} remote-as {peer_as}\n neighbor {peer} timers 1 3\n address-family ipv4 unicast\n  network 198.51.100.0/24\n"
        )
    };
    let da = Bgpbox::start(&a, "hc-a", &conf("192.0.2.1", "192.0.2.2", 65001, 65002));
    let sock = da.socket.to_str().unwrap().to_string();
    // No peer yet: unhealthy, with the reason.
    let (code, out, _) = applet(&a, &["healthcheck", "--socket", &sock]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("neighbor 192.0.2.2: "), "{out}");
    let db = Bgpbox::start(
        &b,
        "hc-b",
        &conf("192.0.2.2", "192.0.2.1", 65002, 65001).replace("  network 198.51.100.0/24\n", ""),
    );
    let (code, out, _) = applet(&a, &["healthcheck", "--socket", &sock, "--wait", "30"]);
    assert_eq!((code, out.trim()), (0, "healthy"), "{}", da.log_text());
    let (code, out, _) = applet(&a, &["healthcheck", "--socket", &sock, "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["healthy"], true);
    assert_eq!(j["neighbors"]["192.0.2.2"]["state"], "Established");
    // The peer stops: unhealthy, and the line says why.
    db.signal("-TERM");
    let out = wait_for(Duration::from_secs(10), || {
        let (code, out, _) = applet(&a, &["healthcheck", "--socket", &sock]);
        (code == 1).then_some(out)
    })
    .expect("unhealthy after the peer stopped");
    assert!(
        out.contains("neighbor 192.0.2.2: ") && out.contains("last error: Cease/Administrative Shutdown received"),
        "{out}"
    );
    // bgpd not running: one line naming the socket.
    let (code, out, _) = applet(&a, &["healthcheck", "--socket", "/nonexistent/bgpd.sock"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.trim(),
        format!("bgpd is not running (no answer on /nonexistent/bgpd.sock){}", bgpbox::control::NOT_RUNNING_HINT)
    );
    drop(db);
}

/// The host's view of its own macvlan child: unreachable until
/// `netsetup host-shim`. The "host" is a namespace holding the parent NIC.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn host_shim_lets_the_host_reach_its_container() {
    require_root();
    let host = Ns::new("sh");
    let other = Ns::new("so");
    let ctr = Ns::new("sc");
    veth(&host, "lan0", &["192.0.2.10/24"], &other, "eth0", &["192.0.2.20/24"]);
    // The "container": a macvlan child of the host's lan0.
    host.ip(&["link", "add", "link", "lan0", "name", "mv0", "type", "macvlan", "mode", "bridge"]);
    host.ip(&["link", "set", "mv0", "netns", &ctr.name]);
    ctr.ip(&["addr", "add", "192.0.2.203/24", "dev", "mv0"]);
    ctr.ip(&["link", "set", "mv0", "up"]);
    let ping = |ns: &Ns| ns.try_exec(&["ping", "-c", "1", "-W", "1", "192.0.2.203"]).is_ok();
    assert!(ping(&other), "the LAN reaches the container");
    assert!(!ping(&host), "the parent cannot reach its macvlan child");
    let (code, out, err) = applet(
        &host,
        &["netsetup", "host-shim", "--parent", "lan0", "--address", "192.0.2.250/24", "--route", "192.0.2.203/32"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(ping(&host), "the shim lets the host reach it");
    // Twice is fine.
    let (code, _, err) = applet(
        &host,
        &["netsetup", "host-shim", "--parent", "lan0", "--address", "192.0.2.250/24", "--route", "192.0.2.203/32"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = applet(&host, &["netsetup", "host-shim", "--parent", "nosuch", "--address", "192.0.2.250/24"]);
    assert_eq!(code, 1);
    assert!(err.contains("interface nosuch: not found"), "{err}");
}

/// The host reaches a VM behind its router container: the shim lends the
/// host's own address (no --address), the router is reached through it
/// and the VM network via the router, as `bgpbox build` prints it.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn host_shim_reaches_a_vm_behind_the_router() {
    require_root();
    let (host, ctr, vm) = (Ns::new("vh"), Ns::new("vc"), Ns::new("vv"));
    let other = Ns::new("vo");
    veth(&host, "lan0", &["192.0.2.10/24"], &other, "eth0", &["192.0.2.20/24"]);
    host.ip(&["link", "add", "link", "lan0", "name", "mv0", "type", "macvlan", "mode", "bridge"]);
    host.ip(&["link", "set", "mv0", "netns", &ctr.name]);
    ctr.ip(&["addr", "add", "192.0.2.203/24", "dev", "mv0"]);
    ctr.ip(&["link", "set", "mv0", "up"]);
    veth(&ctr, "eth1", &["198.51.100.1/24"], &vm, "eth0", &["198.51.100.10/24"]);
    vm.ip(&["route", "add", "default", "via", "198.51.100.1"]);
    let ping = |to: &str| host.try_exec(&["ping", "-c", "1", "-W", "1", to]).is_ok();
    assert!(!ping("198.51.100.10"), "no way to the VM yet");
    let (code, out, err) = applet(
        &host,
        &["netsetup", "host-shim", "--parent", "lan0", "--router", "192.0.2.203", "--route", "198.51.100.0/24"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("route 198.51.100.0/24 via 192.0.2.203 dev bgpbox-shim"), "{out}");
    assert!(ping("192.0.2.203"), "the router through the shim");
    assert!(ping("198.51.100.10"), "the VM behind it");
    let routes = host.ip(&["route", "show", "198.51.100.0/24"]);
    assert!(routes.contains("via 192.0.2.203 dev bgpbox-shim"), "{routes}");
}

/// The kernel as bgpd sees it follows changes: a `network` whose prefix
/// appears in the kernel after bgpd started is advertised, and withdrawn
/// when it goes.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn network_follows_the_kernel() {
    require_root();
    let a = Ns::new("ka");
    let b = Ns::new("kb");
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    let conf = |me: &str, peer: &str, asn: u32, peer_as: u32| {
        format!(
            "router bgp {asn}\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor {peer} remote-as {peer_as}\n address-family ipv4 unicast\n  network 198.51.100.0/24\n"
        )
    };
    let da = Bgpbox::start(&a, "k-a", &conf("192.0.2.1", "192.0.2.2", 65001, 65002));
    let db = Bgpbox::start(
        &b,
        "k-b",
        &conf("192.0.2.2", "192.0.2.1", 65002, 65001).replace("  network 198.51.100.0/24\n", ""),
    );
    da.wait_established("192.0.2.2");
    assert_eq!(db.next_hop("ipv4", "198.51.100.0/24"), None);
    a.addr("vm", "198.51.100.1/24");
    wait_for(Duration::from_secs(10), || db.next_hop("ipv4", "198.51.100.0/24").filter(|h| h == "192.0.2.1"))
        .unwrap_or_else(|| panic!("not advertised after the address appeared:\n{}", da.log_text()));
    a.ip(&["link", "del", "vm"]);
    wait_for(Duration::from_secs(10), || db.next_hop("ipv4", "198.51.100.0/24").is_none().then_some(()))
        .expect("withdrawn after the address went");
}

/// Two equal eBGP paths with `maximum-paths 2`: one multipath route in the
/// kernel; one peer leaves, the route follows.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn ecmp_in_the_kernel() {
    require_root();
    let mut sw = Switch::new();
    let a = Ns::new("ea");
    let b1 = Ns::new("eb");
    let b2 = Ns::new("ec");
    sw.attach(&a, "eth0", &["192.0.2.1/24"]);
    sw.attach(&b1, "eth0", &["192.0.2.2/24"]);
    sw.attach(&b2, "eth0", &["192.0.2.3/24"]);
    b1.addr("vm", "203.0.113.1/24");
    b2.addr("vm", "203.0.113.2/24");
    let da = Bgpbox::start(
        &a,
        "ecmp-a",
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n neighbor 192.0.2.3 remote-as 65002\n address-family ipv4 unicast\n  maximum-paths 2\n",
    );
    let peer = |me: &str| {
        format!("router bgp 65002\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n address-family ipv4 unicast\n  network 203.0.113.0/24\n")
    };
    let d1 = Bgpbox::start(&b1, "ecmp-b1", &peer("192.0.2.2"));
    let _d2 = Bgpbox::start(&b2, "ecmp-b2", &peer("192.0.2.3"));
    let multipath = || {
        let r = a.ip(&["route", "show", "203.0.113.0/24"]);
        (r.contains("proto bgp metric 20")
            && r.contains("nexthop via 192.0.2.2")
            && r.contains("nexthop via 192.0.2.3"))
        .then_some(r)
    };
    wait_for(Duration::from_secs(30), multipath)
        .unwrap_or_else(|| panic!("no multipath route:\n{}\n{}", a.routes(false), da.log_text()));
    let view = da.show("show ip route bgp");
    assert!(view.contains("B>* 203.0.113.0/24 [20/0] via 192.0.2.") && view.contains("  *"), "{view}");
    d1.signal("-TERM");
    wait_for(Duration::from_secs(10), || {
        let r = a.ip(&["route", "show", "203.0.113.0/24"]);
        (r.contains("via 192.0.2.3 dev eth0 proto bgp metric 20") && !r.contains("192.0.2.2")).then_some(())
    })
    .unwrap_or_else(|| panic!("the route did not follow:\n{}", a.routes(false)));
    // A clean stop: bgpd's routes and nexthop objects leave the kernel.
    let mut da = da;
    da.stop();
    let left = a.routes(false) + &a.ip(&["nexthop", "show"]);
    assert!(!left.contains("proto bgp"), "left behind by a clean stop:\n{left}");
}

/// kill -9 of bgpd and a restart: the routes stay in the FIB all along,
/// and the ones the peer no longer has are gone once it has re-sent its
/// table (End-of-RIB).
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn restart_without_a_gap_and_stale_routes_swept() {
    require_root();
    let a = Ns::new("ra2");
    let b = Ns::new("rb2");
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    b.addr("vm", "203.0.113.1/24");
    b.addr("vm2", "198.51.100.1/24");
    let conf_a = "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n";
    let da = Bgpbox::start(&a, "rs-a", conf_a);
    let db = Bgpbox::start(
        &b,
        "rs-b",
        "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n address-family ipv4 unicast\n  network 203.0.113.0/24\n  network 198.51.100.0/24\n",
    );
    let has = |p: &str| a.ip(&["route", "show", p]).contains("proto bgp");
    wait_for(Duration::from_secs(30), || (has("203.0.113.0/24") && has("198.51.100.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("no routes:\n{}", da.log_text()));
    da.signal("-KILL");
    drop(da);
    // While A is away, B stops announcing one of them.
    db.vtysh(&["configure terminal", "router bgp 65002", "address-family ipv4 unicast", "no network 198.51.100.0/24"])
        .unwrap();
    assert!(has("203.0.113.0/24") && has("198.51.100.0/24"), "a killed bgpd leaves its routes");
    let t0 = std::time::Instant::now();
    let da = Bgpbox::start(&a, "rs-a", conf_a);
    // Continuously: the route that stays valid never leaves the FIB.
    while t0.elapsed() < Duration::from_secs(3) {
        assert!(has("203.0.113.0/24"), "203.0.113.0/24 left the FIB {:?} into the restart", t0.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_for(Duration::from_secs(20), || (!has("198.51.100.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("the stale route stayed:\n{}\n{}", a.routes(false), da.log_text()));
    assert!(has("203.0.113.0/24"));
    let log = da.log_text();
    assert!(
        log.contains("BGP routes from an earlier run kept") && log.contains("removing 1 stale BGP routes"),
        "{log}"
    );
    // The earlier run's nexthop object went with its stale route; the new
    // run's one carries the route that stayed.
    let ours = || a.ip(&["nexthop", "show"]).lines().filter(|l| l.contains("proto bgp")).count();
    wait_for(Duration::from_secs(10), || (ours() == 1).then_some(()))
        .unwrap_or_else(|| panic!("nexthop objects:\n{}\n{}", a.ip(&["nexthop", "show"]), da.log_text()));
    assert!(da.log_text().contains("removing 1 nexthop objects of an earlier run"));
}

/// A peer flaps 50 times with 100,000 routes while a second peer holds
/// the same prefixes over other paths (each flap moves every prefix
/// between one path and two): afterwards the FIB equals the Loc-RIB
/// exactly, and RSS is within 10% of where the first load left it (both
/// taken before any large `show`, whose output is memory too).
#[test]
#[ignore = "needs root, namespaces and tools/feeder: run scripts/test"]
fn churn_leaves_fib_and_memory_as_they_were() {
    require_root();
    let feeder =
        std::env::var("BGPBOX_FEEDER").expect("BGPBOX_FEEDER: run through scripts/test, which builds tools/feeder");
    let a = Ns::new("ca");
    let f = Ns::new("cf");
    veth(&a, "eth0", &["192.0.2.1/24"], &f, "eth0", &["192.0.2.2/24", "192.0.2.3/24"]);
    // The binary that ships (static, release, musl's allocator): memory is
    // what this test is about.
    let bin = static_bgpbox();
    let da = Bgpbox::start_bin(
        bin.to_str().unwrap(),
        &a,
        "churn-a",
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n \
         neighbor 192.0.2.2 remote-as 65010\n neighbor 192.0.2.2 passive\n \
         neighbor 192.0.2.3 remote-as 65011\n neighbor 192.0.2.3 passive\n",
    );
    let pid =
        run(&["pgrep", "-f", &format!("bgpd -f {}", da.conf.display())]).trim().lines().next().unwrap().to_string();
    let rss = || {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let received_from = |peer: &str| {
        let j = da.json("show bgp summary json");
        j["ipv4Unicast"]["peers"][peer]["pfxRcd"].as_u64().unwrap_or(0)
    };
    let received = || received_from("192.0.2.2");
    const N: u64 = 100_000;
    // Both feed the same prefixes, each with its own paths (its seed).
    let feed_from = |addr: &str, asn: &str, seed: &str| {
        std::process::Command::new("ip")
            .args(["netns", "exec", &f.name, &feeder, "feed", "--peer", "192.0.2.1", "--source", addr])
            .args(["--local-as", asn, "--peer-as", "65001", "--router-id", addr, "--next-hop", addr])
            .args(["--v4", &N.to_string(), "--real", seed])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut steady = feed_from("192.0.2.3", "65011", "2");
    wait_for(Duration::from_secs(60), || (received_from("192.0.2.3") == N).then_some(()))
        .unwrap_or_else(|| panic!("{} of {N} received from the steady peer", received_from("192.0.2.3")));
    let mut first = 0;
    for round in 0..50 {
        let mut feed = feed_from("192.0.2.2", "65010", "1");
        wait_for(Duration::from_secs(60), || (received() == N).then_some(()))
            .unwrap_or_else(|| panic!("round {round}: {} of {N} received\n{}", received(), da.log_text()));
        if round == 0 {
            // Let the FIB writer finish before taking the reference (the
            // steady peer's routes were there already: the count says
            // little, a pause more).
            wait_for(Duration::from_secs(60), || {
                (a.ip(&["route", "show", "proto", "bgp"]).lines().count() as u64 == N).then_some(())
            });
            std::thread::sleep(Duration::from_secs(2));
            first = rss();
            eprintln!("churn: after the first load:\n{}", da.show("show bgp memory"));
        }
        if round == 49 {
            wait_for(Duration::from_secs(60), || {
                (a.ip(&["route", "show", "proto", "bgp"]).lines().count() as u64 == N).then_some(())
            })
            .expect("the last load in the FIB");
            std::thread::sleep(Duration::from_secs(2));
            let now = rss();
            // The FIB equals the Loc-RIB, prefix for prefix.
            let fib: std::collections::BTreeSet<String> = a
                .ip(&["route", "show", "proto", "bgp"])
                .lines()
                .map(|l| {
                    let p = l.split_whitespace().next().unwrap().to_string();
                    if p.contains('/') {
                        p
                    } else {
                        format!("{p}/32")
                    }
                })
                .collect();
            let rib = da.json("show bgp ipv4 unicast json");
            let rib: std::collections::BTreeSet<String> = rib["routes"].as_object().unwrap().keys().cloned().collect();
            assert_eq!(fib.len(), rib.len());
            assert!(fib == rib, "FIB and Loc-RIB differ");
            eprintln!("churn: after 50 flaps:\n{}", da.show("show bgp memory"));
            eprintln!("churn: RSS {first} kB after the first load, {now} kB after 50 flaps");
            assert!(now * 10 <= first * 11, "RSS {now} kB after 50 flaps, {first} kB after the first load");
        }
        drop(feed.stdin.take());
        let _ = feed.wait();
        wait_for(Duration::from_secs(60), || (received() == 0).then_some(()))
            .unwrap_or_else(|| panic!("round {round}: still {} received after the drop", received()));
    }
    drop(steady.stdin.take());
    let _ = steady.wait();
    wait_for(Duration::from_secs(60), || a.ip(&["route", "show", "proto", "bgp"]).trim().is_empty().then_some(()))
        .expect("the FIB empties with the Loc-RIB");
}

/// bgpbox in `a` (192.0.2.1, AS 65001) and FRR in `b` (192.0.2.2, AS
/// 65002), FRR announcing 203.0.113.0/24 with next hop `via`.
fn frr_sends_via(a: &Ns, b: &Ns, name: &str, via: &str) -> (Bgpbox, Frr) {
    let da = Bgpbox::start(
        a,
        name,
        "router bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n neighbor 192.0.2.2 remote-as 65002\n",
    );
    let frr = Frr::start(
        b,
        &format!(
            "router bgp 65002\n bgp router-id 192.0.2.2\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n \
             address-family ipv4 unicast\n  network 203.0.113.0/24\n  neighbor 192.0.2.1 route-map NH out\n exit-address-family\n\
             route-map NH permit 10\n set ip next-hop {via}\n"
        ),
    );
    (da, frr)
}

/// A route the kernel refuses (here its next hop is the subnet's broadcast
/// address, which FRR was told to send) is shown `B>r`, logged with the
/// prefix, and installed once a good next hop replaces it.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn a_refused_route_is_shown_and_retried() {
    require_root();
    let a = Ns::new("fa");
    let b = Ns::new("fb");
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    b.addr("vm", "203.0.113.1/24");
    let (da, frr) = frr_sends_via(&a, &b, "refuse-a", "192.0.2.255");
    let view = || da.show("show ip route bgp");
    wait_for(Duration::from_secs(30), || view().contains("B>r 203.0.113.0/24 [20/0] via 192.0.2.255").then_some(()))
        .unwrap_or_else(|| panic!("no refused route:\n{}\n{}", view(), da.log_text()));
    assert!(da.log_text().contains("fib: kernel refused 203.0.113.0/24 via 192.0.2.255"), "{}", da.log_text());
    assert!(!a.ip(&["route", "show", "203.0.113.0/24"]).contains("proto bgp"));
    // A good next hop: installed, and no longer shown as refused.
    run(&[
        "vtysh",
        "-N",
        &frr.name,
        "-c",
        "configure terminal",
        "-c",
        "route-map NH permit 10",
        "-c",
        "set ip next-hop 192.0.2.2",
    ]);
    wait_for(Duration::from_secs(30), || view().contains("B>* 203.0.113.0/24 [20/0] via 192.0.2.2,").then_some(()))
        .unwrap_or_else(|| panic!("the route was not retried:\n{}\n{}", view(), da.log_text()));
    assert!(a.ip(&["route", "show", "203.0.113.0/24"]).contains("via 192.0.2.2 dev eth0 proto bgp metric 20"));
}

/// A route whose next hop becomes unreachable leaves the FIB (and is shown
/// without `>*`), and comes back with its next hop. The session runs over
/// one link; FRR points the route at its address on a second one.
#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn a_route_follows_its_next_hop() {
    require_root();
    let a = Ns::new("na");
    let b = Ns::new("nb");
    veth(&a, "eth0", &["192.0.2.1/24"], &b, "eth0", &["192.0.2.2/24"]);
    veth(&a, "eth1", &["198.51.100.1/24"], &b, "eth1", &["198.51.100.2/24"]);
    b.addr("vm", "203.0.113.1/24");
    let (da, _frr) = frr_sends_via(&a, &b, "nh-a", "198.51.100.2");
    let view = || da.show("show ip route bgp");
    let in_fib =
        || a.ip(&["route", "show", "203.0.113.0/24"]).contains("via 198.51.100.2 dev eth1 proto bgp metric 20");
    wait_for(Duration::from_secs(30), || (in_fib() && view().contains("B>* 203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("not installed:\n{}\n{}", view(), da.log_text()));
    // The next hop's subnet goes: the route leaves the FIB, stays in BGP.
    a.ip(&["addr", "del", "198.51.100.1/24", "dev", "eth1"]);
    wait_for(Duration::from_secs(10), || (!in_fib() && view().contains("B   203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("still installed:\n{}\n{}", view(), a.routes(false)));
    // And comes back with it.
    a.ip(&["addr", "add", "198.51.100.1/24", "dev", "eth1"]);
    wait_for(Duration::from_secs(10), || (in_fib() && view().contains("B>* 203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("not back:\n{}\n{}", view(), a.routes(false)));
    // The route goes through a nexthop object of bgpd's.
    let nexthops = || a.ip(&["nexthop", "show"]);
    assert!(nexthops().contains("via 198.51.100.2 dev eth1 scope link proto bgp"), "{}", nexthops());
    // The interface goes down (the address stays, the connected route and
    // the nexthop object go), then up again.
    a.ip(&["link", "set", "eth1", "down"]);
    wait_for(Duration::from_secs(10), || (!in_fib() && view().contains("B   203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("still installed with the link down:\n{}\n{}", view(), a.routes(false)));
    a.ip(&["link", "set", "eth1", "up"]);
    wait_for(Duration::from_secs(10), || (in_fib() && view().contains("B>* 203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("not back with the link:\n{}\n{}\n{}", view(), a.routes(false), da.log_text()));
    // The far end goes down: the kernel drops the nexthop object on
    // carrier loss (and its routes, silently); bgpd puts them back.
    b.ip(&["link", "set", "eth1", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    wait_for(Duration::from_secs(10), || in_fib().then_some(()))
        .unwrap_or_else(|| panic!("lost on carrier loss:\n{}\n{}\n{}", view(), a.routes(false), da.log_text()));
    b.ip(&["link", "set", "eth1", "up"]);
    wait_for(Duration::from_secs(10), || (in_fib() && view().contains("B>* 203.0.113.0/24")).then_some(()))
        .unwrap_or_else(|| panic!("not back after carrier loss:\n{}\n{}", view(), a.routes(false)));
}
