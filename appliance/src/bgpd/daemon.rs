//! bgpd's I/O edge: TCP sessions, the control socket, signals and timers,
//! around the sans-IO `Speaker`. One task owns the Speaker; connections,
//! control clients and the FIB writer are tasks of their own that talk to
//! it over channels, so a slow peer, client or kernel never blocks it.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use ipnet::IpNet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UnixListener, UnixStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::commands;
use super::kernel::{self, Fib, KernelDelta};
use super::sockopt;
use crate::bgp::config::{self, Config};
use crate::bgp::fsm::ConnId;
use crate::bgp::packet::{frame, Notification, EXTENDED_MAX_LEN};
use crate::bgp::speaker::{Hops, Kernel, Output, Speaker};
use crate::control::{Request, Response};

pub struct Options {
    pub config_path: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    pub fib: bool,
}

pub enum Event {
    Accepted(TcpStream, SocketAddr, SocketAddr),
    Connected(ConnId, std::io::Result<TcpStream>),
    /// Framed messages from a connection; the permit goes back to its
    /// reader once they are handled.
    Messages(ConnId, Vec<Vec<u8>>, OwnedSemaphorePermit),
    FramingError(ConnId, Notification),
    Closed(ConnId, String),
    Control(Request, oneshot::Sender<Response>),
    Kernel(crate::bgp::speaker::Kernel),
    /// A nexthop object of ours was deleted (by id).
    NexthopGone(u32),
    /// Our nexthop objects in the kernel, after a link changed.
    Nexthops(Vec<u32>),
}

struct Conn {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    reader: tokio::task::JoinHandle<()>,
}

pub struct Daemon {
    pub speaker: Speaker,
    /// The listening socket, for per-neighbor TCP-MD5 keys, and whether it
    /// is an IPv6 socket.
    listener: (RawFd, bool),
    md5: HashMap<IpAddr, String>,
    pub opts: Options,
    pub fib: Fib,
    events: mpsc::UnboundedSender<Event>,
    conns: HashMap<ConnId, Conn>,
    pub started: Instant,
    /// When each non-BGP kernel route was first seen, for its age in
    /// `show ip route`.
    pub kernel_since: HashMap<IpNet, Instant>,
    /// Read permits kept while the kernel is far behind (see FIB_HIGH),
    /// and since when.
    held: Vec<OwnedSemaphorePermit>,
    held_since: Option<Instant>,
}

/// Route changes queued for the kernel above which bgpd keeps the read
/// permits of the messages it handles, so that peers wait in TCP's flow
/// control instead of a full table waiting in bgpd's memory; they are
/// given back below FIB_LOW. The kernel is the bottleneck either way: the
/// writer never runs dry, and the table is in the FIB no later. Never
/// longer than FIB_HOLD_MAX: a stuck kernel must not stall the sessions
/// into their hold timers.
const FIB_HIGH: usize = 131_072;
const FIB_LOW: usize = 65_536;
const FIB_HOLD_MAX: Duration = Duration::from_secs(2);

fn log(line: &str) {
    eprintln!("bgpd: {line}");
}

pub async fn run(opts: Options, cfg: Config) -> Result<(), String> {
    let now = Instant::now();
    let k = kernel::snapshot().await;
    let speaker = Speaker::new(cfg, k, now)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let fib = Fib::start(opts.fib, tx.clone()).await?;

    let listener = listen(opts.port).await?;
    let control = control_socket(&opts.socket)?;
    log(&format!(
        "bgpbox {} started: AS {}, router-id {}, {} neighbor(s), listening on port {}, control socket {}",
        crate::VERSION,
        speaker.local_as(),
        speaker.router_id,
        speaker.peers.len(),
        opts.port,
        opts.socket.display()
    ));
    let lfd = (listener.as_raw_fd(), listener.local_addr().map(|a| a.is_ipv6()).unwrap_or(false));
    let mut d = Daemon {
        speaker,
        listener: lfd,
        md5: HashMap::new(),
        opts,
        fib,
        events: tx.clone(),
        conns: HashMap::new(),
        started: now,
        kernel_since: HashMap::new(),
        held: Vec::new(),
        held_since: None,
    };
    let first = d.speaker.kernel.clone();
    d.note_kernel(&first, now);
    tokio::spawn(accept_loop(listener, tx.clone()));
    tokio::spawn(control_loop(control, tx.clone()));
    kernel::watch(tx.clone());

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    d.perform();
    loop {
        let deadline = d.speaker.next_deadline();
        let sleep = async {
            match deadline {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                d.handle(ev);
                // Take what else is queued into the same batch, but carry
                // out the output before it grows: a full table must not
                // pile up between the socket and the kernel.
                while d.speaker.pending_output() < 4096 {
                    match rx.try_recv() {
                        Ok(ev) => d.handle(ev),
                        Err(_) => break,
                    }
                }
            }
            _ = sleep => d.speaker.timeout(Instant::now()),
            _ = std::future::ready(()), if d.speaker.has_work() => {
                d.speaker.work(Instant::now(), crate::bgp::speaker::WITHDRAW_SLICE);
            }
            _ = tokio::time::sleep(Duration::from_millis(5)), if !d.held.is_empty() => {
                if d.fib.backlog() < FIB_LOW || d.held_since.is_some_and(|t| t.elapsed() > FIB_HOLD_MAX) {
                    d.held.clear();
                    d.held_since = None;
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => d.reload(),
        }
        d.perform();
    }
    log("stopping: Cease to every neighbor, routes leave the FIB");
    d.speaker.shutdown(Instant::now(), "");
    d.perform();
    // Give the writers a moment to put the NOTIFICATIONs on the wire.
    let conns: Vec<Conn> = d.conns.drain().map(|(_, c)| c).collect();
    drop(conns);
    tokio::time::sleep(Duration::from_millis(50)).await;
    d.fib.clear().await;
    let _ = std::fs::remove_file(&d.opts.socket);
    Ok(())
}

impl Daemon {
    fn handle(&mut self, ev: Event) {
        let now = Instant::now();
        match ev {
            Event::Accepted(stream, remote, local) => {
                let (r, l) = (remote.ip().to_canonical(), local.ip().to_canonical());
                if let Some(p) = self.speaker.peers.iter().find(|p| p.cfg.addr == r) {
                    if let Err(e) = ttl_options(&stream, remote.is_ipv6(), p.cfg.ttl_security_hops, p.cfg.ebgp_multihop)
                    {
                        log(&format!("neighbor {r}: cannot set TTL options: {e}"));
                    }
                }
                match self.speaker.accept(now, r, l) {
                    Some(conn) => self.attach(conn, stream),
                    None => log(&format!("connection from {r} refused: not a configured neighbor")),
                }
            }
            Event::Connected(conn, Ok(stream)) => {
                let local = stream.local_addr().map(|a| a.ip().to_canonical());
                match local {
                    Ok(local) => {
                        self.attach(conn, stream);
                        self.speaker.connected(now, conn, local);
                    }
                    Err(e) => self.speaker.closed(now, conn, &e.to_string()),
                }
            }
            Event::Connected(conn, Err(e)) => self.speaker.closed(now, conn, &io_reason(&e)),
            Event::Messages(conn, msgs, permit) => {
                for m in msgs {
                    self.speaker.message(now, conn, &m);
                }
                if self.fib.backlog() > FIB_HIGH {
                    self.held.push(permit);
                    self.held_since.get_or_insert(now);
                }
            }
            Event::FramingError(conn, n) => self.speaker.framing_error(now, conn, n),
            Event::Closed(conn, why) => {
                if let Some(c) = self.conns.remove(&conn) {
                    c.reader.abort();
                }
                self.speaker.closed(now, conn, &why);
            }
            Event::Control(req, reply) => {
                let resp = commands::handle(self, req);
                let _ = reply.send(resp);
            }
            Event::Kernel(k) => {
                self.note_kernel(&k, now);
                let delta = self.fib.kernel_changed(&k);
                self.speaker.set_kernel(now, k);
                self.rewrite(&delta);
            }
            Event::NexthopGone(id) => {
                let delta = self.fib.nexthop_gone(id);
                self.rewrite(&delta);
            }
            Event::Nexthops(ids) => {
                let delta = self.fib.nexthops_present(&ids);
                self.rewrite(&delta);
            }
        }
    }

    /// Writes again the selected routes a kernel change can affect, not a
    /// whole table.
    fn rewrite(&mut self, delta: &KernelDelta) {
        if delta.is_empty() {
            return;
        }
        let mut reach: HashMap<IpAddr, bool> = HashMap::new();
        for afi in 0..2 {
            let mut sel: Vec<(IpNet, Hops)> = Vec::new();
            for (p, paths, n) in self.speaker.tables[afi].iter() {
                if n == 0 || paths[0].peer == crate::bgp::rib::LOCAL {
                    continue;
                }
                let mut hops = paths[..n].iter().filter_map(|x| x.attrs.next_hop);
                let hit = delta.shadows(&p)
                    || hops.any(|h| *reach.entry(h).or_insert_with(|| delta.reach_changed(&self.fib, &h)));
                if hit {
                    sel.push((p, Hops::from_vec(paths[..n].iter().filter_map(|x| x.attrs.next_hop).collect())));
                }
            }
            for (p, hops) in sel {
                self.fib.set(p, hops);
            }
        }
    }

    fn attach(&mut self, conn: ConnId, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(w, rx));
        let reader = tokio::spawn(reader(conn, r, self.events.clone()));
        self.conns.insert(conn, Conn { tx, reader });
    }

    /// Carries out what the Speaker asked for.
    pub fn perform(&mut self) {
        for o in self.speaker.take_output() {
            match o {
                Output::Connect { conn, peer } => {
                    let Some(p) = self.speaker.peers.iter().find(|p| p.cfg.addr == peer) else { continue };
                    let t = Transport {
                        source: p.cfg.update_source.clone(),
                        password: p.cfg.password.clone(),
                        gtsm: p.cfg.ttl_security_hops,
                        multihop: p.cfg.ebgp_multihop,
                    };
                    let port = self.opts.port;
                    let tx = self.events.clone();
                    tokio::spawn(async move {
                        let r = connect(peer, port, t).await;
                        let _ = tx.send(Event::Connected(conn, r));
                    });
                }
                Output::Send(conn, bytes) => {
                    if let Some(c) = self.conns.get(&conn) {
                        let _ = c.tx.send(bytes);
                    }
                }
                Output::Close(conn) => {
                    // Dropping the sender lets the writer flush what is
                    // queued (a NOTIFICATION) and then close.
                    if let Some(c) = self.conns.remove(&conn) {
                        c.reader.abort();
                    }
                }
                Output::Fib(prefix, hops) => self.fib.set(prefix, hops),
                Output::Log(line) => log(&line),
            }
        }
        self.fib.flush();
        self.listener_keys();
        if self.fib.has_stale() {
            let done = self.speaker.peers.iter().filter(|p| !p.removed && p.cfg.shutdown.is_none()).all(|p| {
                p.negotiated
                    .as_ref()
                    .is_some_and(|n| n.families.iter().all(|f| p.eor[(*f == crate::bgp::packet::Afi::Ipv6) as usize]))
            });
            self.fib.sweep_stale(done);
        }
    }

    /// Keeps the listener's TCP-MD5 keys in step with the neighbors'
    /// passwords, so that their SYNs are accepted.
    fn listener_keys(&mut self) {
        let want: HashMap<IpAddr, String> = self
            .speaker
            .peers
            .iter()
            .filter(|p| !p.removed)
            .filter_map(|p| p.cfg.password.clone().map(|k| (p.cfg.addr, k)))
            .collect();
        if want == self.md5 {
            return;
        }
        let (fd, v6) = self.listener;
        for (addr, _) in self.md5.iter().filter(|(a, _)| !want.contains_key(a)) {
            let _ = sockopt::set_md5(fd, v6, *addr, b"");
        }
        for (addr, key) in &want {
            if self.md5.get(addr) != Some(key) {
                if let Err(e) = sockopt::set_md5(fd, v6, *addr, key.as_bytes()) {
                    log(&format!("neighbor {addr}: cannot set the TCP-MD5 password: {e}"));
                }
            }
        }
        self.md5 = want;
    }

    /// The interface a next hop is reached through, for `show ip route`.
    fn note_kernel(&mut self, k: &Kernel, now: Instant) {
        let present: HashSet<IpNet> = k.table.iter().map(|r| r.prefix).collect();
        self.kernel_since.retain(|p, _| present.contains(p));
        for p in present {
            self.kernel_since.entry(p).or_insert(now);
        }
    }

    pub fn ifname_for(&self, hop: Option<IpAddr>) -> String {
        let Some(h) = hop else { return String::new() };
        let k = &self.speaker.kernel;
        k.addresses.iter().find(|a| a.trunc().contains(&h)).and_then(|a| k.names.get(a).cloned()).unwrap_or_default()
    }

    /// SIGHUP: the config file again, applied only if all of it is valid.
    pub fn reload(&mut self) {
        let path = self.opts.config_path.clone();
        match read_config(&path) {
            Ok(cfg) => match self.speaker.reconfigure(Instant::now(), cfg) {
                Ok(()) => log(&format!("reloaded {}", path.display())),
                Err(e) => log(&format!("reload of {} refused: {e}; the running config stays", path.display())),
            },
            Err(e) => log(&format!("reload refused: {e}; the running config stays")),
        }
    }
}

pub fn read_config(path: &std::path::Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    config::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        std::io::ErrorKind::TimedOut => "Connection timed out".into(),
        _ => e.to_string(),
    }
}

async fn listen(port: u16) -> Result<TcpListener, String> {
    // [::] takes IPv4 too (as mapped addresses) unless IPv6 is off.
    match TcpListener::bind(("::", port)).await {
        Ok(l) => Ok(l),
        Err(_) => TcpListener::bind(("0.0.0.0", port)).await.map_err(|e| format!("cannot listen on port {port}: {e}")),
    }
}

async fn accept_loop(l: TcpListener, tx: mpsc::UnboundedSender<Event>) {
    loop {
        match l.accept().await {
            Ok((s, remote)) => {
                let local = s.local_addr().unwrap_or(remote);
                if tx.send(Event::Accepted(s, remote, local)).is_err() {
                    return;
                }
            }
            Err(e) => {
                log(&format!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What a neighbor's configuration asks of its TCP connection.
struct Transport {
    source: Option<String>,
    password: Option<String>,
    gtsm: Option<u8>,
    multihop: Option<u8>,
}

fn ttl_options(s: &impl AsRawFd, v6: bool, gtsm: Option<u8>, multihop: Option<u8>) -> std::io::Result<()> {
    if let Some(h) = gtsm {
        sockopt::set_gtsm(s.as_raw_fd(), v6, h)?;
    } else if let Some(t) = multihop {
        sockopt::set_ttl(s.as_raw_fd(), v6, t)?;
    }
    Ok(())
}

async fn connect(peer: IpAddr, port: u16, t: Transport) -> std::io::Result<TcpStream> {
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
    match tokio::time::timeout(Duration::from_secs(10), sock.connect(SocketAddr::new(peer, port))).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Reads of a connection that may wait for the main task at once: a
/// peer that sends faster than bgpd handles its UPDATEs meets TCP's flow
/// control instead of filling bgpd's memory (a full table is hundreds of
/// MB of decoded messages).
const READS_IN_FLIGHT: usize = 16;

async fn reader(conn: ConnId, mut r: OwnedReadHalf, tx: mpsc::UnboundedSender<Event>) {
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
        let mut msgs = Vec::new();
        let mut at = 0;
        loop {
            match frame(&buf[at..], EXTENDED_MAX_LEN) {
                Ok(Some(len)) => {
                    msgs.push(buf[at..at + len].to_vec());
                    at += len;
                }
                Ok(None) => break,
                Err(n) => {
                    if !msgs.is_empty() {
                        let _ = tx.send(Event::Messages(conn, msgs, permit));
                    }
                    let _ = tx.send(Event::FramingError(conn, n));
                    return;
                }
            }
        }
        buf.drain(..at);
        if !msgs.is_empty() && tx.send(Event::Messages(conn, msgs, permit)).is_err() {
            return;
        }
    }
}

async fn writer(mut w: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    while let Some(bytes) = rx.recv().await {
        if w.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = w.shutdown().await;
}

fn control_socket(path: &std::path::Path) -> Result<UnixListener, String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // A socket left by a crashed bgpd; a live one answers and is kept.
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(format!("another bgpd is already running on {}", path.display()));
    }
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path).map_err(|e| format!("control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| format!("control socket {}: {e}", path.display()))?;
    Ok(l)
}

async fn control_loop(l: UnixListener, tx: mpsc::UnboundedSender<Event>) {
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(control_client(s, tx.clone()));
            }
            Err(e) => {
                log(&format!("control socket: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One vtysh or healthcheck: requests in order; a client that never reads
/// blocks only this task.
async fn control_client(s: UnixStream, tx: mpsc::UnboundedSender<Event>) {
    let (r, mut w) = s.into_split();
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let resp = match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                let (rtx, rrx) = oneshot::channel();
                if tx.send(Event::Control(req, rtx)).is_err() {
                    return;
                }
                rrx.await.unwrap_or_else(|_| Response::err("bgpd is stopping"))
            }
            Err(e) => Response::err(format!("bad request: {e}")),
        };
        let mut out = serde_json::to_string(&resp).unwrap_or_default();
        out.push('\n');
        let write = tokio::time::timeout(Duration::from_secs(30), w.write_all(out.as_bytes()));
        if !matches!(write.await, Ok(Ok(()))) {
            return;
        }
    }
}
