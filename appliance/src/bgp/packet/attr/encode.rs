//! Encoding path attributes.

use std::net::IpAddr;

use super::*;
use crate::bgp::packet::{Codec, AS_TRANS};

pub(super) fn put(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    if value.len() > 255 {
        out.extend_from_slice(&[flags | EXTENDED, code]);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags & !EXTENDED, code, value.len() as u8]);
    }
    out.extend_from_slice(value);
}

impl PathAttrs {
    /// Encodes the attributes, except MP_REACH/MP_UNREACH which the UPDATE
    /// encoder adds. `ipv4_next_hop`: whether to send NEXT_HOP (IPv4 NLRI).
    pub fn encode(&self, codec: &Codec, ipv4_next_hop: bool, out: &mut Vec<u8>) {
        let four = codec.four_octet_as;
        put(out, TRANSITIVE, ORIGIN, &[self.origin as u8]);
        let mut v = Vec::new();
        self.as_path.encode(four, &mut v);
        put(out, TRANSITIVE, AS_PATH, &v);
        if let (true, Some(IpAddr::V4(nh))) = (ipv4_next_hop, self.next_hop) {
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
        if !self.communities.is_empty() {
            let v: Vec<u8> = self.communities.iter().flat_map(|c| c.to_be_bytes()).collect();
            put(out, OPTIONAL | TRANSITIVE, COMMUNITIES, &v);
        }
        if let Some(id) = self.originator_id() {
            put(out, OPTIONAL, ORIGINATOR_ID, &id.octets());
        }
        if !self.cluster_list().is_empty() {
            let v: Vec<u8> = self.cluster_list().iter().flat_map(|c| c.octets()).collect();
            put(out, OPTIONAL, CLUSTER_LIST, &v);
        }
        if !four && self.as_path.has_4octet() {
            let mut v = Vec::new();
            self.as_path.encode(true, &mut v);
            put(out, OPTIONAL | TRANSITIVE, AS4_PATH, &v);
        }
        if let (false, Some((asn, id))) = (four, self.aggregator()) {
            if asn > 0xffff {
                let mut v = asn.to_be_bytes().to_vec();
                v.extend_from_slice(&id.octets());
                put(out, OPTIONAL | TRANSITIVE, AS4_AGGREGATOR, &v);
            }
        }
        if !self.large_communities().is_empty() {
            let v: Vec<u8> = self.large_communities().iter().flatten().flat_map(|c| c.to_be_bytes()).collect();
            put(out, OPTIONAL | TRANSITIVE, LARGE_COMMUNITIES, &v);
        }
        for r in self.other() {
            put(out, r.flags, r.code, &r.data);
        }
    }
}

pub(in crate::bgp::packet) fn put_attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    put(out, flags, code, value)
}
