//! ICMP and ICMPv6 echo (RFC 792, RFC 4443) as ping and traceroute need
//! them: the request, and what comes back read from a raw socket (an echo
//! reply, or a time-exceeded or unreachable error quoting our request),
//! matched by identifier and sequence number.

/// What came back for one of our probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Echo { id: u16, seq: u16 },
    TimeExceeded { id: u16, seq: u16 },
    Unreachable { id: u16, seq: u16, code: u8 },
}

impl Reply {
    pub fn ids(&self) -> (u16, u16) {
        match *self {
            Reply::Echo { id, seq } | Reply::TimeExceeded { id, seq } | Reply::Unreachable { id, seq, .. } => (id, seq),
        }
    }
}

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const UNREACHABLE: u8 = 3;
const TIME_EXCEEDED: u8 = 11;
const ECHO_REQUEST6: u8 = 128;
const ECHO_REPLY6: u8 = 129;
const UNREACHABLE6: u8 = 1;
const TIME_EXCEEDED6: u8 = 3;

/// An echo request with `payload` bytes of data (56, as ping's default).
/// The IPv4 checksum is ours to fill in; the kernel fills ICMPv6's.
pub fn echo_request(v6: bool, id: u16, seq: u16, payload: usize) -> Vec<u8> {
    let mut b = vec![if v6 { ECHO_REQUEST6 } else { ECHO_REQUEST }, 0, 0, 0];
    b.extend_from_slice(&id.to_be_bytes());
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend((0..payload).map(|i| i as u8));
    if !v6 {
        let c = checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
    }
    b
}

/// The Internet checksum (RFC 1071).
pub fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b.chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32).sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 raw socket's datagram: the IP header, then ICMP. Returns the
/// reply and the TTL it arrived with.
pub fn parse_v4(b: &[u8]) -> Option<(Reply, u8)> {
    let ihl = (*b.first()? & 0x0f) as usize * 4;
    let ttl = *b.get(8)?;
    let icmp = b.get(ihl..)?;
    let (t, code) = (*icmp.first()?, *icmp.get(1)?);
    let reply = match t {
        ECHO_REPLY => {
            let (id, seq) = ids(icmp.get(4..8)?);
            Reply::Echo { id, seq }
        }
        TIME_EXCEEDED | UNREACHABLE => {
            // The quoted datagram: its IP header, then our echo's first 8 bytes.
            let inner = icmp.get(8..)?;
            let ihl2 = (*inner.first()? & 0x0f) as usize * 4;
            let echo = inner.get(ihl2..ihl2 + 8)?;
            if echo[0] != ECHO_REQUEST {
                return None;
            }
            let (id, seq) = ids(&echo[4..8]);
            match t {
                TIME_EXCEEDED => Reply::TimeExceeded { id, seq },
                _ => Reply::Unreachable { id, seq, code },
            }
        }
        _ => return None,
    };
    Some((reply, ttl))
}

/// An ICMPv6 raw socket's datagram (no IPv6 header; the hop limit comes
/// aside).
pub fn parse_v6(icmp: &[u8]) -> Option<Reply> {
    let (t, code) = (*icmp.first()?, *icmp.get(1)?);
    Some(match t {
        ECHO_REPLY6 => {
            let (id, seq) = ids(icmp.get(4..8)?);
            Reply::Echo { id, seq }
        }
        TIME_EXCEEDED6 | UNREACHABLE6 => {
            // The quoted packet: the 40-byte IPv6 header, then our echo.
            let echo = icmp.get(8 + 40..8 + 48)?;
            if echo[0] != ECHO_REQUEST6 {
                return None;
            }
            let (id, seq) = ids(&echo[4..8]);
            match t {
                TIME_EXCEEDED6 => Reply::TimeExceeded { id, seq },
                _ => Reply::Unreachable { id, seq, code },
            }
        }
        _ => return None,
    })
}

fn ids(b: &[u8]) -> (u16, u16) {
    (u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]]))
}

/// ping's words for an unreachable code.
pub fn unreachable_text(v6: bool, code: u8) -> &'static str {
    match (v6, code) {
        (false, 0) => "Destination Net Unreachable",
        (false, 1) | (true, 3) => "Destination Host Unreachable",
        (false, 3) | (true, 4) => "Destination Port Unreachable",
        (false, 13) | (true, 1) => "Destination Prohibited",
        (true, 0) => "Destination unreachable: No route",
        _ => "Destination Unreachable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_header(ttl: u8) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, ttl, 1, 0, 0];
        h.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        h
    }

    #[test]
    fn an_echo_request_checks_out_and_its_reply_reads_back() {
        let req = echo_request(false, 0x1234, 7, 56);
        assert_eq!(req.len(), 64);
        assert_eq!(checksum(&req), 0, "a valid checksum sums to zero");
        let mut reply = req.clone();
        reply[0] = ECHO_REPLY;
        let mut dgram = ipv4_header(63);
        dgram.extend_from_slice(&reply);
        assert_eq!(parse_v4(&dgram), Some((Reply::Echo { id: 0x1234, seq: 7 }, 63)));
        let mut r6 = echo_request(true, 9, 10, 56);
        r6[0] = ECHO_REPLY6;
        assert_eq!(parse_v6(&r6), Some(Reply::Echo { id: 9, seq: 10 }));
    }

    #[test]
    fn errors_quoting_our_request_are_matched() {
        let req = echo_request(false, 0x1234, 3, 56);
        let mut err = ipv4_header(255);
        err.extend_from_slice(&[TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0]);
        err.extend_from_slice(&ipv4_header(1));
        err.extend_from_slice(&req[..8]);
        assert_eq!(parse_v4(&err), Some((Reply::TimeExceeded { id: 0x1234, seq: 3 }, 255)));
        err[ipv4_header(0).len()] = UNREACHABLE;
        err[ipv4_header(0).len() + 1] = 1;
        assert_eq!(parse_v4(&err), Some((Reply::Unreachable { id: 0x1234, seq: 3, code: 1 }, 255)));
        let mut e6 = vec![TIME_EXCEEDED6, 0, 0, 0, 0, 0, 0, 0];
        e6.extend_from_slice(&[0x60; 40]);
        e6.extend_from_slice(&echo_request(true, 5, 6, 0));
        assert_eq!(parse_v6(&e6), Some(Reply::TimeExceeded { id: 5, seq: 6 }));
    }

    #[test]
    fn anything_short_or_foreign_is_none() {
        assert_eq!(parse_v4(&[]), None);
        assert_eq!(parse_v4(&[0x4f]), None, "a header longer than the datagram");
        let mut other = ipv4_header(64);
        other.extend_from_slice(&[ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(parse_v4(&other), None, "someone's request, not a reply");
        assert_eq!(parse_v6(&[TIME_EXCEEDED6, 0, 0, 0]), None);
        assert_eq!(parse_v6(&[ECHO_REPLY6, 0, 0]), None);
    }
}
