//! The BGP-4 wire format (RFC 4271 section 4), our own codec.
//!
//! Decoders take whole messages (after `frame` has found one in the byte
//! stream) and never panic: a malformed message is a `Notification` to
//! send, or, for UPDATE attributes, the RFC 7606 outcome (treat-as-withdraw
//! or attribute discard) recorded in the decoded `Update`.

mod attr;
mod nlri;
mod open;
#[cfg(test)]
mod rfc7606_tests;
mod update;

pub use attr::{AsPath, AttrFault, Fault, MpReach, MpUnreach, Opt32, Origin, PathAttrs, Rare, RawAttr, SegmentKind};
pub use nlri::{decode_prefixes, encode_prefix, Afi};
pub use open::{Capability, GracefulRestart, Open, IPV4_OVER_IPV6};
pub use update::{end_of_rib, fits, fits_any, pack_announce, pack_withdraw, AttrProblem, Update};

pub const MARKER: [u8; 16] = [0xff; 16];
pub const HEADER_LEN: usize = 19;
pub const MAX_LEN: usize = 4096;
/// RFC 8654 extended messages.
pub const EXTENDED_MAX_LEN: usize = 65535;
pub const AS_TRANS: u32 = 23456;

pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;
pub const ROUTE_REFRESH: u8 = 5;

/// What the peers agreed in their OPENs that changes the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    pub four_octet_as: bool,
    pub max_len: usize,
}

impl Default for Codec {
    /// Before the OPENs are exchanged: RFC 4271 as written.
    fn default() -> Self {
        Codec { four_octet_as: false, max_len: MAX_LEN }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Box<Update>),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// A NOTIFICATION, and the error type of every decoder: a decode failure is
/// exactly what we would tell the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

pub mod err {
    //! Error codes and subcodes (RFC 4271 6, RFC 4486, RFC 7313).
    pub const HEADER: u8 = 1;
    pub const CONN_NOT_SYNCED: u8 = 1;
    pub const BAD_LENGTH: u8 = 2;
    pub const BAD_TYPE: u8 = 3;

    pub const OPEN: u8 = 2;
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_ID: u8 = 3;
    pub const UNSUPPORTED_OPT_PARAM: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;

    pub const UPDATE: u8 = 3;
    pub const MALFORMED_ATTR_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN: u8 = 2;
    pub const MISSING_WELL_KNOWN: u8 = 3;
    pub const ATTR_FLAGS: u8 = 4;
    pub const ATTR_LENGTH: u8 = 5;
    pub const INVALID_ORIGIN: u8 = 6;
    pub const INVALID_NEXT_HOP: u8 = 8;
    pub const OPTIONAL_ATTR: u8 = 9;
    pub const INVALID_NETWORK: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;

    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    /// RFC 9687.
    pub const SEND_HOLD_TIMER_EXPIRED: u8 = 8;

    pub const CEASE: u8 = 6;
    pub const MAX_PREFIXES: u8 = 1;
    pub const ADMIN_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMIN_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIG_CHANGE: u8 = 6;
    pub const COLLISION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    /// RFC 9384.
    pub const BFD_DOWN: u8 = 10;

    pub const ROUTE_REFRESH: u8 = 7;
}

impl Notification {
    pub fn new(code: u8, subcode: u8, data: impl Into<Vec<u8>>) -> Self {
        Notification { code, subcode, data: data.into() }
    }

    /// Cease with an RFC 9003 shutdown communication (for administrative
    /// shutdown and reset).
    pub fn cease(subcode: u8, message: &str) -> Self {
        let mut data = Vec::new();
        if !message.is_empty() && matches!(subcode, err::ADMIN_SHUTDOWN | err::ADMIN_RESET) {
            let mut end = message.len().min(255);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            data.push(end as u8);
            data.extend_from_slice(&message.as_bytes()[..end]);
        }
        Notification { code: err::CEASE, subcode, data }
    }

    /// The RFC 9003 shutdown communication, if this carries one.
    pub fn shutdown_message(&self) -> Option<String> {
        if self.code != err::CEASE || !matches!(self.subcode, err::ADMIN_SHUTDOWN | err::ADMIN_RESET) {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..len as usize)?;
        std::str::from_utf8(text).ok().map(str::to_string)
    }

    /// FRR's wording, which its users know from `show bgp neighbors`.
    pub fn describe(&self) -> String {
        use err::*;
        let code = match self.code {
            HEADER => "Message Header Error",
            OPEN => "OPEN Message Error",
            UPDATE => "UPDATE Message Error",
            HOLD_TIMER_EXPIRED => "Hold Timer Expired",
            FSM => "Finite State Machine Error",
            CEASE => "Cease",
            SEND_HOLD_TIMER_EXPIRED => "Send Hold Timer Expired",
            ROUTE_REFRESH => "ROUTE-REFRESH Message Error",
            _ => "Unknown error",
        };
        let sub = match (self.code, self.subcode) {
            (HEADER, CONN_NOT_SYNCED) => "Connection Not Synchronized",
            (HEADER, BAD_LENGTH) => "Bad Message Length",
            (HEADER, BAD_TYPE) => "Bad Message Type",
            (OPEN, UNSUPPORTED_VERSION) => "Unsupported Version Number",
            (OPEN, BAD_PEER_AS) => "Bad Peer AS",
            (OPEN, BAD_BGP_ID) => "Bad BGP Identifier",
            (OPEN, UNSUPPORTED_OPT_PARAM) => "Unsupported Optional Parameter",
            (OPEN, UNACCEPTABLE_HOLD_TIME) => "Unacceptable Hold Time",
            (OPEN, UNSUPPORTED_CAPABILITY) => "Unsupported Capability",
            (UPDATE, MALFORMED_ATTR_LIST) => "Malformed Attribute List",
            (UPDATE, UNRECOGNIZED_WELL_KNOWN) => "Unrecognized Well-known Attribute",
            (UPDATE, MISSING_WELL_KNOWN) => "Missing Well-known Attribute",
            (UPDATE, ATTR_FLAGS) => "Attribute Flags Error",
            (UPDATE, ATTR_LENGTH) => "Attribute Length Error",
            (UPDATE, INVALID_ORIGIN) => "Invalid ORIGIN Attribute",
            (UPDATE, INVALID_NEXT_HOP) => "Invalid NEXT_HOP Attribute",
            (UPDATE, OPTIONAL_ATTR) => "Optional Attribute Error",
            (UPDATE, INVALID_NETWORK) => "Invalid Network Field",
            (UPDATE, MALFORMED_AS_PATH) => "Malformed AS_PATH",
            (CEASE, MAX_PREFIXES) => "Maximum Number of Prefixes Reached",
            (CEASE, ADMIN_SHUTDOWN) => "Administrative Shutdown",
            (CEASE, PEER_DECONFIGURED) => "Peer De-configured",
            (CEASE, ADMIN_RESET) => "Administrative Reset",
            (CEASE, CONNECTION_REJECTED) => "Connection Rejected",
            (CEASE, OTHER_CONFIG_CHANGE) => "Other Configuration Change",
            (CEASE, COLLISION) => "Connection Collision Resolution",
            (CEASE, OUT_OF_RESOURCES) => "Out of Resources",
            (CEASE, BFD_DOWN) => "BFD Down",
            (_, 0) => "Unspecific",
            _ => "Unknown subcode",
        };
        match (self.shutdown_message(), self.data_text()) {
            (Some(m), _) => format!("{code}/{sub} ({m:?})"),
            (None, Some(d)) => format!("{code}/{sub} ({d})"),
            (None, None) => format!("{code}/{sub}"),
        }
    }

    /// What the data field says, where RFC 4271 6 (and FRR's practice)
    /// gives it a meaning: the peer's AS, the length, type, version, BGP
    /// identifier or hold time that was wrong, the attribute at fault.
    pub fn data_text(&self) -> Option<String> {
        use err::*;
        let d = &self.data;
        let u16_at = |i: usize| d.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        Some(match (self.code, self.subcode, d.len()) {
            (OPEN, BAD_PEER_AS, 2) => format!("AS {}", u16_at(0)?),
            (OPEN, BAD_PEER_AS, 4) => format!("AS {}", u32::from_be_bytes([d[0], d[1], d[2], d[3]])),
            (OPEN, BAD_BGP_ID, 4) => format!("BGP identifier {}", std::net::Ipv4Addr::new(d[0], d[1], d[2], d[3])),
            (OPEN, UNSUPPORTED_VERSION, 2) => format!("version {} is supported", u16_at(0)?),
            (OPEN, UNACCEPTABLE_HOLD_TIME, 2) => format!("hold time {}", u16_at(0)?),
            (OPEN, UNSUPPORTED_CAPABILITY, 2..) => {
                let mut codes = Vec::new();
                let mut rest = &d[..];
                while let [code, len, tail @ ..] = rest {
                    codes.push(code.to_string());
                    rest = tail.get(*len as usize..).unwrap_or_default();
                }
                format!("capability {}", codes.join(", "))
            }
            (HEADER, BAD_LENGTH, 2) => format!("length {}", u16_at(0)?),
            (HEADER, BAD_TYPE, 1) => format!("type {}", d[0]),
            // The attribute at fault: flags, type, length, value.
            (UPDATE, _, 2..) if self.subcode != MALFORMED_ATTR_LIST && self.subcode != INVALID_NETWORK => {
                format!("attribute {}", attr::name(d[1]))
            }
            (CEASE, MAX_PREFIXES, 7) => {
                format!("AFI {} SAFI {}, limit {}", u16_at(0)?, d[2], u32::from_be_bytes([d[3], d[4], d[5], d[6]]))
            }
            _ => return None,
        })
    }
}

/// ROUTE-REFRESH (RFC 2918; subtype from RFC 7313).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRefresh {
    pub afi: u16,
    pub subtype: u8,
    pub safi: u8,
}

/// Looks for one whole message at the start of `buf`. Ok(None): need more
/// bytes; Ok(Some(len)): `buf[..len]` is a message with a valid header.
pub fn frame(buf: &[u8], max_len: usize) -> Result<Option<usize>, Notification> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    if buf[..16] != MARKER {
        return Err(Notification::new(err::HEADER, err::CONN_NOT_SYNCED, []));
    }
    let len = u16::from_be_bytes([buf[16], buf[17]]) as usize;
    let typ = buf[18];
    let min = match typ {
        OPEN => 29,
        UPDATE => 23,
        NOTIFICATION => 21,
        KEEPALIVE => 19,
        ROUTE_REFRESH => 23,
        _ => return Err(Notification::new(err::HEADER, err::BAD_TYPE, [typ])),
    };
    // OPEN and KEEPALIVE stay within 4096 even with extended messages.
    let max = if matches!(typ, OPEN | KEEPALIVE) { MAX_LEN } else { max_len };
    if len < min || len > max || (typ == KEEPALIVE && len != HEADER_LEN) {
        return Err(Notification::new(err::HEADER, err::BAD_LENGTH, (len as u16).to_be_bytes()));
    }
    Ok((buf.len() >= len).then_some(len))
}

/// Decodes one framed message (`frame` has checked its header).
pub fn decode(msg: &[u8], codec: &Codec) -> Result<Message, Notification> {
    let body = msg.get(HEADER_LEN..).unwrap_or_default();
    match msg.get(18).copied().unwrap_or(0) {
        OPEN => open::decode(body).map(Message::Open),
        UPDATE => update::decode(body, codec).map(|u| Message::Update(Box::new(u))),
        NOTIFICATION => {
            let (code, subcode) = (body.first().copied().unwrap_or(0), body.get(1).copied().unwrap_or(0));
            Ok(Message::Notification(Notification::new(code, subcode, body.get(2..).unwrap_or_default())))
        }
        KEEPALIVE => Ok(Message::Keepalive),
        ROUTE_REFRESH => {
            if body.len() != 4 {
                return Err(Notification::new(err::ROUTE_REFRESH, 1, body));
            }
            Ok(Message::RouteRefresh(RouteRefresh {
                afi: u16::from_be_bytes([body[0], body[1]]),
                subtype: body[2],
                safi: body[3],
            }))
        }
        t => Err(Notification::new(err::HEADER, err::BAD_TYPE, [t])),
    }
}

/// Appends a header for a message of type `typ` and returns where its
/// length goes; `finish` fills it in.
pub(crate) fn start(out: &mut Vec<u8>, typ: u8) -> usize {
    let at = out.len();
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&[0, 0, typ]);
    at
}

pub(crate) fn finish(out: &mut [u8], at: usize) {
    let len = (out.len() - at) as u16;
    out[at + 16..at + 18].copy_from_slice(&len.to_be_bytes());
}

/// Encodes any message but UPDATE (see `Update::encode`).
pub fn encode(msg: &Message, codec: &Codec, out: &mut Vec<u8>) {
    match msg {
        Message::Open(o) => o.encode(out),
        Message::Update(u) => u.encode(codec, out),
        Message::Notification(n) => {
            let at = start(out, NOTIFICATION);
            out.extend_from_slice(&[n.code, n.subcode]);
            let room = MAX_LEN - HEADER_LEN - 2;
            out.extend_from_slice(&n.data[..n.data.len().min(room)]);
            finish(out, at);
        }
        Message::Keepalive => {
            let at = start(out, KEEPALIVE);
            finish(out, at);
        }
        Message::RouteRefresh(r) => {
            let at = start(out, ROUTE_REFRESH);
            out.extend_from_slice(&r.afi.to_be_bytes());
            out.extend_from_slice(&[r.subtype, r.safi]);
            finish(out, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NOTIFICATIONs say what their data holds: which AS, length,
    /// identifier or attribute was wrong.
    #[test]
    fn notification_data_is_said() {
        let n = |c, s, d: &[u8]| Notification::new(c, s, d.to_vec()).describe();
        assert_eq!(n(err::OPEN, err::BAD_PEER_AS, &[0xfd, 0xeb]), "OPEN Message Error/Bad Peer AS (AS 65003)");
        assert_eq!(
            n(err::OPEN, err::BAD_PEER_AS, &4_200_000_001u32.to_be_bytes()),
            "OPEN Message Error/Bad Peer AS (AS 4200000001)"
        );
        assert_eq!(
            n(err::OPEN, err::BAD_BGP_ID, &[192, 0, 2, 1]),
            "OPEN Message Error/Bad BGP Identifier (BGP identifier 192.0.2.1)"
        );
        assert_eq!(
            n(err::HEADER, err::BAD_LENGTH, &[0x10, 0x01]),
            "Message Header Error/Bad Message Length (length 4097)"
        );
        assert_eq!(
            n(err::UPDATE, err::ATTR_FLAGS, &[0x40, 1, 1, 0]),
            "UPDATE Message Error/Attribute Flags Error (attribute ORIGIN)"
        );
        assert_eq!(
            n(err::OPEN, err::UNSUPPORTED_CAPABILITY, &[64, 2, 0, 0, 70, 0]),
            "OPEN Message Error/Unsupported Capability (capability 64, 70)"
        );
        assert_eq!(
            n(err::CEASE, err::MAX_PREFIXES, &[0, 1, 1, 0, 0, 0, 100]),
            "Cease/Maximum Number of Prefixes Reached (AFI 1 SAFI 1, limit 100)"
        );
        assert_eq!(n(err::OPEN, err::BAD_PEER_AS, &[1, 2, 3]), "OPEN Message Error/Bad Peer AS", "odd data: not read");
    }

    fn roundtrip(m: Message) {
        let codec = Codec::default();
        let mut buf = Vec::new();
        encode(&m, &codec, &mut buf);
        assert_eq!(frame(&buf, MAX_LEN), Ok(Some(buf.len())));
        assert_eq!(frame(&buf[..buf.len() - 1], MAX_LEN), Ok(None));
        assert_eq!(decode(&buf, &codec), Ok(m));
    }

    #[test]
    fn simple_messages_roundtrip() {
        roundtrip(Message::Keepalive);
        roundtrip(Message::Notification(Notification::new(err::HOLD_TIMER_EXPIRED, 0, [])));
        roundtrip(Message::Notification(Notification::cease(err::ADMIN_SHUTDOWN, "maintenance")));
        roundtrip(Message::RouteRefresh(RouteRefresh { afi: 1, subtype: 0, safi: 1 }));
    }

    #[test]
    fn shutdown_communication() {
        let n = Notification::cease(err::ADMIN_SHUTDOWN, "going down");
        assert_eq!(n.data[0], 10);
        assert_eq!(n.shutdown_message().as_deref(), Some("going down"));
        assert_eq!(n.describe(), "Cease/Administrative Shutdown (\"going down\")");
        let long = "é".repeat(200);
        let n = Notification::cease(err::ADMIN_RESET, &long);
        assert!(n.data[0] as usize <= 255 && n.shutdown_message().is_some());
    }

    #[test]
    fn bad_headers() {
        let mut ka = Vec::new();
        encode(&Message::Keepalive, &Codec::default(), &mut ka);
        let mut bad = ka.clone();
        bad[0] = 0;
        assert_eq!(frame(&bad, MAX_LEN).unwrap_err().subcode, err::CONN_NOT_SYNCED);
        let mut bad = ka.clone();
        bad[18] = 9;
        assert_eq!(frame(&bad, MAX_LEN).unwrap_err(), Notification::new(1, 3, [9]));
        let mut bad = ka.clone();
        bad[17] = 20;
        bad.push(0);
        assert_eq!(frame(&bad, MAX_LEN).unwrap_err(), Notification::new(1, 2, [0, 20]));
        let mut big = ka;
        big[16..18].copy_from_slice(&5000u16.to_be_bytes());
        big[18] = UPDATE;
        assert_eq!(frame(&big, MAX_LEN).unwrap_err().subcode, err::BAD_LENGTH);
        assert_eq!(frame(&big, EXTENDED_MAX_LEN), Ok(None));
    }
}
