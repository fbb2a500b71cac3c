//! Links, addresses and routes from the kernel, read with
//! `netlink-packet-route`, into the little bgpbox keeps of them.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily as Family, RouteNetlinkMessage as Rt};

use super::{Addr, Link, Msg, Route};

/// One whole netlink message.
pub(super) fn decode(one: &[u8]) -> Msg {
    let Ok(m) = NetlinkMessage::<Rt>::deserialize(one) else { return Msg::Other };
    let seq = m.header.sequence_number;
    let decoded = match m.payload {
        NetlinkPayload::Done(_) => Some(Msg::Done),
        NetlinkPayload::Error(e) => Some(Msg::Ack { seq, errno: e.code.map_or(0, |c| -c.get()) }),
        NetlinkPayload::InnerMessage(Rt::NewRoute(r)) => route(r).map(|r| Msg::Route(true, r)),
        NetlinkPayload::InnerMessage(Rt::DelRoute(r)) => route(r).map(|r| Msg::Route(false, r)),
        NetlinkPayload::InnerMessage(Rt::NewAddress(a)) => addr(a).map(|a| Msg::Addr(true, a)),
        NetlinkPayload::InnerMessage(Rt::DelAddress(a)) => addr(a).map(|a| Msg::Addr(false, a)),
        NetlinkPayload::InnerMessage(Rt::NewLink(l)) => Some(Msg::Link(true, link(l))),
        NetlinkPayload::InnerMessage(Rt::DelLink(l)) => Some(Msg::Link(false, link(l))),
        _ => None,
    };
    decoded.unwrap_or(Msg::Other)
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

fn unspecified(f: Family) -> Option<IpAddr> {
    match f {
        Family::Inet => Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        Family::Inet6 => Some(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        _ => None,
    }
}

fn route(m: RouteMessage) -> Option<Route> {
    let h = &m.header;
    let plen = h.destination_prefix_length;
    let mut r = Route {
        prefix: IpNet::new(unspecified(h.address_family)?, plen).ok()?,
        protocol: h.protocol.into(),
        table: h.table as u32,
        kind: h.kind.into(),
        scope: h.scope.into(),
        metric: 0,
        oif: None,
        gateways: Vec::new(),
    };
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => r.prefix = IpNet::new(ip(d)?, plen).ok()?,
            RouteAttribute::Oif(i) => r.oif = Some(*i),
            RouteAttribute::Gateway(g) => r.gateways.push((ip(g)?, None)),
            RouteAttribute::Priority(p) => r.metric = *p,
            RouteAttribute::Table(t) => r.table = *t,
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    for g in hop.attributes.iter().filter_map(|a| match a {
                        RouteAttribute::Gateway(g) => ip(g),
                        _ => None,
                    }) {
                        r.gateways.push((g, Some(hop.interface_index)));
                    }
                }
            }
            _ => {}
        }
    }
    Some(r)
}

fn addr(m: AddressMessage) -> Option<Addr> {
    // IFA_LOCAL is the address on point-to-point links.
    let local = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(x) => Some(*x),
        _ => None,
    });
    let address = m.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(x) => Some(*x),
        _ => None,
    });
    let a = local.or(address)?;
    Some(Addr { index: m.header.index, net: IpNet::new(a, m.header.prefix_len).ok()? })
}

fn link(m: LinkMessage) -> Link {
    let f = m.header.flags;
    let mut l = Link {
        index: m.header.index,
        name: String::new(),
        up: f.contains(LinkFlags::Up),
        carrier: f.contains(LinkFlags::Up) && f.contains(LinkFlags::LowerUp),
        mtu: 0,
        flags: f.bits(),
        arphrd: u16::from(m.header.link_layer_type),
        mac: Vec::new(),
        kind: String::new(),
        parent: None,
    };
    for a in m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n,
            LinkAttribute::Mtu(m) => l.mtu = m,
            LinkAttribute::Address(mac) => l.mac = mac,
            LinkAttribute::Link(p) => l.parent = Some(p),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        l.kind = k.to_string();
                    }
                }
            }
            _ => {}
        }
    }
    l
}
