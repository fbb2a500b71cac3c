//! Nexthop objects (RTM_NEWNEXTHOP, Linux 5.3), encoded and decoded here:
//! `netlink-packet-route` has no nexthop messages.

use std::net::IpAddr;

use super::*;

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

/// A dump of the nexthop objects.
pub(super) fn dump(out: &mut Vec<u8>, seq: u32) {
    let at = header(out, RTM_GETNEXTHOP, F_REQUEST | F_DUMP, seq);
    out.extend_from_slice(&[0; 8]);
    close(out, at);
}

/// A nexthop notification or dump entry: its id and protocol.
pub(super) fn decode(typ: u16, b: &[u8]) -> Msg {
    let Some(&protocol) = b.get(2) else { return Msg::Other };
    let id = b.get(8..).and_then(|a| attrs(a).find(|(t, _)| *t == NHA_ID)).and_then(|(_, d)| u32_of(d));
    match id {
        Some(id) => Msg::Nexthop(typ == RTM_NEWNEXTHOP, Nexthop { id, protocol }),
        None => Msg::Other,
    }
}
