//! NLRI prefixes: a length in bits, then just enough octets (RFC 4271 4.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
}

impl Afi {
    pub const SAFI_UNICAST: u8 = 1;

    pub fn code(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
        }
    }

    pub fn from_code(c: u16) -> Option<Afi> {
        match c {
            1 => Some(Afi::Ipv4),
            2 => Some(Afi::Ipv6),
            _ => None,
        }
    }

    /// FRR's name of the unicast family.
    pub fn name(self) -> &'static str {
        match self {
            Afi::Ipv4 => "IPv4 Unicast",
            Afi::Ipv6 => "IPv6 Unicast",
        }
    }

    pub fn of(p: &IpNet) -> Afi {
        match p {
            IpNet::V4(_) => Afi::Ipv4,
            IpNet::V6(_) => Afi::Ipv6,
        }
    }

    fn max_len(self) -> u8 {
        match self {
            Afi::Ipv4 => 32,
            Afi::Ipv6 => 128,
        }
    }
}

/// A prefix field that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPrefix;

/// Decodes a run of prefixes. Bits past the length are cleared, as a
/// receiver must ignore them. Err: the field does not parse (a length over
/// the address size, or a prefix running past the end).
pub fn decode_prefixes(mut data: &[u8], afi: Afi, out: &mut Vec<IpNet>) -> Result<(), BadPrefix> {
    // Room for the field's prefixes at their usual size (a /24 takes 4
    // bytes, a /48 7), so most UPDATEs allocate once, not grow.
    out.reserve(data.len() / if afi == Afi::Ipv4 { 4 } else { 7 });
    while let Some((&bits, rest)) = data.split_first() {
        if bits > afi.max_len() {
            return Err(BadPrefix);
        }
        let n = (bits as usize).div_ceil(8);
        let bytes = rest.get(..n).ok_or(BadPrefix)?;
        data = &rest[n..];
        // A whole address's worth read where the field has it (the bytes
        // past the prefix are cleared by `trunc` with the rest): a copy
        // of a size known at compile time is a load, one of 1-16 bytes a
        // call to musl's memcpy, once for every prefix in.
        let net = match afi {
            Afi::Ipv4 => {
                let mut a = [0u8; 4];
                match rest.get(..4) {
                    Some(whole) => a.copy_from_slice(whole),
                    None => a[..n].copy_from_slice(bytes),
                }
                IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), bits).map_err(|_| BadPrefix)?.trunc())
            }
            Afi::Ipv6 => {
                let mut a = [0u8; 16];
                match rest.get(..16) {
                    Some(whole) => a.copy_from_slice(whole),
                    None => a[..n].copy_from_slice(bytes),
                }
                IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), bits).map_err(|_| BadPrefix)?.trunc())
            }
        };
        out.push(net);
    }
    Ok(())
}

pub fn encoded_len(p: &IpNet) -> usize {
    1 + (p.prefix_len() as usize).div_ceil(8)
}

pub fn encode_prefix(p: &IpNet, out: &mut Vec<u8>) {
    let n = (p.prefix_len() as usize).div_ceil(8);
    out.push(p.prefix_len());
    // The whole address, then the length cut back: a copy of a size known
    // at compile time is a store, one of 1-16 bytes a call to musl's
    // memcpy (small copies were 4% of the time exporting to ten).
    let at = out.len();
    match p {
        IpNet::V4(v4) => out.extend_from_slice(&v4.network().octets()),
        IpNet::V6(v6) => out.extend_from_slice(&v6.network().octets()),
    }
    out.truncate(at + n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let ps: Vec<IpNet> = ["0.0.0.0/0", "10.1.0.0/24", "192.0.2.1/32", "198.51.100.128/25"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let mut buf = Vec::new();
        for p in &ps {
            encode_prefix(p, &mut buf);
        }
        assert_eq!(buf.len(), ps.iter().map(encoded_len).sum::<usize>());
        let mut out = Vec::new();
        decode_prefixes(&buf, Afi::Ipv4, &mut out).unwrap();
        assert_eq!(out, ps);
        // Host bits past the length are cleared.
        out.clear();
        decode_prefixes(&[24, 10, 1, 0, 24, 10, 2, 0], Afi::Ipv4, &mut out).unwrap();
        decode_prefixes(&[8, 10, 0xff], Afi::Ipv4, &mut Vec::new()).unwrap_err();
        decode_prefixes(&[33, 1, 2, 3, 4, 5], Afi::Ipv4, &mut Vec::new()).unwrap_err();
        decode_prefixes(&[24, 10, 1], Afi::Ipv4, &mut Vec::new()).unwrap_err();
        let mut v6 = Vec::new();
        encode_prefix(&"2001:db8::/32".parse().unwrap(), &mut v6);
        let mut out = Vec::new();
        decode_prefixes(&v6, Afi::Ipv6, &mut out).unwrap();
        assert_eq!(out[0].to_string(), "2001:db8::/32");
        decode_prefixes(&[129], Afi::Ipv6, &mut Vec::new()).unwrap_err();
    }

    /// The decoder reads a whole address ahead where the field has one:
    /// what it reads past a prefix (the next one's length and octets, the
    /// host bits of its last octet) never shows, at any length, in either
    /// family, nor at the end of the field, where it cannot read ahead.
    #[test]
    fn what_is_read_past_a_prefix_is_cleared() {
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for (afi, max) in [(Afi::Ipv4, 32u8), (Afi::Ipv6, 128)] {
            let mut wire = Vec::new();
            let mut want = Vec::new();
            for _ in 0..4 {
                for bits in 0..=max {
                    let r = next();
                    let p = match afi {
                        Afi::Ipv4 => IpNet::V4(Ipv4Net::new(Ipv4Addr::from(r as u32), bits).unwrap().trunc()),
                        Afi::Ipv6 => IpNet::V6(Ipv6Net::new(Ipv6Addr::from(r), bits).unwrap().trunc()),
                    };
                    encode_prefix(&p, &mut wire);
                    // Host bits set in the prefix's last octet, as a
                    // sender may: the receiver ignores them.
                    if bits % 8 != 0 {
                        *wire.last_mut().unwrap() |= 0xff >> (bits % 8);
                    }
                    want.push(p);
                }
            }
            let mut got = Vec::new();
            decode_prefixes(&wire, afi, &mut got).unwrap();
            assert_eq!(got, want, "{afi:?}");
        }
        let mut got = Vec::new();
        decode_prefixes(&[20, 10, 1, 0xff, 9, 10, 0xff], Afi::Ipv4, &mut got).unwrap();
        assert_eq!(got, ["10.1.240.0/20".parse::<IpNet>().unwrap(), "10.128.0.0/9".parse().unwrap()]);
    }
}
