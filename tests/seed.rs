//! The seed, end to end in LXD (scripts/lab): two router containers from
//! bgpbox images, a home router played by FRR 8.4 and then by bgpbox, VMs
//! that reach each other across the LAN without the home router.
//! Needs root and LXD: run through scripts/test.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Lab;

impl Lab {
    fn up(home: &str) -> Lab {
        Lab::up_with(home, &[])
    }

    fn up_with(home: &str, extra: &[&str]) -> Lab {
        let out = Command::new("bash")
            .arg(repo().join("scripts/lab"))
            .args(["up", "--home", home])
            .args(extra)
            .output()
            .unwrap();
        let lab = Lab;
        assert!(out.status.success(), "scripts/lab up failed:\n{}", String::from_utf8_lossy(&out.stderr));
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(repo().join("scripts/lab")).arg("down").stdin(Stdio::null()).output();
    }
}

fn lxc_exec(c: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("lxc").args(["exec", c, "--"]).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

fn route_bgp(c: &str) -> String {
    lxc_exec(c, &["vtysh", "-c", "sh ip route bgp"]).1
}

fn ping(from: &str, to: &str) -> bool {
    try_run(&["ip", "netns", "exec", from, "ping", "-c", "1", "-W", "1", to]).is_ok()
}

/// Runs `f` inside a network namespace, on a thread of its own.
fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(path).unwrap();
        nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        f()
    })
    .join()
    .unwrap()
}

/// A TCP exchange from one VM to the other.
fn tcp(from: &str, to_ns: &str, to: &'static str) {
    let l = in_ns(to_ns, move || TcpListener::bind((to, 7000)).unwrap());
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        s.write_all(&b).unwrap();
    });
    let mut s = in_ns(from, move || {
        TcpStream::connect_timeout(&std::net::SocketAddr::new(to.parse().unwrap(), 7000), Duration::from_secs(3))
            .unwrap()
    });
    s.write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"hello");
    server.join().unwrap();
}

fn home_has(prefix: &str, via: &str) -> bool {
    run(&["ip", "-n", "bxlab-home", "route", "show", prefix]).contains(&format!("via {via} dev eth0 proto bgp"))
}

/// Whether the home router's BGP table has the prefix. (FRR 8.4's zebra
/// was seen keeping the kernel route several seconds after bgpd dropped
/// it, so "dropped at once" is judged on the BGP table.)
fn home_rib_has(home: &str, prefix: &str) -> bool {
    let text = if home == "frr" {
        try_run(&["vtysh", "-N", "bxlab-home", "-c", "show bgp ipv4 unicast json"]).unwrap_or_default()
    } else {
        let sock = "/tmp/bgpbox-lab/home.sock";
        let bin = std::env::var("BGPBOX_STATIC").unwrap_or_else(|_| env!("CARGO_BIN_EXE_bgpbox").into());
        try_run(&[&bin, "vtysh", "--socket", sock, "-c", "show bgp ipv4 unicast json"]).unwrap_or_default()
    };
    let j: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    j["routes"][prefix].is_array()
}

fn scenario(home: &str) {
    let _lab = Lab::up(home);
    for c in ["RyzenRouter", "router-oplx"] {
        let (code, out) = lxc_exec(c, &["healthcheck", "--wait", "30"]);
        assert_eq!(code, 0, "{c} ({home}): {out}");
    }
    let converged = || {
        route_bgp("RyzenRouter").contains("B>* 203.0.113.0/24 [20/0] via 192.0.2.204, eth0, weight 1, ")
            && route_bgp("router-oplx").contains("B>* 198.51.100.0/24 [20/0] via 192.0.2.203, eth0, weight 1, ")
            && home_has("198.51.100.0/24", "192.0.2.203")
            && home_has("203.0.113.0/24", "192.0.2.204")
            && home_rib_has(home, "203.0.113.0/24")
    };
    assert!(
        wait_for(Duration::from_secs(30), || converged().then_some(())).is_some(),
        "no convergence ({home}):\n{}\n{}",
        route_bgp("RyzenRouter"),
        route_bgp("router-oplx")
    );
    if home == "frr" {
        troubleshooting();
    }
    // The seed's view: the default from the home router, not selected (the
    // kernel default from the profile's gateway wins).
    for c in ["RyzenRouter", "router-oplx"] {
        let view = route_bgp(c);
        assert!(view.contains("B   0.0.0.0/0 [20/0] via 192.0.2.254, eth0, weight 1, "), "{c}:\n{view}");
    }

    // VM1 and VM2 reach each other straight across the LAN: a capture on
    // the home router sees none of it (but does see VM1 talk to it).
    let cap = std::env::temp_dir().join(format!("bgpbox-seed-{home}.pcap"));
    let mut dump = Command::new("ip")
        .args([
            "netns",
            "exec",
            "bxlab-home",
            "tcpdump",
            "--immediate-mode",
            "-n",
            "-U",
            "-i",
            "eth0",
            "-w",
            cap.to_str().unwrap(),
            "icmp or tcp port 7000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(ping("bxlab-vm1", "203.0.113.10"), "VM1 -> VM2 ({home})");
    assert!(ping("bxlab-vm2", "198.51.100.10"), "VM2 -> VM1 ({home})");
    tcp("bxlab-vm1", "bxlab-vm2", "203.0.113.10");
    tcp("bxlab-vm2", "bxlab-vm1", "198.51.100.10");
    assert!(ping("bxlab-vm1", "192.0.2.254"), "VM1 -> home router");
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").args(["-INT", &dump.id().to_string()]).status();
    let _ = dump.wait();
    let seen = run(&["tcpdump", "-n", "-r", cap.to_str().unwrap()]);
    let _ = std::fs::remove_file(&cap);
    assert!(seen.contains("192.0.2.254"), "the capture must see VM1's ping to the home router:\n{seen}");
    assert!(
        !seen.contains("198.51.100.10 > 203.0.113.10")
            && !seen.contains("203.0.113.10 > 198.51.100.10")
            && !seen.contains(".7000"),
        "VM-to-VM traffic went through the home router:\n{seen}"
    );

    // lxc stop router-oplx: its network leaves at once (Cease, not a hold
    // timer), and VM1 loses VM2; lxc start brings it all back.
    let t0 = Instant::now();
    lxc_stop("router-oplx");
    let gone = wait_for(Duration::from_secs(5), || {
        (!route_bgp("RyzenRouter").contains("203.0.113.0/24") && !home_rib_has(home, "203.0.113.0/24")).then_some(())
    });
    assert!(
        gone.is_some(),
        "router-oplx's network stayed after lxc stop ({home}):\n{}\n{}",
        route_bgp("RyzenRouter"),
        run(&["ip", "-n", "bxlab-home", "route"])
            + &try_run(&["vtysh", "-N", "bxlab-home", "-c", "show bgp summary", "-c", "show bgp ipv4 unicast"])
                .unwrap_or_default()
    );
    eprintln!("{home}: router-oplx's network gone {:?} after lxc stop began", t0.elapsed());
    assert!(!ping("bxlab-vm1", "203.0.113.10"));
    run(&["lxc", "start", "router-oplx"]);
    let (code, out) = lxc_exec("router-oplx", &["healthcheck", "--wait", "30"]);
    assert_eq!(code, 0, "{out}");
    assert!(wait_for(Duration::from_secs(30), || converged().then_some(())).is_some(), "no reconvergence ({home})");
    assert!(ping("bxlab-vm1", "203.0.113.10"));

    // A rebuild of both images gives the same fingerprints.
    let fp = run(&["bash", repo().join("scripts/lab").to_str().unwrap(), "fingerprints"]);
    for line in fp.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() == 3 && f[1] == f[2] && f[1].len() == 64, "fingerprints differ: {fp}");
    }
}

/// The README's troubleshooting steps, as a user runs them in a router
/// container that has no distribution: each answers.
fn troubleshooting() {
    let r = "RyzenRouter";
    let ok = |args: &[&str], want: &str| {
        let (code, out) = lxc_exec(r, args);
        assert!(code == 0 && out.contains(want), "{args:?} (exit {code}) lacks {want:?}:\n{out}");
    };
    ok(&["healthcheck"], "healthy");
    ok(&["vtysh", "-c", "show bgp summary"], "192.0.2.254");
    ok(&["vtysh", "-c", "show ip route"], "B>* 203.0.113.0/24 [20/0] via 192.0.2.204, eth0");
    ok(&["vtysh", "-c", "show interface brief"], "eth0            up      default         192.0.2.203/24");
    ok(
        &["vtysh", "-c", "show ip nht"],
        "192.0.2.254(Connected)\n resolved via connected\n is directly connected, eth0",
    );
    ok(&["vtysh", "-c", "ping 192.0.2.204 count 2"], "2 packets transmitted, 2 received, 0% packet loss");
    ok(&["ping", "-c", "2", "192.0.2.254"], "64 bytes from 192.0.2.254: icmp_seq=1");
    ok(&["traceroute", "203.0.113.10"], " 1  192.0.2.204  ");
    ok(&["vtysh", "-c", "show logging"], "INFO  bgpd/bgp: neighbor 192.0.2.254 Up: AS 65000");
    let console = run(&["lxc", "console", r, "--show-log"]);
    assert!(console.contains("INFO  init: ") && console.contains("INFO  bgpd/bgp: "), "{console}");
}

/// BFD between the routers and the home router (100 ms x 3): `lxc pause
/// router-oplx` freezes it (no Cease, no KEEPALIVE, no BFD) and its
/// network leaves RyzenRouter's FIB within a second, the home router
/// withdrawing it; `lxc start` brings it back.
fn bfd_scenario(home: &str) {
    let _lab = Lab::up_with(home, &["--bfd"]);
    for c in ["RyzenRouter", "router-oplx"] {
        let (code, out) = lxc_exec(c, &["healthcheck", "--wait", "30"]);
        assert_eq!(code, 0, "{c} ({home}, BFD): {out}");
    }
    let has = || route_bgp("RyzenRouter").contains("B>* 203.0.113.0/24");
    let bfd_up = || lxc_exec("router-oplx", &["vtysh", "-c", "show bfd peers"]).1.contains("Status: up");
    assert!(
        wait_for(Duration::from_secs(30), || (has() && bfd_up()).then_some(())).is_some(),
        "no convergence with BFD ({home}):\n{}\n{}",
        route_bgp("RyzenRouter"),
        lxc_exec("router-oplx", &["vtysh", "-c", "show bfd peers"]).1
    );
    // RyzenRouter's kernel table, read from the host (lxc exec takes
    // longer than what is measured).
    let pid = run(&["lxc", "query", "/1.0/instances/RyzenRouter/state"]);
    let pid: serde_json::Value = serde_json::from_str(&pid).unwrap();
    let netns = format!("--net=/proc/{}/ns/net", pid["pid"]);
    let in_fib = || run(&["nsenter", &netns, "ip", "-4", "route", "show", "203.0.113.0/24"]).contains("via");
    assert!(in_fib());
    run(&["lxc", "pause", "router-oplx"]);
    // From the freeze: `lxc pause` returns once the container is frozen.
    let t0 = Instant::now();
    let gone = wait_for(Duration::from_secs(10), || (!in_fib()).then(|| t0.elapsed()));
    let took = gone.unwrap_or_else(|| panic!("still there after lxc pause ({home}):\n{}", route_bgp("RyzenRouter")));
    eprintln!("{home}, BFD: 203.0.113.0/24 left RyzenRouter's FIB {took:?} after router-oplx froze");
    assert!(took < Duration::from_secs(1), "{took:?}");
    run(&["lxc", "start", "router-oplx"]);
    assert!(wait_for(Duration::from_secs(30), || has().then_some(())).is_some(), "no return after lxc start ({home})");
}

#[test]
#[ignore = "needs root and LXD: run scripts/test"]
fn the_seed_in_lxd() {
    require_root();
    ensure_lxd();
    scenario("frr");
    scenario("bgpbox");
    bfd_scenario("frr");
    bfd_scenario("bgpbox");
}
