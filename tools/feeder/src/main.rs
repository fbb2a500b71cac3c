//! Benchmark tools for scripts/bench.
//!
//! `bgpbox-feeder feed`: one eBGP session that streams a synthetic full
//! table (prefix lengths in about the public table's proportions, a few
//! prefixes per UPDATE sharing attributes, varied AS paths), then holds the
//! session until stdin closes, then drops it.
//!
//! Options for the hostile-peer tests: `--hold-time`, `--extended`
//! (RFC 8654 extended messages), `--long-path N` (one more route,
//! 203.0.113.0/24, with an AS_PATH of N ASes: over 4 KB from about 1,000),
//! `--no-read` (a peer that stops reading once Established, but keeps
//! sending KEEPALIVEs).
//!
//! `bgpbox-feeder flood`: see `flood.rs`.
//!
//! `bgpbox-feeder watch`: a netlink listener that follows the main table
//! and prints when N routes of other protocols than kernel/static are in,
//! and when they are all gone again.

mod flood;

use std::collections::HashSet;
use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgpbox::bgp::packet::{
    self, end_of_rib, frame, pack_announce, Afi, AsPath, Capability, Codec, Message, Open, Origin, PathAttrs,
    EXTENDED_MAX_LEN, MAX_LEN,
};
use bgpbox::netlink::{self, Msg, Socket};
use clap::{Parser, Subcommand};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Feed(Feed),
    Watch {
        /// Routes to wait for.
        #[arg(long)]
        expect: usize,
    },
    /// The kernel's floor: the feeder's IPv4 table written straight into
    /// the FIB over netlink, in sends of 2,000 routes with one ack each (as
    /// bgpd writes), then deleted; prints the seconds each took.
    Floor {
        #[arg(long)]
        v4: usize,
        #[arg(long)]
        via: IpAddr,
        /// Routes through a nexthop object on this interface index.
        #[arg(long)]
        nh_oif: Option<u32>,
    },
    /// TCP connections to a BGP port from many source addresses.
    Flood {
        #[arg(long)]
        to: SocketAddr,
        /// Source addresses, comma-separated.
        #[arg(long, value_delimiter = ',')]
        from: Vec<IpAddr>,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

#[derive(clap::Args)]
struct Feed {
    #[arg(long)]
    peer: IpAddr,
    #[arg(long, default_value_t = 179)]
    port: u16,
    #[arg(long)]
    local_as: u32,
    #[arg(long)]
    peer_as: u32,
    #[arg(long)]
    router_id: Ipv4Addr,
    /// Our address: the next hop of every route.
    #[arg(long)]
    next_hop: IpAddr,
    #[arg(long, default_value_t = 0)]
    v4: usize,
    #[arg(long, default_value_t = 0)]
    v6: usize,
    #[arg(long, default_value_t = 180)]
    hold_time: u16,
    /// Offer RFC 8654 extended messages.
    #[arg(long)]
    extended: bool,
    /// Also announce 203.0.113.0/24 with an AS_PATH of this many ASes.
    #[arg(long)]
    long_path: Option<usize>,
    /// Stop reading once Established (KEEPALIVEs still go out).
    #[arg(long)]
    no_read: bool,
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

/// A deterministic PRNG (xorshift), so every run feeds the same table.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// IPv4 prefixes without overlaps: lengths in about the public table's
/// proportions, placed by an aligned bump allocator over the unicast
/// space (skipping 10/8, 127/8 and 224/3), interleaved as a feed would be.
fn v4_prefixes(n: usize) -> Vec<IpNet> {
    let mix: [(u8, f64); 9] =
        [(24, 0.60), (23, 0.10), (22, 0.12), (21, 0.06), (20, 0.06), (19, 0.03), (18, 0.015), (17, 0.008), (16, 0.007)];
    let mut per_len: Vec<(u8, usize)> = mix.iter().map(|(l, f)| (*l, (n as f64 * f) as usize)).collect();
    let assigned: usize = per_len.iter().map(|(_, c)| c).sum();
    per_len[0].1 += n - assigned;
    let mut cursor: u64 = 1 << 24;
    let mut lists: Vec<Vec<IpNet>> = Vec::new();
    // Larger blocks first keeps alignment waste small.
    for (len, count) in per_len.iter().rev() {
        let size = 1u64 << (32 - len);
        let mut v = Vec::with_capacity(*count);
        while v.len() < *count {
            cursor = cursor.div_ceil(size) * size;
            let first = cursor >> 24;
            if first == 10 || first == 127 {
                cursor = (first + 1) << 24;
                continue;
            }
            assert!(cursor + size <= 224 << 24, "the synthetic table does not fit the unicast space");
            v.push(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(cursor as u32), *len).unwrap()));
            cursor += size;
        }
        lists.push(v);
    }
    interleave(lists, n)
}

fn v6_prefixes(n: usize) -> Vec<IpNet> {
    let mix: [(u8, f64); 6] = [(48, 0.50), (44, 0.10), (40, 0.10), (36, 0.05), (32, 0.15), (29, 0.10)];
    let mut per_len: Vec<(u8, usize)> = mix.iter().map(|(l, f)| (*l, (n as f64 * f) as usize)).collect();
    let assigned: usize = per_len.iter().map(|(_, c)| c).sum();
    per_len[0].1 += n - assigned;
    let mut cursor: u128 = 0x2400u128 << 112;
    let mut lists = Vec::new();
    for (len, count) in per_len.iter().rev() {
        let size = 1u128 << (128 - len);
        let mut v = Vec::with_capacity(*count);
        for _ in 0..*count {
            cursor = cursor.div_ceil(size) * size;
            v.push(IpNet::V6(Ipv6Net::new(Ipv6Addr::from(cursor), *len).unwrap()));
            cursor += size;
        }
        lists.push(v);
    }
    interleave(lists, n)
}

fn interleave(mut lists: Vec<Vec<IpNet>>, n: usize) -> Vec<IpNet> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; lists.len()];
    while out.len() < n {
        let remaining: usize = lists.iter().zip(&idx).map(|(l, i)| l.len() - i).sum();
        let mut pick = (rng.next() as usize) % remaining.max(1);
        for (k, l) in lists.iter_mut().enumerate() {
            let left = l.len() - idx[k];
            if pick < left {
                out.push(l[idx[k]]);
                idx[k] += 1;
                break;
            }
            pick -= left;
        }
    }
    out
}

/// UPDATEs for `prefixes`, 1 to 8 per UPDATE sharing a varied AS path.
fn updates(prefixes: &[IpNet], peer_as: u32, next_hop: IpAddr, codec: &Codec, out: &mut Vec<u8>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut i = 0;
    while i < prefixes.len() {
        let k = 1 + (rng.next() % 8) as usize;
        let mut path = vec![peer_as];
        for _ in 0..1 + rng.next() % 5 {
            path.push(1 + (rng.next() % 64_000) as u32);
        }
        let a = PathAttrs {
            origin: Origin::Igp,
            as_path: AsPath::sequence(&path),
            next_hop: Some(next_hop),
            med: (rng.next() % 4 == 0).then(|| (rng.next() % 100) as u32),
            ..Default::default()
        };
        let end = (i + k).min(prefixes.len());
        pack_announce(codec, &a, &prefixes[i..end], out);
        i = end;
    }
}

fn read_msg(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Message> {
    loop {
        if let Ok(Some(len)) = frame(buf, EXTENDED_MAX_LEN) {
            let m: Vec<u8> = buf.drain(..len).collect();
            return packet::decode(&m, &Codec { four_octet_as: true, max_len: EXTENDED_MAX_LEN })
                .map_err(|n| std::io::Error::other(n.describe()));
        }
        let mut chunk = [0u8; 65536];
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn feed(f: Feed) {
    let Feed { peer, port, local_as, peer_as, router_id, next_hop, v4, v6, .. } = f;
    let t = Instant::now();
    let p4 = v4_prefixes(v4);
    let p6 = v6_prefixes(v6);
    let max_len = if f.extended { EXTENDED_MAX_LEN } else { MAX_LEN };
    let codec = Codec { four_octet_as: true, max_len };
    let mut stream = Vec::new();
    if let Some(n) = f.long_path {
        let mut path = vec![local_as];
        path.extend(std::iter::repeat_n(64_512, n.saturating_sub(1)));
        let a = PathAttrs {
            origin: Origin::Igp,
            as_path: AsPath::sequence(&path),
            next_hop: Some(next_hop),
            ..Default::default()
        };
        pack_announce(&codec, &a, &["203.0.113.0/24".parse().unwrap()], &mut stream);
    }
    updates(&p4, local_as, next_hop, &codec, &mut stream);
    let nh6 = match next_hop {
        IpAddr::V6(_) => next_hop,
        IpAddr::V4(v) => IpAddr::V6(v.to_ipv6_mapped()),
    };
    updates(&p6, local_as, nh6, &codec, &mut stream);
    end_of_rib(Afi::Ipv4, &mut stream);
    if v6 > 0 {
        end_of_rib(Afi::Ipv6, &mut stream);
    }
    eprintln!(
        "feeder: {} IPv4 + {} IPv6 prefixes, {} bytes of UPDATEs, built in {:?}",
        v4,
        v6,
        stream.len(),
        t.elapsed()
    );
    let addr = SocketAddr::new(peer, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut s = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("cannot connect to {addr}: {e}"),
        }
    };
    let _ = s.set_nodelay(true);
    let mut caps = vec![Capability::Multiprotocol(1, 1), Capability::FourOctetAs(local_as), Capability::RouteRefresh];
    if v6 > 0 {
        caps.push(Capability::Multiprotocol(2, 1));
    }
    if f.extended {
        caps.push(Capability::ExtendedMessage);
    }
    let open = Open { version: 4, asn: local_as, hold_time: f.hold_time, bgp_id: router_id, capabilities: caps };
    let mut hello = Vec::new();
    packet::encode(&Message::Open(open), &Codec::default(), &mut hello);
    s.write_all(&hello).unwrap();
    let mut buf = Vec::new();
    let mut got_open = false;
    loop {
        match read_msg(&mut s, &mut buf).expect("session") {
            Message::Open(o) => {
                assert_eq!(o.asn, peer_as, "peer AS");
                got_open = true;
                let mut ka = Vec::new();
                packet::encode(&Message::Keepalive, &Codec::default(), &mut ka);
                s.write_all(&ka).unwrap();
            }
            Message::Keepalive if got_open => break,
            Message::Notification(n) => panic!("NOTIFICATION from the peer: {}", n.describe()),
            _ => {}
        }
    }
    println!("established {}", now_ns());
    std::io::stdout().flush().unwrap();
    // Drain what the peer sends on a thread, so that neither side blocks;
    // or, as a peer that stops reading, let it pile up.
    if !f.no_read {
        let mut r = s.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut sink = vec![0u8; 1 << 16];
            while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
        });
    } else {
        // A small receive window, so that the sender's queue fills soon.
        let _ = nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::RcvBuf, &4096);
    }
    s.write_all(&stream).unwrap();
    println!("sent {}", now_ns());
    std::io::stdout().flush().unwrap();
    // Hold the session (with keepalives) until stdin closes or says "drop".
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            if line.map(|l| l.trim() == "drop").unwrap_or(true) {
                break;
            }
        }
        let _ = tx.send(());
    });
    let mut ka = Vec::new();
    packet::encode(&Message::Keepalive, &Codec::default(), &mut ka);
    let every = Duration::from_secs((f.hold_time / 3).clamp(1, 20) as u64);
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
        if s.write_all(&ka).is_err() {
            return;
        }
    }
    println!("dropped {}", now_ns());
    let _ = s.shutdown(std::net::Shutdown::Both);
}

fn watch(expect: usize) {
    let groups = netlink::GROUP_IPV4_ROUTE | netlink::GROUP_IPV6_ROUTE;
    let mut sock = Socket::open(groups).expect("netlink");
    // A daemon writes faster than this loop counts: room for a whole
    // table's notifications, so that counting rarely falls back to dumps
    // (which make the measured time an upper bound).
    sock.set_rcvbuf(1 << 30).expect("netlink receive buffer");
    let mut have: HashSet<IpNet> = HashSet::new();
    // Routes already there (a restart) count too.
    let mut dumper = Socket::open(0).expect("netlink");
    for m in dumper.dump(netlink::RTM_GETROUTE, 1).expect("dump") {
        if let Msg::Route(true, r) = m {
            if counts(&r) {
                have.insert(r.prefix);
            }
        }
    }
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
        let msgs = match sock.recv() {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !full && !lost => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && full && have.is_empty() => continue,
            Err(e) => {
                // Lost notifications: count from a dump instead.
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    eprintln!("watch: {e}; resyncing");
                    lost = true;
                }
                have.clear();
                for m in dumper.dump(netlink::RTM_GETROUTE, 2).expect("dump") {
                    if let Msg::Route(true, r) = m {
                        if counts(&r) {
                            have.insert(r.prefix);
                        }
                    }
                }
                Vec::new()
            }
        };
        for m in msgs {
            match m {
                Msg::Route(true, r) if counts(&r) => {
                    have.insert(r.prefix);
                }
                Msg::Route(false, r) if counts(&r) => {
                    have.remove(&r.prefix);
                }
                _ => {}
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

/// Routes a routing daemon put in the main table (not the kernel's own,
/// not static ones).
fn counts(r: &netlink::Route) -> bool {
    r.table == netlink::RT_TABLE_MAIN as u32 && !matches!(r.protocol, 0..=4) && r.kind == 1
}

fn floor(n: usize, via: IpAddr, nh_oif: Option<u32>) {
    let prefixes = v4_prefixes(n);
    let mut sock = Socket::open(0).expect("netlink");
    let mut seq = 1u32;
    if let Some(oif) = nh_oif {
        let mut buf = Vec::new();
        netlink::nexthop_add(&mut buf, 0, 4242, &via, oif);
        sock.send(&buf).expect("netlink send");
        sock.recv_acks(|_, errno| assert_eq!(errno, 0, "nexthop refused")).expect("netlink receive");
    }
    let mut run = |hops: &[IpAddr]| {
        let t0 = Instant::now();
        let mut buf = Vec::new();
        for chunk in prefixes.chunks(2000) {
            buf.clear();
            let first = seq;
            for (i, p) in chunk.iter().enumerate() {
                if nh_oif.is_some() {
                    netlink::route_change_nh(
                        &mut buf,
                        seq,
                        p,
                        (!hops.is_empty()).then_some(4242),
                        i + 1 == chunk.len(),
                    );
                } else {
                    netlink::route_change(&mut buf, seq, p, hops, i + 1 == chunk.len());
                }
                seq += 1;
            }
            let last = seq - 1;
            sock.send(&buf).expect("netlink send");
            let mut done = false;
            while !done {
                sock.recv_acks(|s, errno| {
                    if s == last {
                        done = true;
                    }
                    if errno != 0 && s >= first && s <= last {
                        eprintln!("floor: route {} refused: errno {errno}", s - first);
                    }
                })
                .expect("netlink receive");
            }
        }
        t0.elapsed().as_secs_f64()
    };
    let install = run(&[via]);
    let delete = run(&[]);
    println!("floor {install:.2} {delete:.2}");
}

fn main() {
    match Args::parse().cmd {
        Cmd::Feed(f) => feed(f),
        Cmd::Watch { expect } => watch(expect),
        Cmd::Floor { v4, via, nh_oif } => floor(v4, via, nh_oif),
        Cmd::Flood { to, from, count, seconds } => flood::flood(to, &from, count, seconds),
    }
}
