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

use bgpbox::netlink::{self, route_heads, Msg, RouteHead, Socket};

use crate::counted::Counted;
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

/// Routes a routing daemon put in the main table (not the kernel's own,
/// not static ones).
fn counts(r: &RouteHead) -> bool {
    r.table == netlink::RT_TABLE_MAIN as u32 && !matches!(r.protocol, 0..=4) && r.kind == netlink::RTN_UNICAST
}
