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
    while let Some((&bits, rest)) = data.split_first() {
        if bits > afi.max_len() {
            return Err(BadPrefix);
        }
        let n = (bits as usize).div_ceil(8);
        let bytes = rest.get(..n).ok_or(BadPrefix)?;
        data = &rest[n..];
        let net = match afi {
            Afi::Ipv4 => {
                let mut a = [0u8; 4];
                a[..n].copy_from_slice(bytes);
                IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), bits).map_err(|_| BadPrefix)?.trunc())
            }
            Afi::Ipv6 => {
                let mut a = [0u8; 16];
                a[..n].copy_from_slice(bytes);
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
    match p {
        IpNet::V4(v4) => out.extend_from_slice(&v4.network().octets()[..n]),
        IpNet::V6(v6) => out.extend_from_slice(&v6.network().octets()[..n]),
    }
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
}
