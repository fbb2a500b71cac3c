//! `bgpbox-feeder watch`: the bench's stopwatch. It follows the main
//! table through route notifications and prints `full` when N routes of
//! a routing daemon are in, `empty` when they are all gone again.
//!
//! It reads each notification's header and prefix only: decoded whole,
//! a full table's notifications took it about 3 CPU seconds, on a 2-core
//! machine shared with the daemon it times; it then fell behind the
//! kernel and stamped `full` late, later the faster the daemon wrote.

use std::io::Write;
use std::time::Duration;

use bgpbox::bgp::hash::FastSet;
use bgpbox::netlink::{self, route_heads, Msg, RouteHead, Socket};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::now_ns;

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
    // A quiet socket while routes are still counted: look again, in case
    // the notifications of the last ones were lost with the buffer.
    sock.set_recv_timeout(Duration::from_millis(100)).expect("netlink timeout");
    let mut full = false;
    // Notifications were lost since the last complete count: a dump taken
    // while routes are still being written can miss some of them too, so
    // a quiet socket short of the count means another look.
    let mut lost = false;
    loop {
        let got = sock.recv_with(|b| {
            for h in route_heads(b).filter(counts) {
                if h.new {
                    have.insert(&h.prefix);
                } else {
                    have.remove(&h.prefix);
                }
            }
        });
        match got {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !full && !lost => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && full && have.is_empty() => continue,
            Err(e) => {
                // Lost notifications: count from a dump instead.
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    eprintln!("watch: {e}; resyncing");
                    lost = true;
                }
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

/// The prefixes in the FIB, IPv4 ones as integers: a set of a million
/// `IpNet`s grew by rehashing 40 MB while the daemon wrote, and the listener's
/// memory traffic slows the kernel's writes on the same machine. Sized
/// for the whole table at the start, it never grows while timing.
struct Counted {
    v4: FastSet<u64>,
    v6: FastSet<Ipv6Net>,
}

impl Counted {
    fn with_capacity(n: usize) -> Counted {
        let mut c = Counted { v4: FastSet::default(), v6: FastSet::default() };
        c.v4.reserve(n);
        c.v6.reserve(n);
        c
    }

    fn key4(n: &Ipv4Net) -> u64 {
        u64::from(u32::from(n.addr())) << 8 | u64::from(n.prefix_len())
    }

    fn insert(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => self.v4.insert(Self::key4(n)),
            IpNet::V6(n) => self.v6.insert(*n),
        };
    }

    fn remove(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => self.v4.remove(&Self::key4(n)),
            IpNet::V6(n) => self.v6.remove(n),
        };
    }

    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn clear(&mut self) {
        self.v4.clear();
        self.v6.clear();
    }
}

/// Routes a routing daemon put in the main table (not the kernel's own,
/// not static ones).
fn counts(r: &RouteHead) -> bool {
    r.table == netlink::RT_TABLE_MAIN as u32 && !matches!(r.protocol, 0..=4) && r.kind == netlink::RTN_UNICAST
}
