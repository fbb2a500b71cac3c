//! bgpd against real peers in network namespaces: bgpbox itself, FRR 8.4,
//! BIRD 2 and GoBGP 3, over IPv4 and IPv6; the seed's three routers on one
//! subnet; RFC 8212; RFC 7606 from a raw test peer. Documentation
//! prefixes only. Needs root: run through scripts/test.

mod common;

use std::time::Duration;

use common::netns::*;
use common::*;

/// bgpbox on side A of a veth pair.
const A4: &str = "192.0.2.1";
const B4: &str = "192.0.2.2";
const A6: &str = "2001:db8::1";
const B6: &str = "2001:db8::2";
const A_NET4: &str = "198.51.100.0/24";
const A_NET6: &str = "2001:db8:a::/64";
const B_NET4: &str = "203.0.113.0/24";
const B_NET6: &str = "2001:db8:b::/64";

fn pair(a: &str, b: &str) -> (Ns, Ns) {
    let na = Ns::new(a);
    let nb = Ns::new(b);
    veth(&na, "eth0", &["192.0.2.1/24", "2001:db8::1/64"], &nb, "eth0", &["192.0.2.2/24", "2001:db8::2/64"]);
    na.addr("vm", "198.51.100.1/24");
    na.addr("vm", "2001:db8:a::1/64");
    nb.addr("vm", "203.0.113.1/24");
    nb.addr("vm", "2001:db8:b::1/64");
    (na, nb)
}

/// bgpbox's side: IPv4 and IPv6 sessions, its VM networks out, all in
/// but 203.0.113.128/25 (to see an inbound prefix-list work).
fn bgpbox_conf(peer_as: u32) -> String {
    format!(
        "hostname a
router bgp 65001
 bgp router-id {A4}
 no bgp default ipv4-unicast
 neighbor {B4} remote-as {peer_as}
 neighbor {B6} remote-as {peer_as}
 neighbor {B4} timers 3 9
 neighbor {B6} timers 3 9
 !
 address-family ipv4 unicast
  network {A_NET4}
  neighbor {B4} activate
  neighbor {B4} prefix-list in4 in
  neighbor {B4} prefix-list out4 out
  neighbor {B4} default-originate
 exit-address-family
 !
 address-family ipv6 unicast
  network {A_NET6}
  neighbor {B6} activate
  neighbor {B6} prefix-list in6 in
  neighbor {B6} prefix-list out6 out
 exit-address-family
exit
!
ip prefix-list in4 seq 5 deny 203.0.113.128/25
ip prefix-list in4 seq 10 permit any
ip prefix-list out4 seq 5 permit {A_NET4}
ipv6 prefix-list in6 seq 5 permit any
ipv6 prefix-list out6 seq 5 permit {A_NET6}
"
    )
}

fn kernel_has(ns: &Ns, v6: bool, needle: &str) -> bool {
    ns.routes(v6).lines().any(|l| l.contains(needle))
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn with_frr() {
    require_root();
    let (na, nb) = pair("fa", "fb");
    // A kernel route for the /25, so that FRR's import check lets it out.
    nb.ip(&["route", "add", "203.0.113.128/25", "dev", "vm"]);
    let frr = Frr::start(
        &nb,
        &format!(
            "frr defaults traditional
hostname b
router bgp 65002
 bgp router-id {B4}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor {A4} remote-as 65001
 neighbor {A6} remote-as 65001
 neighbor {A4} timers 3 9
 neighbor {A6} timers 3 9
 address-family ipv4 unicast
  network {B_NET4}
  network 203.0.113.128/25
  neighbor {A4} activate
  neighbor {A4} default-originate
 exit-address-family
 address-family ipv6 unicast
  network {B_NET6}
  neighbor {A6} activate
 exit-address-family
"
        ),
    );
    let a = Bgpbox::start(&na, "frr-a", &bgpbox_conf(65002));
    let ctx = || {
        format!(
            "bgpbox log:\n{}\n{}\nFRR:\n{}\nbgpbox's kernel:\n{}{}{}",
            a.log_text(),
            a.vtysh(&["show ip route", "show ipv6 route"]).unwrap_or_else(|e| e),
            frr.vtysh("show bgp summary"),
            na.routes(false),
            na.routes(true),
            na.ip(&["nexthop", "show"])
        )
    };
    eventually("sessions with FRR", ctx, || a.established(B4) && a.established(B6));

    // Routes flow both ways, over both families, into both kernels.
    eventually("FRR's routes at bgpbox", ctx, || {
        a.next_hop("ipv4", B_NET4).as_deref() == Some(B4) && a.next_hop("ipv6", B_NET6).as_deref() == Some(B6)
    });
    eventually("default-originate", ctx, || a.next_hop("ipv4", "0.0.0.0/0").as_deref() == Some(B4));
    assert_eq!(a.next_hop("ipv4", "203.0.113.128/25"), None, "the inbound prefix-list denies it");
    eventually("bgpbox's FIB", ctx, || {
        kernel_has(&na, false, "203.0.113.0/24 via 192.0.2.2 dev eth0 proto bgp metric 20")
            // FRR sends its link-local next hop too: the route goes by it,
            // on the link it came over (as FRR installs it).
            && na.routes(true).lines().any(|l| l.starts_with("2001:db8:b::/64 via fe80::") && l.contains("dev eth0 proto bgp metric 20"))
            && kernel_has(&na, false, "default via 192.0.2.2 dev eth0 proto bgp metric 20")
    });
    eventually("bgpbox's routes at FRR", ctx, || {
        let r4 = frr.json("show bgp ipv4 unicast json");
        let r6 = frr.json("show bgp ipv6 unicast json");
        r4["routes"][A_NET4].is_array() && r6["routes"][A_NET6].is_array()
    });
    // Only what the outbound prefix-list allows went out, and the default
    // route of default-originate (which FRR, too, sends past the list).
    let r4 = frr.json("show bgp ipv4 unicast json");
    let got: Vec<&String> = r4["routes"].as_object().unwrap().keys().collect();
    assert_eq!(r4["routes"].as_object().unwrap().keys().filter(|k| k.starts_with("198.51")).count(), 1);
    eventually("bgpbox's default-originate at FRR", ctx, || {
        frr.json("show bgp ipv4 unicast json")["routes"]["0.0.0.0/0"]
            .as_array()
            .is_some_and(|paths| paths.iter().any(|p| p["peerId"].as_str() == Some(A4)))
    });
    assert!(!got.iter().any(|k| k.starts_with("192.0.2")), "{got:?}");
    // IPv6 next hops: the global address and, on the shared link, our
    // link-local one (RFC 2545).
    let r6 = frr.json("show bgp ipv6 unicast json");
    let hops = r6["routes"][A_NET6][0]["nexthops"].as_array().cloned().unwrap_or_default();
    assert!(hops.iter().any(|h| h["ip"].as_str() == Some(A6)), "{hops:?}");
    assert!(hops.iter().any(|h| h["scope"].as_str() == Some("link-local")), "{hops:?}");

    // A removed `network` is withdrawn at the peer, without a reset.
    a.vtysh(&[
        "configure terminal",
        "router bgp 65001",
        "address-family ipv4 unicast",
        &format!("no network {A_NET4}"),
    ])
    .unwrap();
    eventually("withdrawal at FRR", ctx, || !frr.json("show bgp ipv4 unicast json")["routes"][A_NET4].is_array());
    let s = a.json("show bgp summary json");
    assert_eq!(s["ipv4Unicast"]["peers"][B4]["connectionsEstablished"], 1);

    // A session that goes down takes its routes, from the RIB and the FIB.
    let _ = run(&[
        "vtysh",
        "-N",
        &frr.name,
        "-c",
        "configure terminal",
        "-c",
        "router bgp 65002",
        "-c",
        &format!("neighbor {A4} shutdown"),
    ]);
    eventually("routes gone after the session", ctx, || {
        a.next_hop("ipv4", B_NET4).is_none() && !kernel_has(&na, false, "203.0.113.0/24")
    });
    assert!(a.log_text().contains(&format!("neighbor {B4} Down: Cease/Administrative Shutdown")), "{}", a.log_text());
}

#[test]
#[ignore = "needs root, namespaces and BIRD: run scripts/test"]
fn with_bird() {
    require_root();
    let (na, nb) = pair("ba", "bb");
    let bird = Bird::start(
        &nb,
        &format!(
            "router id {B4};
protocol device {{}}
protocol static s4 {{ ipv4; route {B_NET4} blackhole; route 203.0.113.128/25 blackhole; }}
protocol static s6 {{ ipv6; route {B_NET6} blackhole; }}
protocol bgp a4 {{ local {B4} as 65002; neighbor {A4} as 65001; hold time 9;
  ipv4 {{ import all; export where source = RTS_STATIC; }}; }}
protocol bgp a6 {{ local {B6} as 65002; neighbor {A6} as 65001; hold time 9;
  ipv6 {{ import all; export where source = RTS_STATIC; }}; }}
"
        ),
    );
    let a = Bgpbox::start(&na, "bird-a", &bgpbox_conf(65002));
    let ctx = || format!("bgpbox log:\n{}\nBIRD:\n{}", a.log_text(), bird.birdc("show protocols all"));
    eventually("sessions with BIRD", ctx, || a.established(B4) && a.established(B6));
    eventually("BIRD's routes", ctx, || {
        a.next_hop("ipv4", B_NET4).as_deref() == Some(B4) && a.next_hop("ipv6", B_NET6).as_deref() == Some(B6)
    });
    assert_eq!(a.next_hop("ipv4", "203.0.113.128/25"), None);
    eventually("bgpbox's routes at BIRD", ctx, || {
        bird.birdc(&format!("show route {A_NET4}")).contains("a4")
            && bird.birdc(&format!("show route {A_NET6}")).contains("a6")
    });
    // Session loss: BIRD's protocol disabled, its routes leave bgpbox.
    bird.birdc("disable a4");
    eventually("routes gone", ctx, || a.next_hop("ipv4", B_NET4).is_none());
}

#[test]
#[ignore = "needs root, namespaces and GoBGP: run scripts/test"]
fn with_gobgp() {
    require_root();
    let (na, nb) = pair("ga", "gb");
    let neighbor = |addr: &str, family: &str| {
        format!(
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    peer-as = 65001\n  \
             [neighbors.timers.config]\n    hold-time = 9\n    keepalive-interval = 3\n  [[neighbors.afi-safis]]\n    \
             [neighbors.afi-safis.config]\n      afi-safi-name = \"{family}\"\n"
        )
    };
    let gobgp = Gobgp::start(
        &nb,
        &format!(
            "[global.config]\n  as = 65002\n  router-id = \"{B4}\"\n{}{}",
            neighbor(A4, "ipv4-unicast"),
            neighbor(A6, "ipv6-unicast")
        ),
    );
    let a = Bgpbox::start(&na, "gobgp-a", &bgpbox_conf(65002));
    let ctx = || format!("bgpbox log:\n{}\nGoBGP:\n{}", a.log_text(), gobgp.cli(&["neighbor"]));
    eventually("sessions with GoBGP", ctx, || a.established(B4) && a.established(B6));
    gobgp.cli(&["global", "rib", "add", B_NET4, "-a", "ipv4"]);
    gobgp.cli(&["global", "rib", "add", B_NET6, "-a", "ipv6"]);
    eventually("GoBGP's routes", ctx, || {
        a.next_hop("ipv4", B_NET4).as_deref() == Some(B4) && a.next_hop("ipv6", B_NET6).as_deref() == Some(B6)
    });
    eventually("bgpbox's routes at GoBGP", ctx, || {
        gobgp.cli(&["global", "rib", "-a", "ipv4"]).contains(A_NET4)
            && gobgp.cli(&["global", "rib", "-a", "ipv6"]).contains(A_NET6)
    });
    gobgp.cli(&["global", "rib", "del", B_NET4, "-a", "ipv4"]);
    eventually("withdrawal from GoBGP", ctx, || a.next_hop("ipv4", B_NET4).is_none());
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn with_bgpbox_and_rfc8212() {
    require_root();
    let (na, nb) = pair("xa", "xb");
    let a = Bgpbox::start(&na, "x-a", &bgpbox_conf(65002));
    // B has no policy at all: RFC 8212 blocks it both ways, and says so.
    let b = Bgpbox::start(
        &nb,
        "x-b",
        &format!(
            "router bgp 65002
 bgp router-id {B4}
 no bgp default ipv4-unicast
 neighbor {A4} remote-as 65001
 neighbor {A6} remote-as 65001
 address-family ipv4 unicast
  network {B_NET4}
  neighbor {A4} activate
 exit-address-family
 address-family ipv6 unicast
  network {B_NET6}
  neighbor {A6} activate
 exit-address-family
"
        ),
    );
    let ctx = || format!("a:\n{}\nb:\n{}", a.log_text(), b.log_text());
    eventually("sessions", ctx, || a.established(B4) && a.established(B6));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(a.next_hop("ipv4", B_NET4), None, "B must not advertise without policy");
    assert_eq!(b.next_hop("ipv4", A_NET4), None, "B must not accept without policy");
    let log = b.log_text();
    assert!(
        log.contains(&format!("neighbor {A4}: eBGP without inbound policy"))
            && log.contains("no bgp ebgp-requires-policy"),
        "{log}"
    );
    let summary = b.show("show bgp ipv4 unicast summary");
    assert!(summary.contains("(Policy)"), "{summary}");
    assert!(summary.contains(&format!("% {A4}: (Policy) means RFC 8212")), "{summary}");

    // Lifting it lets routes flow both ways over IPv4 and IPv6.
    b.vtysh(&["configure terminal", "router bgp 65002", "no bgp ebgp-requires-policy"]).unwrap();
    eventually("routes after lifting RFC 8212", ctx, || {
        a.next_hop("ipv4", B_NET4).as_deref() == Some(B4)
            && a.next_hop("ipv6", B_NET6).as_deref() == Some(B6)
            && b.next_hop("ipv4", A_NET4).as_deref() == Some(A4)
            && b.next_hop("ipv6", A_NET6).as_deref() == Some(A6)
    });
    // SIGHUP re-reads the file: only what changed is touched.
    let conf = std::fs::read_to_string(&a.conf).unwrap();
    std::fs::write(&a.conf, conf.replace(&format!("  network {A_NET6}\n"), "")).unwrap();
    a.signal("-HUP");
    eventually("the network gone after SIGHUP", ctx, || b.next_hop("ipv6", A_NET6).is_none());
    let s = a.json("show bgp summary json");
    assert_eq!(s["ipv6Unicast"]["peers"][B6]["connectionsEstablished"], 1, "no reset for a reload");
    // A bad file is refused whole, and the running config stays.
    std::fs::write(&a.conf, format!("{conf}router bgp 65001\n neighbor {B4} frobnicate\n")).unwrap();
    a.signal("-HUP");
    eventually("the refusal in the log", ctx, || a.log_text().contains("reload refused"));
    assert!(a.log_text().contains("frobnicate"));
    assert_eq!(b.next_hop("ipv6", A_NET6), None, "the running config stays as it was");
    assert_eq!(b.next_hop("ipv4", A_NET4).as_deref(), Some(A4));

    // A session that goes down takes its routes with it.
    b.signal("-TERM");
    eventually("routes gone after B stops", ctx, || {
        a.next_hop("ipv4", B_NET4).is_none() && !kernel_has(&na, false, B_NET4)
    });
}

/// The seed's three routers on one LAN, from the seed's configs renumbered
/// into documentation prefixes.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn seed_on_one_subnet() {
    require_root();
    let renumber = |s: &str| {
        s.replace("192.168.2.", "192.0.2.")
            .replace("10.1.0.0/24", "198.51.100.0/24")
            .replace("10.2.0.0/24", "203.0.113.0/24")
    };
    let seed = repo().join("tests/data/seed");
    let conf = |f: &str| renumber(&std::fs::read_to_string(seed.join(f)).unwrap());
    let mut sw = Switch::new();
    let ix = Ns::new("si");
    let ry = Ns::new("sr");
    let op = Ns::new("so");
    sw.attach(&ix, "eth0", &["192.0.2.254/24"]);
    sw.attach(&ry, "eth0", &["192.0.2.203/24"]);
    sw.attach(&op, "eth0", &["192.0.2.204/24"]);
    ry.addr("eth1", "198.51.100.1/24");
    op.addr("eth1", "203.0.113.1/24");
    // The servers have a kernel default to the home router, as in the seed.
    ry.ip(&["route", "add", "default", "via", "192.0.2.254"]);
    op.ip(&["route", "add", "default", "via", "192.0.2.254"]);
    let ix_d = Bgpbox::start(&ix, "seed-ix", &conf("IX2105.conf"));
    let ry_d = Bgpbox::start(&ry, "seed-ryzen", &conf("RyzenRouter.conf"));
    let op_d = Bgpbox::start(&op, "seed-oplx", &conf("router-oplx.conf"));
    let ctx = || format!("ix:\n{}\nryzen:\n{}\noplx:\n{}", ix_d.log_text(), ry_d.log_text(), op_d.log_text());
    eventually("the seed converges", ctx, || {
        ry_d.next_hop("ipv4", "203.0.113.0/24").as_deref() == Some("192.0.2.204")
            && op_d.next_hop("ipv4", "198.51.100.0/24").as_deref() == Some("192.0.2.203")
            && ix_d.next_hop("ipv4", "198.51.100.0/24").as_deref() == Some("192.0.2.203")
            && ix_d.next_hop("ipv4", "203.0.113.0/24").as_deref() == Some("192.0.2.204")
            && ry_d.next_hop("ipv4", "0.0.0.0/0").as_deref() == Some("192.0.2.254")
    });
    // The seed's view: the other VM network B>* via the other router, the
    // default from the home router not selected (the kernel default wins).
    let view = ry_d.show("sh ip route bgp");
    let lines: Vec<&str> = view.lines().filter(|l| l.starts_with('B')).collect();
    assert_eq!(lines.len(), 2, "{view}");
    assert!(lines[0].starts_with("B   0.0.0.0/0 [20/0] via 192.0.2.254, eth0, weight 1, 00:00:"), "{view}");
    assert!(lines[1].starts_with("B>* 203.0.113.0/24 [20/0] via 192.0.2.204, eth0, weight 1, 00:00:"), "{view}");
    assert!(kernel_has(&ry, false, "203.0.113.0/24 via 192.0.2.204 dev eth0 proto bgp metric 20"));
    assert!(
        !kernel_has(&ry, false, "proto bgp metric 20 \ndefault")
            && !kernel_has(&ry, false, "default via 192.0.2.254 dev eth0 proto bgp")
    );
    // VM1 reaches VM2 straight across the LAN.
    ry.exec(&["ping", "-c", "1", "-W", "2", "-I", "198.51.100.1", "203.0.113.1"]);
}

mod rfc7606 {
    //! A raw test peer (our codec, driven by hand) sends malformed UPDATEs.
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use bgpbox::bgp::packet::{self, err, frame, Capability, Codec, Message, Open, EXTENDED_MAX_LEN};

    use super::*;

    const OPT: u8 = 0x80;
    const TRANS: u8 = 0x40;
    const ORIGIN: &[u8] = &[TRANS, 1, 1, 0];
    const AS_PATH: &[u8] = &[TRANS, 2, 6, 2, 1, 0, 0, 0xfd, 0xea];
    const NEXT_HOP: &[u8] = &[TRANS, 3, 4, 192, 0, 2, 2];
    const NLRI: &[u8] = &[24, 203, 0, 113];

    fn update(attrs: &[&[u8]]) -> Vec<u8> {
        let a: Vec<u8> = attrs.concat();
        let mut m = packet::MARKER.to_vec();
        m.extend_from_slice(&[0, 0, 2, 0, 0]);
        m.extend_from_slice(&(a.len() as u16).to_be_bytes());
        m.extend_from_slice(&a);
        m.extend_from_slice(NLRI);
        let len = m.len() as u16;
        m[16..18].copy_from_slice(&len.to_be_bytes());
        m
    }

    /// A TCP connection made from inside `ns` (a thread enters it; the
    /// socket stays there).
    fn connect_in(ns: &Ns, to: &'static str) -> TcpStream {
        let path = format!("/run/netns/{}", ns.name);
        std::thread::spawn(move || {
            let f = std::fs::File::open(path).unwrap();
            nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            TcpStream::connect((to, 179)).unwrap()
        })
        .join()
        .unwrap()
    }

    struct Peer {
        s: TcpStream,
        buf: Vec<u8>,
    }

    impl Peer {
        fn send(&mut self, bytes: &[u8]) {
            self.s.write_all(bytes).unwrap();
        }

        fn next(&mut self) -> Option<Message> {
            loop {
                if let Ok(Some(len)) = frame(&self.buf, EXTENDED_MAX_LEN) {
                    let m: Vec<u8> = self.buf.drain(..len).collect();
                    return packet::decode(&m, &Codec { four_octet_as: true, max_len: EXTENDED_MAX_LEN }).ok();
                }
                let mut chunk = [0u8; 4096];
                match self.s.read(&mut chunk) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                }
            }
        }
    }

    #[test]
    #[ignore = "needs root and namespaces: run scripts/test"]
    fn malformed_updates_keep_the_session() {
        require_root();
        let (na, nb) = pair("ra", "rb");
        let a = Bgpbox::start(
            &na,
            "rfc7606-a",
            &format!(
                "router bgp 65001\n bgp router-id {A4}\n no bgp ebgp-requires-policy\n neighbor {B4} remote-as 65002\n neighbor {B4} passive\n"
            ),
        );
        let s = connect_in(&nb, A4);
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut p = Peer { s, buf: Vec::new() };
        let open = Open {
            version: 4,
            asn: 65002,
            hold_time: 90,
            bgp_id: B4.parse().unwrap(),
            capabilities: vec![Capability::Multiprotocol(1, 1), Capability::FourOctetAs(65002)],
        };
        let mut b = Vec::new();
        packet::encode(&Message::Open(open), &Codec::default(), &mut b);
        packet::encode(&Message::Keepalive, &Codec::default(), &mut b);
        p.send(&b);
        assert!(matches!(p.next(), Some(Message::Open(o)) if o.asn == 65001));
        let ctx = || a.log_text();
        eventually("the raw peer's session", ctx, || a.established(B4));

        let good = update(&[ORIGIN, AS_PATH, NEXT_HOP]);
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            ("undefined ORIGIN", update(&[&[TRANS, 1, 1, 3], AS_PATH, NEXT_HOP]), true),
            ("ORIGIN length 2", update(&[&[TRANS, 1, 2, 0, 0], AS_PATH, NEXT_HOP]), true),
            ("AS_PATH overrun", update(&[ORIGIN, &[TRANS, 2, 6, 2, 5, 0, 0, 0xfd, 0xea], NEXT_HOP]), true),
            ("AS_PATH segment type", update(&[ORIGIN, &[TRANS, 2, 6, 9, 1, 0, 0, 0xfd, 0xea], NEXT_HOP]), true),
            ("ORIGIN flags", update(&[&[OPT | TRANS, 1, 1, 0], AS_PATH, NEXT_HOP]), true),
            ("NEXT_HOP length", update(&[ORIGIN, AS_PATH, &[TRANS, 3, 3, 192, 0, 2]]), true),
            ("MED length", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT, 4, 3, 0, 0, 1]]), true),
            ("LOCAL_PREF length", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[TRANS, 5, 2, 0, 1]]), true),
            ("COMMUNITIES length", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT | TRANS, 8, 3, 0, 0, 1]]), true),
            (
                "LARGE_COMMUNITY length",
                update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT | TRANS, 32, 5, 0, 0, 0, 0, 1]]),
                true,
            ),
            ("ORIGIN missing", update(&[AS_PATH, NEXT_HOP]), true),
            ("NEXT_HOP missing", update(&[ORIGIN, AS_PATH]), true),
            ("attribute overrun", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT, 4, 9, 0, 0, 0, 1]]), true),
            ("ATOMIC_AGGREGATE length", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[TRANS, 6, 1, 0]]), false),
            ("AGGREGATOR length", update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT | TRANS, 7, 5, 0, 1, 2, 3, 4]]), false),
            (
                "duplicate attribute",
                update(&[ORIGIN, AS_PATH, NEXT_HOP, &[OPT, 4, 4, 0, 0, 0, 1], &[OPT, 4, 4, 0, 0, 0, 2]]),
                false,
            ),
        ];
        assert_eq!(cases.len(), 16);
        for (what, bytes, withdraws) in cases {
            p.send(&good);
            eventually(&format!("{what}: the good route first"), ctx, || a.next_hop("ipv4", B_NET4).is_some());
            p.send(&bytes);
            if withdraws {
                eventually(&format!("{what}: treat-as-withdraw"), ctx, || a.next_hop("ipv4", B_NET4).is_none());
            } else {
                std::thread::sleep(Duration::from_millis(200));
                assert!(a.next_hop("ipv4", B_NET4).is_some(), "{what}: the route must stay (attribute discard)");
            }
            assert!(a.established(B4), "{what}: the session must stay up\n{}", a.log_text());
        }
        let log = a.log_text();
        assert!(log.contains("malformed UPDATE: ORIGIN 3 is undefined: treat-as-withdraw (RFC 7606)"), "{log}");
        assert!(log.contains("attribute discarded (RFC 7606)"), "{log}");

        // An unrecognized well-known attribute is still a session reset.
        p.send(&update(&[ORIGIN, AS_PATH, NEXT_HOP, &[TRANS, 200, 0]]));
        let n = std::iter::from_fn(|| p.next()).find_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        });
        let n = n.expect("a NOTIFICATION");
        assert_eq!((n.code, n.subcode), (err::UPDATE, err::UNRECOGNIZED_WELL_KNOWN));
    }
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn password_and_ttl_security_with_frr() {
    require_root();
    let (na, nb) = pair("pa", "pb");
    let frr = Frr::start(
        &nb,
        &format!(
            "router bgp 65002
 bgp router-id {B4}
 no bgp ebgp-requires-policy
 neighbor {A4} remote-as 65001
 neighbor {A4} password s3cret
 neighbor {A4} ttl-security hops 1
 neighbor {A4} timers 3 9
 neighbor {A4} timers connect 1
"
        ),
    );
    let conf = |pw: &str| {
        format!(
            "router bgp 65001
 bgp router-id {A4}
 no bgp ebgp-requires-policy
 neighbor {B4} remote-as 65002
 neighbor {B4} password {pw}
 neighbor {B4} ttl-security hops 1
 neighbor {B4} timers 3 9
"
        )
    };
    let a = Bgpbox::start(&na, "md5-a", &conf("s3cret"));
    let ctx = || format!("bgpbox:\n{}\nFRR:\n{}", a.log_text(), frr.vtysh("show bgp summary"));
    eventually("a TCP-MD5 session with FRR", ctx, || a.established(B4));
    // A wrong password: the session goes and stays down.
    a.vtysh(&["configure terminal", "router bgp 65001", &format!("neighbor {B4} password wrong")]).unwrap();
    eventually("session down with the wrong key", ctx, || !a.established(B4));
    std::thread::sleep(Duration::from_secs(4));
    assert!(!a.established(B4), "a wrong TCP-MD5 key must not get a session");
    a.vtysh(&["configure terminal", "router bgp 65001", &format!("neighbor {B4} password s3cret")]).unwrap();
    eventually("session back with the right key", ctx, || a.established(B4));
}

/// FRR's two sessions (IPv4 and IPv6) as members of one peer-group on
/// bgpbox's side: the group's remote-as, timers and policies reach both,
/// and FRR sees the group's settings (its hold time, our routes).
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn a_peer_group_with_frr() {
    require_root();
    let (na, nb) = pair("ga", "gb");
    let frr = Frr::start(
        &nb,
        &format!(
            "router bgp 65002\n bgp router-id {B4}\n no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n \
             neighbor {A4} remote-as 65001\n neighbor {A6} remote-as 65001\n address-family ipv4 unicast\n  network {B_NET4}\n  \
             neighbor {A4} activate\n exit-address-family\n address-family ipv6 unicast\n  network {B_NET6}\n  \
             neighbor {A6} activate\n exit-address-family\n"
        ),
    );
    let a = Bgpbox::start(
        &na,
        "pg-a",
        &format!(
            "router bgp 65001\n bgp router-id {A4}\n no bgp default ipv4-unicast\n neighbor FRR peer-group\n \
             neighbor FRR remote-as 65002\n neighbor FRR timers 3 9\n neighbor {B4} peer-group FRR\n neighbor {B6} peer-group FRR\n \
             address-family ipv4 unicast\n  network {A_NET4}\n  neighbor FRR activate\n  neighbor FRR prefix-list any4 in\n  \
             neighbor FRR prefix-list any4 out\n exit-address-family\n address-family ipv6 unicast\n  network {A_NET6}\n  \
             neighbor FRR activate\n  neighbor FRR prefix-list any6 in\n  neighbor FRR prefix-list any6 out\n exit-address-family\n\
             ip prefix-list any4 seq 5 permit any\nipv6 prefix-list any6 seq 5 permit any\n"
        ),
    );
    let ctx = || format!("bgpbox log:\n{}\nFRR:\n{}", a.log_text(), frr.vtysh("show bgp summary"));
    eventually("sessions with FRR", ctx, || a.established(B4) && a.established(B6));
    eventually("FRR's routes", ctx, || {
        a.next_hop("ipv4", B_NET4).as_deref() == Some(B4) && a.next_hop("ipv6", B_NET6).as_deref() == Some(B6)
    });
    eventually("bgpbox's routes at FRR", ctx, || {
        frr.json("show bgp ipv4 unicast json")["routes"][A_NET4].is_array()
            && frr.json("show bgp ipv6 unicast json")["routes"][A_NET6].is_array()
    });
    // The group's hold time, as FRR negotiated it.
    let n = frr.json(&format!("show bgp neighbors {A4} json"));
    assert_eq!(n[A4]["bgpTimerHoldTimeMsecs"], 9000, "{n}");
    // The running config keeps the group form.
    let running = a.show("show running-config");
    for l in
        [" neighbor FRR peer-group", &format!(" neighbor {B4} peer-group FRR"), "  neighbor FRR prefix-list any4 in"]
    {
        assert!(running.lines().any(|x| x == l), "{l:?} not in\n{running}");
    }
}

/// `redistribute connected` toward FRR: bgpbox's VM networks (connected on
/// `vm`) reach FRR with origin incomplete, and leave it with their address.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn redistribute_connected_to_frr() {
    require_root();
    let (na, nb) = pair("ra", "rb");
    let frr = Frr::start(
        &nb,
        &format!(
            "router bgp 65002\n bgp router-id {B4}\n no bgp ebgp-requires-policy\n neighbor {A4} remote-as 65001\n"
        ),
    );
    let a = Bgpbox::start(
        &na,
        "rd-a",
        &format!(
            "router bgp 65001\n bgp router-id {A4}\n no bgp ebgp-requires-policy\n neighbor {B4} remote-as 65002\n \
             address-family ipv4 unicast\n  redistribute connected route-map NOLAN\n exit-address-family\nexit\n\
             route-map NOLAN deny 5\n match ip address prefix-list LAN\nexit\nroute-map NOLAN permit 10\nexit\n\
             ip prefix-list LAN seq 5 permit 192.0.2.0/24\n"
        ),
    );
    let ctx = || format!("bgpbox log:\n{}\nFRR:\n{}", a.log_text(), frr.vtysh("show bgp ipv4 unicast"));
    let at_frr = || frr.json("show bgp ipv4 unicast json")["routes"].clone();
    eventually("the VM network at FRR", ctx, || at_frr()[A_NET4].is_array());
    let r = at_frr();
    assert_eq!(r[A_NET4][0]["origin"], "incomplete", "{r}");
    assert!(
        !r["192.0.2.0/24"].is_array() || r["192.0.2.0/24"][0]["peerId"] != A4,
        "the route-map keeps the LAN in: {r}"
    );
    na.ip(&["addr", "del", "198.51.100.1/24", "dev", "vm"]);
    eventually("the VM network gone at FRR", ctx, || !at_frr()[A_NET4].is_array());
}
