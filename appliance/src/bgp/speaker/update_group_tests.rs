//! Update-groups: members share the computation of their routes out, and
//! still each get what is theirs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use super::hostile_tests::{announce, bytes, feed_and_sinks, ip, routes, session, speaker, FOUR, LOCAL};
use super::*;
use crate::bgp::config::parse;
use crate::bgp::packet::{decode, frame, Message, EXTENDED_MAX_LEN};

/// What each connection was sent since the last call.
fn sent(sp: &mut Speaker) -> HashMap<ConnId, Vec<(usize, Message)>> {
    let mut by: HashMap<ConnId, Vec<(usize, Message)>> = HashMap::new();
    for o in sp.take_output() {
        if let Output::Send(c, b) = o {
            let mut rest = &b[..];
            while !rest.is_empty() {
                let len = frame(rest, EXTENDED_MAX_LEN).unwrap().unwrap();
                by.entry(c).or_default().push((len, decode(&rest[..len], &FOUR).unwrap()));
                rest = &rest[len..];
            }
        }
    }
    by
}

/// The next hop each announced prefix went with.
fn hops(msgs: &[(usize, Message)]) -> HashMap<String, Option<IpAddr>> {
    let mut out = HashMap::new();
    for (_, m) in msgs {
        if let Message::Update(u) = m {
            for p in &u.announced {
                out.insert(p.to_string(), u.attrs.as_ref().and_then(|a| a.next_hop()));
            }
        }
    }
    out
}

/// Route-server clients on the LAN form one group with the feed (their
/// routes out are equal for equal best paths); a client on another subnet
/// of ours is a group of its own, as the feed's next hop is not on its
/// link. Within the group, a client whose AS is in a path is not sent it,
/// and the others are; a client that comes up later walks the table
/// through what the group kept.
#[test]
fn members_of_an_update_group_each_get_their_own_routes() {
    let now = Instant::now();
    let lines = " neighbor 192.0.2.1 remote-as 65010\n neighbor 192.0.2.10 remote-as 65100\n \
                 neighbor 192.0.2.11 remote-as 65101\n neighbor 192.0.2.12 remote-as 65102\n \
                 neighbor 198.51.100.20 remote-as 65103\n";
    let conf = format!(
        "router bgp 65001\n bgp router-id {LOCAL}\n no bgp ebgp-requires-policy\n no bgp network import-check\n{lines}"
    );
    let mut sp = speaker(lines, now);
    let mut h = tests::host(LOCAL, &["198.51.100.100/24"]);
    h.routes.insert("198.51.100.0/24".parse().unwrap());
    sp.set_host(now, h);
    let feed = session(&mut sp, now, "192.0.2.1", 65010, false);
    let a = session(&mut sp, now, "192.0.2.10", 65100, false);
    let b = session(&mut sp, now, "192.0.2.11", 65101, false);
    let far = session(&mut sp, now, "198.51.100.20", 65103, false);
    sp.take_output();
    sp.message(now, feed, &bytes(&announce("203.0.113.0/25", &[65010, 65101], "192.0.2.1"), &FOUR));
    sp.message(now, feed, &bytes(&announce("203.0.113.128/25", &[65010], "192.0.2.1"), &FOUR));
    let by = sent(&mut sp);
    let (groups, kept) = sp.update_groups();
    assert_eq!(groups, 2, "the LAN's neighbors, and the one on another subnet");
    assert!(kept > 0, "nothing kept for the LAN's group");
    let lan = ip("192.0.2.1");
    let a_got = hops(&by[&a]);
    assert_eq!(a_got.get("203.0.113.0/25"), Some(&Some(lan)), "{a_got:?}");
    assert_eq!(a_got.get("203.0.113.128/25"), Some(&Some(lan)), "{a_got:?}");
    let b_got = hops(&by[&b]);
    assert_eq!(b_got.get("203.0.113.0/25"), None, "65101 is in its path: {b_got:?}");
    assert_eq!(b_got.get("203.0.113.128/25"), Some(&Some(lan)), "{b_got:?}");
    let far_got = hops(&by[&far]);
    assert_eq!(far_got.get("203.0.113.0/25"), Some(&Some(ip(LOCAL))), "not on its link: ours: {far_got:?}");
    assert!(!by.contains_key(&feed), "split horizon: {:?}", by.get(&feed));
    // One more member: its walk of the table, through the group.
    let c = session(&mut sp, now, "192.0.2.12", 65102, false);
    let by = sent(&mut sp);
    let (ann, _) = routes(&by[&c]);
    assert_eq!(ann.len(), 2, "{ann:?}");
    assert_eq!(hops(&by[&c]).get("203.0.113.0/25"), Some(&Some(lan)));
    assert_eq!(sp.update_groups().0, 2);
    // A route-map out on one member takes it out of the group.
    let conf = format!(
        "{conf} address-family ipv4 unicast\n  neighbor 192.0.2.10 route-map HOP out\n exit-address-family\n\
         route-map HOP permit 10\n set ip next-hop 192.0.2.99\n"
    );
    sp.reconfigure(now, parse("t", &conf).unwrap()).unwrap();
    let by = sent(&mut sp);
    assert_eq!(hops(&by[&a]).get("203.0.113.128/25"), Some(&Some(ip("192.0.2.99"))));
    assert!(!by.contains_key(&c), "an unchanged member was sent its routes again");
    assert_eq!(sp.update_groups().0, 3);
}

#[test]
fn no_route_is_kept_for_a_neighbor_alone_in_its_group() {
    let now = Instant::now();
    let mut sp = speaker(" neighbor 192.0.2.1 remote-as 65010\n neighbor 192.0.2.10 remote-as 65100\n", now);
    let feed = session(&mut sp, now, "192.0.2.1", 65010, false);
    sp.message(now, feed, &bytes(&announce("203.0.113.0/25", &[65010], "192.0.2.1"), &FOUR));
    // The feed is up alone: no group of two.
    assert_eq!(sp.update_groups(), (1, 0));
}

/// An IPv6 RIB entry has sent bits for 24 export slots: thirty neighbors
/// up at once, those past the 24th keep what they were sent of IPv6 in
/// their Adj-RIB-Out, and each gets the route once and its withdrawal.
#[test]
fn ipv6_to_neighbors_past_the_entrys_slots() {
    use crate::bgp::packet::{AsPath, Capability, Codec, Open, Origin, PathAttrs, Update};
    let now = Instant::now();
    let (sinks, mut lines) = feed_and_sinks(30);
    lines += " address-family ipv6 unicast\n  neighbor 192.0.2.1 activate\n";
    for s in &sinks {
        lines += &format!("  neighbor {s} activate\n");
    }
    lines += " exit-address-family\n";
    let mut sp = speaker(&lines, now);
    let up = |sp: &mut Speaker, peer: &str, asn: u32| {
        let conn = sp.accept(now, ip(peer), 0, ip(LOCAL)).expect("a configured neighbor");
        let capabilities =
            vec![Capability::Multiprotocol(1, 1), Capability::Multiprotocol(2, 1), Capability::FourOctetAs(asn)];
        let open = Open { version: 4, asn, hold_time: 9, bgp_id: peer.parse().unwrap(), capabilities };
        sp.message(now, conn, &bytes(&Message::Open(open), &Codec::default()));
        sp.message(now, conn, &bytes(&Message::Keepalive, &Codec::default()));
        conn
    };
    let feed = up(&mut sp, "192.0.2.1", 65010);
    let conns: Vec<ConnId> = sinks.iter().enumerate().map(|(i, s)| up(&mut sp, s, 65100 + i as u32)).collect();
    sp.take_output();
    let prefix: IpNet = "2001:db8:1::/48".parse().unwrap();
    let hop: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
    let attrs = PathAttrs { origin: Origin::Igp, ..Default::default() }
        .with_as_path(&AsPath::sequence(&[65010]))
        .with_next_hop(IpAddr::V6(hop));
    let u =
        Update { announced: vec![prefix], attrs: Some(attrs), mp_next_hop: Some((hop, None)), ..Default::default() };
    sp.message(now, feed, &bytes(&Message::Update(Box::new(u)), &FOUR));
    let by = sent(&mut sp);
    for (s, c) in sinks.iter().zip(&conns) {
        let (ann, _) = routes(by.get(c).map_or(&[][..], |m| &m[..]));
        assert_eq!(ann, vec![prefix.to_string()], "{s}");
        let p = sp.peer_at(ip(s)).unwrap();
        assert_eq!(p.advertised(Afi::Ipv6), 1, "{s}");
        assert!(sp.advertises(p, &prefix), "{s}");
    }
    let w = Update { withdrawn: vec![prefix], ..Default::default() };
    sp.message(now, feed, &bytes(&Message::Update(Box::new(w)), &FOUR));
    let by = sent(&mut sp);
    for (s, c) in sinks.iter().zip(&conns) {
        let (ann, wd) = routes(by.get(c).map_or(&[][..], |m| &m[..]));
        assert_eq!((ann.len(), wd), (0, vec![prefix.to_string()]), "{s}");
        let p = sp.peer_at(ip(s)).unwrap();
        assert_eq!(p.advertised(Afi::Ipv6), 0, "{s}");
        assert!(!sp.advertises(p, &prefix), "{s}");
    }
}
