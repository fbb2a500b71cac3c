//! BGP's TCP connections: listening, connecting (with the neighbor's
//! transport options), and a reader and a writer task per connection. The
//! reader frames messages and waits for read permits, so a peer that sends
//! faster than bgpd handles its UPDATEs meets TCP's flow control; the
//! writer's queue is counted in bytes, so a peer that does not read is
//! reported (the Speaker then keeps its UPDATEs in its Adj-RIB-Out).

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, Semaphore};

use super::event::{Event, Events};
use super::sockopt;
use crate::bgp::fsm::ConnId;
use crate::bgp::packet::{frame, EXTENDED_MAX_LEN};

/// Bytes queued for a connection above which its peer counts as not
/// reading, and below which it reads again.
pub const SEND_HIGH: usize = 512 << 10;
pub const SEND_LOW: usize = 128 << 10;
/// How long a closing connection may take to flush its last messages.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The main task's end of a connection.
pub struct Conn {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    blocked: Arc<AtomicBool>,
    reader: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
}

impl Conn {
    /// Starts the reader and writer of a connected socket.
    pub fn attach(id: ConnId, stream: TcpStream, events: &Events) -> Conn {
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        let (queued, blocked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let out = Output { id, queued: queued.clone(), blocked: blocked.clone(), events: events.clone() };
        let writer = tokio::spawn(writer(w, rx, out));
        let reader = tokio::spawn(reader(id, r, events.clone()));
        Conn { tx, queued, blocked, reader, writer }
    }

    /// Queues bytes; true when this makes the peer count as not reading.
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        let q = self.queued.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
        let _ = self.tx.send(bytes);
        q > SEND_HIGH && !self.blocked.swap(true, Ordering::Relaxed)
    }

    /// Stops reading; the writer flushes what is queued (a NOTIFICATION)
    /// for a moment, then the socket closes.
    pub fn close(self) {
        self.reader.abort();
        let writer = self.writer;
        drop(self.tx);
        tokio::spawn(async move {
            tokio::time::sleep(CLOSE_GRACE).await;
            writer.abort();
        });
    }
}

struct Output {
    id: ConnId,
    queued: Arc<AtomicUsize>,
    blocked: Arc<AtomicBool>,
    events: Events,
}

async fn writer(mut w: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, out: Output) {
    while let Some(bytes) = rx.recv().await {
        if w.write_all(&bytes).await.is_err() {
            return;
        }
        let left = out.queued.fetch_sub(bytes.len(), Ordering::Relaxed) - bytes.len();
        if left < SEND_LOW && out.blocked.swap(false, Ordering::Relaxed) {
            let _ = out.events.send(Event::Drained(out.id));
        }
    }
    // Closed by the main task, and what was queued has left (`close`
    // gives a peer that reads nothing CLOSE_GRACE, then aborts this task).
    let _ = w.shutdown().await;
}

pub async fn listen(port: u16) -> Result<TcpListener, String> {
    // [::] takes IPv4 too (as mapped addresses) unless IPv6 is off.
    match TcpListener::bind(("::", port)).await {
        Ok(l) => Ok(l),
        Err(_) => TcpListener::bind(("0.0.0.0", port)).await.map_err(|e| format!("cannot listen on port {port}: {e}")),
    }
}

pub async fn accept_loop(l: TcpListener, tx: Events) {
    loop {
        match l.accept().await {
            Ok((s, remote)) => {
                let local = s.local_addr().unwrap_or(remote);
                if tx.send(Event::Accepted(s, remote, local)).is_err() {
                    return;
                }
            }
            Err(e) => {
                crate::warn!("bgp", "accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What a neighbor's configuration asks of its TCP connection.
pub struct Transport {
    pub source: Option<String>,
    pub password: Option<String>,
    pub gtsm: Option<u8>,
    pub multihop: Option<u8>,
}

pub fn ttl_options(s: &impl AsRawFd, v6: bool, gtsm: Option<u8>, multihop: Option<u8>) -> std::io::Result<()> {
    if let Some(h) = gtsm {
        sockopt::set_gtsm(s.as_raw_fd(), v6, h)?;
    } else if let Some(t) = multihop {
        sockopt::set_ttl(s.as_raw_fd(), v6, t)?;
    }
    Ok(())
}

/// `scope`: the interface of a link-local `peer` (else 0).
pub async fn connect(peer: IpAddr, scope: u32, port: u16, t: Transport) -> std::io::Result<TcpStream> {
    let sock = match peer {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(key) = &t.password {
        sockopt::set_md5(sock.as_raw_fd(), peer.is_ipv6(), peer, key.as_bytes())?;
    }
    ttl_options(&sock, peer.is_ipv6(), t.gtsm, t.multihop)?;
    if let Some(src) = t.source {
        // update-source: an address, or an interface name.
        match src.parse::<IpAddr>() {
            Ok(a) => sock.bind(SocketAddr::new(a, 0))?,
            Err(_) => sock.bind_device(Some(src.as_bytes()))?,
        }
    }
    let to = match peer {
        IpAddr::V6(v6) => SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, scope)),
        IpAddr::V4(_) => SocketAddr::new(peer, port),
    };
    match tokio::time::timeout(Duration::from_secs(10), sock.connect(to)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        std::io::ErrorKind::TimedOut => "Connection timed out".into(),
        _ => e.to_string(),
    }
}

/// Reads of a connection that may wait for the main task at once (a full
/// table is hundreds of MB of decoded messages).
const READS_IN_FLIGHT: usize = 16;

async fn reader(conn: ConnId, mut r: OwnedReadHalf, tx: Events) {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    let budget = Arc::new(Semaphore::new(READS_IN_FLIGHT));
    loop {
        let Ok(permit) = budget.clone().acquire_owned().await else { return };
        let n = match r.read(&mut chunk).await {
            Ok(0) => {
                let _ = tx.send(Event::Closed(conn, "Connection closed by peer".into()));
                return;
            }
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Event::Closed(conn, io_reason(&e)));
                return;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        // The whole messages of the read go as one buffer: one allocation
        // a read, not one a message (a full table is 400,000 UPDATEs).
        let mut at = 0;
        let framing = loop {
            match frame(&buf[at..], EXTENDED_MAX_LEN) {
                Ok(Some(len)) => at += len,
                Ok(None) => break None,
                Err(n) => break Some(n),
            }
        };
        if at > 0 {
            let msgs = buf[..at].to_vec();
            buf.drain(..at);
            if tx.send(Event::Messages(conn, msgs, permit)).is_err() {
                return;
            }
        }
        if let Some(n) = framing {
            let _ = tx.send(Event::FramingError(conn, n));
            return;
        }
    }
}
