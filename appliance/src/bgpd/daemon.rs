//! bgpd's main task: the one owner of the sans-IO `Speaker`. It takes
//! events from the connections, the control socket, the kernel watcher
//! and the signals, feeds them to the Speaker, and carries out what the
//! Speaker asks (connect, send, close, FIB changes, log lines). Nothing it
//! does for one peer or client waits on another: connections, control
//! clients and the FIB writer are tasks and threads of their own, and
//! whole-table shows are paged between events.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::bfd_io::Bfd;
use super::commands::{self, Answer, Ctx};
use super::connection::{self, Conn, Transport};
use super::event::{Event, Events};
use super::fib::Fib;
use super::logging::LogState;
use super::nd_io::Nd;
use super::show::Paged;
use super::statics::Statics;
use super::{control, kernel_watch, read_config, sockopt};
use crate::bgp::config::{Config, StaticRoute};
use crate::bgp::fsm::ConnId;
use crate::bgp::packet::{frame, Afi, EXTENDED_MAX_LEN};
use crate::bgp::speaker::{Host, Output, Speaker, WITHDRAW_SLICE};
use crate::control::Response;

pub struct Options {
    pub config_path: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    pub fib: bool,
    /// Where Prometheus metrics are served (None: nowhere).
    pub metrics: Option<std::net::SocketAddr>,
    /// The image's config, when bgpd runs from a saved one.
    pub image_config: Option<PathBuf>,
}

/// Route changes queued for the kernel above which bgpd keeps the read
/// permits of the messages it handles, so that peers wait in TCP's flow
/// control instead of a full table waiting in bgpd's memory; they are
/// given back below FIB_LOW, and never kept longer than FIB_HOLD_MAX (a
/// stuck kernel must not stall the sessions into their hold timers).
const FIB_HIGH: usize = 131_072;
const FIB_LOW: usize = 65_536;
const FIB_HOLD_MAX: Duration = Duration::from_secs(2);
/// How many prefixes all paged shows together produce between two looks
/// at the events (a summary never waits behind a whole table, nor behind
/// 200 clients that each asked for one), shared among the shows whose
/// clients have room: one part holds PAGE_MIN to PAGE_ROUND prefixes
/// (JSON: 30 to 300 KB), so many clients that do not read hold little.
const PAGE_ROUND: usize = 1000;
const PAGE_MIN: usize = 100;
/// The speaker's outputs the daemon keeps room for between batches (a
/// batch is cut at 4,096 of them).
const OUTPUTS_KEEP: usize = 8192;
/// How often a refused connection from one address is logged.
const REFUSED_LOG_EVERY: Duration = Duration::from_secs(60);

struct Daemon {
    speaker: Speaker,
    /// The listening socket, for per-neighbor TCP-MD5 keys, and whether it
    /// is an IPv6 socket.
    listener: (RawFd, bool),
    /// The listener's TCP-MD5 keys: a neighbor's address, or a range.
    md5: HashMap<IpNet, String>,
    opts: Options,
    fib: Fib,
    events: Events,
    conns: crate::bgp::hash::FastMap<ConnId, Conn>,
    started: Instant,
    /// When each non-BGP kernel route was first seen, for its age.
    kernel_since: HashMap<IpNet, Instant>,
    /// Read permits kept while the kernel is far behind, and since when.
    kept_permits: Vec<OwnedSemaphorePermit>,
    kept_since: Option<Instant>,
    /// The speaker's outputs of a batch, performed; kept for its room.
    outputs: Vec<Output>,
    /// Shows being paged out, each with its client's answer queue, and
    /// where the next round starts (round robin).
    shows: Vec<(mpsc::Sender<Response>, Box<dyn Paged>)>,
    next_show: usize,
    /// When a refused connection from an address was last logged.
    refused: HashMap<IpAddr, Instant>,
    /// The config's static routes, and those last made the kernel's
    /// (None: the kernel changed since: look again).
    statics: Statics,
    statics_applied: Option<Vec<StaticRoute>>,
    /// BFD sessions, and the config generation they follow.
    bfd: Bfd,
    bfd_generation: Option<u64>,
    /// Router advertisements on interface neighbors' interfaces.
    nd: Nd,
    /// The config's `log` lines and the `debug` switches.
    logging: LogState,
    /// The interfaces' ups and downs since bgpd started.
    links: super::show::LinkHistory,
}

pub async fn run(opts: Options, cfg: Config) -> Result<(), String> {
    let now = Instant::now();
    let host = kernel_watch::snapshot().await;
    let mut speaker = Speaker::new(cfg, host, now).map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let fib = Fib::start(opts.fib).await?;
    // Routes of an earlier run in the kernel: a restart, graceful if
    // configured (the OPENs say so before any is sent).
    speaker.set_restarted(now, fib.kept_families());
    let listener = connection::listen(opts.port).await?;
    // Monitoring never keeps routing down: a port that cannot be had is said.
    if let Some(addr) = opts.metrics {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                crate::info!("metrics", "Prometheus metrics on http://{addr}/metrics");
                tokio::spawn(super::metrics::serve(l, tx.clone()));
            }
            Err(e) => crate::error!("metrics", "--metrics {addr}: cannot listen there: {e}; no metrics served"),
        }
    }
    let control = control::socket(&opts.socket)?;
    crate::info!(
        "bgp",
        "bgpbox {} started: AS {}, router-id {}, {} neighbor(s), listening on port {}, control socket {}",
        crate::VERSION,
        speaker.local_as(),
        speaker.router_id(),
        speaker.configured().count(),
        opts.port,
        opts.socket.display()
    );
    let lfd = (listener.as_raw_fd(), listener.local_addr().map(|a| a.is_ipv6()).unwrap_or(false));
    let mut d = Daemon {
        speaker,
        listener: lfd,
        md5: HashMap::new(),
        opts,
        fib,
        events: tx.clone(),
        conns: Default::default(),
        started: now,
        kernel_since: HashMap::new(),
        kept_permits: Vec::new(),
        kept_since: None,
        outputs: Vec::new(),
        shows: Vec::new(),
        next_show: 0,
        refused: HashMap::new(),
        statics: Statics::default(),
        statics_applied: None,
        bfd: Bfd::default(),
        bfd_generation: None,
        nd: Nd::default(),
        logging: LogState::default(),
        links: Default::default(),
    };
    let first = d.speaker.host().clone();
    d.note_host(&first, now);
    tokio::spawn(connection::accept_loop(listener, tx.clone()));
    tokio::spawn(control::accept_loop(control, tx.clone()));
    kernel_watch::watch(tx.clone());
    d.event_loop(&mut rx).await?;
    d.stop().await;
    Ok(())
}

impl Daemon {
    async fn event_loop(&mut self, rx: &mut mpsc::UnboundedReceiver<Event>) -> Result<(), String> {
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
        self.perform();
        loop {
            let deadline = [self.speaker.next_deadline(), self.bfd.next_deadline(), self.nd.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            let paging = !self.shows.is_empty();
            // A show whose client has room goes on at once; the others are
            // looked at again shortly (their clients read meanwhile).
            let page_now = self.shows.iter().any(|(tx, _)| tx.capacity() > 0 || tx.is_closed());
            tokio::select! {
                biased;
                _ = sleep => {
                    let now = Instant::now();
                    self.speaker.timeout(now);
                    let changes = self.bfd.timeout(now);
                    self.bfd_changes(now, changes);
                    self.nd.timeout(now);
                }
                ev = rx.recv() => {
                    let Some(ev) = ev else { break };
                    self.handle(ev);
                    // Take what else is queued into the same batch, but carry
                    // out the output before it grows: a full table must not
                    // pile up between the socket and the kernel.
                    while self.speaker.pending_output() < 4096 {
                        match rx.try_recv() {
                            Ok(ev) => self.handle(ev),
                            Err(_) => break,
                        }
                    }
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => self.reload(),
                _ = std::future::ready(()), if self.speaker.has_work() => {
                    self.speaker.work(Instant::now(), WITHDRAW_SLICE);
                }
                _ = std::future::ready(()), if page_now => self.page_shows(),
                _ = tokio::time::sleep(Duration::from_millis(2)), if paging && !page_now => {}
                _ = tokio::time::sleep(Duration::from_millis(5)), if !self.kept_permits.is_empty() => {
                    if self.fib.backlog() < FIB_LOW || self.kept_since.is_some_and(|t| t.elapsed() > FIB_HOLD_MAX) {
                        self.kept_permits.clear();
                        self.kept_since = None;
                    }
                }
            }
            self.perform();
        }
        Ok(())
    }

    /// Clean stop: Cease to every neighbor, then every BGP route leaves
    /// the FIB in one go (no path is selected or written on the way out).
    async fn stop(&mut self) {
        if self.speaker.restarts_gracefully() {
            crate::info!(
                "bgp",
                "stopping for a graceful restart: sessions closed without a Cease, routes stay in the FIB and at the neighbors"
            );
            self.speaker.stop_for_restart();
            self.perform();
            for (_, c) in self.conns.drain() {
                c.close();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = std::fs::remove_file(&self.opts.socket);
            return;
        }
        crate::info!("bgp", "stopping: Cease to every neighbor, routes leave the FIB");
        self.speaker.shutdown(Instant::now(), "");
        self.perform();
        for (_, c) in self.conns.drain() {
            c.close();
        }
        // Give the writers a moment to put the NOTIFICATIONs on the wire.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.fib.clear().await;
        let _ = std::fs::remove_file(&self.opts.socket);
    }

    fn handle(&mut self, ev: Event) {
        let now = Instant::now();
        match ev {
            Event::Accepted(stream, remote, local) => self.accepted(stream, remote, local),
            Event::Connected(conn, Ok(stream)) => match stream.local_addr() {
                Ok(local) => {
                    self.conns.insert(conn, Conn::attach(conn, stream, &self.events));
                    self.speaker.connected(now, conn, local.ip().to_canonical());
                }
                Err(e) => self.speaker.closed(now, conn, &e.to_string()),
            },
            Event::Connected(conn, Err(e)) => self.speaker.closed(now, conn, &connection::io_reason(&e)),
            Event::Messages(conn, msgs, permit) => {
                let mut rest = &msgs[..];
                while let Ok(Some(len)) = frame(rest, EXTENDED_MAX_LEN) {
                    self.speaker.message(now, conn, &rest[..len]);
                    rest = &rest[len..];
                }
                if self.fib.backlog() > FIB_HIGH {
                    self.kept_permits.push(permit);
                    self.kept_since.get_or_insert(now);
                }
            }
            Event::FramingError(conn, n) => self.speaker.framing_error(now, conn, n),
            Event::Closed(conn, why) => {
                if let Some(c) = self.conns.remove(&conn) {
                    c.close();
                }
                self.speaker.closed(now, conn, &why);
            }
            Event::Drained(conn) => self.speaker.output_drained(conn),
            Event::Control(req, reply) => self.control(req, reply),
            Event::Host(h) => {
                self.statics_applied = None;
                self.note_host(&h, now);
                let delta = self.fib.kernel_changed(&h);
                self.speaker.set_host(now, h);
                self.rewrite(&delta);
            }
            Event::Bfd(from, bytes) => {
                let changes = self.bfd.received(now, from, &bytes);
                self.bfd_changes(now, changes);
            }
            Event::RouterAdvert(ifindex, from) => self.speaker.neighbor_found(now, ifindex, from.into()),
            Event::RouterSolicit(ifindex) => self.nd.solicited(ifindex),
            Event::Metrics(reply) if reply.is_closed() => {}
            Event::Metrics(reply) => {
                let v = super::show::View {
                    speaker: &self.speaker,
                    fib: &self.fib,
                    kernel_since: &self.kernel_since,
                    started: self.started,
                    now,
                };
                let _ = reply.send(super::metrics::render(&v, self.fib.counts()));
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

    fn accepted(&mut self, stream: tokio::net::TcpStream, remote: std::net::SocketAddr, local: std::net::SocketAddr) {
        let now = Instant::now();
        let (r, l) = (remote.ip().to_canonical(), local.ip().to_canonical());
        let scope = match remote {
            std::net::SocketAddr::V6(a) => a.scope_id(),
            std::net::SocketAddr::V4(_) => 0,
        };
        let settings = match self.speaker.peer_on(r, scope) {
            Some(p) => Some(p.config().clone()),
            None => self.speaker.config().bgp.as_ref().and_then(|b| b.dynamic_neighbor(r)),
        };
        if let Some(c) = settings {
            if let Err(e) = connection::ttl_options(&stream, remote.is_ipv6(), c.ttl_security_hops, c.ebgp_multihop) {
                crate::warn!("bgp", "neighbor {r}: cannot set TTL options: {e}");
            }
        }
        match self.speaker.accept(now, r, scope, l) {
            Ok(conn) => {
                self.conns.insert(conn, Conn::attach(conn, stream, &self.events));
            }
            Err(why) => {
                // Said once a minute per address: a flood must not flood the log.
                if self.refused.len() > 10_000 {
                    self.refused.clear();
                }
                let last = self.refused.get(&r).copied();
                if last.is_none_or(|t| now.duration_since(t) >= REFUSED_LOG_EVERY) {
                    self.refused.insert(r, now);
                    crate::warn!("bgp", "connection from {r} refused: {why}");
                }
            }
        }
    }

    fn control(&mut self, req: crate::control::Request, reply: mpsc::Sender<Response>) {
        let mut ctx = Ctx {
            speaker: &mut self.speaker,
            fib: &self.fib,
            kernel_since: &self.kernel_since,
            started: self.started,
            config_path: &self.opts.config_path,
            bfd: &self.bfd,
            logging: &mut self.logging,
            links: &self.links,
            image_config: self.opts.image_config.as_deref(),
        };
        match commands::handle(&mut ctx, req) {
            Answer::Done(r) => {
                let _ = reply.try_send(r);
            }
            Answer::Paged(p) => self.shows.push((reply, p)),
        }
    }

    /// Gives paged shows whose client has room their next parts, at most
    /// PAGE_ROUND prefixes in all, starting where the last round stopped.
    fn page_shows(&mut self) {
        let v = super::show::View {
            speaker: &self.speaker,
            fib: &self.fib,
            kernel_since: &self.kernel_since,
            started: self.started,
            now: Instant::now(),
        };
        let n = self.shows.len();
        let ready = self.shows.iter().filter(|(tx, _)| tx.capacity() > 0).count().max(1);
        let page = (PAGE_ROUND / ready).max(PAGE_MIN);
        let mut budget = PAGE_ROUND;
        let mut done = Vec::new();
        for k in 0..n {
            let i = (self.next_show + k) % n;
            let (tx, show) = &mut self.shows[i];
            if tx.is_closed() {
                done.push(i);
                continue;
            }
            if budget == 0 || tx.capacity() == 0 {
                continue;
            }
            budget = budget.saturating_sub(page);
            let part = match show.next(&v, page) {
                Some(part) => Response { ok: true, output: part, more: true },
                None => {
                    done.push(i);
                    Response::ok("")
                }
            };
            if tx.try_send(part).is_err() {
                done.push(i);
            }
            self.next_show = i + 1;
        }
        done.sort_unstable();
        done.dedup();
        for i in done.into_iter().rev() {
            self.shows.swap_remove(i);
        }
        if self.next_show >= self.shows.len() {
            self.next_show = 0;
        }
    }

    /// Writes again the selected routes a kernel change can affect, not a
    /// whole table.
    fn rewrite(&mut self, delta: &super::fib::KernelDelta) {
        if delta.is_empty() {
            return;
        }
        let mut reach: HashMap<IpAddr, bool> = HashMap::new();
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let hit: Vec<_> = self
                .speaker
                .fib_routes(afi)
                .filter(|(p, hops)| {
                    delta.shadows(p)
                        || hops
                            .as_slice()
                            .iter()
                            .any(|(h, _)| *reach.entry(*h).or_insert_with(|| delta.reach_changed(&self.fib, h)))
                })
                .collect();
            for (p, hops) in hit {
                self.fib.set(p, hops);
            }
        }
    }

    /// Carries out what the Speaker asked for.
    fn perform(&mut self) {
        if let Some(e) = self.logging.sync(self.speaker.config(), self.speaker.generation()) {
            crate::warn!("config", "{e}");
        }
        self.speaker.set_debugs(&self.logging.on());
        self.sync_statics();
        self.sync_bfd();
        let now = Instant::now();
        self.nd.sync(self.speaker.unnumbered_links(), now, &self.events);
        let mut outputs = std::mem::take(&mut self.outputs);
        self.speaker.take_output_into(&mut outputs);
        for o in outputs.drain(..) {
            match o {
                Output::Connect { conn, peer, scope } => self.connect(conn, peer, scope),
                Output::Send(conn, bytes) => {
                    if self.conns.get(&conn).is_some_and(|c| c.send(bytes)) {
                        self.speaker.output_blocked(now, conn);
                    }
                }
                Output::Close(conn) => {
                    if let Some(c) = self.conns.remove(&conn) {
                        c.close();
                    }
                }
                Output::Fib(prefix, hops) => self.fib.set(prefix, hops),
                // The speaker's debug lines come only from switches turned on.
                Output::Log(crate::log::Level::Debug, line) => crate::log::write_debug("bgp", format_args!("{line}")),
                Output::Log(level, line) => crate::log::write(level, "bgp", format_args!("{line}")),
            }
        }
        // The room of a burst (a table withdrawn) is not kept.
        outputs.shrink_to(OUTPUTS_KEEP);
        self.outputs = outputs;
        self.fib.flush();
        self.listener_keys();
        if self.fib.has_stale() {
            self.fib.sweep_stale(self.speaker.initial_sync_done());
        }
    }

    fn connect(&mut self, conn: ConnId, peer: IpAddr, scope: u32) {
        let Some(p) = self.speaker.conn_peer(conn) else { return };
        let c = p.config();
        let t = Transport {
            source: c.update_source.clone(),
            password: c.password.clone(),
            gtsm: c.ttl_security_hops,
            multihop: c.ebgp_multihop,
        };
        let port = self.opts.port;
        let tx = self.events.clone();
        tokio::spawn(async move {
            let r = connection::connect(peer, scope, port, t).await;
            let _ = tx.send(Event::Connected(conn, r));
        });
    }

    /// Keeps the listener's TCP-MD5 keys in step with the neighbors'
    /// passwords, so that their SYNs are accepted.
    /// A listen range whose peer-group has a password gets one key for
    /// the whole range.
    fn listener_keys(&mut self) {
        let mut want: HashMap<IpNet, String> = self
            .speaker
            .configured()
            .filter(|p| !p.is_dynamic())
            .filter_map(|p| Some((IpNet::from(p.remote()?), p.config().password.clone()?)))
            .collect();
        if let Some(b) = &self.speaker.config().bgp {
            for (range, g) in &b.listen_ranges {
                if let Some(k) = b.groups.get(g).and_then(|g| g.password.clone()) {
                    want.insert(*range, k);
                }
            }
        }
        if want == self.md5 {
            return;
        }
        let (fd, v6) = self.listener;
        let len = |n: &IpNet| (n.prefix_len() < n.max_prefix_len()).then_some(n.prefix_len());
        for (net, _) in self.md5.iter().filter(|(a, _)| !want.contains_key(a)) {
            let _ = sockopt::set_md5_prefix(fd, v6, net.addr(), len(net), b"");
        }
        for (net, key) in &want {
            if self.md5.get(net) != Some(key) {
                if let Err(e) = sockopt::set_md5_prefix(fd, v6, net.addr(), len(net), key.as_bytes()) {
                    crate::error!("bgp", "neighbor {net}: cannot set the TCP-MD5 password: {e}");
                }
            }
        }
        self.md5 = want;
    }

    /// BFD sessions as the config has them, when it changed.
    fn sync_bfd(&mut self) {
        let g = self.speaker.generation();
        if self.bfd_generation != Some(g) {
            self.bfd.sync(self.speaker.config(), &self.events, Instant::now());
            self.bfd_generation = Some(g);
        }
    }

    fn bfd_changes(&mut self, now: Instant, changes: Vec<super::bfd_io::Change>) {
        for c in changes {
            self.speaker.bfd_changed(now, c.peer, c.up, &c.why.to_string());
        }
    }

    /// The config's static routes into the kernel, when the config or
    /// the kernel changed.
    fn sync_statics(&mut self) {
        let want = &self.speaker.config().statics;
        if !self.opts.fib || self.statics_applied.as_ref() == Some(want) {
            return;
        }
        for line in self.statics.sync(want, self.speaker.host()) {
            crate::warn!("static", "{line}");
        }
        self.statics_applied = Some(want.clone());
    }

    fn note_host(&mut self, h: &Host, now: Instant) {
        self.links.observe(h, std::time::SystemTime::now());
        let present: HashSet<IpNet> = h.table.iter().map(|r| r.prefix).collect();
        self.kernel_since.retain(|p, _| present.contains(p));
        for p in present {
            self.kernel_since.entry(p).or_insert(now);
        }
    }

    /// SIGHUP: the config file again, applied only if all of it is valid.
    fn reload(&mut self) {
        let path = self.opts.config_path.clone();
        let now = Instant::now();
        match read_config(&path).and_then(|c| self.speaker.reconfigure(now, c).map_err(|e| e.to_string())) {
            Ok(()) => crate::info!("config", "reloaded {}", path.display()),
            Err(e) => crate::error!("config", "reload refused ({}): {e}; the running config stays", path.display()),
        }
    }
}
