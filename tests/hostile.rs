//! Hostile and careless peers, clients and operators against bgpd in
//! network namespaces (issue: nothing a peer, a client or a config change
//! does can stall bgpd, grow it without bound, or break another session).
//! Raw peers come from tools/feeder where FRR and BIRD cannot produce the
//! input; BIRD with a 9 s hold time is the session that must not drop.
//! Figures are printed for the record.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::netns::{Bgpbox, Bird, Ns, Switch};
use common::{require_root, run, static_bgpbox, wait_for};

const A: &str = "192.0.2.1";
const F: &str = "192.0.2.2";
const B: &str = "192.0.2.3";
const G: &str = "192.0.2.4";

fn feeder() -> String {
    std::env::var("BGPBOX_FEEDER").expect("BGPBOX_FEEDER: run through scripts/test, which builds tools/feeder")
}

/// tools/feeder in `ns` as AS `asn` at `addr`, peering with bgpd at A.
fn feed(ns: &Ns, addr: &str, asn: &str, extra: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", &ns.name, &feeder(), "feed", "--peer", A, "--local-as", asn, "--peer-as", "65001"])
        .args(["--router-id", addr, "--next-hop", addr])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// BIRD at B (AS 65020, hold time 9 s): the session that must stay up.
fn bird(ns: &Ns) -> Bird {
    Bird::start(
        ns,
        &format!(
            "router id {B};\nprotocol device {{}}\nprotocol bgp a {{ local {B} as 65020; neighbor {A} as 65001; hold time 9;\n  ipv4 {{ import all; export none; }}; }}\n"
        ),
    )
}

struct Lab {
    _sw: Switch,
    a: Ns,
    f: Ns,
    b: Ns,
    g: Ns,
}

/// One test at a time: they measure time and memory, and a full table
/// beside them would skew both on two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The namespaces of one test, their names starting with `t`.
fn lab(t: &str) -> Lab {
    let mut sw = Switch::named(&format!("{t}s"));
    let (a, f, b, g) =
        (Ns::new(&format!("{t}a")), Ns::new(&format!("{t}f")), Ns::new(&format!("{t}b")), Ns::new(&format!("{t}g")));
    sw.attach(&a, "eth0", &[&format!("{A}/24")]);
    sw.attach(&f, "eth0", &[&format!("{F}/24")]);
    sw.attach(&b, "eth0", &[&format!("{B}/24")]);
    sw.attach(&g, "eth0", &[&format!("{G}/24")]);
    Lab { _sw: sw, a, f, b, g }
}

/// bgpd at A (the static release build: memory is measured) with the
/// feeder F (AS 65010), BIRD B (AS 65020, sent nothing) and G (AS 65030).
fn bgpd(l: &Lab, name: &str, to_g: &str) -> Bgpbox {
    let conf = format!(
        "router bgp 65001\n bgp router-id {A}\n no bgp ebgp-requires-policy\n neighbor {F} remote-as 65010\n neighbor {F} passive\n neighbor {B} remote-as 65020\n neighbor {G} remote-as 65030\n neighbor {G} passive\n address-family ipv4 unicast\n  neighbor {B} prefix-list NONE out\n{to_g} exit-address-family\n!\nip prefix-list NONE seq 5 deny any\n"
    );
    Bgpbox::start_bin(static_bgpbox().to_str().unwrap(), &l.a, name, &conf)
}

fn received(d: &Bgpbox, peer: &str) -> u64 {
    d.json("show bgp summary json")["ipv4Unicast"]["peers"][peer]["pfxRcd"].as_u64().unwrap_or(0)
}

/// The BIRD session as bgpd sees it: (state, times established, dropped).
fn bird_session(d: &Bgpbox) -> (String, u64, u64) {
    let p = &d.json("show bgp summary json")["ipv4Unicast"]["peers"][B];
    (
        p["state"].as_str().unwrap_or("").to_string(),
        p["connectionsEstablished"].as_u64().unwrap_or(0),
        p["connectionsDropped"].as_u64().unwrap_or(0),
    )
}

fn up(d: &Bgpbox, bird: &Bird) {
    wait_for(Duration::from_secs(30), || (bird_session(d).0 == "Established").then_some(()))
        .unwrap_or_else(|| panic!("no session with BIRD:\n{}\n{}", d.log_text(), bird.birdc("show protocols all")));
}

fn wait_received(d: &Bgpbox, peer: &str, n: u64) {
    wait_for(Duration::from_secs(120), || (received(d, peer) == n).then_some(()))
        .unwrap_or_else(|| panic!("{} of {n} routes from {peer}:\n{}", received(d, peer), d.log_text()));
}

/// Reads a (paged) answer to the end without keeping it: its size, when
/// its first part came, and its last part.
fn stream(d: &Bgpbox, cmd: &str) -> (usize, Duration, String) {
    let t = Instant::now();
    let mut s = UnixStream::connect(&d.socket).unwrap();
    writeln!(s, "{}", serde_json::json!({ "exec": cmd })).unwrap();
    let mut r = BufReader::new(s);
    let (mut bytes, mut first, mut line, mut tail) = (0, None, String::new(), String::new());
    loop {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "bgpd closed the answer early");
        first.get_or_insert(t.elapsed());
        let part: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(part["ok"], true, "{line}");
        let out = part["output"].as_str().unwrap();
        bytes += out.len();
        if part["more"] != true {
            return (bytes, first.unwrap(), tail + out);
        }
        if !out.is_empty() {
            tail = out.to_string();
        }
    }
}

#[test]
#[ignore = "needs root, namespaces, BIRD and tools/feeder: run scripts/test"]
fn a_full_table_json_show_stalls_nothing() {
    require_root();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let l = lab("hj");
    let d = bgpd(&l, "h-json", "");
    let bird = bird(&l.b);
    let mut f = feed(&l.f, F, "65010", &["--v4", "1000000"]);
    up(&d, &bird);
    wait_received(&d, F, 1_000_000);
    let before = d.mem_kb("VmHWM");
    let rss = d.mem_kb("VmRSS");
    let t = Instant::now();
    let (bytes, first, last) = stream(&d, "show bgp ipv4 unicast json");
    let took = t.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    let peak = d.mem_kb("VmHWM");
    eprintln!(
        "full-table JSON: {} MB in {took:.1?}, first part after {first:.2?}; bgpd RSS {} MB, peak {} -> {} MB (+{} MB)",
        bytes >> 20,
        rss >> 10,
        before >> 10,
        peak >> 10,
        (peak - before) >> 10
    );
    assert!(bytes > 200 << 20, "a whole table's JSON: {bytes} bytes");
    assert!(last.trim_end().ends_with('}') && last.contains("\"totalRoutes\": 1000000"), "{last}");
    assert!(first < Duration::from_secs(1), "the first part after {first:?}");
    assert!(peak - before < 32 << 10, "peak RSS rose {} kB", peak - before);
    assert_eq!(bird_session(&d), ("Established".into(), 1, 0), "BIRD's 9 s session dropped:\n{}", d.log_text());
    assert!(bird.birdc("show protocols a").contains("Established"));
    drop(f.stdin.take());
    let _ = f.wait();
}

#[test]
#[ignore = "needs root, namespaces, BIRD and tools/feeder: run scripts/test"]
fn clients_that_never_read_or_never_end_a_line() {
    require_root();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let l = lab("hc");
    let d = bgpd(&l, "h-clients", "");
    let bird = bird(&l.b);
    let mut f = feed(&l.f, F, "65010", &["--v4", "5000"]);
    up(&d, &bird);
    wait_received(&d, F, 5000);
    let before = d.mem_kb("VmHWM");
    // 200 clients that ask for the table and never read.
    let stuck: Vec<UnixStream> = (0..200)
        .map(|_| {
            let mut s = UnixStream::connect(&d.socket).unwrap();
            s.write_all(b"{\"exec\":\"show bgp ipv4 unicast json\"}\n").unwrap();
            s
        })
        .collect();
    // One that sends 50 MB without a newline.
    let mut long = UnixStream::connect(&d.socket).unwrap();
    long.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0;
    for _ in 0..50 {
        match long.write_all(&chunk) {
            Ok(()) => sent += 1,
            Err(_) => break,
        }
    }
    let mut answer = String::new();
    long.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = BufReader::new(&long).read_line(&mut answer);
    assert!(answer.contains("request longer than"), "{sent} MB sent, answer {answer:?}");
    // Meanwhile everyone else is answered at once, for longer than BIRD's
    // hold time.
    let mut slowest = Duration::ZERO;
    let end = Instant::now() + Duration::from_secs(12);
    while Instant::now() < end {
        let t = Instant::now();
        d.show("show bgp summary");
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    let peak = d.mem_kb("VmHWM");
    eprintln!(
        "200 stuck clients and a {sent} MB line: slowest summary {slowest:.2?}; peak RSS {} -> {} MB",
        before >> 10,
        peak >> 10
    );
    assert!(slowest < Duration::from_secs(1), "a summary took {slowest:?}");
    assert!(peak - before < 48 << 10, "peak RSS rose {} kB", peak - before);
    assert_eq!(bird_session(&d), ("Established".into(), 1, 0), "{}", d.log_text());
    drop(stuck);
    drop(f.stdin.take());
    let _ = f.wait();
}

#[test]
#[ignore = "needs root, namespaces, BIRD and tools/feeder: run scripts/test"]
fn a_route_too_long_for_a_strict_peer_is_not_sent_to_it() {
    require_root();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let l = lab("hl");
    let d = bgpd(&l, "h-long", "");
    let bird = bird(&l.b);
    // This BIRD gets everything: no outbound list toward it.
    d.vtysh(&[
        "configure terminal",
        "router bgp 65001",
        "address-family ipv4 unicast",
        &format!("no neighbor {B} prefix-list NONE out"),
    ])
    .unwrap();
    // The feeder has extended messages (RFC 8654), BIRD does not.
    let mut f = feed(&l.f, F, "65010", &["--v4", "10", "--extended", "--long-path", "1100"]);
    up(&d, &bird);
    wait_received(&d, F, 11);
    let at_bird =
        || bird.birdc("show route count").lines().find_map(|l| l.split_whitespace().next()?.parse::<u64>().ok());
    wait_for(Duration::from_secs(10), || (at_bird() == Some(10)).then_some(()))
        .unwrap_or_else(|| panic!("BIRD has {:?} routes:\n{}", at_bird(), d.log_text()));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!bird.birdc("show route 203.0.113.0/24").contains("203.0.113.0/24"));
    assert_eq!(bird_session(&d), ("Established".into(), 1, 0), "{}", d.log_text());
    let log = d.log_text();
    assert_eq!(log.matches("attributes too long for a 4096-byte UPDATE").count(), 1, "{log}");
    drop(f.stdin.take());
    let _ = f.wait();
}

#[test]
#[ignore = "needs root, namespaces, BIRD and tools/feeder: run scripts/test"]
fn a_peer_that_stops_reading_is_dropped_by_the_send_hold_timer() {
    require_root();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let l = lab("hp");
    let d = bgpd(&l, "h-stall", "");
    let mut f = feed(&l.f, F, "65010", &["--v4", "300000"]);
    wait_received(&d, F, 300_000);
    let loaded = d.mem_kb("VmHWM");
    let t = Instant::now();
    let mut g = feed(&l.g, G, "65030", &["--no-read", "--hold-time", "9"]);
    let state = || d.json("show bgp summary json")["ipv4Unicast"]["peers"][G].clone();
    wait_for(Duration::from_secs(10), || (state()["state"] == "Established").then_some(()))
        .unwrap_or_else(|| panic!("G never came up:\n{}", d.log_text()));
    // Its Adj-RIB-Out is built; from here on nothing may grow while it
    // does not read.
    std::thread::sleep(Duration::from_secs(1));
    let before = d.mem_kb("VmHWM");
    wait_for(Duration::from_secs(30), || (state()["connectionsDropped"] == 1).then_some(()))
        .unwrap_or_else(|| panic!("G was never dropped:\n{}", d.log_text()));
    let took = t.elapsed();
    let peak = d.mem_kb("VmHWM");
    eprintln!(
        "a peer that stopped reading dropped after {took:.1?}; peak RSS {} MB loaded, {} MB with its Adj-RIB-Out, {} MB at the drop",
        loaded >> 10,
        before >> 10,
        peak >> 10
    );
    assert!(state()["lastResetDueTo"].as_str().unwrap().contains("Send Hold Timer Expired"), "{}", state());
    assert!(d.log_text().contains("send hold time (RFC 9687)"));
    assert!(peak - before < 8 << 10, "peak RSS rose {} kB while the peer did not read", peak - before);
    for c in [&mut f, &mut g] {
        drop(c.stdin.take());
        let _ = c.wait();
    }
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn refused_changes_leave_the_running_config_byte_identical() {
    require_root();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b) = (Ns::new("ra"), Ns::new("rb"));
    // IPv6 only: there is no IPv4 address to take a router-id from.
    common::netns::veth(&a, "eth0", &["2001:db8::1/64"], &b, "eth0", &["2001:db8::2/64"]);
    let conf = "router bgp 65001\n bgp router-id 192.0.2.1\n neighbor 2001:db8::2 remote-as 65002\n";
    let d = Bgpbox::start(&a, "h-refuse", conf);
    let running = || d.show("show running-config");
    let before = running();
    let e = d.vtysh(&["configure terminal", "router bgp 65001", "no bgp router-id"]).unwrap_err();
    assert!(e.contains("no router-id") && e.contains("nothing was applied"), "{e}");
    assert_eq!(running(), before);
    // A SIGHUP with a file bgpd refuses, twice: a refused change, a bad line.
    for (i, bad) in ["router bgp 65001\n neighbor 2001:db8::2 remote-as 65002\n", "router bgp 65001\n neighbour x\n"]
        .iter()
        .enumerate()
    {
        std::fs::write(&d.conf, bad).unwrap();
        d.signal("-HUP");
        wait_for(Duration::from_secs(5), || {
            (d.log_text().matches("the running config stays").count() > i).then_some(())
        })
        .unwrap_or_else(|| panic!("the reload is not refused:\n{}", d.log_text()));
        assert_eq!(running(), before, "after SIGHUP with {bad:?}");
    }
    assert_eq!(d.log_text().matches("the running config stays").count(), 2, "{}", d.log_text());
    // What write memory saves is what runs, and bgpd -C takes it.
    d.show("write memory");
    assert_eq!(std::fs::read_to_string(&d.conf).unwrap(), before);
    let bin = common::netns::bgpbox_bin();
    run(&[&bin, "bgpd", "-C", "-f", d.conf.to_str().unwrap()]);
}
