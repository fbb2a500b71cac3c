//! A small rtnetlink codec and socket: route and address dumps, route
//! changes in batches, and the multicast groups that announce changes.
//!
//! Our own rather than the rtnetlink crate: the FIB writer puts thousands
//! of requests in one send and matches the acknowledgements by sequence
//! number, which a request/response future per route cannot do cheaply,
//! and a full table is exactly where that matters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use ipnet::IpNet;
use nix::sys::socket::{self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType};

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

const F_REQUEST: u16 = 1;
const F_ACK: u16 = 4;
const F_DUMP: u16 = 0x300;
const F_REPLACE: u16 = 0x100;
const F_CREATE: u16 = 0x400;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
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
const IFA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_BRIDGE: u32 = 4;
const IFF_UP: u32 = 1;
pub const RTM_GETLINK: u16 = 18;
const F_EXCL: u16 = 0x200;
const IFA_LOCAL: u16 = 2;

pub const RT_TABLE_MAIN: u8 = 254;
pub const RTPROT_KERNEL: u8 = 2;
pub const RTPROT_STATIC: u8 = 4;
/// What FRR uses, and what `ip route` shows as `proto bgp`.
pub const RTPROT_BGP: u8 = 186;
pub const RTN_UNICAST: u8 = 1;
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
    pub mtu: u32,
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

/// A dump request for routes or addresses of both families.
pub fn dump(out: &mut Vec<u8>, typ: u16, seq: u32) {
    let at = header(out, typ, F_REQUEST | F_DUMP, seq);
    if typ == RTM_GETADDR || typ == RTM_GETNEXTHOP {
        out.extend_from_slice(&[0; 8]);
    } else if typ == RTM_GETLINK {
        out.extend_from_slice(&[0; 16]);
    } else {
        out.extend_from_slice(&[0; 12]);
    }
    close(out, at);
}

/// Brings a link up and/or sets its MTU.
pub fn link_set(out: &mut Vec<u8>, seq: u32, index: u32, up: bool, mtu: Option<u32>) {
    let at = header(out, RTM_NEWLINK, F_REQUEST | F_ACK, seq);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&index.to_ne_bytes());
    out.extend_from_slice(&(if up { IFF_UP } else { 0 }).to_ne_bytes());
    out.extend_from_slice(&(if up { IFF_UP } else { 0 }).to_ne_bytes());
    if let Some(m) = mtu {
        attr(out, IFLA_MTU, &m.to_ne_bytes());
    }
    close(out, at);
}

/// Creates a macvlan link in bridge mode on `parent`.
pub fn macvlan_add(out: &mut Vec<u8>, seq: u32, name: &str, parent: u32) {
    let at = header(out, RTM_NEWLINK, F_REQUEST | F_ACK | F_CREATE | F_EXCL, seq);
    out.extend_from_slice(&[0; 16]);
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    attr(out, IFLA_IFNAME, &n);
    attr(out, IFLA_LINK, &parent.to_ne_bytes());
    let mut data = Vec::new();
    attr(&mut data, IFLA_MACVLAN_MODE, &MACVLAN_MODE_BRIDGE.to_ne_bytes());
    let mut info = Vec::new();
    attr(&mut info, IFLA_INFO_KIND, b"macvlan");
    attr(&mut info, IFLA_INFO_DATA, &data);
    attr(out, IFLA_LINKINFO, &info);
    close(out, at);
}

/// Adds an address to an interface.
pub fn addr_add(out: &mut Vec<u8>, seq: u32, index: u32, net: &IpNet) {
    let at = header(out, RTM_NEWADDR, F_REQUEST | F_ACK | F_CREATE | F_EXCL, seq);
    out.extend_from_slice(&[family(net), net.prefix_len(), 0, 0]);
    out.extend_from_slice(&index.to_ne_bytes());
    let a = ip_bytes(&net.addr());
    attr(out, IFA_LOCAL, &a);
    attr(out, IFA_ADDRESS, &a);
    close(out, at);
}

/// Adds a static route (protocol static) via a gateway, optionally on a
/// given interface, or (no gateway) straight on the interface.
pub fn static_route_add(out: &mut Vec<u8>, seq: u32, prefix: &IpNet, via: Option<IpAddr>, oif: Option<u32>) {
    let at = header(out, RTM_NEWROUTE, F_REQUEST | F_ACK | F_CREATE | F_REPLACE, seq);
    let scope = if via.is_none() { 253 } else { 0 };
    out.extend_from_slice(&[
        family(prefix),
        prefix.prefix_len(),
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_STATIC,
        scope,
        RTN_UNICAST,
    ]);
    out.extend_from_slice(&0u32.to_ne_bytes());
    attr(out, RTA_DST, &ip_bytes(&prefix.network()));
    if let Some(g) = via {
        attr(out, RTA_GATEWAY, &ip_bytes(&g));
    }
    if let Some(i) = oif {
        attr(out, RTA_OIF, &i.to_ne_bytes());
    }
    close(out, at);
}

/// Adds or replaces a BGP route (`hops` not empty) or deletes it.
/// A route's replace (or, without next hops, delete). `ack`: ask for an
/// acknowledgement even on success (the kernel always reports errors), so
/// that a batch needs one ack, on its last message, not one per route.
pub fn route_change(out: &mut Vec<u8>, seq: u32, prefix: &IpNet, hops: &[IpAddr], ack: bool) {
    let ack = if ack { F_ACK } else { 0 };
    let (typ, flags) = if hops.is_empty() {
        (RTM_DELROUTE, F_REQUEST | ack)
    } else {
        (RTM_NEWROUTE, F_REQUEST | ack | F_CREATE | F_REPLACE)
    };
    if hops.len() <= 1 {
        let gw = hops.first().map(ip_bytes);
        return route_change_simple(out, typ, flags, seq, prefix, gw.as_deref().map(|g| (RTA_GATEWAY, g)));
    }
    let at = header(out, typ, flags, seq);
    let scope = 0; // universe
    out.extend_from_slice(&[family(prefix), prefix.prefix_len(), 0, 0, RT_TABLE_MAIN, RTPROT_BGP, scope, RTN_UNICAST]);
    out.extend_from_slice(&0u32.to_ne_bytes());
    attr(out, RTA_DST, &ip_bytes(&prefix.network()));
    attr(out, RTA_PRIORITY, &BGP_METRIC.to_ne_bytes());
    match hops {
        [] => {}
        [one] => attr(out, RTA_GATEWAY, &ip_bytes(one)),
        many => {
            let mut mp = Vec::new();
            for h in many {
                let start = mp.len();
                mp.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
                attr(&mut mp, RTA_GATEWAY, &ip_bytes(h));
                let len = (mp.len() - start) as u16;
                mp[start..start + 2].copy_from_slice(&len.to_ne_bytes());
            }
            attr(out, RTA_MULTIPATH, &mp);
        }
    }
    close(out, at);
}

/// A nexthop object (RTM_NEWNEXTHOP, Linux 5.3): a gateway on an interface,
/// owned by bgpd (protocol bgp). Routes that name it by id skip the
/// kernel's per-route gateway validation, which is most of what a route
/// with RTA_GATEWAY costs beyond the trie insert.
///
/// Never a replace: an id stands for one gateway and interface for as long
/// as bgpd runs, and replacing a nexthop in use makes the kernel walk every
/// route. One that exists already answers EEXIST.
pub fn nexthop_add(out: &mut Vec<u8>, seq: u32, id: u32, gateway: &IpAddr, oif: u32) {
    let at = header(out, RTM_NEWNEXTHOP, F_REQUEST | F_ACK | F_CREATE, seq);
    let fam = if gateway.is_ipv4() { nix::libc::AF_INET } else { nix::libc::AF_INET6 } as u8;
    out.extend_from_slice(&[fam, 0, RTPROT_BGP, 0, 0, 0, 0, 0]);
    attr(out, NHA_ID, &id.to_ne_bytes());
    attr(out, NHA_OIF, &oif.to_ne_bytes());
    attr(out, NHA_GATEWAY, &ip_bytes(gateway));
    close(out, at);
}

/// A nexthop group (ECMP) of nexthop objects, each with weight 1;
/// `replace` for one the kernel may have changed (a member removed).
pub fn nexthop_group_add(out: &mut Vec<u8>, seq: u32, id: u32, members: &[u32], replace: bool) {
    let replace = if replace { F_REPLACE } else { 0 };
    let at = header(out, RTM_NEWNEXTHOP, F_REQUEST | F_ACK | F_CREATE | replace, seq);
    out.extend_from_slice(&[0, 0, RTPROT_BGP, 0, 0, 0, 0, 0]);
    attr(out, NHA_ID, &id.to_ne_bytes());
    // struct nexthop_grp { u32 id; u8 weight (minus one); u8 resvd1; u16 resvd2 }
    let grp: Vec<u8> = members.iter().flat_map(|m| m.to_ne_bytes().into_iter().chain([0, 0, 0, 0])).collect();
    attr(out, NHA_GROUP, &grp);
    close(out, at);
}

pub fn nexthop_del(out: &mut Vec<u8>, seq: u32, id: u32) {
    let at = header(out, RTM_DELNEXTHOP, F_REQUEST | F_ACK, seq);
    out.extend_from_slice(&[0; 8]);
    attr(out, NHA_ID, &id.to_ne_bytes());
    close(out, at);
}

/// A route's replace through nexthop object `nh` (or, with `None`, its
/// delete); as `route_change` otherwise.
pub fn route_change_nh(out: &mut Vec<u8>, seq: u32, prefix: &IpNet, nh: Option<u32>, ack: bool) {
    let ack = if ack { F_ACK } else { 0 };
    let (typ, flags) = match nh {
        None => (RTM_DELROUTE, F_REQUEST | ack),
        Some(_) => (RTM_NEWROUTE, F_REQUEST | ack | F_CREATE | F_REPLACE),
    };
    match nh {
        Some(id) => route_change_simple(out, typ, flags, seq, prefix, Some((RTA_NH_ID, &id.to_ne_bytes()))),
        None => route_change_simple(out, typ, flags, seq, prefix, None),
    }
}

/// A route change whose next hop is at most one attribute (a gateway, or a
/// nexthop object's id), a full table's case: the message is built on the
/// stack and appended in one copy.
fn route_change_simple(out: &mut Vec<u8>, typ: u16, flags: u16, seq: u32, prefix: &IpNet, via: Option<(u16, &[u8])>) {
    let mut m = [0u8; 96];
    m[4..6].copy_from_slice(&typ.to_ne_bytes());
    m[6..8].copy_from_slice(&flags.to_ne_bytes());
    m[8..12].copy_from_slice(&seq.to_ne_bytes());
    m[16..24].copy_from_slice(&[family(prefix), prefix.prefix_len(), 0, 0, RT_TABLE_MAIN, RTPROT_BGP, 0, RTN_UNICAST]);
    let mut at = 28;
    let mut put = |typ: u16, data: &[u8]| {
        m[at..at + 2].copy_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        m[at + 2..at + 4].copy_from_slice(&typ.to_ne_bytes());
        m[at + 4..at + 4 + data.len()].copy_from_slice(data);
        at += align(4 + data.len());
    };
    put(RTA_DST, &ip_bytes(&prefix.network()));
    put(RTA_PRIORITY, &BGP_METRIC.to_ne_bytes());
    if let Some((t, data)) = via {
        put(t, data);
    }
    m[0..4].copy_from_slice(&(at as u32).to_ne_bytes());
    out.extend_from_slice(&m[..at]);
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

fn ip_of(fam: u8, d: &[u8]) -> Option<IpAddr> {
    match (fam as i32, d.len()) {
        (nix::libc::AF_INET, 4) => Some(IpAddr::V4(Ipv4Addr::new(d[0], d[1], d[2], d[3]))),
        (nix::libc::AF_INET6, 16) => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(d).ok()?))),
        _ => None,
    }
}

fn u32_of(d: &[u8]) -> Option<u32> {
    d.get(..4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Splits a receive buffer into messages and decodes them.
pub fn parse(mut buf: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32_of(buf).unwrap_or(0) as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        let typ = u16::from_ne_bytes([buf[4], buf[5]]);
        let seq = u32_of(&buf[8..]).unwrap_or(0);
        let body = &buf[16..len];
        out.push(decode(typ, seq, body).unwrap_or(Msg::Other));
        buf = &buf[align(len).min(buf.len())..];
    }
    out
}

fn decode(typ: u16, seq: u32, b: &[u8]) -> Option<Msg> {
    Some(match typ {
        NLMSG_ERROR => Msg::Ack { seq, errno: -(u32_of(b)? as i32) },
        NLMSG_DONE => Msg::Done,
        RTM_NEWROUTE | RTM_DELROUTE => {
            let h = b.get(..12)?;
            let (fam, dst_len, table, protocol, scope, kind) = (h[0], h[1], h[4], h[5], h[6], h[7]);
            let mut r = Route {
                prefix: IpNet::new(unspecified(fam)?, dst_len).ok()?,
                protocol,
                table: table as u32,
                kind,
                scope,
                metric: 0,
                oif: None,
                gateways: Vec::new(),
            };
            for (t, d) in attrs(&b[12..]) {
                match t {
                    RTA_DST => r.prefix = IpNet::new(ip_of(fam, d)?, dst_len).ok()?,
                    RTA_OIF => r.oif = u32_of(d),
                    RTA_GATEWAY => r.gateways.push((ip_of(fam, d)?, None)),
                    RTA_PRIORITY => r.metric = u32_of(d)?,
                    RTA_TABLE => r.table = u32_of(d)?,
                    RTA_MULTIPATH => {
                        let mut m = d;
                        while m.len() >= 8 {
                            let len = (u16::from_ne_bytes([m[0], m[1]]) as usize).clamp(8, m.len());
                            let ifindex = u32_of(&m[4..]);
                            for (t2, d2) in attrs(&m[8..len]) {
                                if t2 == RTA_GATEWAY {
                                    r.gateways.push((ip_of(fam, d2)?, ifindex));
                                }
                            }
                            m = &m[align(len).min(m.len())..];
                        }
                    }
                    _ => {}
                }
            }
            Msg::Route(typ == RTM_NEWROUTE, r)
        }
        RTM_NEWADDR | RTM_DELADDR => {
            let h = b.get(..8)?;
            let (fam, plen, index) = (h[0], h[1], u32_of(&h[4..])?);
            let mut addr = None;
            for (t, d) in attrs(&b[8..]) {
                // IFA_LOCAL is the address on point-to-point links.
                if t == IFA_LOCAL || (t == IFA_ADDRESS && addr.is_none()) {
                    addr = ip_of(fam, d);
                }
            }
            Msg::Addr(typ == RTM_NEWADDR, Addr { index, net: IpNet::new(addr?, plen).ok()? })
        }
        RTM_NEWLINK | RTM_DELLINK => {
            let h = b.get(..16)?;
            let index = u32_of(&h[4..8])?;
            let flags = u32_of(&h[8..12])?;
            let mut link = Link { index, name: String::new(), up: flags & IFF_UP != 0, mtu: 0 };
            for (t, d) in attrs(&b[16..]) {
                match t {
                    IFLA_IFNAME => link.name = String::from_utf8_lossy(d).trim_end_matches('\0').to_string(),
                    IFLA_MTU => link.mtu = u32_of(d)?,
                    _ => {}
                }
            }
            Msg::Link(typ == RTM_NEWLINK, link)
        }
        RTM_NEWNEXTHOP | RTM_DELNEXTHOP => {
            let protocol = *b.get(2)?;
            let id = attrs(b.get(8..)?).find(|(t, _)| *t == NHA_ID).and_then(|(_, d)| u32_of(d))?;
            Msg::Nexthop(typ == RTM_NEWNEXTHOP, Nexthop { id, protocol })
        }
        _ => Msg::Other,
    })
}

fn unspecified(fam: u8) -> Option<IpAddr> {
    match fam as i32 {
        nix::libc::AF_INET => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        nix::libc::AF_INET6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        _ => None,
    }
}

/// The acknowledgements and errors in a datagram, as (seq, errno), without
/// decoding anything else.
pub fn acks(mut b: &[u8]) -> impl Iterator<Item = (u32, i32)> + '_ {
    std::iter::from_fn(move || loop {
        if b.len() < 16 {
            return None;
        }
        let len = u32_of(b).unwrap_or(0) as usize;
        if len < 16 || len > b.len() {
            return None;
        }
        let typ = u16::from_ne_bytes([b[4], b[5]]);
        let seq = u32_of(&b[8..]).unwrap_or(0);
        let errno = u32_of(&b[16..len]).map(|e| -(e as i32));
        b = &b[align(len).min(b.len())..];
        if let (NLMSG_ERROR, Some(e)) = (typ, errno) {
            return Some((seq, e));
        }
    })
}

/// A blocking rtnetlink socket.
pub struct Socket {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Socket {
    pub fn open(groups: u32) -> std::io::Result<Socket> {
        let fd =
            socket::socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkRoute)?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups))?;
        // Room for bursts: a full table's worth of notifications or acks.
        let _ = socket::setsockopt(&fd, socket::sockopt::RcvBufForce, &(32 << 20));
        let _ = socket::setsockopt(&fd, socket::sockopt::SndBufForce, &(4 << 20));
        Ok(Socket { fd, buf: vec![0; 1 << 20] })
    }

    /// A larger receive buffer than `open` gives (root only).
    pub fn set_rcvbuf(&self, bytes: usize) -> std::io::Result<()> {
        Ok(socket::setsockopt(&self.fd, socket::sockopt::RcvBufForce, &bytes)?)
    }

    pub fn send(&self, data: &[u8]) -> std::io::Result<()> {
        let mut at = 0;
        while at < data.len() {
            at += socket::send(self.fd.as_raw_fd(), &data[at..], MsgFlags::empty())?;
        }
        Ok(())
    }

    /// Blocks for the next datagram; Err(ENOBUFS) means notifications were
    /// lost and a full resync is due.
    pub fn recv(&mut self) -> std::io::Result<Vec<Msg>> {
        let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())?;
        Ok(parse(&self.buf[..n]))
    }

    /// Blocks for the next datagram and hands its acknowledgements and
    /// errors to `f`, allocating nothing.
    pub fn recv_acks(&mut self, mut f: impl FnMut(u32, i32)) -> std::io::Result<()> {
        let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())?;
        for (seq, errno) in acks(&self.buf[..n]) {
            f(seq, errno);
        }
        Ok(())
    }

    /// Makes `recv` give up (WouldBlock) after `t` without a datagram.
    pub fn set_recv_timeout(&self, t: std::time::Duration) -> std::io::Result<()> {
        let tv = nix::sys::time::TimeVal::new(t.as_secs() as _, t.subsec_micros() as _);
        socket::setsockopt(&self.fd, socket::sockopt::ReceiveTimeout, &tv)?;
        Ok(())
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }

    /// One request and its acknowledgement.
    pub fn request(&mut self, msg: &[u8]) -> std::io::Result<()> {
        let seq = u32_of(msg.get(8..).unwrap_or_default()).unwrap_or(0);
        self.send(msg)?;
        loop {
            for m in self.recv()? {
                if let Msg::Ack { seq: s, errno } = m {
                    if s == seq {
                        return if errno == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(errno)) };
                    }
                }
            }
        }
    }

    /// A dump, message by message: `f` sees each decoded message and keeps
    /// what it wants, so a full table is never held as a whole.
    pub fn dump_each(&mut self, typ: u16, seq: u32, mut f: impl FnMut(Msg)) -> std::io::Result<()> {
        let mut req = Vec::new();
        dump(&mut req, typ, seq);
        self.send(&req)?;
        loop {
            let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())?;
            for m in parse(&self.buf[..n]) {
                match m {
                    Msg::Done => return Ok(()),
                    Msg::Ack { errno, .. } if errno != 0 => return Err(std::io::Error::from_raw_os_error(errno)),
                    m => f(m),
                }
            }
        }
    }

    /// A dump of routes or addresses (one request, then until DONE).
    pub fn dump(&mut self, typ: u16, seq: u32) -> std::io::Result<Vec<Msg>> {
        let mut out = Vec::new();
        self.dump_each(typ, seq, |m| out.push(m))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
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
}
