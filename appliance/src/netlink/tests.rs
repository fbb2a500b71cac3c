use super::*;

#[test]
fn route_change_decodes_back() {
    let p: IpNet = "198.51.100.0/24".parse().unwrap();
    let mut buf = Vec::new();
    route_change(&mut buf, 7, &p, &["192.0.2.204".parse().unwrap()], true);
    route_change(
        &mut buf,
        8,
        &"2001:db8::/32".parse().unwrap(),
        &["2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap()],
        true,
    );
    route_change(&mut buf, 9, &p, &[], true);
    let msgs = parse(&buf);
    assert_eq!(msgs.len(), 3);
    let Msg::Route(true, r) = &msgs[0] else { panic!("{msgs:?}") };
    assert_eq!((r.prefix, r.protocol, r.metric, r.table), (p, RTPROT_BGP, 20, 254));
    assert_eq!(r.gateways, vec![("192.0.2.204".parse().unwrap(), None)]);
    let Msg::Route(true, r) = &msgs[1] else { panic!() };
    assert_eq!(r.gateways.len(), 2);
    assert_eq!(r.gateways[1].0, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert!(matches!(&msgs[2], Msg::Route(false, r) if r.gateways.is_empty()));
    let mut one6 = Vec::new();
    let p6: IpNet = "2001:db8:1::/48".parse().unwrap();
    route_change(&mut one6, 10, &p6, &["2001:db8::1".parse().unwrap()], false);
    let Msg::Route(true, r) = &parse(&one6)[0] else { panic!() };
    assert_eq!((r.prefix, r.metric), (p6, 20));
    assert_eq!(r.gateways, vec![("2001:db8::1".parse().unwrap(), None)]);
}

#[test]
fn nexthop_objects_decode_back() {
    let mut buf = Vec::new();
    nexthop_add(&mut buf, 1, 7, &"192.0.2.2".parse().unwrap(), 3);
    nexthop_group_add(&mut buf, 2, 9, &[7, 8], false);
    nexthop_del(&mut buf, 3, 7);
    let msgs = parse(&buf);
    assert_eq!(msgs[0], Msg::Nexthop(true, Nexthop { id: 7, protocol: RTPROT_BGP }));
    assert_eq!(msgs[1], Msg::Nexthop(true, Nexthop { id: 9, protocol: RTPROT_BGP }));
    assert_eq!(msgs[2], Msg::Nexthop(false, Nexthop { id: 7, protocol: 0 }));
    let mut r = Vec::new();
    route_change_nh(&mut r, 4, &"198.51.100.0/24".parse().unwrap(), Some(7), false);
    route_change_nh(&mut r, 5, &"198.51.100.0/24".parse().unwrap(), None, true);
    let msgs = parse(&r);
    assert!(matches!(&msgs[0], Msg::Route(true, r) if r.metric == 20 && r.protocol == RTPROT_BGP));
    assert!(matches!(&msgs[1], Msg::Route(false, _)));
    assert_eq!(u16::from_ne_bytes([r[6], r[7]]) & F_ACK, 0);
}

#[test]
fn only_the_asked_for_acks_and_errors() {
    let mut buf = Vec::new();
    route_change(&mut buf, 5, &"10.0.0.0/8".parse().unwrap(), &[], false);
    assert_eq!(u16::from_ne_bytes([buf[6], buf[7]]) & F_ACK, 0);
    // An error for seq 5 and an ack for seq 6, as the kernel sends them.
    let mut answer = Vec::new();
    for (seq, errno) in [(5u32, -3i32), (6, 0)] {
        answer.extend_from_slice(&36u32.to_ne_bytes());
        answer.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        answer.extend_from_slice(&0u16.to_ne_bytes());
        answer.extend_from_slice(&seq.to_ne_bytes());
        answer.extend_from_slice(&0u32.to_ne_bytes());
        answer.extend_from_slice(&errno.to_ne_bytes());
        answer.extend_from_slice(&[0; 16]);
    }
    assert_eq!(acks(&answer).collect::<Vec<_>>(), [(5, 3), (6, 0)]);
}

#[test]
fn garbage_never_panics() {
    let mut buf = Vec::new();
    route_change(&mut buf, 1, &"10.0.0.0/8".parse().unwrap(), &["192.0.2.1".parse().unwrap()], true);
    for cut in 0..buf.len() {
        let _ = parse(&buf[..cut]);
        let _ = acks(&buf[..cut]).count();
        let mut b = buf.clone();
        b[cut] ^= 0xff;
        let _ = parse(&b);
        let _ = acks(&b).count();
    }
    let mut nh = Vec::new();
    nexthop_group_add(&mut nh, 1, 9, &[7, 8], true);
    for cut in 0..nh.len() {
        let _ = parse(&nh[..cut]);
    }
}

#[test]
fn route_heads_read_what_a_counter_needs() {
    let p: IpNet = "198.51.100.0/24".parse().unwrap();
    let p6: IpNet = "2001:db8:1::/48".parse().unwrap();
    let mut buf = Vec::new();
    route_change_nh(&mut buf, 1, &p, Some(7), false);
    route_change(&mut buf, 2, &p6, &["2001:db8::1".parse().unwrap()], false);
    route_change_nh(&mut buf, 3, &p, None, false);
    // Another protocol's route in another table (RTA_TABLE beyond 255).
    let mut other = Vec::new();
    route_change_nh(&mut other, 4, &"203.0.113.0/25".parse().unwrap(), Some(7), false);
    other[16 + 5] = RTPROT_STATIC;
    other[16 + 4] = 252;
    attr(&mut other, RTA_TABLE, &1000u32.to_ne_bytes());
    let len = other.len() as u32;
    other[..4].copy_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&other);
    // Not routes: skipped.
    nexthop_add(&mut buf, 5, 7, &"192.0.2.2".parse().unwrap(), 3);
    let heads: Vec<RouteHead> = route_heads(&buf).collect();
    let main = |new, prefix| RouteHead { new, prefix, table: 254, protocol: RTPROT_BGP, kind: RTN_UNICAST };
    assert_eq!(
        heads,
        vec![
            main(true, p),
            main(true, p6),
            main(false, p),
            RouteHead {
                new: true,
                prefix: "203.0.113.0/25".parse().unwrap(),
                table: 1000,
                protocol: RTPROT_STATIC,
                kind: RTN_UNICAST
            },
        ]
    );
    // What `parse` makes of the same bytes.
    let full: Vec<(bool, IpNet, u32)> = parse(&buf)
        .into_iter()
        .filter_map(|m| match m {
            Msg::Route(new, r) => Some((new, r.prefix, r.table)),
            _ => None,
        })
        .collect();
    assert_eq!(full, heads.iter().map(|h| (h.new, h.prefix, h.table)).collect::<Vec<_>>());
    // Cut anywhere, nothing panics and nothing made up comes out.
    for cut in 0..buf.len() {
        assert!(route_heads(&buf[..cut]).count() <= heads.len());
    }
}
