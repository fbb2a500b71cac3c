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

mod counted;
mod flood;
mod table;
mod watch;

use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgpbox::bgp::packet::{
    self, decode_prefixes, end_of_rib, frame, pack_announce, Afi, AsPath, Capability, Codec, Message, Open, Origin,
    PathAttrs, EXTENDED_MAX_LEN, MAX_LEN,
};
use bgpbox::netlink::{self, Socket};
use clap::{Parser, Subcommand};
use counted::Counted;
use ipnet::IpNet;

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
        /// In the kernel's fastest order, not the feed's: shortest first,
        /// then by address spread over each /12 (the floor for any writer;
        /// bgpd's order).
        #[arg(long)]
        sorted: bool,
        /// With --sorted: sorted a slice of this many at a time, in the
        /// feed's order otherwise, as a writer that keeps up with the feed
        /// can (the floor for one; a writer that waits for the whole
        /// table pays the wait instead).
        #[arg(long, requires = "sorted")]
        slice: Option<NonZeroUsize>,
        /// With --sorted: the feed's order cut into passes of these sizes
        /// (comma-separated, SIZExCOUNT for several), each sorted, the rest
        /// a last one: what the first passes cost the rest (`--passes
        /// 200000` against `--passes 10000`).
        #[arg(long, requires = "sorted", conflicts_with = "slice", value_delimiter = ',', value_parser = passes)]
        passes: Vec<(usize, usize)>,
        /// The table `feed --real` sends (lengths mixed through the
        /// address space, in prefix order), not the first rows' one.
        #[arg(long)]
        real: bool,
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
    /// Real-table diversity (about 2.4 prefixes an UPDATE, paths of 1 to
    /// 10 hops, communities), its paths drawn from this seed.
    #[arg(long)]
    real: Option<u64>,
    /// Leave out the first N prefixes of the table (another peer's share).
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// The whole table the shares come from (with --skip: every feeder
    /// gives the same N, so that shares never overlap); default: skip + v4.
    #[arg(long)]
    table: Option<usize>,
    /// Connect from this address (several feeders in one namespace).
    #[arg(long)]
    source: Option<IpAddr>,
    /// Count what the peer announces to us; print `received TIME` once
    /// this many prefixes are there (a peer the table is exported to).
    #[arg(long, default_value_t = 0)]
    expect_received: usize,
}

pub(crate) fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

/// Messages off a stream. A cursor into the buffer, compacted only when
/// it is read into again: draining each message shifted up to 64 KB per
/// ~100-byte UPDATE, and ten sinks spent more CPU on that than the daemon
/// they measure.
struct Reader {
    s: TcpStream,
    buf: Vec<u8>,
    at: usize,
}

impl Reader {
    fn new(s: TcpStream) -> Reader {
        Reader { s, buf: Vec::with_capacity(1 << 17), at: 0 }
    }

    fn next(&mut self) -> std::io::Result<Message> {
        let m = self.next_frame()?;
        packet::decode(&self.buf[m], &Codec { four_octet_as: true, max_len: EXTENDED_MAX_LEN })
            .map_err(|n| std::io::Error::other(n.describe()))
    }

    /// Where the next whole message is in `buf`.
    fn next_frame(&mut self) -> std::io::Result<std::ops::Range<usize>> {
        loop {
            if let Ok(Some(len)) = frame(&self.buf[self.at..], EXTENDED_MAX_LEN) {
                self.at += len;
                return Ok(self.at - len..self.at);
            }
            self.buf.drain(..self.at);
            self.at = 0;
            let have = self.buf.len();
            self.buf.resize(have + 65536, 0);
            let n = self.s.read(&mut self.buf[have..]);
            self.buf.truncate(have + *n.as_ref().unwrap_or(&0));
            if n? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

fn feed(f: Feed) {
    let Feed { peer, port, local_as, peer_as, router_id, next_hop, v4, v6, .. } = f;
    let t = Instant::now();
    // A share of one table: v4_prefixes(n) differs for each n.
    let share = |all: Vec<IpNet>, n: usize| -> Vec<IpNet> { all.into_iter().skip(f.skip).take(n).collect() };
    let shape = f.real.map_or(table::Shape::Plain, table::Shape::Real);
    let layout = shape.layout();
    let p4 = share(table::v4_prefixes(f.table.unwrap_or(f.skip + v4).max(f.skip + v4), layout), v4);
    let p6 = share(table::v6_prefixes(f.table.unwrap_or(f.skip + v6).max(f.skip + v6), layout), v6);
    let max_len = if f.extended { EXTENDED_MAX_LEN } else { MAX_LEN };
    let codec = Codec { four_octet_as: true, max_len };
    let mut stream = Vec::new();
    if let Some(n) = f.long_path {
        let mut path = vec![local_as];
        path.extend(std::iter::repeat_n(64_512, n.saturating_sub(1)));
        let a = PathAttrs { origin: Origin::Igp, ..Default::default() }
            .with_as_path(&AsPath::sequence(&path))
            .with_next_hop(next_hop);
        pack_announce(&codec, &a, &["203.0.113.0/24".parse().unwrap()], &mut stream);
    }
    let mut sets = table::updates(&p4, local_as, next_hop, shape, &codec, &mut stream);
    let nh6 = match next_hop {
        IpAddr::V6(_) => next_hop,
        IpAddr::V4(v) => IpAddr::V6(v.to_ipv6_mapped()),
    };
    sets += table::updates(&p6, local_as, nh6, shape, &codec, &mut stream);
    end_of_rib(Afi::Ipv4, &mut stream);
    if v6 > 0 {
        end_of_rib(Afi::Ipv6, &mut stream);
    }
    eprintln!(
        "feeder: {} IPv4 + {} IPv6 prefixes in {sets} UPDATEs (attribute sets), {} bytes, built in {:?}",
        v4,
        v6,
        stream.len(),
        t.elapsed()
    );
    let addr = SocketAddr::new(peer, port);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut s = loop {
        let tried = match f.source {
            Some(src) => flood::one(src, addr).map(TcpStream::from).map_err(std::io::Error::from),
            None => TcpStream::connect_timeout(&addr, Duration::from_secs(2)),
        };
        match tried {
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
    let mut reader = Reader::new(s.try_clone().unwrap());
    let mut got_open = false;
    loop {
        match reader.next().expect("session") {
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
    if f.expect_received > 0 {
        let want = f.expect_received;
        std::thread::spawn(move || count_received(reader, want));
    } else if !f.no_read {
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

/// What a peer the table is exported to has: counts the prefixes the
/// daemon announces (less those it withdraws) and says when `want` are in.
fn count_received(mut r: Reader, want: usize) {
    let mut have = Counted::with_capacity(want);
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    let mut said = false;
    loop {
        let Ok(m) = r.next_frame() else { return };
        gone.clear();
        came.clear();
        if let Err(e) = update_prefixes(&r.buf[m], &mut gone, &mut came) {
            eprintln!("feeder: {e}; no longer counting");
            return;
        }
        for p in &gone {
            have.remove(p);
        }
        for p in &came {
            have.insert(p);
        }
        if !said && have.len() >= want {
            said = true;
            println!("received {}", now_ns());
            std::io::stdout().flush().unwrap();
        }
    }
}

/// The prefixes a message withdraws and announces, if it is an UPDATE
/// (both families), read without decoding its attributes: ten receiving
/// peers decoding whole UPDATEs into attribute sets took CPU the daemon
/// exporting to them needed on the same two cores.
fn update_prefixes(m: &[u8], gone: &mut Vec<IpNet>, came: &mut Vec<IpNet>) -> Result<(), String> {
    const UPDATE: u8 = 2;
    if m.get(18) != Some(&UPDATE) {
        return Ok(());
    }
    let bad = |what: &str| format!("malformed UPDATE: {what}");
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2).map(|x| usize::from(u16::from_be_bytes([x[0], x[1]])));
    let afi_at = |b: &[u8]| match u16_at(b, 0) {
        Some(1) => Some(Afi::Ipv4),
        Some(2) => Some(Afi::Ipv6),
        _ => None,
    };
    let body = &m[19..];
    let wl = u16_at(body, 0).ok_or_else(|| bad("withdrawn routes length"))?;
    let withdrawn = body.get(2..2 + wl).ok_or_else(|| bad("withdrawn routes"))?;
    decode_prefixes(withdrawn, Afi::Ipv4, gone).map_err(|_| bad("withdrawn prefix"))?;
    let al = u16_at(body, 2 + wl).ok_or_else(|| bad("path attributes length"))?;
    let mut attrs = body.get(4 + wl..4 + wl + al).ok_or_else(|| bad("path attributes"))?;
    decode_prefixes(&body[4 + wl + al..], Afi::Ipv4, came).map_err(|_| bad("NLRI"))?;
    while let [flags, typ, rest @ ..] = attrs {
        // Extended Length: two octets.
        let (len, at) = if flags & 0x10 != 0 { (u16_at(rest, 0), 2) } else { (rest.first().map(|&l| l.into()), 1) };
        let len = len.ok_or_else(|| bad("attribute length"))?;
        let v = rest.get(at..at + len).ok_or_else(|| bad("attribute"))?;
        attrs = &rest[at + len..];
        match typ {
            // MP_REACH_NLRI: AFI, SAFI, next hop length and next hop, a
            // reserved octet, then NLRI.
            14 => {
                let (Some(afi), Some(&nhl)) = (afi_at(v), v.get(3)) else { continue };
                let nlri = v.get(5 + usize::from(nhl)..).ok_or_else(|| bad("MP_REACH_NLRI"))?;
                decode_prefixes(nlri, afi, came).map_err(|_| bad("MP_REACH_NLRI prefix"))?;
            }
            // MP_UNREACH_NLRI: AFI, SAFI, then withdrawn routes.
            15 => {
                let Some(afi) = afi_at(v) else { continue };
                let nlri = v.get(3..).ok_or_else(|| bad("MP_UNREACH_NLRI"))?;
                decode_prefixes(nlri, afi, gone).map_err(|_| bad("MP_UNREACH_NLRI prefix"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// `--passes`' SIZE or SIZExCOUNT.
fn passes(s: &str) -> Result<(usize, usize), String> {
    let (size, count) = s.split_once('x').unwrap_or((s, "1"));
    let n = |v: &str| v.parse::<usize>().ok().filter(|&v| v > 0);
    match (n(size), n(count)) {
        (Some(size), Some(count)) => Ok((size, count)),
        _ => Err(format!("{s:?}: a pass is SIZE or SIZExCOUNT, both above 0")),
    }
}

fn floor(
    mut prefixes: Vec<IpNet>,
    via: IpAddr,
    nh_oif: Option<u32>,
    sorted: bool,
    slice: Option<NonZeroUsize>,
    plan: &[(usize, usize)],
) {
    // bgpd's writer's own order.
    let rank = |p: &IpNet| match p {
        IpNet::V4(n) => bgpbox::bgpd::ipv4_write_order(*n),
        IpNet::V6(_) => 0,
    };
    let sort = |p: &mut [IpNet]| p.sort_unstable_by_key(rank);
    match (sorted, slice) {
        (true, Some(k)) => prefixes.chunks_mut(k.get()).for_each(sort),
        (true, None) if !plan.is_empty() => {
            let mut at = 0;
            for &(size, count) in plan {
                for _ in 0..count {
                    let end = (at + size).min(prefixes.len());
                    sort(&mut prefixes[at..end]);
                    at = end;
                }
            }
            sort(&mut prefixes[at..]);
        }
        (true, None) => sort(&mut prefixes),
        (false, _) => {}
    }
    let mut sock = Socket::open(0).expect("netlink");
    let mut seq = 1u32;
    if let Some(oif) = nh_oif {
        let mut buf = Vec::new();
        netlink::nexthop_add(&mut buf, 0, 4242, &via, oif);
        sock.send(&buf).expect("netlink send");
        sock.recv_acks(|_, errno| assert_eq!(errno, 0, "nexthop refused")).expect("netlink receive");
    }
    let mut run = |prefixes: &[IpNet], hops: &[IpAddr]| {
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
    let install = run(&prefixes, &[via]);
    if sorted {
        // Deletes, the other way round.
        prefixes.reverse();
    }
    let delete = run(&prefixes, &[]);
    println!("floor {install:.2} {delete:.2}");
}

fn main() {
    match Args::parse().cmd {
        Cmd::Feed(f) => feed(f),
        Cmd::Watch { expect } => watch::watch(expect),
        Cmd::Floor { v4, via, nh_oif, sorted, slice, passes, real } => {
            let layout = if real { table::Layout::Mixed } else { table::Layout::ByLength };
            floor(table::v4_prefixes(v4, layout), via, nh_oif, sorted, slice, &passes)
        }
        Cmd::Flood { to, from, count, seconds } => flood::flood(to, &from, count, seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpbox::bgp::packet::pack_withdraw;

    #[test]
    fn floor_passes_are_sizes_with_counts() {
        assert_eq!(passes("10000"), Ok((10000, 1)));
        assert_eq!(passes("25000x16"), Ok((25000, 16)));
        for bad in ["0", "x3", "5x0", "ax2", "5x", ""] {
            assert!(passes(bad).is_err_and(|e| e.contains(&format!("{bad:?}"))), "{bad}");
        }
    }

    /// The light reader finds what the full decoder does, in both
    /// families, announced and withdrawn.
    #[test]
    fn update_prefixes_agree_with_the_decoder() {
        let codec = Codec { four_octet_as: true, max_len: MAX_LEN };
        let v4: Vec<IpNet> =
            ["192.0.2.0/24", "198.51.100.0/25", "203.0.113.7/32"].iter().map(|s| s.parse().unwrap()).collect();
        let v6: Vec<IpNet> = ["2001:db8::/32", "2001:db8:1::/48"].iter().map(|s| s.parse().unwrap()).collect();
        let a4 = PathAttrs { origin: Origin::Igp, ..Default::default() }
            .with_as_path(&AsPath::sequence(&[65001, 64496]))
            .with_next_hop("192.0.2.1".parse().unwrap())
            .with_communities(&[65001 << 16 | 7]);
        let a6 = a4.clone().with_next_hop("2001:db8::1".parse().unwrap());
        let mut wire = Vec::new();
        pack_announce(&codec, &a4, &v4, &mut wire);
        pack_announce(&codec, &a6, &v6, &mut wire);
        pack_withdraw(&codec, &[v4[1], v6[0], v4[2]], &mut wire);
        let (mut all_gone, mut all_came) = (Vec::new(), Vec::new());
        let mut rest = &wire[..];
        let mut n = 0;
        while let Ok(Some(len)) = frame(rest, MAX_LEN) {
            let m = &rest[..len];
            let (mut gone, mut came) = (Vec::new(), Vec::new());
            update_prefixes(m, &mut gone, &mut came).unwrap();
            let Ok(Message::Update(u)) = packet::decode(m, &codec) else { panic!("an UPDATE") };
            assert_eq!((&gone, &came), (&u.withdrawn, &u.announced));
            all_gone.extend(gone);
            all_came.extend(came);
            rest = &rest[len..];
            n += 1;
        }
        assert!(n >= 3 && rest.is_empty());
        all_came.sort();
        all_gone.sort();
        let mut want: Vec<IpNet> = v4.iter().chain(&v6).copied().collect();
        want.sort();
        assert_eq!(all_came, want);
        assert_eq!(all_gone, vec![v4[1], v4[2], v6[0]]);
        // Cut short: an error, not a panic.
        let cut = &wire[..wire.len() - 3];
        assert!(update_prefixes(&cut[..cut.len().min(30)], &mut Vec::new(), &mut Vec::new()).is_err());
    }
}
