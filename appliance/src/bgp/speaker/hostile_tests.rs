//! Hostile and careless peers and operators against one Speaker, driven
//! by raw messages: oversized routes, over-long messages, a peer that
//! stops reading, maximum-prefix on reconnect, refused config changes,
//! and a stop that only removes.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::tests::{host, seed};
use super::*;
use crate::bgp::config::{parse, render};
use crate::bgp::fsm::State;
use crate::bgp::packet::{
    self, decode, err, frame, AsPath, Capability, Codec, Message, Notification, Open, Origin, PathAttrs, Update,
    EXTENDED_MAX_LEN, MAX_LEN,
};
use crate::bgp::policy::Definitions;

pub(super) const LOCAL: &str = "192.0.2.100";

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A Speaker of AS 65001 with the given neighbor lines.
pub(super) fn speaker(neighbors: &str, now: Instant) -> Speaker {
    let conf = format!(
        "router bgp 65001\n bgp router-id {LOCAL}\n no bgp ebgp-requires-policy\n no bgp network import-check\n{neighbors}"
    );
    Speaker::new(parse("t", &conf).unwrap(), host(LOCAL, &[]), now).unwrap()
}

/// Messages the Speaker sent on `conn` since the last call, and its log.
fn drain(sp: &mut Speaker, conn: packet::Codec, on: ConnId) -> (Vec<(usize, Message)>, Vec<String>) {
    let (mut msgs, mut log) = (Vec::new(), Vec::new());
    for o in sp.take_output() {
        match o {
            Output::Send(c, bytes) if c == on => {
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let len = frame(rest, EXTENDED_MAX_LEN).unwrap().unwrap();
                    msgs.push((len, decode(&rest[..len], &conn).unwrap()));
                    rest = &rest[len..];
                }
            }
            Output::Log(_, l) => log.push(l),
            _ => {}
        }
    }
    (msgs, log)
}

pub(super) fn bytes(m: &Message, codec: &Codec) -> Vec<u8> {
    let mut b = Vec::new();
    packet::encode(m, codec, &mut b);
    b
}

/// Brings up a session from `peer` (AS `asn`), with or without RFC 8654
/// extended messages; the connection's id.
pub(super) fn session(sp: &mut Speaker, now: Instant, peer: &str, asn: u32, extended: bool) -> ConnId {
    let conn = sp.accept(now, ip(peer), 0, ip(LOCAL)).expect("a configured neighbor");
    let mut capabilities = vec![Capability::Multiprotocol(1, 1), Capability::FourOctetAs(asn)];
    if extended {
        capabilities.push(Capability::ExtendedMessage);
    }
    let open = Open { version: 4, asn, hold_time: 9, bgp_id: peer.parse().unwrap(), capabilities };
    sp.message(now, conn, &bytes(&Message::Open(open), &Codec::default()));
    sp.message(now, conn, &bytes(&Message::Keepalive, &Codec::default()));
    assert_eq!(sp.peer_at(ip(peer)).unwrap().session().state(), State::Established);
    conn
}

pub(super) fn announce(prefix: &str, path: &[u32], hop: &str) -> Message {
    let attrs = PathAttrs { origin: Origin::Igp, ..Default::default() }
        .with_as_path(&AsPath::sequence(path))
        .with_next_hop(ip(hop));
    Message::Update(Box::new(Update {
        announced: vec![prefix.parse().unwrap()],
        attrs: Some(attrs),
        ..Default::default()
    }))
}

/// What the sessions above negotiate (both sides have 4-octet ASes).
pub(super) const FOUR: Codec = Codec { four_octet_as: true, max_len: MAX_LEN };

const TWO: &str = " neighbor 192.0.2.1 remote-as 65010\n neighbor 192.0.2.2 remote-as 65020\n";

#[test]
fn a_route_too_long_for_a_strict_peer_is_not_sent_to_it() {
    let now = Instant::now();
    let mut sp = speaker(TWO, now);
    let wide = Codec { four_octet_as: true, max_len: EXTENDED_MAX_LEN };
    let narrow = Codec { four_octet_as: true, max_len: MAX_LEN };
    let a = session(&mut sp, now, "192.0.2.1", 65010, true);
    let b = session(&mut sp, now, "192.0.2.2", 65020, false);
    drain(&mut sp, narrow, b);
    // A small route, then the same prefix with an AS_PATH of 1,100 ASes
    // (4.4 KB: it arrives only because A has extended messages).
    sp.message(now, a, &bytes(&announce("198.51.100.0/24", &[65010], "192.0.2.1"), &wide));
    let (msgs, _) = drain(&mut sp, narrow, b);
    assert!(matches!(&msgs[..], [(_, Message::Update(u))] if u.announced.len() == 1), "{msgs:?}");
    let mut long = vec![65010];
    long.extend(std::iter::repeat_n(64512, 1099));
    for prefix in ["198.51.100.0/24", "203.0.113.0/24"] {
        let m = bytes(&announce(prefix, &long, "192.0.2.1"), &wide);
        assert!(m.len() > MAX_LEN);
        sp.message(now, a, &m);
    }
    let (msgs, log) = drain(&mut sp, narrow, b);
    // B had the first: it is withdrawn; the second never goes.
    assert!(msgs.iter().all(|(len, _)| *len <= MAX_LEN), "{msgs:?}");
    let withdrawn: Vec<_> = msgs
        .iter()
        .flat_map(|(_, m)| match m {
            Message::Update(u) => {
                assert!(u.announced.is_empty(), "{u:?}");
                u.withdrawn.clone()
            }
            _ => vec![],
        })
        .collect();
    assert_eq!(withdrawn, vec!["198.51.100.0/24".parse().unwrap()]);
    let said: Vec<_> = log.iter().filter(|l| l.contains("attributes too long for a 4096-byte UPDATE")).collect();
    assert_eq!(said.len(), 1, "once per attribute set: {log:?}");
    assert!(said[0].starts_with("neighbor 192.0.2.2: "), "{said:?}");
    assert_eq!(sp.peer_at(ip("192.0.2.2")).unwrap().session().state(), State::Established);
}

#[test]
fn a_message_longer_than_negotiated_is_a_bad_message_length() {
    let now = Instant::now();
    let mut sp = speaker(TWO, now);
    let b = session(&mut sp, now, "192.0.2.2", 65020, false);
    drain(&mut sp, FOUR, b);
    let mut long = vec![65020];
    long.extend(std::iter::repeat_n(64512, 1099));
    let wide = Codec { four_octet_as: true, max_len: EXTENDED_MAX_LEN };
    sp.message(now, b, &bytes(&announce("198.51.100.0/24", &long, "192.0.2.2"), &wide));
    let (msgs, _) = drain(&mut sp, FOUR, b);
    match &msgs[..] {
        [(_, Message::Notification(n))] => assert_eq!((n.code, n.subcode), (err::HEADER, err::BAD_LENGTH)),
        m => panic!("{m:?}"),
    }
    assert_ne!(sp.peer_at(ip("192.0.2.2")).unwrap().session().state(), State::Established);
}

#[test]
fn the_send_hold_timer_drops_a_peer_that_does_not_read() {
    let now = Instant::now();
    let mut sp = speaker(TWO, now);
    let b = session(&mut sp, now, "192.0.2.2", 65020, false);
    drain(&mut sp, FOUR, b);
    sp.output_blocked(now, b);
    // Its UPDATEs wait in the Adj-RIB-Out meanwhile.
    let a = session(&mut sp, now, "192.0.2.1", 65010, true);
    sp.message(now, a, &bytes(&announce("198.51.100.0/24", &[65010], "192.0.2.1"), &FOUR));
    let (msgs, _) = drain(&mut sp, FOUR, b);
    assert!(msgs.iter().all(|(_, m)| !matches!(m, Message::Update(_))), "{msgs:?}");
    // The hold time (9 s) passes with the peer still not reading.
    let t = sp.next_deadline().unwrap();
    assert!(t <= now + Duration::from_secs(9), "the send hold deadline is due by the hold time");
    let later = now + Duration::from_secs(9);
    sp.timeout(later);
    let (msgs, log) = drain(&mut sp, FOUR, b);
    assert!(
        msgs.iter().any(|(_, m)| matches!(m, Message::Notification(n) if n.code == err::SEND_HOLD_TIMER_EXPIRED)),
        "{msgs:?} {log:?}"
    );
    assert!(log.iter().any(|l| l.contains("send hold time (RFC 9687)")), "{log:?}");
    assert_ne!(sp.peer_at(ip("192.0.2.2")).unwrap().session().state(), State::Established);
}

#[test]
fn a_reader_that_drains_gets_what_waited() {
    let now = Instant::now();
    let mut sp = speaker(TWO, now);
    let b = session(&mut sp, now, "192.0.2.2", 65020, false);
    let a = session(&mut sp, now, "192.0.2.1", 65010, true);
    drain(&mut sp, FOUR, b);
    sp.output_blocked(now, b);
    sp.message(now, a, &bytes(&announce("198.51.100.0/24", &[65010], "192.0.2.1"), &FOUR));
    drain(&mut sp, FOUR, b);
    sp.output_drained(b);
    let (msgs, _) = drain(&mut sp, FOUR, b);
    assert!(msgs.iter().any(|(_, m)| matches!(m, Message::Update(u) if u.announced.len() == 1)), "{msgs:?}");
}

#[test]
fn maximum_prefix_refuses_reconnects_with_its_own_subcode() {
    let now = Instant::now();
    let mut sp = speaker(
        " neighbor 192.0.2.1 remote-as 65010\n address-family ipv4 unicast\n  neighbor 192.0.2.1 maximum-prefix 1\n",
        now,
    );
    let a = session(&mut sp, now, "192.0.2.1", 65010, false);
    for p in ["198.51.100.0/24", "203.0.113.0/24"] {
        sp.message(now, a, &bytes(&announce(p, &[65010], "192.0.2.1"), &FOUR));
    }
    assert!(sp.peer_at(ip("192.0.2.1")).unwrap().overflow());
    sp.take_output();
    let again = sp.accept(now, ip("192.0.2.1"), 0, ip(LOCAL)).unwrap();
    let (msgs, _) = drain(&mut sp, FOUR, again);
    match &msgs[..] {
        [(_, Message::Notification(n))] => assert_eq!((n.code, n.subcode), (err::CEASE, err::MAX_PREFIXES)),
        m => panic!("{m:?}"),
    }
}

#[test]
fn a_refused_change_leaves_everything_as_it_was() {
    let now = Instant::now();
    // A router-id set by hand, and no IPv4 address to take one from.
    let mut h = host(LOCAL, &[]);
    h.addresses = vec!["2001:db8::1/64".parse().unwrap()];
    let conf = "router bgp 65001\n bgp router-id 192.0.2.100\n neighbor 2001:db8::2 remote-as 65002\n";
    let mut sp = Speaker::new(parse("t", conf).unwrap(), h, now).unwrap();
    let before = render(sp.config());
    sp.take_output();
    let no_id = parse("t", "router bgp 65001\n neighbor 2001:db8::2 remote-as 65002\n").unwrap();
    assert_eq!(sp.reconfigure(now, no_id), Err(Refused::NoRouterId));
    assert_eq!(render(sp.config()), before, "the running config is byte-identical");
    assert_eq!(sp.router_id(), Ipv4Addr::new(192, 0, 2, 100));
    assert!(sp.take_output().iter().all(|o| matches!(o, Output::Log(..))), "no session was touched");
}

#[test]
fn a_stop_sends_cease_and_writes_nothing_to_the_fib() {
    let mut lan = seed();
    let i = lan.idx("ryzen");
    let now = lan.now;
    lan.nodes[i].sp.shutdown(now, "bye");
    let out = lan.nodes[i].sp.take_output();
    assert!(out.iter().any(|o| matches!(o, Output::Send(..))), "Cease goes out");
    assert!(!out.iter().any(|o| matches!(o, Output::Fib(..))), "{out:?}");
    assert!(!lan.nodes[i].sp.has_work());
    let _ = Notification::new(err::CEASE, 0, []);
}

/// End-of-RIB (RFC 4724) goes after the whole initial table, however many
/// rounds of packing that takes: a restarting peer sweeps its stale routes
/// on it.
#[test]
fn end_of_rib_follows_the_whole_table() {
    let now = Instant::now();
    let mut nets = String::from(" address-family ipv4 unicast\n");
    for i in 0..20_000u32 {
        nets.push_str(&format!("  network 10.{}.{}.0/24\n", i >> 8, i & 255));
    }
    let mut sp = speaker(&format!(" neighbor 192.0.2.1 remote-as 65010\n{nets}"), now);
    let a = session(&mut sp, now, "192.0.2.1", 65010, false);
    let (mut announced, mut eor_at, mut count) = (0, None, 0);
    loop {
        let (msgs, _) = drain(&mut sp, FOUR, a);
        for (_, m) in msgs {
            if let Message::Update(u) = m {
                count += 1;
                if u.end_of_rib.is_some() {
                    eor_at = Some(count);
                } else {
                    announced += u.announced.len();
                }
            }
        }
        if !sp.has_work() {
            break;
        }
        sp.work(now, WITHDRAW_SLICE);
    }
    assert_eq!(announced, 20_000);
    assert_eq!(eor_at, Some(count), "End-of-RIB last, after {count} UPDATEs");
}

/// Announced and withdrawn prefixes in what one neighbor was sent.
pub(super) fn routes(msgs: &[(usize, Message)]) -> (Vec<String>, Vec<String>) {
    let (mut a, mut w) = (Vec::new(), Vec::new());
    for (_, m) in msgs {
        if let Message::Update(u) = m {
            a.extend(u.announced.iter().map(|p| p.to_string()));
            w.extend(u.withdrawn.iter().map(|p| p.to_string()));
        }
    }
    (a, w)
}

/// A feed (192.0.2.1, AS 65010) and `n` neighbors to export to (from
/// 192.0.2.10, AS 65100 on): their addresses, and the config lines.
pub(super) fn feed_and_sinks(n: usize) -> (Vec<String>, String) {
    let sinks: Vec<String> = (0..n).map(|i| format!("192.0.2.{}", 10 + i)).collect();
    let mut lines = String::from(" neighbor 192.0.2.1 remote-as 65010\n");
    for (i, s) in sinks.iter().enumerate() {
        lines += &format!(" neighbor {s} remote-as {}\n", 65100 + i);
    }
    (sinks, lines)
}

/// More neighbors than the RIB has export slots (32): each gets the
/// table, its withdrawals, and nothing again for a config change that
/// does not touch its routes out; a changed route-map out sends it anew.
#[test]
fn forty_neighbors_each_get_the_table_once() {
    let now = Instant::now();
    let (sinks, lines) = feed_and_sinks(40);
    let mut sp = speaker(&lines, now);
    let a = session(&mut sp, now, "192.0.2.1", 65010, false);
    let conns: Vec<ConnId> =
        sinks.iter().enumerate().map(|(i, s)| session(&mut sp, now, s, 65100 + i as u32, false)).collect();
    sp.take_output();
    for p in ["198.51.100.0/24", "203.0.113.0/24", "203.0.113.128/25"] {
        sp.message(now, a, &bytes(&announce(p, &[65010], "192.0.2.1"), &FOUR));
    }
    let withdraw = Update { withdrawn: vec!["203.0.113.0/24".parse().unwrap()], ..Default::default() };
    sp.message(now, a, &bytes(&Message::Update(Box::new(withdraw)), &FOUR));
    let out = sp.take_output();
    for (s, c) in sinks.iter().zip(&conns) {
        let msgs: Vec<(usize, Message)> = out
            .iter()
            .filter_map(|o| match o {
                Output::Send(x, b) if x == c => Some(b.clone()),
                _ => None,
            })
            .flat_map(|b| {
                let mut v = Vec::new();
                let mut rest = &b[..];
                while !rest.is_empty() {
                    let len = frame(rest, EXTENDED_MAX_LEN).unwrap().unwrap();
                    v.push((len, decode(&rest[..len], &FOUR).unwrap()));
                    rest = &rest[len..];
                }
                v
            })
            .collect();
        let (ann, wd) = routes(&msgs);
        assert!(
            ann.contains(&"198.51.100.0/24".to_string()) && ann.contains(&"203.0.113.128/25".to_string()),
            "{s}: {ann:?}"
        );
        let p = sp.peer_at(ip(s)).unwrap();
        assert_eq!(p.advertised(Afi::Ipv4), 2, "{s}");
        assert!(!sp.advertises(p, &"203.0.113.0/24".parse().unwrap()), "{s}");
        // Withdrawn if it had been sent in an earlier slice; never announced after.
        assert!(
            !ann.iter().rev().take_while(|x| !wd.contains(x)).any(|x| x == "203.0.113.0/24"),
            "{s}: {ann:?} {wd:?}"
        );
    }
    // A description: nothing goes out again.
    let conf = format!(
        "router bgp 65001\n bgp router-id {LOCAL}\n no bgp ebgp-requires-policy\n no bgp network import-check\n{lines} neighbor 192.0.2.10 description sink\n"
    );
    sp.reconfigure(now, parse("t", &conf).unwrap()).unwrap();
    assert!(!sp.take_output().iter().any(|o| matches!(o, Output::Send(..))), "a description resent routes");
    // A route-map out on one: that one gets its table again, filtered.
    let conf = format!(
        "{conf} address-family ipv4 unicast\n  neighbor 192.0.2.49 route-map ONE out\n exit-address-family\n\
         ip prefix-list ONE seq 5 permit 198.51.100.0/24\nroute-map ONE permit 10\n match ip address prefix-list ONE\n"
    );
    sp.reconfigure(now, parse("t", &conf).unwrap()).unwrap();
    let (msgs, log) = drain(&mut sp, FOUR, conns[39]);
    assert!(log.iter().all(|l| !l.contains("resetting")), "a route-map out reset the session: {log:?}");
    let (ann, wd) = routes(&msgs);
    assert_eq!((ann, wd), (vec!["198.51.100.0/24".to_string()], vec!["203.0.113.128/25".to_string()]));
    assert_eq!(sp.peer_at(ip("192.0.2.49")).unwrap().advertised(Afi::Ipv4), 1);
}

/// A neighbor whose route-map out denies everything (a full-table feed's
/// `route-map NONE out`) is not told of changes; made to permit, it gets
/// the table as it is then; denied again, it gets withdrawals; a
/// route-map that is not defined denies as FRR's does.
#[test]
fn a_neighbor_that_is_sent_nothing_gets_the_table_when_its_route_map_opens() {
    let now = Instant::now();
    let lines = |map: &str, out: &str| {
        format!(
            "router bgp 65001\n bgp router-id {LOCAL}\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65010\n \
             neighbor 192.0.2.10 remote-as 65100\n neighbor 192.0.2.11 remote-as 65101\n address-family ipv4 unicast\n  \
             neighbor 192.0.2.10 route-map {out} out\n  neighbor 192.0.2.11 route-map NONE out\n \
             exit-address-family\nroute-map NONE {map} 10\n"
        )
    };
    let mut sp = Speaker::new(parse("t", &lines("deny", "NONE")).unwrap(), host(LOCAL, &[]), now).unwrap();
    let a = session(&mut sp, now, "192.0.2.1", 65010, false);
    let b = session(&mut sp, now, "192.0.2.10", 65100, false);
    sp.take_output();
    for p in ["198.51.100.0/24", "203.0.113.0/24"] {
        sp.message(now, a, &bytes(&announce(p, &[65010], "192.0.2.1"), &FOUR));
    }
    // No work per route for it: nothing pending, its route-map never run.
    let b_out =
        |sp: &Speaker| sp.peers.iter().find(|p| p.remote() == Some(ip("192.0.2.10"))).unwrap().adj_out.has_pending();
    assert!(!b_out(&sp), "a neighbor sent nothing was told of changes");
    sp.flush();
    let invoked = |sp: &Speaker| sp.config().route_map("NONE").unwrap().invoked.get(10).0;
    assert_eq!(invoked(&sp), 0);
    // One that comes up with the table there has nothing to walk.
    let c = session(&mut sp, now, "192.0.2.11", 65101, false);
    sp.flush();
    assert_eq!(invoked(&sp), 0, "a neighbor sent nothing had the table walked");
    let (msgs, _) = drain(&mut sp, FOUR, c);
    assert_eq!(routes(&msgs), (vec![], vec![]));
    let (msgs, _) = drain(&mut sp, FOUR, b);
    assert_eq!(routes(&msgs), (vec![], vec![]));
    let withdraw = Update { withdrawn: vec!["203.0.113.0/24".parse().unwrap()], ..Default::default() };
    sp.message(now, a, &bytes(&Message::Update(Box::new(withdraw)), &FOUR));
    sp.reconfigure(now, parse("t", &lines("permit", "NONE")).unwrap()).unwrap();
    let (msgs, _) = drain(&mut sp, FOUR, b);
    assert_eq!(routes(&msgs), (vec!["198.51.100.0/24".to_string()], vec![]));
    assert!(invoked(&sp) > 0);
    for (map, out) in [("deny", "NONE"), ("permit", "MISSING")] {
        sp.reconfigure(now, parse("t", &lines("permit", "NONE")).unwrap()).unwrap();
        sp.take_output();
        sp.reconfigure(now, parse("t", &lines(map, out)).unwrap()).unwrap();
        let (msgs, _) = drain(&mut sp, FOUR, b);
        assert_eq!(routes(&msgs), (vec![], vec!["198.51.100.0/24".to_string()]), "{map} {out}");
        assert_eq!(sp.peer_at(ip("192.0.2.10")).unwrap().advertised(Afi::Ipv4), 0);
    }
}
