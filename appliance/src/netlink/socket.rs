//! A blocking rtnetlink socket.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType};

use super::{acks, dump, parse, u32_of, Msg};

pub struct Socket {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Socket {
    pub fn open(groups: u32) -> std::io::Result<Socket> {
        let fd =
            socket::socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkRoute)?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups))?;
        // Room for bursts: a full table's worth of notifications or acks.
        let _ = socket::setsockopt(&fd, socket::sockopt::RcvBufForce, &(32 << 20));
        let _ = socket::setsockopt(&fd, socket::sockopt::SndBufForce, &(4 << 20));
        Ok(Socket { fd, buf: vec![0; 1 << 20] })
    }

    /// A larger receive buffer than `open` gives (root only).
    pub fn set_rcvbuf(&self, bytes: usize) -> std::io::Result<()> {
        Ok(socket::setsockopt(&self.fd, socket::sockopt::RcvBufForce, &bytes)?)
    }

    pub fn send(&self, data: &[u8]) -> std::io::Result<()> {
        let mut at = 0;
        while at < data.len() {
            at += socket::send(self.fd.as_raw_fd(), &data[at..], MsgFlags::empty())?;
        }
        Ok(())
    }

    /// Blocks for the next datagram; Err(ENOBUFS) means notifications were
    /// lost and a full resync is due.
    pub fn recv(&mut self) -> std::io::Result<Vec<Msg>> {
        self.recv_with(parse)
    }

    /// Blocks for the next datagram and hands its acknowledgements and
    /// errors to `f`, allocating nothing.
    pub fn recv_acks(&mut self, mut f: impl FnMut(u32, i32)) -> std::io::Result<()> {
        self.recv_with(|b| acks(b).for_each(|(seq, errno)| f(seq, errno)))
    }

    /// Blocks for the next datagram and lets `f` read it as it came.
    pub fn recv_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> std::io::Result<R> {
        let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())?;
        Ok(f(&self.buf[..n]))
    }

    /// The next datagram if one is queued (else WouldBlock), read by `f`.
    pub fn try_recv_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> std::io::Result<R> {
        let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::MSG_DONTWAIT)?;
        Ok(f(&self.buf[..n]))
    }

    /// Makes `recv` give up (WouldBlock) after `t` without a datagram.
    pub fn set_recv_timeout(&self, t: std::time::Duration) -> std::io::Result<()> {
        let tv = nix::sys::time::TimeVal::new(t.as_secs() as _, t.subsec_micros() as _);
        socket::setsockopt(&self.fd, socket::sockopt::ReceiveTimeout, &tv)?;
        Ok(())
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }

    /// One request and its acknowledgement.
    pub fn request(&mut self, msg: &[u8]) -> std::io::Result<()> {
        let seq = u32_of(msg.get(8..).unwrap_or_default()).unwrap_or(0);
        self.send(msg)?;
        loop {
            for m in self.recv()? {
                if let Msg::Ack { seq: s, errno } = m {
                    if s == seq {
                        return if errno == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(errno)) };
                    }
                }
            }
        }
    }

    /// A dump, message by message: `f` sees each decoded message and keeps
    /// what it wants, so a full table is never held as a whole.
    pub fn dump_each(&mut self, typ: u16, seq: u32, mut f: impl FnMut(Msg)) -> std::io::Result<()> {
        let mut req = Vec::new();
        dump(&mut req, typ, seq);
        self.send(&req)?;
        loop {
            let n = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty())?;
            for m in parse(&self.buf[..n]) {
                match m {
                    Msg::Done => return Ok(()),
                    Msg::Ack { errno, .. } if errno != 0 => return Err(std::io::Error::from_raw_os_error(errno)),
                    m => f(m),
                }
            }
        }
    }

    /// A dump of routes or addresses (one request, then until DONE).
    pub fn dump(&mut self, typ: u16, seq: u32) -> std::io::Result<Vec<Msg>> {
        let mut out = Vec::new();
        self.dump_each(typ, seq, |m| out.push(m))?;
        Ok(out)
    }
}
