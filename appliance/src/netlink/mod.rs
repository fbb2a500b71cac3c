//! rtnetlink: the socket, and the messages bgpbox reads and writes.
//!
//! Reading (dumps and notifications of links, addresses and routes) and
//! the requests off the hot path (netsetup's links, addresses and static
//! routes; dumps) use the `netlink-packet-route` crate (`decode.rs`,
//! `request.rs`). Two parts stay our own: nexthop objects
//! (`nexthop.rs`), which that crate does not have, and the FIB writer's
//! route changes (`fib.rs`), encoded on the stack in batches of thousands
//! per send and matched to their acknowledgements by sequence number.

mod decode;
mod fib;
mod nexthop;
mod request;
mod socket;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

pub use fib::{route_change, route_change_nh};
pub use nexthop::{nexthop_add, nexthop_del, nexthop_group_add};
pub use request::{addr_add, dump, link_set, macvlan_add, static_route, static_route_add, StaticKind};
pub use socket::Socket;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;

const F_REQUEST: u16 = 1;
const F_ACK: u16 = 4;
const F_DUMP: u16 = 0x300;
const F_REPLACE: u16 = 0x100;
const F_CREATE: u16 = 0x400;

const RTA_DST: u16 = 1;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_NH_ID: u16 = 30;
pub const RTM_NEWNEXTHOP: u16 = 104;
pub const RTM_DELNEXTHOP: u16 = 105;
pub const RTM_GETNEXTHOP: u16 = 106;
const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
pub const RTM_GETLINK: u16 = 18;
const F_EXCL: u16 = 0x200;

pub const RT_TABLE_MAIN: u8 = 254;
pub const RTPROT_KERNEL: u8 = 2;
pub const RTPROT_STATIC: u8 = 4;
/// What FRR uses, and what `ip route` shows as `proto bgp`.
pub const RTPROT_BGP: u8 = 186;
pub const RTN_UNICAST: u8 = 1;
pub const RTN_BLACKHOLE: u8 = 6;
pub const RTN_UNREACHABLE: u8 = 7;
pub const RTN_PROHIBIT: u8 = 8;
/// The metric FRR's zebra gives every route it installs, statics too.
pub const STATIC_METRIC: u32 = 20;
pub const RT_SCOPE_LINK: u8 = 253;

pub const GROUP_LINK: u32 = 1;
pub const GROUP_IPV4_IFADDR: u32 = 0x10;
pub const GROUP_IPV4_ROUTE: u32 = 0x40;
pub const GROUP_IPV6_IFADDR: u32 = 0x100;
pub const GROUP_IPV6_ROUTE: u32 = 0x400;
/// RTNLGRP_NEXTHOP (32), the last group the bind mask can name.
pub const GROUP_NEXTHOP: u32 = 1 << 31;

/// FRR's metric for eBGP routes, shown as `[20/0]`.
pub const BGP_METRIC: u32 = 20;

/// A route of the main table, as far as bgpd cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: IpNet,
    pub protocol: u8,
    pub table: u32,
    pub kind: u8,
    pub scope: u8,
    pub metric: u32,
    pub oif: Option<u32>,
    pub gateways: Vec<(IpAddr, Option<u32>)>,
}

/// A nexthop object (ip nexthop), as far as bgpd cares: whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    pub id: u32,
    pub protocol: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub up: bool,
    /// Up, with a carrier (IFF_LOWER_UP): the link passes packets.
    pub carrier: bool,
    pub mtu: u32,
    /// IFF_* flags as the kernel has them.
    pub flags: u32,
    /// ARPHRD_* (1: Ethernet, 772: loopback, 65534: none).
    pub arphrd: u16,
    pub mac: Vec<u8>,
    /// The rtnetlink kind (`veth`, `bridge`, `macvlan`, ...), empty if none.
    pub kind: String,
    /// IFLA_LINK: a veth's peer, a macvlan's parent (its index).
    pub parent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub index: u32,
    pub net: IpNet,
}

/// What one netlink message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Route(bool, Route),
    Addr(bool, Addr),
    Link(bool, Link),
    Nexthop(bool, Nexthop),
    /// An acknowledgement (errno 0) or error for request `seq`.
    Ack {
        seq: u32,
        errno: i32,
    },
    Done,
    Other,
}

fn align(n: usize) -> usize {
    (n + 3) & !3
}

fn header(out: &mut Vec<u8>, typ: u16, flags: u16, seq: u32) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&typ.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    at
}

fn close(out: &mut [u8], at: usize) {
    let len = (out.len() - at) as u32;
    out[at..at + 4].copy_from_slice(&len.to_ne_bytes());
}

fn attr(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&typ.to_ne_bytes());
    out.extend_from_slice(data);
    out.resize(align(out.len()), 0);
}

/// An address's bytes, on the stack: the FIB writer encodes a million of
/// them, and an allocation each cost it measurably (malloc's lock is
/// shared with the main thread).
struct IpBytes([u8; 16], usize);

impl std::ops::Deref for IpBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

fn ip_bytes(a: &IpAddr) -> IpBytes {
    match a {
        IpAddr::V4(v) => {
            let mut b = [0; 16];
            b[..4].copy_from_slice(&v.octets());
            IpBytes(b, 4)
        }
        IpAddr::V6(v) => IpBytes(v.octets(), 16),
    }
}

fn family(p: &IpNet) -> u8 {
    match p {
        IpNet::V4(_) => nix::libc::AF_INET as u8,
        IpNet::V6(_) => nix::libc::AF_INET6 as u8,
    }
}

fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let typ = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            return None;
        }
        let data = &b[4..len];
        b = &b[align(len).min(b.len())..];
        Some((typ, data))
    })
}

fn u32_of(d: &[u8]) -> Option<u32> {
    d.get(..4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}
/// Splits a receive buffer into messages and decodes them.
pub fn parse(buf: &[u8]) -> Vec<Msg> {
    messages(buf)
        .map(|(typ, one)| match typ {
            RTM_NEWNEXTHOP | RTM_DELNEXTHOP => nexthop::decode(typ, &one[16..]),
            _ => decode::decode(one),
        })
        .collect()
}

/// The whole messages of a datagram (header included), with their
/// types, up to the first whose length is wrong.
fn messages(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 16 {
            return None;
        }
        let len = u32_of(b).unwrap_or(0) as usize;
        if len < 16 || len > b.len() {
            return None;
        }
        let typ = u16::from_ne_bytes([b[4], b[5]]);
        let one = &b[..len];
        b = &b[align(len).min(b.len())..];
        Some((typ, one))
    })
}

/// A route change as little as a counter needs: added or gone, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteHead {
    pub new: bool,
    pub prefix: IpNet,
    pub table: u32,
    pub protocol: u8,
    pub kind: u8,
}

/// The route changes in a datagram, read from the fixed header and
/// RTA_DST/RTA_TABLE only, allocating nothing. A full table's
/// notifications through `parse` cost a listener about 3 CPU seconds,
/// taken from whoever writes the table on a 2-core machine.
pub fn route_heads(b: &[u8]) -> impl Iterator<Item = RouteHead> + '_ {
    messages(b).filter_map(|(typ, one)| match typ {
        RTM_NEWROUTE | RTM_DELROUTE => route_head(typ == RTM_NEWROUTE, &one[16..]),
        _ => None,
    })
}

fn route_head(new: bool, m: &[u8]) -> Option<RouteHead> {
    let &[family, plen, _, _, table, protocol, _, kind] = m.get(..8)? else { return None };
    let any: IpAddr = match family {
        2 => Ipv4Addr::UNSPECIFIED.into(),
        10 => Ipv6Addr::UNSPECIFIED.into(),
        _ => return None,
    };
    let mut h = RouteHead { new, prefix: IpNet::new(any, plen).ok()?, table: table.into(), protocol, kind };
    for (typ, data) in attrs(m.get(12..)?) {
        match (typ, family, data.len()) {
            (RTA_DST, 2, 4) => h.prefix = IpNet::new(<[u8; 4]>::try_from(data).ok()?.into(), plen).ok()?,
            (RTA_DST, 10, 16) => h.prefix = IpNet::new(<[u8; 16]>::try_from(data).ok()?.into(), plen).ok()?,
            (RTA_TABLE, _, 4) => h.table = u32_of(data)?,
            _ => {}
        }
    }
    Some(h)
}

/// The acknowledgements and errors in a datagram, as (seq, errno), without
/// decoding anything else.
pub fn acks(b: &[u8]) -> impl Iterator<Item = (u32, i32)> + '_ {
    messages(b).filter_map(|(typ, one)| {
        let errno = u32_of(&one[16..])?;
        (typ == NLMSG_ERROR).then(|| (u32_of(&one[8..]).unwrap_or(0), -(errno as i32)))
    })
}
