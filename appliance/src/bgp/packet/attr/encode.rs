//! Encoding path attributes.

use std::net::IpAddr;

use super::*;
use crate::bgp::packet::{Codec, AS_TRANS};

// Inlined so that a value of a known size (ORIGIN, NEXT_HOP, MED) is
// stored, not copied by musl's memcpy, once for every UPDATE out.
#[inline(always)]
pub(super) fn put(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    put_with(out, flags, code, |o| o.extend_from_slice(value));
}

/// `put` with the value written straight into `out` (no buffer per
/// attribute: exporting a full table encodes millions of sets), its
/// length filled in after; the rare value over 255 bytes moves by one
/// for the extended length.
#[inline(always)]
fn put_with(out: &mut Vec<u8>, flags: u8, code: u8, value: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[flags & !EXTENDED, code, 0]);
    value(out);
    let len = out.len() - at - 3;
    if len > 255 {
        out[at] = flags | EXTENDED;
        out.insert(at + 2, (len >> 8) as u8);
        out[at + 3] = len as u8;
    } else {
        out[at + 2] = len as u8;
    }
}

impl PathAttrs {
    /// Encodes the attributes, except MP_REACH/MP_UNREACH which the UPDATE
    /// encoder adds. `ipv4_next_hop`: whether to send NEXT_HOP (IPv4 NLRI).
    pub fn encode(&self, codec: &Codec, ipv4_next_hop: bool, out: &mut Vec<u8>) {
        let four = codec.four_octet_as;
        put(out, TRANSITIVE, ORIGIN, &[self.origin as u8]);
        put_with(out, TRANSITIVE, AS_PATH, |v| self.as_path().encode(four, v));
        if let (true, Some(IpAddr::V4(nh))) = (ipv4_next_hop, self.next_hop()) {
            put(out, TRANSITIVE, NEXT_HOP, &nh.octets());
        }
        if let Some(m) = self.med.get() {
            put(out, OPTIONAL, MED, &m.to_be_bytes());
        }
        if let Some(lp) = self.local_pref.get() {
            put(out, TRANSITIVE, LOCAL_PREF, &lp.to_be_bytes());
        }
        if self.atomic_aggregate() {
            put(out, TRANSITIVE, ATOMIC_AGGREGATE, &[]);
        }
        if let Some((asn, id)) = self.aggregator() {
            let mut v = Vec::new();
            if four {
                v.extend_from_slice(&asn.to_be_bytes());
            } else {
                v.extend_from_slice(&(u16::try_from(asn).unwrap_or(AS_TRANS as u16)).to_be_bytes());
            }
            v.extend_from_slice(&id.octets());
            put(out, OPTIONAL | TRANSITIVE, AGGREGATOR, &v);
        }
        if !self.communities().is_empty() {
            put_with(out, OPTIONAL | TRANSITIVE, COMMUNITIES, |v| {
                self.communities().iter().for_each(|c| v.extend_from_slice(&c.to_be_bytes()))
            });
        }
        if let Some(id) = self.originator_id() {
            put(out, OPTIONAL, ORIGINATOR_ID, &id.octets());
        }
        if !self.cluster_list().is_empty() {
            put_with(out, OPTIONAL, CLUSTER_LIST, |v| {
                self.cluster_list().iter().for_each(|c| v.extend_from_slice(&c.octets()))
            });
        }
        if !four && self.as_path().has_4octet() {
            put_with(out, OPTIONAL | TRANSITIVE, AS4_PATH, |v| self.as_path().encode(true, v));
        }
        if let (false, Some((asn, id))) = (four, self.aggregator()) {
            if asn > 0xffff {
                let mut v = asn.to_be_bytes().to_vec();
                v.extend_from_slice(&id.octets());
                put(out, OPTIONAL | TRANSITIVE, AS4_AGGREGATOR, &v);
            }
        }
        if !self.large_communities().is_empty() {
            put_with(out, OPTIONAL | TRANSITIVE, LARGE_COMMUNITIES, |v| {
                self.large_communities().iter().flatten().for_each(|c| v.extend_from_slice(&c.to_be_bytes()))
            });
        }
        for r in self.other() {
            put(out, r.flags, r.code, &r.data);
        }
    }
}

pub(in crate::bgp::packet) fn put_attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    put(out, flags, code, value)
}
