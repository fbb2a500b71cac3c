//! init: PID 1 of the container.
//!
//! Signal handling is installed before anything else. SIGPWR (what `lxc
//! stop` sends), SIGRTMIN+3 (what it sends when init blocks SIGPWR, as
//! systemd does) and SIGTERM halt; SIGINT reboots. Every child is reaped,
//! orphans included; services are restarted with a growing backoff. Logs go
//! to the console, one line per event, which is what `lxc console
//! --show-log` shows.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use tokio::signal::unix::{signal, Signal as Stream, SignalKind};

/// PID 1 of the bgpbox container.
#[derive(Parser, Debug)]
#[command(name = "init", version = crate::VERSION)]
struct Args {
    /// Where the image's settings live.
    #[arg(long, default_value = "/etc/bgpbox", value_name = "DIR")]
    etc: PathBuf,
    /// Where the config volume is mounted (see `saved_config.rs`).
    #[arg(long, default_value = super::saved_config::STATE_DIR, value_name = "DIR")]
    state: PathBuf,
}

/// How long children get to exit after SIGTERM before SIGKILL: LXD waits
/// for the container to stop, and users expect `lxc stop` in well under 2 s.
const STOP_GRACE: Duration = Duration::from_millis(1500);

pub fn main(args: Vec<OsString>) -> ExitCode {
    crate::log::init("init");
    let args: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            crate::warn!("init", "cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run(args))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Halt,
    Reboot,
}

struct Signals {
    term: Stream,
    pwr: Stream,
    /// SIGRTMIN+3 as the host's glibc numbers it (34+3), which is what
    /// liblxc sends, and as our own libc numbers it when that differs.
    rt3: Stream,
    rt3_own: Option<Stream>,
    int: Stream,
    chld: Stream,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        const GLIBC_RTMIN_3: i32 = 37;
        let own = nix::libc::SIGRTMIN() + 3;
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            pwr: signal(SignalKind::from_raw(Signal::SIGPWR as i32))?,
            rt3: signal(SignalKind::from_raw(GLIBC_RTMIN_3))?,
            rt3_own: if own == GLIBC_RTMIN_3 { None } else { Some(signal(SignalKind::from_raw(own))?) },
            int: signal(SignalKind::interrupt())?,
            chld: signal(SignalKind::child())?,
        })
    }

    async fn next(&mut self) -> Event {
        let rt3_own = async {
            match &mut self.rt3_own {
                Some(own) => own.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.term.recv() => Event::Stop(Stop::Halt),
            _ = self.pwr.recv() => Event::Stop(Stop::Halt),
            _ = self.rt3.recv() => Event::Stop(Stop::Halt),
            _ = rt3_own => Event::Stop(Stop::Halt),
            _ = self.int.recv() => Event::Stop(Stop::Reboot),
            _ = self.chld.recv() => Event::Child,
        }
    }
}

enum Event {
    Stop(Stop),
    Child,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Runs once at boot; retried while it fails.
    Oneshot,
    /// Kept running.
    Daemon,
}

struct Service {
    name: &'static str,
    args: Vec<String>,
    kind: Kind,
    pid: Option<Pid>,
    backoff: Backoff,
    next_start: Option<Instant>,
    done: bool,
    /// Started at least once (a daemon waits for a oneshot's first try).
    tried: bool,
}

/// Restart delays: immediate after a long healthy run, then doubling from
/// 250 ms to 30 s while the service keeps failing quickly.
#[derive(Debug, Default, Clone)]
pub struct Backoff {
    failures: u32,
    started: Option<Instant>,
}

impl Backoff {
    const HEALTHY: Duration = Duration::from_secs(10);
    const MAX: Duration = Duration::from_secs(30);

    pub fn started(&mut self, now: Instant) {
        self.started = Some(now);
    }

    /// The delay before the next start, after an exit at `now`.
    pub fn exited(&mut self, now: Instant) -> Duration {
        let ran = self.started.map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        if ran >= Self::HEALTHY {
            self.failures = 0;
        }
        let delay = match self.failures {
            0 => Duration::ZERO,
            n => (Duration::from_millis(250) * 2u32.saturating_pow(n - 1)).min(Self::MAX),
        };
        self.failures = self.failures.saturating_add(1);
        delay
    }
}

/// LXD's guest API, there when `security.devlxd` is on (the default).
/// The guest API: Incus's where it is, else LXD's.
const GUEST_SOCKS: [&str; 2] = ["/dev/incus/sock", "/dev/lxd/sock"];

fn guest_sock() -> Option<&'static str> {
    GUEST_SOCKS.into_iter().find(|p| Path::new(p).exists())
}
const READY_TRIES: u32 = 10;
const BGPD_SOCK: &str = crate::control::DEFAULT_SOCKET;

/// Tells LXD (or Incus) the instance is Ready (`lxc list` / `lxc wait`).
fn report_ready() -> std::io::Result<()> {
    use std::io::{Read, Write};
    let sock = guest_sock().ok_or_else(|| std::io::Error::other("no guest API socket"))?;
    let mut s = std::os::unix::net::UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    s.set_write_timeout(Some(Duration::from_secs(1)))?;
    let body = r#"{"state":"Ready"}"#;
    write!(
        s,
        "PATCH /1.0 HTTP/1.1\r\nHost: lxd\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = [0u8; 64];
    let n = s.read(&mut answer)?;
    let line = String::from_utf8_lossy(&answer[..n]);
    if line.starts_with("HTTP/1.1 200") || line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(line.lines().next().unwrap_or_default().to_string()))
    }
}

fn services(etc: &Path, state: &Path) -> Vec<Service> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, kind: Kind, args: Vec<String>| {
        if super::find(name).is_some() {
            out.push(Service {
                name,
                args,
                kind,
                pid: None,
                backoff: Backoff::default(),
                next_start: Some(Instant::now()),
                done: false,
                tried: false,
            });
        }
    };
    let net = etc.join("network.toml");
    if net.exists() {
        add("netsetup", Kind::Oneshot, vec!["--config".into(), net.display().to_string()]);
    }
    if etc.join("bgpd.conf").exists() {
        let (conf, image) = super::saved_config::choose(etc, state);
        let mut args = vec!["-f".into(), conf.display().to_string()];
        if let Some(i) = image {
            args.extend(["--image-config".into(), i.display().to_string()]);
        }
        // The profile's `[router] metrics`, written by `bgpbox build`.
        if let Ok(m) = std::fs::read_to_string(etc.join("metrics")) {
            args.extend(["--metrics".into(), m.trim().to_string()]);
        }
        add("bgpd", Kind::Daemon, args);
    }
    out
}

async fn run(args: Args) -> ExitCode {
    let mut sig = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            crate::warn!("init", "cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    crate::info!("init", "bgpbox {} starting as pid {}", crate::VERSION, std::process::id());
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/bin/bgpbox"));
    let mut svcs = services(&args.etc, &args.state);
    let mut ready = guest_sock().is_none();
    // LXD's guest API sometimes drops the first request of a container
    // just started (EPIPE): a few more tries, 50 ms apart, before saying so.
    let mut tries = 0;
    let stop = loop {
        start_due(&exe, &mut svcs);
        if !ready && svcs.iter().any(|s| s.name == "bgpd" && s.pid.is_some()) && Path::new(BGPD_SOCK).exists() {
            tries += 1;
            match report_ready() {
                Ok(()) => {
                    ready = true;
                    let host = if guest_sock() == Some(GUEST_SOCKS[0]) { "Incus" } else { "LXD" };
                    crate::info!("init", "bgpd is up: reported Ready to {host}");
                }
                Err(e) if tries >= READY_TRIES => {
                    ready = true;
                    crate::warn!("init", "bgpd is up, but telling LXD failed ({tries} tries): {e}");
                }
                Err(_) => {}
            }
        }
        let mut next = svcs.iter().filter_map(|s| s.next_start).min();
        if !ready {
            // Look again shortly for bgpd's control socket.
            let soon = Instant::now() + Duration::from_millis(50);
            next = Some(next.map_or(soon, |n| n.min(soon)));
        }
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = sig.next() => match ev {
                Event::Stop(stop) => break stop,
                Event::Child => reap(&mut svcs, false),
            },
            _ = sleep => {}
        }
    };
    crate::info!("init", "{} requested: stopping services", if stop == Stop::Halt { "halt" } else { "reboot" });
    shutdown(&mut svcs, &mut sig).await;
    finish(stop)
}

fn start_due(exe: &Path, svcs: &mut [Service]) {
    let now = Instant::now();
    for i in 0..svcs.len() {
        // A oneshot (netsetup) goes first; a daemon does not wait for it to
        // succeed, only for its first attempt to end.
        let waiting = svcs.iter().any(|o| o.kind == Kind::Oneshot && !o.done && (o.pid.is_some() || !o.tried));
        let s = &mut svcs[i];
        if s.pid.is_some() || s.next_start.is_none_or(|t| t > now) {
            continue;
        }
        if s.kind == Kind::Daemon && waiting {
            continue;
        }
        s.tried = true;
        s.next_start = None;
        let mut cmd = Command::new(exe);
        cmd.arg0(s.name).args(&s.args).stdin(Stdio::null());
        match cmd.spawn() {
            Ok(child) => {
                let pid = Pid::from_raw(child.id() as i32);
                // The child is reaped by waitpid(-1) in reap(), not by Child.
                std::mem::forget(child);
                s.pid = Some(pid);
                s.backoff.started(now);
                crate::info!("init", "started {} (pid {pid})", s.name);
            }
            Err(e) => {
                let delay = s.backoff.exited(now);
                crate::warn!("init", "cannot start {}: {e}; retrying in {delay:?}", s.name);
                s.next_start = Some(now + delay);
            }
        }
    }
}

/// Reaps every exited child: our services and orphans re-parented to us.
fn reap(svcs: &mut [Service], stopping: bool) {
    loop {
        let (pid, how) = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => (pid, Ok(code)),
            Ok(WaitStatus::Signaled(pid, sig, _)) => (pid, Err(sig)),
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                crate::warn!("init", "waitpid: {e}");
                return;
            }
        };
        let Some(s) = svcs.iter_mut().find(|s| s.pid == Some(pid)) else {
            continue;
        };
        s.pid = None;
        let why = match how {
            Ok(code) => format!("exited with status {code}"),
            Err(sig) => format!("was killed by {sig}"),
        };
        if stopping {
            crate::info!("init", "{} (pid {pid}) {why}", s.name);
            continue;
        }
        if s.kind == Kind::Oneshot && how == Ok(0) {
            s.done = true;
            crate::info!("init", "{} (pid {pid}) finished", s.name);
            continue;
        }
        let delay = s.backoff.exited(Instant::now());
        crate::warn!("init", "{} (pid {pid}) {why}; restarting in {delay:?}", s.name);
        s.next_start = Some(Instant::now() + delay);
    }
}

async fn shutdown(svcs: &mut [Service], sig: &mut Signals) {
    for s in svcs.iter().filter(|s| s.pid.is_some()) {
        let _ = kill(s.pid.unwrap(), Signal::SIGTERM);
    }
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    while svcs.iter().any(|s| s.pid.is_some()) {
        tokio::select! {
            _ = sig.chld.recv() => reap(svcs, true),
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    for s in svcs.iter().filter(|s| s.pid.is_some()) {
        crate::warn!("init", "{} did not stop within {STOP_GRACE:?}: killing it", s.name);
        let _ = kill(s.pid.unwrap(), Signal::SIGKILL);
    }
    // Whatever else is left in the container goes with us.
    if std::process::id() == 1 {
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
    }
    reap(svcs, true);
}

fn finish(stop: Stop) -> ExitCode {
    match stop {
        Stop::Halt => {
            crate::info!("init", "halted");
            ExitCode::SUCCESS
        }
        Stop::Reboot => {
            crate::info!("init", "rebooting");
            // In a container's PID namespace, reboot(2) ends init with
            // SIGHUP, which LXD takes as "restart me". Outside PID 1 (a test)
            // plain exit.
            if std::process::id() == 1 {
                let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_AUTOBOOT);
            }
            ExitCode::from(129)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_resets_after_a_healthy_run() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        b.started(t0);
        assert_eq!(b.exited(t0 + Duration::from_secs(1)), Duration::ZERO);
        b.started(t0);
        assert_eq!(b.exited(t0 + Duration::from_secs(1)), Duration::from_millis(250));
        b.started(t0);
        assert_eq!(b.exited(t0 + Duration::from_secs(1)), Duration::from_millis(500));
        for _ in 0..20 {
            b.started(t0);
            b.exited(t0);
        }
        b.started(t0);
        assert_eq!(b.exited(t0), Duration::from_secs(30));
        b.started(t0);
        assert_eq!(b.exited(t0 + Duration::from_secs(11)), Duration::ZERO);
    }
}
