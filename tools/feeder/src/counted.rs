//! Counting prefixes for the bench's stopwatch (`watch`) and its
//! receiving peers (`feed --expect-received`).

use bgpbox::bgp::hash::FastSet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A set of prefixes, for counting what a daemon put in the FIB or sent
/// a peer. IPv4 ones up to /24 (the whole public table) are bits of a
/// 4 MB map, /N at 2^N + the address's top N bits: a daemon writes and
/// sends in about prefix order, so neighbours share cache lines, where a
/// hash set of a million entries took a cache miss each, on the machine
/// whose daemon it times (and grew by rehashing 40 MB unless sized
/// first). Longer IPv4 and IPv6 prefixes go to hash sets, sized for the
/// whole table at the start.
pub struct Counted {
    short: Vec<u64>,
    shorts: usize,
    v4: FastSet<u64>,
    v6: FastSet<Ipv6Net>,
}

/// The longest IPv4 prefix the bit map holds.
const SHORT_MAX: u8 = 24;

impl Counted {
    pub fn with_capacity(n: usize) -> Counted {
        let mut c = Counted {
            short: vec![0; (2usize << SHORT_MAX) / 64],
            shorts: 0,
            v4: FastSet::default(),
            v6: FastSet::default(),
        };
        c.v4.reserve(n);
        c.v6.reserve(n);
        c
    }

    fn bit(n: &Ipv4Net) -> Option<usize> {
        let len = n.prefix_len();
        (len <= SHORT_MAX).then(|| (1usize << len) + (u64::from(u32::from(n.addr())) >> (32 - len)) as usize)
    }

    fn key4(n: &Ipv4Net) -> u64 {
        u64::from(u32::from(n.addr())) << 8 | u64::from(n.prefix_len())
    }

    /// Sets or clears a short prefix's bit; whether it changed.
    fn flip(&mut self, i: usize, on: bool) -> bool {
        let (w, m) = (&mut self.short[i / 64], 1u64 << (i % 64));
        let was = *w & m != 0;
        if on {
            *w |= m;
        } else {
            *w &= !m;
        }
        was != on
    }

    pub fn insert(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => match Self::bit(n) {
                Some(i) => self.shorts += usize::from(self.flip(i, true)),
                None => _ = self.v4.insert(Self::key4(n)),
            },
            IpNet::V6(n) => _ = self.v6.insert(*n),
        }
    }

    pub fn remove(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => match Self::bit(n) {
                Some(i) => self.shorts -= usize::from(self.flip(i, false)),
                None => _ = self.v4.remove(&Self::key4(n)),
            },
            IpNet::V6(n) => _ = self.v6.remove(n),
        }
    }

    pub fn len(&self) -> usize {
        self.shorts + self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.short.fill(0);
        self.shorts = 0;
        self.v4.clear();
        self.v6.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_prefix_once_whatever_its_length() {
        let mut c = Counted::with_capacity(16);
        let nets: Vec<IpNet> = [
            "0.0.0.0/0",
            "10.0.0.0/8",
            "10.0.0.0/9",
            "10.128.0.0/9",
            "192.0.2.0/24",
            "192.0.2.0/25",
            "192.0.2.1/32",
            "2001:db8::/32",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        for n in nets.iter().chain(&nets) {
            c.insert(n);
        }
        assert_eq!(c.len(), nets.len());
        c.remove(&nets[2]);
        c.remove(&nets[2]);
        c.remove(&nets[5]);
        assert_eq!(c.len(), nets.len() - 2);
        // The /8 and the /9 at the same address are different bits.
        assert!(Counted::bit(&"10.0.0.0/8".parse().unwrap()) != Counted::bit(&"10.0.0.0/9".parse().unwrap()));
        c.clear();
        assert!(c.is_empty());
    }
}
