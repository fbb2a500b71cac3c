//! Requests off the hot path, built with `netlink-packet-route`: dumps,
//! and netsetup's links, addresses and static routes.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::{AddressFamily as Family, RouteNetlinkMessage as Rt};

use super::{
    nexthop, F_ACK, F_CREATE, F_DUMP, F_EXCL, F_REPLACE, F_REQUEST, RTM_GETADDR, RTM_GETLINK, RTM_GETNEXTHOP,
    RT_TABLE_MAIN,
};

/// Appends one message with these flags and sequence number.
fn put(out: &mut Vec<u8>, flags: u16, seq: u32, inner: Rt) {
    let mut h = NetlinkHeader::default();
    h.flags = flags;
    h.sequence_number = seq;
    let mut m = NetlinkMessage::new(h, NetlinkPayload::InnerMessage(inner));
    m.finalize();
    let at = out.len();
    out.resize(at + m.buffer_len(), 0);
    m.serialize(&mut out[at..]);
}

fn family(a: &IpAddr) -> Family {
    match a {
        IpAddr::V4(_) => Family::Inet,
        IpAddr::V6(_) => Family::Inet6,
    }
}

/// A dump request for routes, addresses, links or nexthop objects of both
/// families.
pub fn dump(out: &mut Vec<u8>, typ: u16, seq: u32) {
    let flags = F_REQUEST | F_DUMP;
    match typ {
        RTM_GETNEXTHOP => nexthop::dump(out, seq),
        RTM_GETADDR => put(out, flags, seq, Rt::GetAddress(AddressMessage::default())),
        RTM_GETLINK => put(out, flags, seq, Rt::GetLink(LinkMessage::default())),
        _ => put(out, flags, seq, Rt::GetRoute(RouteMessage::default())),
    }
}

/// Brings a link up and/or sets its MTU.
pub fn link_set(out: &mut Vec<u8>, seq: u32, index: u32, up: bool, mtu: Option<u32>) {
    let mut m = LinkMessage::default();
    m.header.index = index;
    if up {
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
    }
    m.attributes.extend(mtu.map(LinkAttribute::Mtu));
    put(out, F_REQUEST | F_ACK, seq, Rt::NewLink(m));
}

/// Creates a macvlan link in bridge mode on `parent`.
pub fn macvlan_add(out: &mut Vec<u8>, seq: u32, name: &str, parent: u32) {
    let mut m = LinkMessage::default();
    m.attributes = vec![
        LinkAttribute::IfName(name.to_string()),
        LinkAttribute::Link(parent),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(MacVlanMode::Bridge)])),
        ]),
    ];
    put(out, F_REQUEST | F_ACK | F_CREATE | F_EXCL, seq, Rt::NewLink(m));
}

/// Adds an address to an interface.
pub fn addr_add(out: &mut Vec<u8>, seq: u32, index: u32, net: &IpNet) {
    let mut m = AddressMessage::default();
    m.header.family = family(&net.addr());
    m.header.prefix_len = net.prefix_len();
    m.header.index = index;
    m.attributes = vec![AddressAttribute::Local(net.addr()), AddressAttribute::Address(net.addr())];
    put(out, F_REQUEST | F_ACK | F_CREATE | F_EXCL, seq, Rt::NewAddress(m));
}

/// Adds a static route (protocol static) via a gateway, optionally on a
/// given interface, or (no gateway) straight on the interface.
pub fn static_route_add(out: &mut Vec<u8>, seq: u32, prefix: &IpNet, via: Option<IpAddr>, oif: Option<u32>) {
    static_route(out, seq, prefix, StaticKind::Via(via, oif), None, true);
}

/// What a static route does with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticKind {
    /// Via a gateway and/or out of an interface.
    Via(Option<IpAddr>, Option<u32>),
    /// Dropped silently (`Null0`, `blackhole`).
    Blackhole,
    /// Dropped with ICMP unreachable (`reject`).
    Unreachable,
}

/// Adds (or replaces) or deletes a route of protocol static, with a
/// metric (None: the kernel's 0).
pub fn static_route(out: &mut Vec<u8>, seq: u32, prefix: &IpNet, kind: StaticKind, metric: Option<u32>, add: bool) {
    let mut m = RouteMessage::default();
    let h = &mut m.header;
    h.address_family = family(&prefix.addr());
    h.destination_prefix_length = prefix.prefix_len();
    h.table = RT_TABLE_MAIN;
    h.protocol = RouteProtocol::Static;
    (h.scope, h.kind) = match kind {
        StaticKind::Via(None, _) => (RouteScope::Link, RouteType::Unicast),
        StaticKind::Via(..) => (RouteScope::Universe, RouteType::Unicast),
        StaticKind::Blackhole => (RouteScope::Universe, RouteType::BlackHole),
        StaticKind::Unreachable => (RouteScope::Universe, RouteType::Unreachable),
    };
    m.attributes.push(RouteAttribute::Destination(RouteAddress::from(prefix.network())));
    if let StaticKind::Via(via, oif) = kind {
        m.attributes.extend(via.map(|g| RouteAttribute::Gateway(RouteAddress::from(g))));
        m.attributes.extend(oif.map(RouteAttribute::Oif));
    }
    m.attributes.extend(metric.map(RouteAttribute::Priority));
    if add {
        put(out, F_REQUEST | F_ACK | F_CREATE | F_REPLACE, seq, Rt::NewRoute(m));
    } else {
        put(out, F_REQUEST | F_ACK, seq, Rt::DelRoute(m));
    }
}
