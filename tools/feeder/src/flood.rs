//! `bgpbox-feeder flood`: TCP connections to a BGP port from many source
//! addresses, as fast as they are accepted, for a while: what a scan or
//! a misconfigured fleet does to a router. Prints how many connected.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6, SockaddrLike,
};

fn sockaddr(a: SocketAddr) -> Box<dyn SockaddrLike> {
    match a {
        SocketAddr::V4(v4) => Box::new(SockaddrIn::from(v4)),
        SocketAddr::V6(v6) => Box::new(SockaddrIn6::from(v6)),
    }
}

pub fn one(from: IpAddr, to: SocketAddr) -> nix::Result<OwnedFd> {
    let family = if to.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    bind(fd.as_raw_fd(), &*sockaddr(SocketAddr::new(from, 0)))?;
    connect(fd.as_raw_fd(), &*sockaddr(to))?;
    Ok(fd)
}

/// `count` connections round-robin over `from`, within `seconds`; each is
/// held until the next round, so at most `from.len()` are open at once.
pub fn flood(to: SocketAddr, from: &[IpAddr], count: usize, seconds: u64) {
    let end = Instant::now() + Duration::from_secs(seconds);
    let (mut made, mut failed) = (0usize, 0usize);
    let mut open: Vec<OwnedFd> = Vec::new();
    while made + failed < count && Instant::now() < end {
        for a in from {
            match one(*a, to) {
                Ok(fd) => {
                    made += 1;
                    open.push(fd);
                }
                Err(_) => failed += 1,
            }
        }
        if open.len() >= from.len() {
            open.clear();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("connections {made} failed {failed}");
}
