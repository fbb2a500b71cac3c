//! `ping` and `traceroute` in the binary, for vtysh and as applets, so that
//! a router container without a distribution can still be asked whether
//! it reaches something: ICMP echo over a raw socket (root in the
//! container), the output in the layout of iputils' ping and of
//! traceroute -n -I. The packets are `icmp.rs`'s.

pub mod icmp;

use std::io::Write;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{self, AddressFamily, SockFlag, SockProtocol, SockType, SockaddrStorage};

use icmp::Reply;

/// What `ping` is asked.
#[derive(Debug, Clone)]
pub struct PingOpts {
    pub count: u32,
    pub source: Option<IpAddr>,
    /// Some(true): IPv6 only, Some(false): IPv4 only.
    pub v6: Option<bool>,
    pub interval: Duration,
}

impl Default for PingOpts {
    fn default() -> Self {
        PingOpts { count: 5, source: None, v6: None, interval: Duration::from_secs(1) }
    }
}

/// A name or address, of the family asked for.
pub fn resolve(host: &str, v6: Option<bool>) -> Result<IpAddr, String> {
    if let Ok(a) = host.parse::<IpAddr>() {
        return match v6 {
            Some(w) if w != a.is_ipv6() => Err(format!("{host}: not an IPv{} address", if w { 6 } else { 4 })),
            _ => Ok(a),
        };
    }
    let found: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: Name or service not known ({e})"))?
        .map(|s| s.ip())
        .collect();
    found
        .into_iter()
        .find(|a| v6.is_none_or(|w| w == a.is_ipv6()))
        .ok_or_else(|| format!("{host}: no address of that family"))
}

/// A raw ICMP socket and the identifier of our probes.
struct Probe {
    sock: UdpSocket,
    v6: bool,
    id: u16,
}

impl Probe {
    fn open(v6: bool, source: Option<IpAddr>) -> Result<Probe, String> {
        let (fam, proto) =
            if v6 { (AddressFamily::Inet6, SockProtocol::IcmpV6) } else { (AddressFamily::Inet, SockProtocol::Icmp) };
        let fd: OwnedFd = socket::socket(fam, SockType::Raw, SockFlag::SOCK_CLOEXEC, proto)
            .map_err(|e| format!("cannot open a raw ICMP socket ({e}): ping needs root (CAP_NET_RAW)"))?;
        if let Some(src) = source {
            let sa = SockaddrStorage::from(SocketAddr::new(src, 0));
            socket::bind(fd.as_raw_fd(), &sa).map_err(|e| format!("source {src}: {e}"))?;
        }
        if v6 {
            crate::bgpd::sockopt::set_recv_ttl(fd.as_raw_fd(), true).map_err(|e| e.to_string())?;
        }
        let id = (std::process::id() & 0xffff) as u16;
        Ok(Probe { sock: UdpSocket::from(fd), v6, id })
    }

    fn send(&self, to: IpAddr, seq: u16, ttl: Option<u8>) -> std::io::Result<()> {
        if let Some(t) = ttl {
            if self.v6 {
                crate::bgpd::sockopt::set_ttl(self.sock.as_raw_fd(), true, t)?;
            } else {
                self.sock.set_ttl(t as u32)?;
            }
        }
        self.sock.send_to(&icmp::echo_request(self.v6, self.id, seq, 56), SocketAddr::new(to, 0)).map(|_| ())
    }

    /// The reply to probe `seq` (from whom, with which TTL), or None by
    /// `deadline`.
    fn wait(&self, seq: u16, deadline: Instant) -> Option<(Reply, IpAddr, Option<u8>)> {
        let mut buf = [0u8; 1500];
        loop {
            let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
            self.sock.set_read_timeout(Some(left)).ok()?;
            let got = if self.v6 {
                crate::bgpd::sockopt::recv_with_ttl(self.sock.as_raw_fd(), &mut buf)
                    .map(|(n, from, ttl)| (icmp::parse_v6(&buf[..n]), from.ip(), ttl))
            } else {
                self.sock.recv_from(&mut buf).map(|(n, from)| match icmp::parse_v4(&buf[..n]) {
                    Some((r, ttl)) => (Some(r), from.ip(), Some(ttl)),
                    None => (None, from.ip(), None),
                })
            };
            match got {
                Ok((Some(r), from, ttl)) if r.ids() == (self.id, seq) => return Some((r, from, ttl)),
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return None
                }
                Err(_) => return None,
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// iputils' ping: a line per reply, then the statistics. Ok(true) when
/// something answered.
pub fn ping(host: &str, o: &PingOpts, out: &mut dyn Write) -> Result<bool, String> {
    let to = resolve(host, o.v6)?;
    let p = Probe::open(to.is_ipv6(), o.source)?;
    let _ = match to {
        IpAddr::V4(_) => writeln!(out, "PING {host} ({to}) 56(84) bytes of data."),
        IpAddr::V6(_) => writeln!(out, "PING {host}({to}) 56 data bytes"),
    };
    let start = Instant::now();
    let mut times = Vec::new();
    let mut sent = 0;
    for seq in 1..=o.count.min(u16::MAX as u32) as u16 {
        let t0 = Instant::now();
        if let Err(e) = p.send(to, seq, None) {
            let _ = writeln!(out, "ping: sendmsg: {e}");
        } else {
            sent += 1;
            match p.wait(seq, t0 + o.interval.max(Duration::from_secs(1))) {
                Some((Reply::Echo { .. }, from, ttl)) => {
                    let t = t0.elapsed();
                    times.push(ms(t));
                    let ttl = ttl.map(|t| t.to_string()).unwrap_or_default();
                    let _ = writeln!(out, "64 bytes from {from}: icmp_seq={seq} ttl={ttl} time={:.3} ms", ms(t));
                }
                Some((Reply::Unreachable { code, .. }, from, _)) => {
                    let _ = writeln!(out, "From {from} icmp_seq={seq} {}", icmp::unreachable_text(to.is_ipv6(), code));
                }
                Some((Reply::TimeExceeded { .. }, from, _)) => {
                    let _ = writeln!(out, "From {from} icmp_seq={seq} Time to live exceeded");
                }
                None => {}
            }
        }
        let _ = out.flush();
        if seq as u32 != o.count {
            std::thread::sleep(o.interval.saturating_sub(t0.elapsed()));
        }
    }
    let n = times.len();
    let loss = ((sent - n) * 100).checked_div(sent).unwrap_or(100);
    let _ = writeln!(out, "\n--- {host} ping statistics ---");
    let _ = writeln!(
        out,
        "{sent} packets transmitted, {n} received, {loss}% packet loss, time {}ms",
        start.elapsed().as_millis()
    );
    if n > 0 {
        let (min, max) = times.iter().fold((f64::MAX, 0f64), |(a, b), t| (a.min(*t), b.max(*t)));
        let avg = times.iter().sum::<f64>() / n as f64;
        let mdev = (times.iter().map(|t| t * t).sum::<f64>() / n as f64 - avg * avg).max(0.0).sqrt();
        let _ = writeln!(out, "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms");
    }
    Ok(n > 0)
}

/// traceroute -n -I: echo requests with TTL 1, 2, ... three a hop, until
/// the target answers (or says it is unreachable), at most `max_hops`.
pub fn traceroute(host: &str, v6: Option<bool>, max_hops: u8, out: &mut dyn Write) -> Result<bool, String> {
    let to = resolve(host, v6)?;
    let p = Probe::open(to.is_ipv6(), None)?;
    let size = if to.is_ipv6() { 104 } else { 84 };
    let _ = writeln!(out, "traceroute to {host} ({to}), {max_hops} hops max, {size} byte packets");
    let mut seq: u16 = 0;
    for ttl in 1..=max_hops {
        let _ = write!(out, "{ttl:>2} ");
        let mut last: Option<IpAddr> = None;
        let mut done = false;
        for _ in 0..3 {
            seq = seq.wrapping_add(1);
            let t0 = Instant::now();
            if p.send(to, seq, Some(ttl)).is_err() {
                let _ = write!(out, " *");
                continue;
            }
            match p.wait(seq, t0 + Duration::from_secs(1)) {
                Some((r, from, _)) => {
                    if last != Some(from) {
                        let _ = write!(out, " {from}");
                        last = Some(from);
                    }
                    let _ = write!(out, "  {:.3} ms", ms(t0.elapsed()));
                    if let Reply::Unreachable { .. } = r {
                        let _ = write!(out, " !H");
                    }
                    done |= !matches!(r, Reply::TimeExceeded { .. });
                }
                None => {
                    let _ = write!(out, " *");
                }
            }
            let _ = out.flush();
        }
        let _ = writeln!(out);
        if done {
            return Ok(true);
        }
    }
    Ok(false)
}
