//! Shared harness for the end-to-end tests: running commands, starting LXD,
//! and undoing everything a test made, in reverse order, on failure too.
#![allow(dead_code)]

pub mod netns;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs a command; returns stdout, or panics with its stderr.
pub fn run(args: &[&str]) -> String {
    try_run(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a command; returns stdout, or an error naming the command and
/// quoting its stderr.
pub fn try_run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `lxc stop NAME`; when LXD refuses, panics with what LXD and the
/// container logged, so that a failure in CI explains itself.
pub fn lxc_stop(name: &str) {
    if let Err(e) = try_run(&[lxc(), "stop", name]) {
        let info = try_run(&[lxc(), "info", name, "--show-log"]).unwrap_or_else(|e| e);
        let console = try_run(&[lxc(), "console", name, "--show-log"]).unwrap_or_else(|e| e);
        let lxc_log = std::fs::read_to_string(format!("/var/log/lxd/{name}/lxc.log")).unwrap_or_default();
        panic!("{e}\n--- lxc info --show-log:\n{info}\n--- console:\n{console}\n--- lxc.log:\n{lxc_log}");
    }
}

pub fn require_root() {
    assert!(nix::unistd::geteuid().is_root(), "this test needs root: run it through scripts/test");
}

/// The static bgpbox that goes into images: scripts/test builds it and
/// passes its path.
pub fn static_bgpbox() -> PathBuf {
    let p = std::env::var_os("BGPBOX_STATIC")
        .map(PathBuf::from)
        .expect("BGPBOX_STATIC is not set: run this test through scripts/test, which builds the static binary");
    assert!(p.is_file(), "BGPBOX_STATIC={} is not a file", p.display());
    p
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A short suffix that keeps names of concurrent or leftover runs apart and
/// fits the 15 characters of an interface name.
pub fn tag() -> String {
    format!("{:x}", std::process::id() & 0xffff)
}

/// Polls `f` until it returns Some or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (30 s at most) until `f` holds, or fails with what `ctx` says.
pub fn eventually(what: &str, ctx: impl Fn() -> String, mut f: impl FnMut() -> bool) {
    if wait_for(Duration::from_secs(30), || f().then_some(())).is_none() {
        panic!("timed out waiting for: {what}\n{}", ctx());
    }
}

/// Undo actions, run in reverse order when dropped (also while unwinding
/// from a failed assertion). Each is a command; failures are reported, not
/// fatal, so one stuck resource does not leave the rest behind.
#[derive(Default)]
pub struct Cleanup {
    undo: Vec<Vec<String>>,
}

impl Cleanup {
    pub fn push(&mut self, args: &[&str]) {
        self.undo.push(args.iter().map(|s| s.to_string()).collect());
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        while let Some(cmd) = self.undo.pop() {
            let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            // LXD refuses while an operation on the instance is still running
            // (a failed stop): a few more tries before giving up.
            let mut last = Ok(String::new());
            for attempt in 0..5 {
                last = try_run(&args);
                if last.is_ok() || args[0] != lxc() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1 + attempt));
            }
            if let Err(e) = last {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

/// The client the LXD tests drive: `lxc`, or `incus` with BGPBOX_LXC=incus
/// (scripts/test runs them against both where Incus installs).
pub fn lxc() -> &'static str {
    static C: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    C.get_or_init(|| std::env::var("BGPBOX_LXC").unwrap_or_else(|_| "lxc".into())).as_str()
}

/// Makes sure the daemon answers, starting Debian's `lxd` (or Incus's
/// `incusd`) in the background when none does.
pub fn ensure_lxd() {
    if try_run(&[lxc(), "query", "/1.0"]).is_ok() {
        return;
    }
    // Detached, so that it outlives this test process as a system daemon would.
    if lxc() == "incus" {
        run(&["sh", "-c", "setsid /usr/libexec/incus/incusd --group root </dev/null >/tmp/bgpbox-incusd.log 2>&1 &"]);
        run(&["incus", "admin", "waitready", "--timeout", "60"]);
    } else {
        run(&["sh", "-c", "setsid lxd --group root </dev/null >/tmp/bgpbox-lxd.log 2>&1 &"]);
        run(&["lxd", "waitready", "--timeout", "60"]);
    }
}

/// The daemon's process name.
pub fn lxd_daemon() -> &'static str {
    if lxc() == "incus" {
        "incusd"
    } else {
        "lxd"
    }
}
