//! `bgpbox-feeder watch`: the bench's stopwatch. It follows the main
//! table through route notifications and prints `full` when N routes of
//! a routing daemon are in, `empty` when they are all gone again.
//!
//! It reads each notification's header and prefix only: decoded whole,
//! a full table's notifications took it about 3 CPU seconds, on a 2-core
//! machine shared with the daemon it times; it then fell behind the
//! kernel and stamped `full` late, later the faster the daemon wrote.

use std::io::Write;
use std::time::{Duration, Instant};

use bgpbox::bgp::hash::FastSet;
use bgpbox::netlink::{self, route_heads, Msg, RouteHead, Socket};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::now_ns;

/// How long the listener sleeps once it has read everything queued.
/// Blocked in recv, it was woken for nearly every notification, and the
/// kernel wakes it in the writer's own time (on the floor, a million
/// routes written on one CPU: 1.74 s with the blocking listener, 1.56 s
/// with this one, 1.14 s with none, means of four pairs). Reading in
/// bursts, it stamps `full` at most this much late, for every daemon alike.
const PAUSE: Duration = Duration::from_millis(5);

/// A socket quiet this long after lost notifications: look again (only
/// then: a dump of a full table takes the CPU the daemon's writes need).
const QUIET: Duration = Duration::from_millis(100);

pub fn watch(expect: usize) {
    let groups = netlink::GROUP_IPV4_ROUTE | netlink::GROUP_IPV6_ROUTE;
    let mut sock = Socket::open(groups).expect("netlink");
    // Room for a whole table's notifications, so that counting rarely
    // falls back to dumps (which make the measured time an upper bound).
    sock.set_rcvbuf(1 << 30).expect("netlink receive buffer");
    let mut dumper = Socket::open(0).expect("netlink");
    let mut have = Counted::with_capacity(expect);
    // Routes already there (a restart) count too.
    recount(&mut dumper, &mut have, 1);
    println!("ready {} {}", now_ns(), have.len());
    std::io::stdout().flush().unwrap();
    let mut full = false;
    // Notifications were lost since the last complete count: a dump taken
    // while routes are still being written can miss some of them too, so
    // a quiet socket short of the count means another look.
    let mut lost = false;
    let mut heard = Instant::now();
    loop {
        let got = sock.try_recv_with(|b| {
            for h in route_heads(b).filter(counts) {
                if h.new {
                    have.insert(&h.prefix);
                } else {
                    have.remove(&h.prefix);
                }
            }
        });
        match got {
            Ok(()) => heard = Instant::now(),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if lost && heard.elapsed() >= QUIET {
                    recount(&mut dumper, &mut have, 2);
                    heard = Instant::now();
                } else {
                    std::thread::sleep(PAUSE);
                }
            }
            Err(e) => {
                // Lost notifications: count from a dump instead.
                eprintln!("watch: {e}; resyncing");
                lost = true;
                recount(&mut dumper, &mut have, 2);
            }
        }
        if !full && have.len() >= expect {
            full = true;
            lost = false;
            println!("full {}", now_ns());
            std::io::stdout().flush().unwrap();
        }
        if full && have.is_empty() {
            println!("empty {}", now_ns());
            std::io::stdout().flush().unwrap();
            return;
        }
    }
}

fn recount(dumper: &mut Socket, have: &mut Counted, seq: u32) {
    have.clear();
    for m in dumper.dump(netlink::RTM_GETROUTE, seq).expect("dump") {
        if let Msg::Route(true, r) = m {
            let h = RouteHead { new: true, prefix: r.prefix, table: r.table, protocol: r.protocol, kind: r.kind };
            if counts(&h) {
                have.insert(&h.prefix);
            }
        }
    }
}

/// The prefixes in the FIB. IPv4 ones up to /24 (the whole public table)
/// are bits of a 4 MB map, /N at 2^N + the address's top N bits: a daemon
/// writes in about prefix order, so neighbours share cache lines, where a
/// hash set of a million entries took a cache miss each, beside the
/// kernel whose writes it times (and grew by rehashing 40 MB unless sized
/// first). Longer IPv4 and IPv6 prefixes go to hash sets, sized for the
/// whole table at the start.
struct Counted {
    short: Vec<u64>,
    shorts: usize,
    v4: FastSet<u64>,
    v6: FastSet<Ipv6Net>,
}

/// The longest IPv4 prefix the bit map holds.
const SHORT_MAX: u8 = 24;

impl Counted {
    fn with_capacity(n: usize) -> Counted {
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

    fn insert(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => match Self::bit(n) {
                Some(i) => self.shorts += usize::from(self.flip(i, true)),
                None => _ = self.v4.insert(Self::key4(n)),
            },
            IpNet::V6(n) => _ = self.v6.insert(*n),
        }
    }

    fn remove(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => match Self::bit(n) {
                Some(i) => self.shorts -= usize::from(self.flip(i, false)),
                None => _ = self.v4.remove(&Self::key4(n)),
            },
            IpNet::V6(n) => _ = self.v6.remove(n),
        }
    }

    fn len(&self) -> usize {
        self.shorts + self.v4.len() + self.v6.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn clear(&mut self) {
        self.short.fill(0);
        self.shorts = 0;
        self.v4.clear();
        self.v6.clear();
    }
}

/// Routes a routing daemon put in the main table (not the kernel's own,
/// not static ones).
fn counts(r: &RouteHead) -> bool {
    r.table == netlink::RT_TABLE_MAIN as u32 && !matches!(r.protocol, 0..=4) && r.kind == netlink::RTN_UNICAST
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
