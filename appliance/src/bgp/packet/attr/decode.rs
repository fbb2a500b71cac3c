//! Decoding the path attributes field, each fault handled as RFC 7606
//! says: treat-as-withdraw, attribute discard, or (only where it must)
//! a session reset.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::bgp::packet::{err, Codec, Notification, AS_TRANS};

/// The outcome of one attribute's value: fine, or its fault.
type Outcome = Result<Option<(Fault, String)>, Notification>;

/// Decodes the path attributes field. Err only for the faults that reset
/// the session; everything else is recorded in `Decoded::faults`.
pub(in crate::bgp::packet) fn decode(mut b: &[u8], codec: &Codec) -> Result<Decoded, Notification> {
    let mut d = Decoded::default();
    while !b.is_empty() {
        let Some((flags, code, value, whole)) = next_attr(&mut b, &mut d)? else { break };
        if d.seen[code as usize] {
            if matches!(code, MP_REACH | MP_UNREACH) {
                return Err(Notification::new(err::UPDATE, err::MALFORMED_ATTR_LIST, []));
            }
            d.faults.push(fault(code, Fault::Discard, format!("{} repeated; later copy discarded", name(code))));
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
            let f = match code {
                MP_REACH | MP_UNREACH => return Err(Notification::new(err::UPDATE, err::ATTR_FLAGS, whole)),
                ATOMIC_AGGREGATE | AGGREGATOR | AS4_PATH | AS4_AGGREGATOR => Fault::Discard,
                _ => Fault::TreatAsWithdraw,
            };
            d.faults.push(fault(code, f, format!("{} has flags {flags:#04x}", name(code))));
            continue;
        }
        let outcome = match code {
            ORIGIN | AS_PATH | NEXT_HOP | MED | LOCAL_PREF => well_known(&mut d, code, value, codec),
            MP_REACH | MP_UNREACH => multiprotocol(&mut d, code, value, whole),
            _ => optional(&mut d, code, value, codec),
        };
        if let Some((f, why)) = outcome? {
            d.faults.push(fault(code, f, why));
        }
    }
    if let Some(p4) = d.as4_path.take() {
        d.as_path = d.as_path.merge_as4(&p4);
    }
    // The variable parts go into the set at once: one allocation.
    d.attrs.set_parts(&d.as_path, d.next_hop, None, &d.communities);
    if let (Some(agg4), Some((AS_TRANS, _))) = (d.as4_aggregator, d.attrs.aggregator()) {
        d.attrs.rare_mut().aggregator = Some(agg4);
    }
    Ok(d)
}

/// One attribute as it stands in the field: flags, type code, value, and
/// the whole of its encoding (the data of some NOTIFICATIONs).
type Raw<'a> = (u8, u8, &'a [u8], &'a [u8]);

/// The next attribute; None when the rest of the field does not parse
/// (recorded as a fault).
fn next_attr<'a>(b: &mut &'a [u8], d: &mut Decoded) -> Result<Option<Raw<'a>>, Notification> {
    let (flags, code) = match *b {
        [f, c, ..] => (*f, *c),
        _ => {
            // A lone octet after the last attribute.
            d.faults.push(fault(0, Fault::TreatAsWithdraw, "attribute header truncated".into()));
            return Ok(None);
        }
    };
    let hdr = if flags & EXTENDED != 0 { 4 } else { 3 };
    let len = match (flags & EXTENDED != 0, b.get(2..hdr)) {
        (true, Some(l)) => u16::from_be_bytes([l[0], l[1]]) as usize,
        (false, Some(l)) => l[0] as usize,
        (_, None) => {
            d.faults.push(fault(code, Fault::TreatAsWithdraw, "attribute header truncated".into()));
            return Ok(None);
        }
    };
    let Some(value) = b.get(hdr..hdr + len) else {
        // RFC 7606 4: an attribute overrunning the field makes the rest
        // unparseable; the NLRI field is still delimited, so withdraw.
        if matches!(code, MP_REACH | MP_UNREACH) {
            return Err(Notification::new(err::UPDATE, err::OPTIONAL_ATTR, []));
        }
        let why = format!("{} length {len} overruns the attributes", name(code));
        d.faults.push(fault(code, Fault::TreatAsWithdraw, why));
        return Ok(None);
    };
    let whole = &b[..hdr + len];
    *b = &b[hdr + len..];
    Ok(Some((flags, code, value, whole)))
}

fn fault(code: u8, fault: Fault, detail: String) -> AttrFault {
    AttrFault { code, fault, detail }
}

/// ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF.
fn well_known(d: &mut Decoded, code: u8, value: &[u8], codec: &Codec) -> Outcome {
    let len = value.len();
    let a = &mut d.attrs;
    Ok(match code {
        ORIGIN => match value {
            [0] => set(|| a.origin = Origin::Igp),
            [1] => set(|| a.origin = Origin::Egp),
            [2] => set(|| a.origin = Origin::Incomplete),
            [v] => withdraw(format!("ORIGIN {v} is undefined")),
            _ => withdraw(format!("ORIGIN length {len}")),
        },
        AS_PATH => match AsPath::decode(value, codec.four_octet_as) {
            // RFC 7607: AS 0 is in no path.
            Some(p) if p.contains(0) => withdraw("AS_PATH contains AS 0 (RFC 7607)".into()),
            Some(p) => set(|| d.as_path = p),
            None => withdraw("AS_PATH malformed".into()),
        },
        NEXT_HOP => match value {
            [a0, a1, a2, a3] => {
                let nh = Ipv4Addr::new(*a0, *a1, *a2, *a3);
                if nh.is_unspecified() || nh.is_multicast() || nh.is_broadcast() {
                    withdraw(format!("NEXT_HOP {nh} is not a unicast address"))
                } else {
                    set(|| d.next_hop = Some(IpAddr::V4(nh)))
                }
            }
            _ => withdraw(format!("NEXT_HOP length {len}")),
        },
        MED => match u32_of(value) {
            Some(v) => set(|| a.med = Some(v).into()),
            None => withdraw(format!("MULTI_EXIT_DISC length {len}")),
        },
        _ => match u32_of(value) {
            Some(v) => set(|| a.local_pref = Some(v).into()),
            None => withdraw(format!("LOCAL_PREF length {len}")),
        },
    })
}

/// MP_REACH_NLRI and MP_UNREACH_NLRI: a malformed one resets the session
/// (RFC 7606 7.11), as its NLRI cannot be told apart.
fn multiprotocol(d: &mut Decoded, code: u8, value: &[u8], whole: &[u8]) -> Outcome {
    let bad = || Notification::new(err::UPDATE, err::OPTIONAL_ATTR, whole);
    if code == MP_UNREACH {
        let [a0, a1, safi, rest @ ..] = value else { return Err(bad()) };
        d.mp_unreach = Some(MpUnreach { afi: u16::from_be_bytes([*a0, *a1]), safi: *safi, withdrawn: rest.to_vec() });
        return Ok(None);
    }
    let [a0, a1, safi, nh_len, ..] = value else { return Err(bad()) };
    let nh_len = *nh_len as usize;
    let (Some(next_hop), Some(nlri)) = (value.get(4..4 + nh_len), value.get(5 + nh_len..)) else {
        return Err(bad());
    };
    d.mp_reach = Some(MpReach {
        afi: u16::from_be_bytes([*a0, *a1]),
        safi: *safi,
        next_hop: next_hop.to_vec(),
        nlri: nlri.to_vec(),
    });
    Ok(None)
}

/// The optional attributes and ATOMIC_AGGREGATE.
fn optional(d: &mut Decoded, code: u8, value: &[u8], codec: &Codec) -> Outcome {
    let (four, len) = (codec.four_octet_as, value.len());
    let a = &mut d.attrs;
    Ok(match code {
        ATOMIC_AGGREGATE if value.is_empty() => set(|| a.rare_mut().atomic_aggregate = true),
        ATOMIC_AGGREGATE => discard(format!("ATOMIC_AGGREGATE length {len}")),
        AGGREGATOR => match (four, len) {
            (_, 8 | 6) if (len == 8) != four => discard(format!("AGGREGATOR length {len}")),
            (true, 8) => aggregator(a, u32_of(&value[..4]).unwrap_or(0), &value[4..]),
            (false, 6) => aggregator(a, u16::from_be_bytes([value[0], value[1]]) as u32, &value[2..]),
            _ => discard(format!("AGGREGATOR length {len}")),
        },
        COMMUNITIES if len == 0 || len % 4 != 0 => withdraw(format!("COMMUNITIES length {len}")),
        COMMUNITIES => set(|| {
            d.communities = Vec::with_capacity(len / 4);
            d.communities.extend(value.chunks_exact(4).filter_map(u32_of));
        }),
        LARGE_COMMUNITIES if len == 0 || len % 12 != 0 => withdraw(format!("LARGE_COMMUNITY length {len}")),
        LARGE_COMMUNITIES => set(|| {
            a.rare_mut().large_communities = value
                .chunks_exact(12)
                .map(|c| [0, 4, 8].map(|i| u32::from_be_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]])))
                .collect()
        }),
        ORIGINATOR_ID if len != 4 => withdraw(format!("ORIGINATOR_ID length {len}")),
        ORIGINATOR_ID => set(|| a.rare_mut().originator_id = Some(ipv4_of(value))),
        CLUSTER_LIST if len == 0 || len % 4 != 0 => withdraw(format!("CLUSTER_LIST length {len}")),
        CLUSTER_LIST => set(|| a.rare_mut().cluster_list = value.chunks_exact(4).map(ipv4_of).collect()),
        // RFC 6793: a 4-octet session ignores them; a malformed one (AS 0
        // too, RFC 7607) is discarded.
        AS4_PATH if !four => match AsPath::decode(value, true) {
            Some(p) if !p.contains(0) => set(|| d.as4_path = Some(p)),
            _ => discard("AS4_PATH malformed".into()),
        },
        AS4_AGGREGATOR if !four && len == 8 => {
            set(|| d.as4_aggregator = Some((u32_of(&value[..4]).unwrap_or(0), ipv4_of(&value[4..]))))
        }
        AS4_AGGREGATOR if !four => discard(format!("AS4_AGGREGATOR length {len}")),
        _ => None,
    })
}

fn aggregator(a: &mut PathAttrs, asn: u32, id: &[u8]) -> Option<(Fault, String)> {
    // RFC 7607: an AGGREGATOR with AS 0 is discarded.
    if asn == 0 {
        return discard("AGGREGATOR with AS 0 (RFC 7607)".into());
    }
    a.rare_mut().aggregator = Some((asn, ipv4_of(id)));
    None
}

/// Runs the assignment of a well-formed value: no fault.
fn set(f: impl FnOnce()) -> Option<(Fault, String)> {
    f();
    None
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
