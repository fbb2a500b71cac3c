//! UPDATE encoding and decoding: round trips, next hops, sizes.

use super::super::attr::*;
use super::super::{decode as decode_msg, frame, Message, EXTENDED_MAX_LEN, MAX_LEN};
use super::*;

fn p(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn attrs() -> PathAttrs {
    let a = PathAttrs {
        origin: Origin::Igp,
        med: Some(1).into(),
        local_pref: None.into(),
        rare: Some(Box::new(Rare {
            atomic_aggregate: true,
            aggregator: Some((65000, Ipv4Addr::new(192, 0, 2, 254))),
            large_communities: vec![[65000, 1, 2]],
            other: vec![RawAttr { flags: OPTIONAL | TRANSITIVE | PARTIAL, code: 99, data: vec![1, 2, 3] }],
            originator_id: Some(Ipv4Addr::new(192, 0, 2, 7)),
            cluster_list: vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 1)],
            ..Default::default()
        })),
        ..Default::default()
    };
    a.with_as_path(&AsPath::sequence(&[65000, 4_200_000_000]))
        .with_next_hop("192.0.2.254".parse().unwrap())
        .with_communities(&[0xfde8_0001])
}

fn roundtrip(u: &Update, codec: &Codec) -> Update {
    let mut buf = Vec::new();
    u.encode(codec, &mut buf);
    assert_eq!(frame(&buf, codec.max_len), Ok(Some(buf.len())));
    match decode_msg(&buf, codec).unwrap() {
        Message::Update(d) => *d,
        m => panic!("{m:?}"),
    }
}

#[test]
fn ipv4_roundtrip_both_as_widths() {
    for four in [true, false] {
        let codec = Codec { four_octet_as: four, max_len: MAX_LEN };
        let u = Update {
            withdrawn: vec![p("198.51.100.0/24")],
            announced: vec![p("10.1.0.0/24"), p("0.0.0.0/0")],
            attrs: Some(attrs()),
            ..Default::default()
        };
        assert_eq!(roundtrip(&u, &codec), u, "four_octet_as={four}");
    }
}

/// RFC 8950: IPv4 prefixes with IPv6 next hops travel in MP_REACH with
/// AFI 1, the link-local next hop beside the global one, and come back
/// as the same attributes; withdrawals stay in the IPv4 field.
#[test]
fn ipv4_with_ipv6_next_hop_roundtrip() {
    let codec = Codec { four_octet_as: true, max_len: MAX_LEN };
    for (g, ll) in [("fe80::1", Some("fe80::1")), ("2001:db8::1", Some("fe80::1")), ("2001:db8::1", None)] {
        let mut a = attrs();
        a.set_next_hops(Some(g.parse().unwrap()), ll.map(|l| l.parse().unwrap()));
        let prefixes = [p("198.51.100.0/24"), p("203.0.113.128/25")];
        let mut buf = Vec::new();
        assert_eq!(pack_announce(&codec, &a, &prefixes, &mut buf), 1);
        assert_eq!(frame(&buf, codec.max_len), Ok(Some(buf.len())));
        let Message::Update(d) = decode_msg(&buf, &codec).unwrap() else { panic!() };
        assert_eq!(d.announced, prefixes.to_vec(), "{g}");
        assert_eq!(d.attrs_for(Afi::Ipv4).unwrap(), a, "{g}");
        assert!(!d.treat_as_withdraw(), "no NEXT_HOP attribute is needed: {:?}", d.problems);
    }
    let w = Update { withdrawn: vec![p("198.51.100.0/24")], ..Default::default() };
    assert_eq!(roundtrip(&w, &codec), w);
}

#[test]
fn ipv6_roundtrip() {
    let mut a = attrs();
    a.set_next_hops(Some("2001:db8::1".parse().unwrap()), Some("fe80::1".parse().unwrap()));
    let u = Update {
        withdrawn: vec![p("2001:db8:ff::/48")],
        announced: vec![p("2001:db8:1::/48")],
        mp_next_hop: Some(("2001:db8::1".parse().unwrap(), Some("fe80::1".parse().unwrap()))),
        attrs: Some(a.clone()),
        ..Default::default()
    };
    let codec = Codec { four_octet_as: true, max_len: MAX_LEN };
    let d = roundtrip(&u, &codec);
    assert_eq!(d.withdrawn, u.withdrawn);
    assert_eq!(d.announced, u.announced);
    assert_eq!(d.attrs_for(Afi::Ipv6).unwrap(), a);
}

/// Moving the attributes out gives what a copy gives, for every shape
/// of next hop; only IPv4 with its NEXT_HOP moves them.
#[test]
fn taken_attributes_are_those_a_copy_gives() {
    let codec = Codec { four_octet_as: true, max_len: MAX_LEN };
    let shapes = [
        (Afi::Ipv4, "192.0.2.1", None),
        (Afi::Ipv4, "fe80::1", Some("fe80::1")),
        (Afi::Ipv4, "2001:db8::1", Some("fe80::1")),
        (Afi::Ipv4, "2001:db8::1", None),
        (Afi::Ipv6, "2001:db8::1", Some("fe80::1")),
        (Afi::Ipv6, "2001:db8::1", None),
    ];
    for (afi, g, ll) in shapes {
        let mut a = attrs();
        a.set_next_hops(Some(g.parse().unwrap()), ll.map(|l| l.parse().unwrap()));
        let prefix = if afi == Afi::Ipv4 { p("198.51.100.0/24") } else { p("2001:db8:1::/48") };
        let mut buf = Vec::new();
        assert_eq!(pack_announce(&codec, &a, &[prefix], &mut buf), 1);
        let Message::Update(mut d) = decode_msg(&buf, &codec).unwrap() else { panic!() };
        let copy = d.attrs_for(afi);
        assert_eq!(copy.as_ref(), Some(&a), "{afi:?} via {g}");
        assert_eq!(d.take_attrs_for(afi), copy, "{afi:?} via {g}");
        assert_eq!(d.attrs.is_none(), afi == Afi::Ipv4, "{afi:?} via {g}");
    }
    // Both families in one UPDATE: the IPv4 routes lose the IPv6
    // link-local next hop, so theirs are a new set, the UPDATE's stay.
    let mut a = attrs();
    a.set_next_hops(Some("192.0.2.1".parse().unwrap()), Some("fe80::1".parse().unwrap()));
    let mut u = Update { attrs: Some(a), ..Default::default() };
    let copy = u.attrs_for(Afi::Ipv4);
    assert_eq!(copy.as_ref().and_then(|c| c.link_local()), None);
    assert_eq!(u.take_attrs_for(Afi::Ipv4), copy);
    assert!(u.attrs.is_some());
}

#[test]
fn end_of_rib_markers() {
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let mut buf = Vec::new();
        end_of_rib(afi, &mut buf);
        match decode_msg(&buf, &Codec::default()).unwrap() {
            Message::Update(u) => assert_eq!(u.end_of_rib, Some(afi)),
            m => panic!("{m:?}"),
        }
    }
}

/// Values over 255 bytes take the extended length (written in place,
/// then moved by a byte), in the first UPDATE of a run and in those
/// copied from it, with 2- and 4-octet ASes.
#[test]
fn long_attributes_round_trip_through_packing() {
    let asns: Vec<u32> = (0..200).map(|i| 4_200_000_000 + i).collect();
    let mut a = attrs();
    a.set_as_path(&AsPath::sequence(&asns));
    a.set_communities(&(0..80u32).collect::<Vec<_>>());
    a.rare_mut().large_communities = (0..30u32).map(|i| [65000, i, i]).collect();
    a.rare_mut().cluster_list = (0..70u32).map(|i| Ipv4Addr::from(0xc000_0200 + i)).collect();
    let prefixes: Vec<IpNet> =
        (0..1500u32).map(|i| IpNet::V4(ipnet::Ipv4Net::new((0x0a00_0000 + (i << 8)).into(), 24).unwrap())).collect();
    for four_octet_as in [true, false] {
        let codec = Codec { four_octet_as, max_len: MAX_LEN };
        let mut out = Vec::new();
        let n = pack_announce(&codec, &a, &prefixes, &mut out);
        assert!(n > 2, "{n}");
        let (mut rest, mut seen) = (&out[..], Vec::new());
        while !rest.is_empty() {
            let len = frame(rest, MAX_LEN).unwrap().unwrap();
            let Message::Update(u) = decode_msg(&rest[..len], &codec).unwrap() else { panic!() };
            assert!(u.problems.is_empty(), "{:?}", u.problems);
            assert_eq!(u.attrs.as_ref(), Some(&a));
            seen.extend(u.announced);
            rest = &rest[len..];
        }
        assert_eq!(seen, prefixes);
    }
}

#[test]
fn packing_splits_at_the_message_size() {
    let prefixes: Vec<IpNet> =
        (0..3000u32).map(|i| IpNet::V4(ipnet::Ipv4Net::new((0x0a00_0000 + (i << 8)).into(), 24).unwrap())).collect();
    for max_len in [MAX_LEN, EXTENDED_MAX_LEN] {
        let codec = Codec { four_octet_as: true, max_len };
        let mut out = Vec::new();
        pack_announce(&codec, &attrs(), &prefixes, &mut out);
        let mut seen = Vec::new();
        let mut rest = &out[..];
        let mut count = 0;
        while !rest.is_empty() {
            let len = frame(rest, max_len).unwrap().unwrap();
            let Message::Update(u) = decode_msg(&rest[..len], &codec).unwrap() else { panic!() };
            seen.extend(u.announced);
            rest = &rest[len..];
            count += 1;
        }
        assert_eq!(seen, prefixes);
        assert!(count > 3000 * 4 / max_len);
        // The attributes encoded once are the bytes one UPDATE has.
        let few = &prefixes[..5];
        let mut one = Vec::new();
        Update { announced: few.to_vec(), attrs: Some(attrs()), ..Default::default() }.encode(&codec, &mut one);
        let mut packed = Vec::new();
        assert_eq!(pack_announce(&codec, &attrs(), few, &mut packed), 1);
        assert_eq!(packed, one);
        let mut w = Vec::new();
        pack_withdraw(&codec, &prefixes, &mut w);
        assert!(w.len() < 3000 * 4 + 100 * count);
    }
}
