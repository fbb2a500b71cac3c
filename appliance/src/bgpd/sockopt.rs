//! TCP-MD5 (RFC 2385) and GTSM (RFC 5082) socket options, the kernel
//! watcher's socket filter, BFD's (and neighbor discovery's) receive with
//! the TTL it came with, and the ICMPv6 options of neighbor discovery:
//! the only `unsafe` in bgpbox, because nix wraps none of these.
//!
//! Each function builds the option's bytes in safe code and makes exactly
//! one setsockopt(2) call with a pointer and length that describe a live,
//! correctly sized buffer.
#![allow(unsafe_code)]

use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;

use nix::libc;

/// `struct tcp_md5sig` from linux/tcp.h: sockaddr_storage (128), flags,
/// prefixlen, keylen (u16), ifindex (i32), key[80].
const MD5SIG_LEN: usize = 216;
const MD5_MAX_KEY: usize = 80;
const TCP_MD5SIG: libc::c_int = 14;
/// TCP_MD5SIG with `tcpm_flags` and `tcpm_prefixlen` read: a key for a
/// whole prefix (listen ranges).
const TCP_MD5SIG_EXT: libc::c_int = 32;
const TCP_MD5SIG_FLAG_PREFIX: u8 = 1;
const IP_MINTTL: libc::c_int = 21;
const IPV6_MINHOPCOUNT: libc::c_int = 73;

fn setsockopt(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &[u8]) -> io::Result<()> {
    // SAFETY: `value` is a live slice for the duration of the call and its
    // length is passed alongside; the kernel copies it and keeps no pointer.
    let rc = unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), value.len() as libc::socklen_t) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets (or with an empty key removes) the TCP-MD5 key for `peer` on a
/// socket. `v6_socket`: the socket is AF_INET6 (IPv4 peers are then given
/// as IPv4-mapped addresses, as the kernel expects).
pub fn set_md5(fd: RawFd, v6_socket: bool, peer: IpAddr, key: &[u8]) -> io::Result<()> {
    set_md5_prefix(fd, v6_socket, peer, None, key)
}

/// `set_md5` for every address of a prefix of `len` bits (None: the one
/// address).
pub fn set_md5_prefix(fd: RawFd, v6_socket: bool, peer: IpAddr, len: Option<u8>, key: &[u8]) -> io::Result<()> {
    if key.len() > MD5_MAX_KEY {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "TCP-MD5 keys are at most 80 bytes"));
    }
    let mut b = [0u8; MD5SIG_LEN];
    match (peer, v6_socket) {
        (IpAddr::V4(a), false) => {
            b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(&a.octets());
        }
        (a, _) => {
            let v6 = match a {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&v6.octets());
        }
    }
    b[130..132].copy_from_slice(&(key.len() as u16).to_ne_bytes());
    b[136..136 + key.len()].copy_from_slice(key);
    match len {
        None => setsockopt(fd, libc::IPPROTO_TCP, TCP_MD5SIG, &b),
        Some(l) => {
            // An IPv4 prefix on an IPv6 socket is one of mapped addresses.
            let mapped = if peer.is_ipv4() && v6_socket { 96 } else { 0 };
            b[128] = TCP_MD5SIG_FLAG_PREFIX;
            b[129] = l + mapped;
            setsockopt(fd, libc::IPPROTO_TCP, TCP_MD5SIG_EXT, &b)
        }
    }
}

/// GTSM: send with TTL 255 and accept only packets that crossed at most
/// `hops` routers (minimum TTL 256 - hops).
pub fn set_gtsm(fd: RawFd, v6: bool, hops: u8) -> io::Result<()> {
    let min = (256 - hops as i32).clamp(1, 255);
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &255i32.to_ne_bytes())?;
        setsockopt(fd, libc::IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min.to_ne_bytes())
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &255i32.to_ne_bytes())?;
        setsockopt(fd, libc::IPPROTO_IP, IP_MINTTL, &min.to_ne_bytes())
    }
}

/// eBGP multihop: the TTL outgoing packets carry.
pub fn set_ttl(fd: RawFd, v6: bool, ttl: u8) -> io::Result<()> {
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &(ttl as i32).to_ne_bytes())
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &(ttl as i32).to_ne_bytes())
    }
}

/// Classic BPF opcodes (linux/filter.h): BPF_LD (0) | size | BPF_ABS,
/// BPF_JMP | BPF_JEQ | BPF_K (0), BPF_RET | BPF_K.
const BPF_H: u16 = 0x08;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_LD_H_ABS: u16 = BPF_H | BPF_ABS;
const BPF_LD_B_ABS: u16 = BPF_B | BPF_ABS;
const BPF_JEQ_K: u16 = 0x05 | 0x10;
const BPF_RET_K: u16 = 0x06;

/// The watcher's filter: a datagram whose (first) message is RTM_NEWROUTE
/// or RTM_DELROUTE with protocol bgp is dropped in the kernel. Those are
/// our own FIB writes, a full table's worth; received, each would cost the
/// watcher a wakeup and a system call (15% of bgpd's CPU on a full table).
fn bgp_route_filter() -> [libc::sock_filter; 7] {
    // `ldh` reads in network byte order; nlmsg_type is in host order.
    let ty = |t: u16| u16::from_be_bytes(t.to_ne_bytes()) as u32;
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    [
        op(BPF_LD_H_ABS, 0, 0, 4),                              // nlmsg_type
        op(BPF_JEQ_K, 1, 0, ty(crate::netlink::RTM_NEWROUTE)),  // -> 3
        op(BPF_JEQ_K, 0, 3, ty(crate::netlink::RTM_DELROUTE)),  // -> 3, else 6
        op(BPF_LD_B_ABS, 0, 0, 16 + 5),                         // rtm_protocol
        op(BPF_JEQ_K, 0, 1, crate::netlink::RTPROT_BGP as u32), // -> 5, else 6
        op(BPF_RET_K, 0, 0, 0),                                 // drop
        op(BPF_RET_K, 0, 0, u32::MAX),                          // keep
    ]
}

pub fn drop_bgp_route_notifications(fd: RawFd) -> io::Result<()> {
    let mut prog = bgp_route_filter();
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_mut_ptr() };
    // SAFETY: `fprog` points at `prog`, a live array of `len` instructions,
    // for the duration of the call; the kernel copies the program.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            std::ptr::addr_of!(fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// BFD (RFC 5881 5): received packets carry their TTL (hop limit), so
/// that only those sent with 255, from the link itself, are taken.
pub fn set_recv_ttl(fd: RawFd, v6: bool) -> io::Result<()> {
    let on = 1i32.to_ne_bytes();
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &on)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_RECVTTL, &on)
    }
}

/// One datagram, its sender and the TTL (hop limit) it arrived with; nix
/// has no control message for either.
pub fn recv_with_ttl(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, std::net::SocketAddr, Option<u8>)> {
    let mut addr: libc::sockaddr_storage = unsafe_zeroed_storage();
    let mut cmsg = [0u64; 8];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut msg: libc::msghdr = unsafe_zeroed_msghdr();
    msg.msg_name = (&mut addr as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1 as _;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg) as _;
    // SAFETY: `msg` points at `addr`, `iov` (over `buf`) and `cmsg`, all
    // live for the call and described with their true sizes.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut ttl = None;
    // SAFETY: the kernel filled `msg_controllen` bytes of `cmsg`; the
    // CMSG_* macros walk exactly those, and each TTL is one c_int.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let (level, typ) = ((*c).cmsg_level, (*c).cmsg_type);
            if (level, typ) == (libc::IPPROTO_IP, libc::IP_TTL)
                || (level, typ) == (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT)
            {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                ttl = u8::try_from(v).ok();
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    let from = sockaddr_of(&addr).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no sender address"))?;
    Ok((n as usize, from, ttl))
}

/// Neighbor discovery (RFC 4861): a raw ICMPv6 socket that sends with hop
/// limit 255 (receivers drop anything else), does not hear itself, reads
/// the hop limit of what arrives, and is handed router solicitations and
/// advertisements only (ICMP6_FILTER).
pub fn set_nd_options(fd: RawFd) -> io::Result<()> {
    const ICMP6_FILTER: libc::c_int = 1;
    let hops = 255i32.to_ne_bytes();
    setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &hops)?;
    setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &hops)?;
    setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, &0i32.to_ne_bytes())?;
    set_recv_ttl(fd, true)?;
    // struct icmp6_filter: 256 bits, a set bit blocks that type.
    let mut filter = [u32::MAX; 8];
    for t in [133u32, 134] {
        filter[(t >> 5) as usize] &= !(1 << (t & 31));
    }
    let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
    setsockopt(fd, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &bytes)
}

fn unsafe_zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is valid.
    unsafe { std::mem::zeroed() }
}

fn unsafe_zeroed_msghdr() -> libc::msghdr {
    // SAFETY: msghdr is plain old data (null pointers, zero lengths).
    unsafe { std::mem::zeroed() }
}

fn sockaddr_of(s: &libc::sockaddr_storage) -> Option<std::net::SocketAddr> {
    match s.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(std::net::SocketAddr::new(ip.into(), u16::from_be(a.sin_port)))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            // The scope: the interface a link-local sender is on.
            Some(std::net::SocketAddrV6::new(ip, u16::from_be(a.sin6_port), 0, a.sin6_scope_id).into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn options_are_accepted_by_the_kernel() {
        let l4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_md5(l4.as_raw_fd(), false, "127.0.0.2".parse().unwrap(), b"secret").unwrap();
        set_md5(l4.as_raw_fd(), false, "127.0.0.2".parse().unwrap(), b"").unwrap();
        set_gtsm(l4.as_raw_fd(), false, 1).unwrap();
        set_ttl(l4.as_raw_fd(), false, 2).unwrap();
        assert!(set_md5(l4.as_raw_fd(), false, "127.0.0.2".parse().unwrap(), &[b'x'; 81]).is_err());
        if let Ok(l6) = std::net::TcpListener::bind("[::1]:0") {
            set_md5(l6.as_raw_fd(), true, "::2".parse().unwrap(), b"secret").unwrap();
            set_md5(l6.as_raw_fd(), true, "192.0.2.1".parse().unwrap(), b"secret").unwrap();
            set_gtsm(l6.as_raw_fd(), true, 1).unwrap();
        }
    }

    /// Runs the watcher's filter the way the kernel would, on real messages.
    fn verdict(msg: &[u8]) -> u32 {
        let prog = bgp_route_filter();
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = &prog[pc];
            let k = i.k as usize;
            match i.code {
                BPF_LD_H_ABS => acc = u16::from_be_bytes([msg[k], msg[k + 1]]) as u32,
                BPF_LD_B_ABS => acc = msg[k] as u32,
                BPF_JEQ_K => {
                    pc += if acc == i.k { i.jt as usize } else { i.jf as usize };
                }
                BPF_RET_K => return i.k,
                c => panic!("opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn the_watcher_filter_drops_only_bgp_routes() {
        use crate::netlink;
        let p = "198.51.100.0/24".parse().unwrap();
        let mut m = Vec::new();
        netlink::route_change(&mut m, 1, &p, &["192.0.2.1".parse().unwrap()], false);
        assert_eq!(verdict(&m), 0, "our route replace");
        m.clear();
        netlink::route_change(&mut m, 1, &p, &[], false);
        assert_eq!(verdict(&m), 0, "our route delete");
        m.clear();
        netlink::static_route_add(&mut m, 1, &p, Some("192.0.2.1".parse().unwrap()), None);
        assert_eq!(verdict(&m), u32::MAX, "a static route");
        m.clear();
        netlink::link_set(&mut m, 1, 2, true, None);
        assert_eq!(verdict(&m), u32::MAX, "a link change");
    }
}
