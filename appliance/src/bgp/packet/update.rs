//! UPDATE (RFC 4271 4.3, RFC 4760 for IPv6, RFC 7606 for errors).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::attr::{self, Decoded, Fault, MpReach, MpUnreach, PathAttrs, MP_REACH, MP_UNREACH, OPTIONAL};
use super::nlri::{decode_prefixes, encode_prefix, encoded_len, Afi};
use super::{err, finish, start, Codec, Notification, HEADER_LEN, UPDATE};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Update {
    /// Withdrawn routes of both families (IPv4 field and MP_UNREACH).
    pub withdrawn: Vec<IpNet>,
    /// Reachable prefixes of both families (IPv4 NLRI and MP_REACH).
    pub announced: Vec<IpNet>,
    /// Present when `announced` is not empty. For IPv6, `next_hop` and
    /// `link_local` carry MP_REACH's next hops; an UPDATE with both
    /// families gives them the IPv4 NEXT_HOP and the IPv6 one respectively,
    /// see `next_hop_for`.
    pub attrs: Option<PathAttrs>,
    pub mp_next_hop: Option<(Ipv6Addr, Option<Ipv6Addr>)>,
    /// End-of-RIB marker (RFC 4724) for this family.
    pub end_of_rib: Option<Afi>,
    /// RFC 7606 outcomes, for the log.
    pub problems: Vec<AttrProblem>,
}

/// One malformed attribute and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrProblem {
    pub code: u8,
    pub withdrawn: bool,
    pub detail: String,
}

impl Update {
    pub fn treat_as_withdraw(&self) -> bool {
        self.problems.iter().any(|p| p.withdrawn)
    }

    /// The attributes for a prefix of `afi`, with that family's next hop.
    pub fn attrs_for(&self, afi: Afi) -> Option<PathAttrs> {
        let a = self.attrs.as_ref()?;
        if afi == Afi::Ipv6 {
            let (g, ll) = self.mp_next_hop?;
            return Some(a.with_next_hops(Some(IpAddr::V6(g)), ll));
        }
        if !ipv4_as_they_came(a) {
            return Some(a.with_next_hops(a.next_hop(), None));
        }
        Some(a.clone())
    }

    /// `attrs_for`, the attributes moved out where they go as they came:
    /// for the last family the UPDATE is read for, a copy of them is an
    /// allocation, a copy and a free for every UPDATE of a full table.
    pub fn take_attrs_for(&mut self, afi: Afi) -> Option<PathAttrs> {
        if afi == Afi::Ipv4 && ipv4_as_they_came(self.attrs.as_ref()?) {
            self.attrs.take()
        } else {
            self.attrs_for(afi)
        }
    }

    /// Encodes this UPDATE as one message. The caller keeps it within the
    /// negotiated size (see `pack`).
    pub fn encode(&self, codec: &Codec, out: &mut Vec<u8>) {
        let at = start(out, UPDATE);
        let (w4, w6): (Vec<_>, Vec<_>) = self.withdrawn.iter().partition(|p| Afi::of(p) == Afi::Ipv4);
        let (n4, n6): (Vec<_>, Vec<_>) = self.announced.iter().partition(|p| Afi::of(p) == Afi::Ipv4);
        let wl = out.len();
        out.extend_from_slice(&[0, 0]);
        for p in &w4 {
            encode_prefix(p, out);
        }
        let n = (out.len() - wl - 2) as u16;
        out[wl..wl + 2].copy_from_slice(&n.to_be_bytes());
        let al = out.len();
        out.extend_from_slice(&[0, 0]);
        if !w6.is_empty() || self.end_of_rib == Some(Afi::Ipv6) {
            let mut v = Afi::Ipv6.code().to_be_bytes().to_vec();
            v.push(Afi::SAFI_UNICAST);
            for p in &w6 {
                encode_prefix(p, &mut v);
            }
            attr::put_attr(out, OPTIONAL, MP_UNREACH, &v);
        }
        // IPv4 with an IPv6 next hop goes in MP_REACH too (RFC 8950).
        let enhe = !n4.is_empty() && matches!(self.attrs.as_ref().and_then(|a| a.next_hop()), Some(IpAddr::V6(_)));
        if let Some(a) = &self.attrs {
            if !n6.is_empty() {
                self.mp_reach(Afi::Ipv6, &n6, out);
            }
            if enhe {
                self.mp_reach(Afi::Ipv4, &n4, out);
            }
            a.encode(codec, !n4.is_empty(), out);
        }
        let n = (out.len() - al - 2) as u16;
        out[al..al + 2].copy_from_slice(&n.to_be_bytes());
        if !enhe {
            for p in &n4 {
                encode_prefix(p, out);
            }
        }
        finish(out, at);
    }
}

impl Update {
    /// MP_REACH_NLRI for `prefixes` of `afi` with the IPv6 next hops.
    fn mp_reach(&self, afi: Afi, prefixes: &[&IpNet], out: &mut Vec<u8>) {
        let mut v = afi.code().to_be_bytes().to_vec();
        v.push(Afi::SAFI_UNICAST);
        let (g, ll) = self.mp_next_hop.unwrap_or((Ipv6Addr::UNSPECIFIED, None));
        v.push(if ll.is_some() { 32 } else { 16 });
        v.extend_from_slice(&g.octets());
        if let Some(ll) = ll {
            v.extend_from_slice(&ll.octets());
        }
        v.push(0);
        for p in prefixes {
            encode_prefix(p, &mut v);
        }
        attr::put_attr(out, OPTIONAL, MP_REACH, &v);
    }
}

/// MP_REACH's header and next hops, counted against an UPDATE's room:
/// IPv6 routes, and IPv4 ones with an IPv6 next hop.
fn mp_overhead(afi: Afi, attrs: &PathAttrs) -> usize {
    if afi == Afi::Ipv6 || matches!(attrs.next_hop(), Some(IpAddr::V6(_))) {
        3 + 4 + 1 + 32 + 1
    } else {
        0
    }
}

/// Room for NLRI in one UPDATE once its attributes are encoded.
fn room(codec: &Codec, attrs_len: usize) -> usize {
    codec.max_len.saturating_sub(HEADER_LEN + 4 + attrs_len)
}

/// Encodes announcements of one family sharing `attrs` into as few
/// UPDATEs as fit the negotiated message size, appending them to `out`.
/// Returns how many messages it appended. The caller checks `fits` first:
/// a prefix whose attributes leave it no room is not sent at all.
pub fn pack_announce(codec: &Codec, attrs: &PathAttrs, prefixes: &[IpNet], out: &mut Vec<u8>) -> usize {
    let Some(first) = prefixes.first() else { return 0 };
    let afi = Afi::of(first);
    // Plain IPv4 NLRI: the attributes encoded once, into the first
    // message, and copied from there (most of a full table to every
    // neighbor goes this way).
    if afi == Afi::Ipv4 && !matches!(attrs.next_hop(), Some(IpAddr::V6(_))) {
        return pack_plain(codec, attrs, prefixes, out);
    }
    let mut sample = Vec::new();
    attrs.encode(codec, afi == Afi::Ipv4, &mut sample);
    let room = room(codec, sample.len() + mp_overhead(afi, attrs));
    let mut tmpl = Update { attrs: Some(attrs.clone()), mp_next_hop: mp_hops(attrs), ..Default::default() };
    let mut i = 0;
    let mut n = 0;
    while i < prefixes.len() {
        let j = fill(prefixes, i, room);
        tmpl.announced = prefixes[i..j].to_vec();
        tmpl.encode(codec, out);
        n += 1;
        i = j;
    }
    n
}

/// Whether IPv4 prefixes take an UPDATE's attributes as they came: not
/// when the IPv6 link-local next hop of MP_REACH sits beside an IPv4
/// NEXT_HOP (both families in one UPDATE), which is not theirs.
fn ipv4_as_they_came(a: &PathAttrs) -> bool {
    !(a.link_local().is_some() && matches!(a.next_hop(), Some(IpAddr::V4(_))))
}

/// The end of the run of prefixes from `i` that fits `room` (one at
/// least: the caller checked `fits`).
fn fill(prefixes: &[IpNet], i: usize, room: usize) -> usize {
    let (mut used, mut j) = (0, i);
    while j < prefixes.len() && used + encoded_len(&prefixes[j]) <= room {
        used += encoded_len(&prefixes[j]);
        j += 1;
    }
    j.max(i + 1)
}

fn pack_plain(codec: &Codec, attrs: &PathAttrs, prefixes: &[IpNet], out: &mut Vec<u8>) -> usize {
    let mut encoded: Option<std::ops::Range<usize>> = None;
    let (mut i, mut n) = (0, 0);
    while i < prefixes.len() {
        let at = start(out, UPDATE);
        out.extend_from_slice(&[0, 0, 0, 0]);
        let from = out.len();
        match encoded.clone() {
            Some(r) => out.extend_from_within(r),
            None => attrs.encode(codec, true, out),
        }
        let len = out.len() - from;
        out[from - 2..from].copy_from_slice(&(len as u16).to_be_bytes());
        encoded = Some(from..out.len());
        let j = fill(prefixes, i, room(codec, len));
        for p in &prefixes[i..j] {
            encode_prefix(p, out);
        }
        finish(out, at);
        n += 1;
        i = j;
    }
    n
}

/// Whether an UPDATE announcing `prefix` with `attrs` fits the negotiated
/// message size (RFC 8654: a route learnt over extended messages may not
/// fit a peer without them).
pub fn fits(codec: &Codec, attrs: &PathAttrs, prefix: &IpNet) -> bool {
    if fits_any(codec, attrs) {
        return true;
    }
    let afi = Afi::of(prefix);
    let mut sample = Vec::new();
    attrs.encode(codec, afi == Afi::Ipv4, &mut sample);
    sample.len() + mp_overhead(afi, attrs) + encoded_len(prefix) <= room(codec, 0)
}

/// Whether `attrs` fit an UPDATE with any one prefix, by a cheap bound:
/// nearly every route is far below 4,096 bytes (false: look closer).
pub fn fits_any(codec: &Codec, attrs: &PathAttrs) -> bool {
    let rare = attrs
        .rare
        .as_ref()
        .map_or(0, |r| r.large_communities.len() * 12 + r.other.iter().map(|o| o.data.len() + 4).sum::<usize>() + 16);
    let asns: usize = attrs.as_path().segments().map(|(_, a)| a.len() + 1).sum();
    let bound = 100 + asns * 4 + attrs.communities().len() * 4 + rare;
    bound + HEADER_LEN + 4 + 17 + 40 <= codec.max_len
}

/// Encodes withdrawals (any mix of families) into as few UPDATEs as fit.
pub fn pack_withdraw(codec: &Codec, prefixes: &[IpNet], out: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        let ps: Vec<IpNet> = prefixes.iter().filter(|p| Afi::of(p) == afi).copied().collect();
        let room = room(codec, if afi == Afi::Ipv6 { 3 + 4 } else { 0 });
        for chunk in chunk_by_size(&ps, room) {
            Update { withdrawn: chunk.to_vec(), ..Default::default() }.encode(codec, out);
            n += 1;
        }
    }
    n
}

fn chunk_by_size(ps: &[IpNet], room: usize) -> Vec<&[IpNet]> {
    let mut out = Vec::new();
    let (mut i, mut used) = (0, 0);
    for (j, p) in ps.iter().enumerate() {
        if used + encoded_len(p) > room && j > i {
            out.push(&ps[i..j]);
            i = j;
            used = 0;
        }
        used += encoded_len(p);
    }
    if i < ps.len() {
        out.push(&ps[i..]);
    }
    out
}

fn mp_hops(a: &PathAttrs) -> Option<(Ipv6Addr, Option<Ipv6Addr>)> {
    match a.next_hop() {
        Some(IpAddr::V6(g)) => Some((g, a.link_local())),
        // An IPv4 next hop for IPv6 NLRI goes as an IPv4-mapped address
        // (RFC 4798 style), as FRR does without an IPv6 address.
        Some(IpAddr::V4(v4)) => Some((v4.to_ipv6_mapped(), None)),
        None => None,
    }
}

pub fn end_of_rib(afi: Afi, out: &mut Vec<u8>) {
    Update { end_of_rib: Some(afi), ..Default::default() }.encode(&Codec::default(), out)
}

pub(super) fn decode(b: &[u8], codec: &Codec) -> Result<Update, Notification> {
    let malformed = || Notification::new(err::UPDATE, err::MALFORMED_ATTR_LIST, []);
    let wlen = b.get(..2).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize).ok_or_else(malformed)?;
    let withdrawn_field = b.get(2..2 + wlen).ok_or_else(malformed)?;
    let alen = b.get(2 + wlen..4 + wlen).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize).ok_or_else(malformed)?;
    let attrs_field = b.get(4 + wlen..4 + wlen + alen).ok_or_else(malformed)?;
    let nlri_field = &b[4 + wlen + alen..];

    let invalid_network = || Notification::new(err::UPDATE, err::INVALID_NETWORK, []);
    let mut u = Update::default();
    decode_prefixes(withdrawn_field, Afi::Ipv4, &mut u.withdrawn).map_err(|_| invalid_network())?;
    let mut nlri = Vec::new();
    decode_prefixes(nlri_field, Afi::Ipv4, &mut nlri).map_err(|_| invalid_network())?;

    if withdrawn_field.is_empty() && attrs_field.is_empty() && nlri_field.is_empty() {
        u.end_of_rib = Some(Afi::Ipv4);
        return Ok(u);
    }
    let d = attr::decode(attrs_field, codec)?;
    if let Some(m) = &d.mp_unreach {
        let lone = attrs_field.len() <= 7 && nlri.is_empty() && u.withdrawn.is_empty();
        mp_unreach(m, lone, &mut u)?;
    }
    let mut mp_nlri = Vec::new();
    if let Some(m) = &d.mp_reach {
        mp_reach(m, &mut u, &mut mp_nlri)?;
    }
    for f in &d.faults {
        let withdrawn = f.fault == Fault::TreatAsWithdraw;
        u.problems.push(AttrProblem { code: f.code, withdrawn, detail: f.detail.clone() });
    }
    let reachable = !nlri.is_empty() || !mp_nlri.is_empty();
    if reachable {
        missing_mandatory(&d, !nlri.is_empty(), &mut u);
    }
    if u.treat_as_withdraw() {
        u.withdrawn.extend(nlri);
        u.withdrawn.extend(mp_nlri);
        u.mp_next_hop = None;
        return Ok(u);
    }
    if reachable {
        let mut attrs = d.attrs;
        if let (Some((g, ll)), Some(v4)) = (u.mp_next_hop, mp_nlri.first()) {
            if Afi::of(v4) == Afi::Ipv4 {
                // MP_REACH's next hop for IPv4: an IPv4 one, or IPv6 ones
                // (RFC 8950's extended next hop).
                let (hop, ll) = match g.to_ipv4_mapped() {
                    Some(v4) => (Some(IpAddr::V4(v4)), None),
                    None => (Some(IpAddr::V6(g)), ll),
                };
                attrs.set_next_hops(hop, ll);
                u.mp_next_hop = None;
            }
        }
        u.announced = nlri;
        u.announced.extend(mp_nlri);
        u.attrs = Some(attrs);
    }
    Ok(u)
}

fn optional_err() -> Notification {
    Notification::new(err::UPDATE, err::OPTIONAL_ATTR, [])
}

/// MP_UNREACH_NLRI's prefixes; alone in an UPDATE and empty, the family's
/// End-of-RIB. A family we did not negotiate is not ours to read.
fn mp_unreach(m: &MpUnreach, lone: bool, u: &mut Update) -> Result<(), Notification> {
    if let (Some(afi), Afi::SAFI_UNICAST) = (Afi::from_code(m.afi), m.safi) {
        if m.withdrawn.is_empty() && lone {
            u.end_of_rib = Some(afi);
        }
        decode_prefixes(&m.withdrawn, afi, &mut u.withdrawn).map_err(|_| optional_err())?;
    }
    Ok(())
}

/// MP_REACH_NLRI's prefixes and next hops (global and link-local).
fn mp_reach(m: &MpReach, u: &mut Update, out: &mut Vec<IpNet>) -> Result<(), Notification> {
    let (Some(afi), Afi::SAFI_UNICAST) = (Afi::from_code(m.afi), m.safi) else { return Ok(()) };
    decode_prefixes(&m.nlri, afi, out).map_err(|_| optional_err())?;
    let nh = &m.next_hop;
    match (afi, nh.len()) {
        // An IPv4 route's IPv6 next hops (RFC 8950) read as IPv6's do.
        (Afi::Ipv6 | Afi::Ipv4, 16 | 32) => {
            let g = Ipv6Addr::from(<[u8; 16]>::try_from(&nh[..16]).unwrap_or_default());
            let ll = nh.get(16..32).map(|b| Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap_or_default()));
            u.mp_next_hop = Some((g, ll.filter(|l| !l.is_unspecified())));
        }
        (Afi::Ipv4, 4) => {
            // IPv4 unicast over MP_REACH: its next hop wins.
            let v4 = Ipv4Addr::new(nh[0], nh[1], nh[2], nh[3]);
            u.mp_next_hop = Some((v4.to_ipv6_mapped(), None));
        }
        _ => return Err(optional_err()),
    }
    Ok(())
}

/// RFC 7606 3(d): a missing well-known mandatory attribute is
/// treat-as-withdraw.
fn missing_mandatory(d: &Decoded, ipv4_nlri: bool, u: &mut Update) {
    let mut missing = Vec::new();
    if !d.seen[attr::ORIGIN as usize] {
        missing.push(attr::ORIGIN);
    }
    if !d.seen[attr::AS_PATH as usize] {
        missing.push(attr::AS_PATH);
    }
    if ipv4_nlri && !d.seen[attr::NEXT_HOP as usize] {
        missing.push(attr::NEXT_HOP);
    }
    for code in missing {
        u.problems.push(AttrProblem { code, withdrawn: true, detail: format!("{} missing", attr::name(code)) });
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
