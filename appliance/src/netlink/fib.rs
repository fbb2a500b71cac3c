//! The FIB writer's route changes, encoded by hand: a full table is a
//! million of them, each built on the stack and appended to a batch of
//! 2,000 per send, nothing allocated per route. Through a generic encoder
//! (a message struct with an attribute vector per route) the writer spent
//! more time allocating than the kernel spent inserting: 1M IPv4 routes to
//! the FIB went from 3.88 s to 3.13 s (BIRD 6.75 s, kernel floor 2.92 s)
//! when this took the stack path, and to 2.52 s with nexthop objects.

use std::net::IpAddr;

use ipnet::IpNet;

use super::*;

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
