//! Path attributes (RFC 4271 4.3 and 5), with RFC 7606 error handling.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{err, Codec, Notification, AS_TRANS};

pub const OPTIONAL: u8 = 0x80;
pub const TRANSITIVE: u8 = 0x40;
pub const PARTIAL: u8 = 0x20;
pub const EXTENDED: u8 = 0x10;

pub const ORIGIN: u8 = 1;
pub const AS_PATH: u8 = 2;
pub const NEXT_HOP: u8 = 3;
pub const MED: u8 = 4;
pub const LOCAL_PREF: u8 = 5;
pub const ATOMIC_AGGREGATE: u8 = 6;
pub const AGGREGATOR: u8 = 7;
pub const COMMUNITIES: u8 = 8;
pub const ORIGINATOR_ID: u8 = 9;
pub const CLUSTER_LIST: u8 = 10;
pub const MP_REACH: u8 = 14;
pub const MP_UNREACH: u8 = 15;
pub const AS4_PATH: u8 = 17;
pub const AS4_AGGREGATOR: u8 = 18;
pub const LARGE_COMMUNITIES: u8 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Origin {
    #[default]
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

impl Origin {
    /// FRR's one-letter code in `show bgp` tables.
    pub fn code(self) -> char {
        match self {
            Origin::Igp => 'i',
            Origin::Egp => 'e',
            Origin::Incomplete => '?',
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// An AS_PATH. The segments lie back to back in one allocation, each a
/// header (type << 24 | count) and its AS numbers: an attribute set is
/// shared by many routes, but a full table still has a few hundred
/// thousand of them, and a vector per segment would double their cost.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AsPath {
    data: Box<[u32]>,
}

fn kind_of(header: u32) -> SegmentKind {
    match header >> 24 {
        1 => SegmentKind::Set,
        3 => SegmentKind::ConfedSequence,
        4 => SegmentKind::ConfedSet,
        _ => SegmentKind::Sequence,
    }
}

impl AsPath {
    /// The segments: type and AS numbers.
    pub fn segments(&self) -> impl Iterator<Item = (SegmentKind, &[u32])> {
        let mut d = &self.data[..];
        std::iter::from_fn(move || {
            let (&h, rest) = d.split_first()?;
            let n = ((h & 0xff_ffff) as usize).min(rest.len());
            let (asns, tail) = rest.split_at(n);
            d = tail;
            Some((kind_of(h), asns))
        })
    }

    /// A path of the given segments (empty ones are left out).
    pub fn from_segments<'a>(segs: impl IntoIterator<Item = (SegmentKind, &'a [u32])>) -> AsPath {
        let mut v = Vec::new();
        for (kind, asns) in segs {
            push_segment(&mut v, kind, asns);
        }
        AsPath { data: v.into_boxed_slice() }
    }

    pub fn sequence(asns: &[u32]) -> AsPath {
        AsPath::from_segments([(SegmentKind::Sequence, asns)])
    }

    /// The length best-path selection compares: a set counts one,
    /// confederation segments nothing (RFC 4271 9.1.2.2, RFC 5065).
    pub fn len(&self) -> usize {
        self.segments()
            .map(|(kind, asns)| match kind {
                SegmentKind::Sequence => asns.len(),
                SegmentKind::Set => 1,
                _ => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn first_as(&self) -> Option<u32> {
        match self.segments().next() {
            Some((SegmentKind::Sequence, asns)) => asns.first().copied(),
            _ => None,
        }
    }

    pub fn contains(&self, asn: u32) -> bool {
        self.segments().any(|(_, asns)| asns.contains(&asn))
    }

    /// Prepends `asn` `times` times, as eBGP advertisement and
    /// `set as-path prepend` do.
    pub fn prepend(&mut self, asn: u32, times: usize) {
        if times == 0 {
            return;
        }
        let mut v = Vec::with_capacity(self.data.len() + times + 1);
        let mut rest = self.segments();
        match rest.next() {
            Some((SegmentKind::Sequence, first)) if first.len() + times <= 255 => {
                let mut seq = vec![asn; times];
                seq.extend_from_slice(first);
                push_segment(&mut v, SegmentKind::Sequence, &seq);
            }
            other => {
                push_segment(&mut v, SegmentKind::Sequence, &vec![asn; times]);
                if let Some((kind, asns)) = other {
                    push_segment(&mut v, kind, asns);
                }
            }
        }
        for (kind, asns) in rest {
            push_segment(&mut v, kind, asns);
        }
        self.data = v.into_boxed_slice();
    }

    fn has_4octet(&self) -> bool {
        self.segments().flat_map(|(_, asns)| asns).any(|a| *a > 0xffff)
    }

    fn encode(&self, four: bool, out: &mut Vec<u8>) {
        for (kind, asns) in self.segments() {
            for chunk in asns.chunks(255) {
                out.push(kind as u8);
                out.push(chunk.len() as u8);
                for a in chunk {
                    if four {
                        out.extend_from_slice(&a.to_be_bytes());
                    } else {
                        out.extend_from_slice(&(u16::try_from(*a).unwrap_or(AS_TRANS as u16)).to_be_bytes());
                    }
                }
            }
        }
    }

    /// None: malformed (RFC 7606 7.2: bad segment type, empty segment,
    /// overrun or underrun).
    fn decode(mut b: &[u8], four: bool) -> Option<AsPath> {
        let width = if four { 4 } else { 2 };
        let mut v = Vec::new();
        while !b.is_empty() {
            let kind = match b.first()? {
                1 => SegmentKind::Set,
                2 => SegmentKind::Sequence,
                3 => SegmentKind::ConfedSequence,
                4 => SegmentKind::ConfedSet,
                _ => return None,
            };
            let n = *b.get(1)? as usize;
            if n == 0 {
                return None;
            }
            let raw = b.get(2..2 + n * width)?;
            v.push((kind as u32) << 24 | n as u32);
            v.extend(raw.chunks_exact(width).map(|c| {
                if four {
                    u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                } else {
                    u16::from_be_bytes([c[0], c[1]]) as u32
                }
            }));
            b = &b[2 + n * width..];
        }
        Some(AsPath { data: v.into_boxed_slice() })
    }

    /// RFC 6793 4.2.3: rebuilds the path from a 2-octet-only speaker's
    /// AS_PATH and AS4_PATH.
    fn merge_as4(&self, as4: &AsPath) -> AsPath {
        let (n, n4) = (self.count_all(), as4.count_all());
        if n4 > n {
            return self.clone();
        }
        let mut keep = n - n4;
        let mut v = Vec::new();
        for (kind, asns) in self.segments() {
            if keep == 0 {
                break;
            }
            let take = asns.len().min(keep);
            push_segment(&mut v, kind, &asns[..take]);
            keep -= take;
        }
        v.extend_from_slice(&as4.data);
        AsPath { data: v.into_boxed_slice() }
    }

    fn count_all(&self) -> usize {
        self.segments().map(|(_, asns)| asns.len()).sum()
    }
}

fn push_segment(v: &mut Vec<u32>, kind: SegmentKind, asns: &[u32]) {
    if !asns.is_empty() {
        v.push((kind as u32) << 24 | asns.len() as u32);
        v.extend_from_slice(asns);
    }
}

impl fmt::Display for AsPath {
    /// FRR's form: `65000 65001 {65002,65003}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (kind, asns) in self.segments() {
            let (open, sep, close) = match kind {
                SegmentKind::Sequence => ("", " ", ""),
                SegmentKind::Set => ("{", ",", "}"),
                SegmentKind::ConfedSequence => ("(", " ", ")"),
                SegmentKind::ConfedSet => ("[", ",", "]"),
            };
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(open)?;
            for (i, a) in asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// An attribute we do not interpret but pass on (optional transitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawAttr {
    pub flags: u8,
    pub code: u8,
    pub data: Vec<u8>,
}

/// The attributes of a route. Interned by the RIB: many prefixes share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PathAttrs {
    pub origin: Origin,
    pub as_path: AsPath,
    /// NEXT_HOP for IPv4, or MP_REACH's global next hop.
    pub next_hop: Option<IpAddr>,
    /// MP_REACH's link-local IPv6 next hop, when sent.
    pub link_local: Option<Ipv6Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub communities: Box<[u32]>,
    /// What few routes carry, behind one pointer that is None for most:
    /// a full table has a few hundred thousand attribute sets.
    pub rare: Option<Box<Rare>>,
}

/// The attributes most routes do not have.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Rare {
    pub atomic_aggregate: bool,
    pub aggregator: Option<(u32, Ipv4Addr)>,
    pub large_communities: Vec<[u32; 3]>,
    /// Unknown optional transitive attributes, passed on (partial set).
    pub other: Vec<RawAttr>,
}

impl PathAttrs {
    pub fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Default::default)
    }

    pub fn atomic_aggregate(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.atomic_aggregate)
    }

    pub fn aggregator(&self) -> Option<(u32, Ipv4Addr)> {
        self.rare.as_ref().and_then(|r| r.aggregator)
    }

    pub fn large_communities(&self) -> &[[u32; 3]] {
        self.rare.as_ref().map_or(&[], |r| &r.large_communities)
    }

    pub fn other(&self) -> &[RawAttr] {
        self.rare.as_ref().map_or(&[], |r| &r.other)
    }
}

/// How one attribute's fault is handled (RFC 7606 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    TreatAsWithdraw,
    Discard,
}

/// What decoding an UPDATE's attributes produced besides `PathAttrs`.
#[derive(Debug)]
pub(super) struct Decoded {
    pub attrs: PathAttrs,
    pub mp_reach: Option<(u16, u8, Vec<u8>, Vec<u8>)>,
    pub mp_unreach: Option<(u16, u8, Vec<u8>)>,
    pub seen: [bool; 256],
    pub faults: Vec<(u8, Fault, String)>,
}

impl Default for Decoded {
    fn default() -> Self {
        Decoded {
            attrs: PathAttrs::default(),
            mp_reach: None,
            mp_unreach: None,
            seen: [false; 256],
            faults: Vec::new(),
        }
    }
}

fn expected_flags(code: u8) -> Option<u8> {
    Some(match code {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => TRANSITIVE,
        MED | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH | MP_UNREACH => OPTIONAL,
        AGGREGATOR | COMMUNITIES | AS4_PATH | AS4_AGGREGATOR | LARGE_COMMUNITIES => OPTIONAL | TRANSITIVE,
        _ => return None,
    })
}

pub fn name(code: u8) -> String {
    match code {
        ORIGIN => "ORIGIN".into(),
        AS_PATH => "AS_PATH".into(),
        NEXT_HOP => "NEXT_HOP".into(),
        MED => "MULTI_EXIT_DISC".into(),
        LOCAL_PREF => "LOCAL_PREF".into(),
        ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE".into(),
        AGGREGATOR => "AGGREGATOR".into(),
        COMMUNITIES => "COMMUNITIES".into(),
        ORIGINATOR_ID => "ORIGINATOR_ID".into(),
        CLUSTER_LIST => "CLUSTER_LIST".into(),
        MP_REACH => "MP_REACH_NLRI".into(),
        MP_UNREACH => "MP_UNREACH_NLRI".into(),
        AS4_PATH => "AS4_PATH".into(),
        AS4_AGGREGATOR => "AS4_AGGREGATOR".into(),
        LARGE_COMMUNITIES => "LARGE_COMMUNITY".into(),
        c => format!("attribute {c}"),
    }
}

/// Decodes the path attributes field. Err only for the faults that reset
/// the session; everything else is recorded in `Decoded::faults`.
pub(super) fn decode(mut b: &[u8], codec: &Codec) -> Result<Decoded, Notification> {
    let mut d = Decoded::default();
    let mut as4_path = None;
    let mut as4_aggregator = None;
    while !b.is_empty() {
        let (flags, code) = match b {
            [f, c, ..] => (*f, *c),
            _ => {
                // A lone octet after the last attribute.
                d.faults.push((0, Fault::TreatAsWithdraw, "attribute header truncated".into()));
                break;
            }
        };
        let hdr = if flags & EXTENDED != 0 { 4 } else { 3 };
        let len = match (flags & EXTENDED != 0, b.get(2..hdr)) {
            (true, Some(l)) => u16::from_be_bytes([l[0], l[1]]) as usize,
            (false, Some(l)) => l[0] as usize,
            (_, None) => {
                d.faults.push((code, Fault::TreatAsWithdraw, "attribute header truncated".into()));
                break;
            }
        };
        let Some(value) = b.get(hdr..hdr + len) else {
            // RFC 7606 4: an attribute overrunning the field makes the rest
            // unparseable; the NLRI field is still delimited, so withdraw.
            if matches!(code, MP_REACH | MP_UNREACH) {
                return Err(Notification::new(err::UPDATE, err::OPTIONAL_ATTR, []));
            }
            d.faults.push((
                code,
                Fault::TreatAsWithdraw,
                format!("{} length {len} overruns the attributes", name(code)),
            ));
            break;
        };
        let whole = &b[..hdr + len];
        b = &b[hdr + len..];

        if d.seen[code as usize] {
            if matches!(code, MP_REACH | MP_UNREACH) {
                return Err(Notification::new(err::UPDATE, err::MALFORMED_ATTR_LIST, []));
            }
            d.faults.push((code, Fault::Discard, format!("{} repeated; later copy discarded", name(code))));
            continue;
        }
        d.seen[code as usize] = true;

        let Some(want) = expected_flags(code) else {
            if flags & OPTIONAL == 0 {
                return Err(Notification::new(err::UPDATE, err::UNRECOGNIZED_WELL_KNOWN, whole));
            }
            if flags & TRANSITIVE != 0 {
                d.attrs.rare_mut().other.push(RawAttr { flags: flags | PARTIAL, code, data: value.to_vec() });
            }
            continue;
        };
        if flags & (OPTIONAL | TRANSITIVE) != want {
            let fault = match code {
                MP_REACH | MP_UNREACH => return Err(Notification::new(err::UPDATE, err::ATTR_FLAGS, whole)),
                ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => Fault::Discard,
                _ => Fault::TreatAsWithdraw,
            };
            d.faults.push((code, fault, format!("{} has flags {flags:#04x}", name(code))));
            continue;
        }
        let four = codec.four_octet_as;
        let a = &mut d.attrs;
        let fault = match code {
            ORIGIN => match value {
                [0] => {
                    a.origin = Origin::Igp;
                    None
                }
                [1] => {
                    a.origin = Origin::Egp;
                    None
                }
                [2] => {
                    a.origin = Origin::Incomplete;
                    None
                }
                [v] => withdraw(format!("ORIGIN {v} is undefined")),
                _ => withdraw(format!("ORIGIN length {len}")),
            },
            AS_PATH => match AsPath::decode(value, four) {
                Some(p) => {
                    a.as_path = p;
                    None
                }
                None => withdraw("AS_PATH malformed".into()),
            },
            NEXT_HOP => match value {
                [a0, a1, a2, a3] => {
                    let nh = Ipv4Addr::new(*a0, *a1, *a2, *a3);
                    if nh.is_unspecified() || nh.is_multicast() || nh.is_broadcast() {
                        withdraw(format!("NEXT_HOP {nh} is not a unicast address"))
                    } else {
                        {
                            a.next_hop = Some(IpAddr::V4(nh));
                            None
                        }
                    }
                }
                _ => withdraw(format!("NEXT_HOP length {len}")),
            },
            MED => match u32_of(value) {
                Some(v) => {
                    a.med = Some(v);
                    None
                }
                None => withdraw(format!("MULTI_EXIT_DISC length {len}")),
            },
            LOCAL_PREF => match u32_of(value) {
                Some(v) => {
                    a.local_pref = Some(v);
                    None
                }
                None => withdraw(format!("LOCAL_PREF length {len}")),
            },
            ATOMIC_AGGREGATE => match value {
                [] => {
                    a.rare_mut().atomic_aggregate = true;
                    None
                }
                _ => discard(format!("ATOMIC_AGGREGATE length {len}")),
            },
            AGGREGATOR => match (four, value.len()) {
                (true, 8) => {
                    a.rare_mut().aggregator = Some((u32_of(&value[..4]).unwrap_or(0), ipv4_of(&value[4..])));
                    None
                }
                (false, 6) => {
                    let asn = u16::from_be_bytes([value[0], value[1]]) as u32;
                    a.rare_mut().aggregator = Some((asn, ipv4_of(&value[2..])));
                    None
                }
                _ => discard(format!("AGGREGATOR length {len}")),
            },
            COMMUNITIES => {
                if value.is_empty() || len % 4 != 0 {
                    withdraw(format!("COMMUNITIES length {len}"))
                } else {
                    {
                        a.communities = value.chunks_exact(4).filter_map(u32_of).collect();
                        None
                    }
                }
            }
            LARGE_COMMUNITIES => {
                if value.is_empty() || len % 12 != 0 {
                    withdraw(format!("LARGE_COMMUNITY length {len}"))
                } else {
                    {
                        a.rare_mut().large_communities = value
                            .chunks_exact(12)
                            .map(|c| [0, 4, 8].map(|i| u32::from_be_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]])))
                            .collect();
                        None
                    }
                }
            }
            // Route reflection is not ours to do: validated, then dropped.
            ORIGINATOR_ID => match len {
                4 => None,
                _ => withdraw(format!("ORIGINATOR_ID length {len}")),
            },
            CLUSTER_LIST => match len {
                n if n > 0 && n % 4 == 0 => None,
                _ => withdraw(format!("CLUSTER_LIST length {len}")),
            },
            MP_REACH => {
                let (afi, safi, nh_len) = match value {
                    [a0, a1, s, n, ..] => (u16::from_be_bytes([*a0, *a1]), *s, *n as usize),
                    _ => return Err(Notification::new(err::UPDATE, err::OPTIONAL_ATTR, whole)),
                };
                let nh = value.get(4..4 + nh_len);
                let nlri = value.get(5 + nh_len..);
                match (nh, nlri) {
                    (Some(nh), Some(nlri)) => d.mp_reach = Some((afi, safi, nh.to_vec(), nlri.to_vec())),
                    _ => return Err(Notification::new(err::UPDATE, err::OPTIONAL_ATTR, whole)),
                }
                None
            }
            MP_UNREACH => {
                match value {
                    [a0, a1, s, rest @ ..] => d.mp_unreach = Some((u16::from_be_bytes([*a0, *a1]), *s, rest.to_vec())),
                    _ => return Err(Notification::new(err::UPDATE, err::OPTIONAL_ATTR, whole)),
                }
                None
            }
            // RFC 6793: a 4-octet session ignores them; a malformed one is
            // discarded.
            AS4_PATH if !four => match AsPath::decode(value, true) {
                Some(p) => {
                    as4_path = Some(p);
                    None
                }
                None => discard("AS4_PATH malformed".into()),
            },
            AS4_AGGREGATOR if !four => match value.len() {
                8 => {
                    as4_aggregator = Some((u32_of(&value[..4]).unwrap_or(0), ipv4_of(&value[4..])));
                    None
                }
                _ => discard(format!("AS4_AGGREGATOR length {len}")),
            },
            _ => None,
        };
        if let Some((f, why)) = fault {
            d.faults.push((code, f, why));
        }
    }
    if let Some(p4) = as4_path {
        d.attrs.as_path = d.attrs.as_path.merge_as4(&p4);
    }
    if let (Some(agg4), Some((AS_TRANS, _))) = (as4_aggregator, d.attrs.aggregator()) {
        d.attrs.rare_mut().aggregator = Some(agg4);
    }
    Ok(d)
}

fn withdraw(why: String) -> Option<(Fault, String)> {
    Some((Fault::TreatAsWithdraw, why))
}

fn discard(why: String) -> Option<(Fault, String)> {
    Some((Fault::Discard, why))
}

fn u32_of(b: &[u8]) -> Option<u32> {
    b.try_into().ok().map(u32::from_be_bytes)
}

fn ipv4_of(b: &[u8]) -> Ipv4Addr {
    match b {
        [a, b, c, d] => Ipv4Addr::new(*a, *b, *c, *d),
        _ => Ipv4Addr::UNSPECIFIED,
    }
}

fn put(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
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
        if let Some(m) = self.med {
            put(out, OPTIONAL, MED, &m.to_be_bytes());
        }
        if let Some(lp) = self.local_pref {
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

pub(super) fn put_attr(out: &mut Vec<u8>, flags: u8, code: u8, value: &[u8]) {
    put(out, flags, code, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_path_text_and_length() {
        let mut p = AsPath::from_segments([(SegmentKind::Sequence, &[65000, 65001][..]), (SegmentKind::Set, &[1, 2])]);
        assert_eq!(p.to_string(), "65000 65001 {1,2}");
        assert_eq!(p.len(), 3);
        p.prepend(65002, 2);
        assert_eq!(p.to_string(), "65002 65002 65000 65001 {1,2}");
        assert_eq!(p.first_as(), Some(65002));
        assert!(p.contains(2));
        // A set first: the prepend opens a sequence before it.
        let mut q = AsPath::from_segments([(SegmentKind::Set, &[1, 2][..])]);
        q.prepend(7, 1);
        assert_eq!(q.to_string(), "7 {1,2}");
        assert_eq!(q.len(), 2);
        // A full sequence: a new one in front, as 255 ASes fit a segment.
        let mut r = AsPath::sequence(&[9; 255]);
        r.prepend(7, 1);
        assert_eq!(r.segments().map(|(_, a)| a.len()).collect::<Vec<_>>(), [1, 255]);
        let mut wire = Vec::new();
        r.encode(true, &mut wire);
        assert_eq!(AsPath::decode(&wire, true), Some(r));
    }

    #[test]
    fn as4_path_merge() {
        let two = AsPath::sequence(&[65001, AS_TRANS, AS_TRANS]);
        let four = AsPath::sequence(&[4_200_000_001, 4_200_000_002]);
        assert_eq!(two.merge_as4(&four).to_string(), "65001 4200000001 4200000002");
        // An AS4_PATH longer than AS_PATH is ignored.
        assert_eq!(AsPath::sequence(&[1]).merge_as4(&four), AsPath::sequence(&[1]));
    }
}
