//! OPEN and its capabilities (RFC 4271 4.2, RFC 5492, RFC 9072).

use std::net::Ipv4Addr;

use super::{err, finish, start, Afi, Notification, AS_TRANS, OPEN};

/// RFC 8950's triple for IPv4 unicast NLRI with IPv6 next hops.
pub const IPV4_OVER_IPV6: (u16, u16, u16) = (1, 1, 2);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// The 4-octet AS when the peer sent that capability, else the 2-octet
    /// field.
    pub asn: u32,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    /// RFC 4760: AFI, SAFI.
    Multiprotocol(u16, u8),
    /// RFC 2918.
    RouteRefresh,
    /// RFC 8654.
    ExtendedMessage,
    /// RFC 6793.
    FourOctetAs(u32),
    /// RFC 7313.
    EnhancedRouteRefresh,
    /// RFC 4724.
    GracefulRestart(GracefulRestart),
    /// RFC 8950: NLRI AFI, NLRI SAFI, next-hop AFI triples.
    ExtendedNextHop(Vec<(u16, u16, u16)>),
    Unknown(u8, Vec<u8>),
}

/// The Graceful Restart capability (RFC 4724 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestart {
    /// R: the sender has restarted.
    pub restarting: bool,
    /// N: the sender does graceful restart after a NOTIFICATION too
    /// (RFC 8538); bgpbox does not, and says so.
    pub notification: bool,
    /// How long the sender's routes are to be kept while it comes back.
    pub time: u16,
    /// The families it restarts gracefully: AFI, SAFI, and F, whether it
    /// kept their forwarding state.
    pub families: Vec<(u16, u8, bool)>,
}

impl GracefulRestart {
    fn encode(&self, out: &mut Vec<u8>) {
        let flags = (u16::from(self.restarting) << 15) | (u16::from(self.notification) << 14);
        out.extend_from_slice(&(flags | (self.time & 0x0fff)).to_be_bytes());
        for (afi, safi, f) in &self.families {
            out.extend_from_slice(&afi.to_be_bytes());
            out.extend_from_slice(&[*safi, if *f { 0x80 } else { 0 }]);
        }
    }

    fn decode(v: &[u8]) -> Option<GracefulRestart> {
        let (&[a, b], rest) = (v.get(..2)?, &v[2..]) else { return None };
        if rest.len() % 4 != 0 {
            return None;
        }
        let head = u16::from_be_bytes([a, b]);
        Some(GracefulRestart {
            restarting: head & 0x8000 != 0,
            notification: head & 0x4000 != 0,
            time: head & 0x0fff,
            families: rest
                .chunks_exact(4)
                .map(|c| (u16::from_be_bytes([c[0], c[1]]), c[2], c[3] & 0x80 != 0))
                .collect(),
        })
    }
}

impl Capability {
    fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(..) => 1,
            Capability::RouteRefresh => 2,
            Capability::ExtendedNextHop(_) => 5,
            Capability::ExtendedMessage => 6,
            Capability::FourOctetAs(_) => 65,
            Capability::GracefulRestart(_) => 64,
            Capability::EnhancedRouteRefresh => 70,
            Capability::Unknown(c, _) => *c,
        }
    }

    fn value(&self, out: &mut Vec<u8>) {
        match self {
            Capability::Multiprotocol(afi, safi) => {
                out.extend_from_slice(&afi.to_be_bytes());
                out.extend_from_slice(&[0, *safi]);
            }
            Capability::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Capability::GracefulRestart(g) => g.encode(out),
            Capability::ExtendedNextHop(t) => {
                for (afi, safi, nh) in t {
                    out.extend_from_slice(&afi.to_be_bytes());
                    out.extend_from_slice(&safi.to_be_bytes());
                    out.extend_from_slice(&nh.to_be_bytes());
                }
            }
            Capability::Unknown(_, v) => out.extend_from_slice(v),
            _ => {}
        }
    }

    fn decode(code: u8, v: &[u8]) -> Result<Capability, Notification> {
        let bad = || Notification::new(err::OPEN, 0, []);
        Ok(match code {
            1 if v.len() == 4 => Capability::Multiprotocol(u16::from_be_bytes([v[0], v[1]]), v[3]),
            2 if v.is_empty() => Capability::RouteRefresh,
            6 if v.is_empty() => Capability::ExtendedMessage,
            65 if v.len() == 4 => Capability::FourOctetAs(u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
            70 if v.is_empty() => Capability::EnhancedRouteRefresh,
            64 => Capability::GracefulRestart(GracefulRestart::decode(v).ok_or_else(bad)?),
            5 if v.len() % 6 == 0 => Capability::ExtendedNextHop(
                v.chunks_exact(6)
                    .map(|c| {
                        let w = |i: usize| u16::from_be_bytes([c[i], c[i + 1]]);
                        (w(0), w(2), w(4))
                    })
                    .collect(),
            ),
            1 | 2 | 5 | 6 | 65 | 70 => return Err(bad()),
            c => Capability::Unknown(c, v.to_vec()),
        })
    }
}

impl Open {
    pub fn has(&self, c: &Capability) -> bool {
        self.capabilities.contains(c)
    }

    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(g) => Some(g),
            _ => None,
        })
    }

    /// Whether the peer takes IPv4 unicast with IPv6 next hops (RFC 8950).
    pub fn extended_nexthop_v4(&self) -> bool {
        self.capabilities.iter().any(|c| matches!(c, Capability::ExtendedNextHop(t) if t.contains(&IPV4_OVER_IPV6)))
    }

    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
    }

    /// Address families the peer announced; none at all means IPv4 unicast
    /// only (RFC 4760 8).
    pub fn families(&self) -> Vec<Afi> {
        let mut v: Vec<Afi> = self
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Multiprotocol(afi, 1) => Afi::from_code(*afi),
                _ => None,
            })
            .collect();
        if !self.capabilities.iter().any(|c| matches!(c, Capability::Multiprotocol(..))) {
            v.push(Afi::Ipv4);
        }
        v
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let at = start(out, OPEN);
        out.push(self.version);
        let as2 = u16::try_from(self.asn).unwrap_or(AS_TRANS as u16);
        out.extend_from_slice(&as2.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        // One Capabilities parameter holding them all (RFC 5492).
        let mut caps = Vec::new();
        for c in &self.capabilities {
            let mut v = Vec::new();
            c.value(&mut v);
            caps.push(c.code());
            caps.push(v.len() as u8);
            caps.extend_from_slice(&v);
        }
        if caps.is_empty() {
            out.push(0);
        } else if caps.len() + 2 <= 255 {
            out.push((caps.len() + 2) as u8);
            out.extend_from_slice(&[2, caps.len() as u8]);
            out.extend_from_slice(&caps);
        } else {
            // RFC 9072 extended optional parameters.
            out.extend_from_slice(&[255, 255]);
            out.extend_from_slice(&((caps.len() + 3) as u16).to_be_bytes());
            out.push(2);
            out.extend_from_slice(&(caps.len() as u16).to_be_bytes());
            out.extend_from_slice(&caps);
        }
        finish(out, at);
    }
}

pub fn decode(b: &[u8]) -> Result<Open, Notification> {
    let short = || Notification::new(err::HEADER, err::BAD_LENGTH, []);
    // RFC 4271 6.2: a parameter field that does not parse is an OPEN
    // Message Error; its length is the peer's, not the message's.
    let malformed = || Notification::new(err::OPEN, 0, []);
    if b.len() < 10 {
        return Err(short());
    }
    let version = b[0];
    if version != 4 {
        return Err(Notification::new(err::OPEN, err::UNSUPPORTED_VERSION, 4u16.to_be_bytes()));
    }
    let as2 = u16::from_be_bytes([b[1], b[2]]) as u32;
    let hold_time = u16::from_be_bytes([b[3], b[4]]);
    let bgp_id = Ipv4Addr::new(b[5], b[6], b[7], b[8]);
    let mut opt_len = b[9] as usize;
    let mut params = &b[10..];
    // RFC 9072: a length of 255 with a first type of 255 marks the
    // extended encoding, with 2-octet lengths.
    let extended = opt_len == 255 && params.first() == Some(&255);
    if extended {
        if params.len() < 3 {
            return Err(malformed());
        }
        opt_len = u16::from_be_bytes([params[1], params[2]]) as usize;
        params = &params[3..];
    }
    if params.len() != opt_len {
        return Err(malformed());
    }
    let mut capabilities = Vec::new();
    while !params.is_empty() {
        let (typ, len, hdr) = if extended {
            let h = params.get(..3).ok_or_else(malformed)?;
            (h[0], u16::from_be_bytes([h[1], h[2]]) as usize, 3)
        } else {
            let h = params.get(..2).ok_or_else(malformed)?;
            (h[0], h[1] as usize, 2)
        };
        let value = params.get(hdr..hdr + len).ok_or_else(malformed)?;
        params = &params[hdr + len..];
        if typ != 2 {
            return Err(Notification::new(err::OPEN, err::UNSUPPORTED_OPT_PARAM, []));
        }
        let mut caps = value;
        while !caps.is_empty() {
            let h = caps.get(..2).ok_or_else(malformed)?;
            let (code, len) = (h[0], h[1] as usize);
            let v = caps.get(2..2 + len).ok_or_else(malformed)?;
            capabilities.push(Capability::decode(code, v)?);
            caps = &caps[2 + len..];
        }
    }
    let mut open = Open { version, asn: as2, hold_time, bgp_id, capabilities };
    let bad_as = |asn: u32| Notification::new(err::OPEN, err::BAD_PEER_AS, asn.to_be_bytes());
    if let Some(asn) = open.four_octet_as() {
        // RFC 6793 4.1 (as FRR): a 2-octet My AS other than AS_TRANS must
        // be the 4-octet AS itself.
        if as2 != AS_TRANS && as2 != asn {
            return Err(bad_as(asn));
        }
        open.asn = asn;
    }
    // RFC 7607: AS 0 is no peer's AS.
    if open.asn == 0 {
        return Err(bad_as(0));
    }
    Ok(open)
}

#[cfg(test)]
mod tests {
    use super::super::{decode as decode_msg, frame, Codec, Message, MAX_LEN};
    use super::*;

    fn sample(asn: u32, caps: Vec<Capability>) -> Open {
        Open { version: 4, asn, hold_time: 180, bgp_id: Ipv4Addr::new(192, 0, 2, 1), capabilities: caps }
    }

    fn roundtrip(o: Open) -> Vec<u8> {
        let mut buf = Vec::new();
        o.encode(&mut buf);
        assert_eq!(frame(&buf, MAX_LEN), Ok(Some(buf.len())));
        assert_eq!(decode_msg(&buf, &Codec::default()), Ok(Message::Open(o)));
        buf
    }

    #[test]
    fn open_roundtrips() {
        roundtrip(sample(65001, vec![]));
        let buf = roundtrip(sample(
            4_200_000_000,
            vec![
                Capability::Multiprotocol(1, 1),
                Capability::Multiprotocol(2, 1),
                Capability::RouteRefresh,
                Capability::EnhancedRouteRefresh,
                Capability::ExtendedMessage,
                Capability::FourOctetAs(4_200_000_000),
                Capability::Unknown(73, b"host".to_vec()),
                Capability::GracefulRestart(GracefulRestart {
                    restarting: true,
                    notification: false,
                    time: 120,
                    families: vec![(1, 1, true), (2, 1, false)],
                }),
            ],
        ));
        // A 4-octet AS goes out as AS_TRANS in the 2-octet field.
        assert_eq!(&buf[20..22], &AS_TRANS.to_be_bytes()[2..]);
        // Enough capabilities to need RFC 9072's extended parameters.
        let many = (0..100).map(|i| Capability::Unknown(200, vec![i])).collect();
        let buf = roundtrip(sample(65001, many));
        assert_eq!(buf[28], 255);
    }

    /// RFC 4724 3: flags, a 12-bit time, then AFI/SAFI/flags tuples; a
    /// helper's capability has no tuples; a ragged one is an OPEN error.
    #[test]
    fn extended_nexthop_capability() {
        let o = sample(65001, vec![Capability::ExtendedNextHop(vec![IPV4_OVER_IPV6, (1, 128, 2)])]);
        roundtrip(o.clone());
        assert!(o.extended_nexthop_v4());
        assert!(!sample(65001, vec![Capability::ExtendedNextHop(vec![(1, 128, 2)])]).extended_nexthop_v4());
        // A length that is not a whole number of triples is malformed.
        assert!(Capability::decode(5, &[0, 1, 0, 1, 0]).is_err());
    }

    #[test]
    fn graceful_restart_capability() {
        let helper = GracefulRestart { restarting: false, notification: false, time: 120, families: vec![] };
        let o = sample(65001, vec![Capability::GracefulRestart(helper.clone())]);
        let buf = roundtrip(o.clone());
        assert_eq!(&buf[buf.len() - 4..], &[64, 2, 0, 120]);
        assert_eq!(o.graceful_restart(), Some(&helper));
        assert_eq!(GracefulRestart::decode(&[0x80, 0x78, 0, 1, 1]), None);
        assert_eq!(
            GracefulRestart::decode(&[0xc0, 0x78, 0, 1, 1, 0x80]),
            Some(GracefulRestart { restarting: true, notification: true, time: 120, families: vec![(1, 1, true)] })
        );
        assert!(Capability::decode(64, &[1]).is_err());
    }

    #[test]
    fn open_errors() {
        let mut buf = Vec::new();
        sample(65001, vec![Capability::RouteRefresh]).encode(&mut buf);
        let body = &buf[19..];
        let mut v3 = body.to_vec();
        v3[0] = 3;
        assert_eq!(decode(&v3).unwrap_err().subcode, err::UNSUPPORTED_VERSION);
        let mut param = body.to_vec();
        param[10] = 1;
        assert_eq!(decode(&param).unwrap_err().subcode, err::UNSUPPORTED_OPT_PARAM);
        // An optional-parameter length that overruns the message: OPEN
        // Message Error, Unspecific (RFC 4271 6.2), not a header error.
        let mut short = body.to_vec();
        short[9] = 10;
        assert_eq!(decode(&short).unwrap_err(), Notification::new(err::OPEN, 0, []));
        assert!(decode(&body[..5]).is_err());
        let mut badcap = body.to_vec();
        badcap[13] = 1;
        assert!(decode(&badcap).is_err());
    }

    #[test]
    fn peer_as_checks() {
        let body = |o: Open| {
            let mut buf = Vec::new();
            o.encode(&mut buf);
            buf[19..].to_vec()
        };
        // RFC 7607: AS 0, in either field.
        assert_eq!(decode(&body(sample(0, vec![]))).unwrap_err().subcode, err::BAD_PEER_AS);
        let mut zero4 = body(sample(65001, vec![Capability::FourOctetAs(65001)]));
        let at = zero4.len() - 4;
        zero4[at..].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(decode(&zero4).unwrap_err().subcode, err::BAD_PEER_AS);
        // RFC 6793: My AS 65001 with a 4-octet AS of 65002 disagrees.
        let mut two = body(sample(65001, vec![Capability::FourOctetAs(65001)]));
        two[at..].copy_from_slice(&65002u32.to_be_bytes());
        let n = decode(&two).unwrap_err();
        assert_eq!((n.code, n.subcode, n.data.clone()), (err::OPEN, err::BAD_PEER_AS, 65002u32.to_be_bytes().to_vec()));
        // AS_TRANS with any 4-octet AS is fine; so is the same AS twice.
        assert_eq!(
            decode(&body(sample(4_200_000_001, vec![Capability::FourOctetAs(4_200_000_001)]))).unwrap().asn,
            4_200_000_001
        );
        assert_eq!(decode(&body(sample(65001, vec![Capability::FourOctetAs(65001)]))).unwrap().asn, 65001);
    }

    #[test]
    fn families_default_to_ipv4() {
        assert_eq!(sample(1, vec![]).families(), vec![Afi::Ipv4]);
        assert_eq!(sample(1, vec![Capability::Multiprotocol(2, 1)]).families(), vec![Afi::Ipv6]);
    }
}
