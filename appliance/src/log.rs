//! The one logging facility of every applet: a line per event with a UTC
//! timestamp, a level, the applet and the subsystem, e.g.
//! `2026-11-29T23:04:09.123Z INFO  bgpd/fib: removed 3 stale routes`.
//! Lines go to stderr, which LXD keeps as the console log (`lxc console
//! NAME --show-log`), and, as FRR's `log` commands say, to a file and to
//! syslog, each with its own least level (`configure`); the last lines are
//! kept in memory for `show logging` (`recent`). `BGPBOX_LOG=debug|info|
//! warn|error` sets the console's level at start. `debug bgp ...` switches
//! (`set_debugs`) turn on lines that are written whatever the levels:
//! they were asked for by name.

use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }

    /// FRR's (syslog's) names, and the short ones.
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "emergencies" | "alerts" | "critical" | "error" | "errors" | "err" => Some(Level::Error),
            "warn" | "warning" | "warnings" => Some(Level::Warn),
            "info" | "informational" | "notice" | "notifications" => Some(Level::Info),
            "debug" | "debugging" => Some(Level::Debug),
            _ => None,
        }
    }

    /// The word FRR writes for it.
    pub fn frr_name(self) -> &'static str {
        match self {
            Level::Error => "errors",
            Level::Warn => "warnings",
            Level::Info => "informational",
            Level::Debug => "debugging",
        }
    }

    /// Its syslog severity (RFC 5424).
    fn severity(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug => 7,
        }
    }
}

/// A `debug bgp ...` (or `debug bfd`) switch, in FRR's order (its
/// `show debugging` and running config list them so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Debug {
    Keepalives = 0,
    NeighborEvents = 1,
    Nht = 2,
    UpdatesIn = 3,
    UpdatesOut = 4,
    Zebra = 5,
    Bfd = 6,
}

impl Debug {
    pub const ALL: [Debug; 7] = [
        Debug::Keepalives,
        Debug::NeighborEvents,
        Debug::Nht,
        Debug::UpdatesIn,
        Debug::UpdatesOut,
        Debug::Zebra,
        Debug::Bfd,
    ];

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// Where lines go besides the console, and how precise their time is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sinks {
    /// The console (stderr): its least level; None: the start's.
    pub console: Option<Level>,
    pub file: Option<(String, Level)>,
    pub syslog: Option<Level>,
    /// Digits after the second (FRR's `log timestamp precision`, 0-6); None: milliseconds.
    pub precision: Option<u8>,
}

struct Outputs {
    file: Option<(std::fs::File, Level)>,
    syslog: Option<(std::os::unix::net::UnixDatagram, Level)>,
    precision: usize,
}

static CONSOLE: AtomicU8 = AtomicU8::new(Level::Info as u8);
static START_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
/// The most verbose level any output takes, for a cheap `enabled`.
static MAX: AtomicU8 = AtomicU8::new(Level::Info as u8);
static DEBUGS: AtomicU32 = AtomicU32::new(0);
static APPLET: OnceLock<&'static str> = OnceLock::new();
static OUTPUTS: Mutex<Option<Outputs>> = Mutex::new(None);
static RING: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// How many lines `show logging` keeps.
pub const RING_LINES: usize = 1000;

/// Names the applet in every line and reads `BGPBOX_LOG`. Lines written
/// before it (or in tests) carry `bgpbox`.
pub fn init(applet: &'static str) {
    let _ = APPLET.set(applet);
    if let Some(l) = std::env::var("BGPBOX_LOG").ok().as_deref().and_then(Level::parse) {
        START_LEVEL.store(l as u8, Ordering::Relaxed);
        set_level(l);
    }
}

pub fn set_level(l: Level) {
    CONSOLE.store(l as u8, Ordering::Relaxed);
    recompute_max();
}

fn recompute_max() {
    let outs = OUTPUTS.lock().unwrap_or_else(|e| e.into_inner());
    let mut max = CONSOLE.load(Ordering::Relaxed);
    if let Some(o) = outs.as_ref() {
        max = max.max(o.file.as_ref().map_or(0, |f| f.1 as u8)).max(o.syslog.as_ref().map_or(0, |s| s.1 as u8));
    }
    MAX.store(max, Ordering::Relaxed);
}

/// Applies FRR's `log` settings: the file is opened (appended to) and
/// syslog's socket connected here, so that a path that cannot be written
/// is said when the config is applied. Err: what could not be done (the
/// rest is applied).
pub fn configure(s: &Sinks) -> Result<(), String> {
    let mut errors = Vec::new();
    let file = match &s.file {
        Some((path, level)) => match std::fs::OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => Some((f, *level)),
            Err(e) => {
                errors.push(format!("log file {path}: {e}"));
                None
            }
        },
        None => None,
    };
    let syslog = match s.syslog {
        Some(level) => {
            // Non-blocking: a stalled syslog daemon loses lines, it does
            // not stall bgpd.
            let sock = std::os::unix::net::UnixDatagram::unbound()
                .and_then(|u| u.connect("/dev/log").map(|()| u))
                .and_then(|u| u.set_nonblocking(true).map(|()| u));
            match sock {
                Ok(u) => Some((u, level)),
                Err(e) => {
                    errors.push(format!("log syslog: /dev/log: {e} (no syslog daemon here: the console has the log)"));
                    None
                }
            }
        }
        None => None,
    };
    let precision = s.precision.map_or(3, |p| p.min(6) as usize);
    *OUTPUTS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Outputs { file, syslog, precision });
    set_level(s.console.unwrap_or_else(|| level_from(START_LEVEL.load(Ordering::Relaxed))));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn level_from(v: u8) -> Level {
    match v {
        1 => Level::Error,
        2 => Level::Warn,
        4 => Level::Debug,
        _ => Level::Info,
    }
}

/// Turns the `debug` switches on (those given) and off (the others).
pub fn set_debugs(on: &[Debug]) {
    DEBUGS.store(on.iter().fold(0, |b, d| b | d.bit()), Ordering::Relaxed);
}

pub fn debugging(d: Debug) -> bool {
    DEBUGS.load(Ordering::Relaxed) & d.bit() != 0
}

pub fn enabled(l: Level) -> bool {
    l as u8 <= MAX.load(Ordering::Relaxed)
}

/// The last lines written (at most `RING_LINES`), oldest first.
pub fn recent() -> Vec<String> {
    RING.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
}

/// Writes one line (the macros call this).
pub fn write(level: Level, target: &str, args: fmt::Arguments) {
    if enabled(level) {
        emit(level, target, args, false);
    }
}

/// A line a `debug` switch asked for: written whatever the levels.
pub fn write_debug(target: &str, args: fmt::Arguments) {
    emit(Level::Debug, target, args, true);
}

fn emit(level: Level, target: &str, args: fmt::Arguments, forced: bool) {
    let applet = APPLET.get().copied().unwrap_or("bgpbox");
    // `init: ...` for an applet's own lines, `bgpd/fib: ...` for a part's.
    let (sep, target) = if target == applet { ("", "") } else { ("/", target) };
    let mut outs = OUTPUTS.lock().unwrap_or_else(|e| e.into_inner());
    let precision = outs.as_ref().map_or(3, |o| o.precision);
    let body = format!("{:<5} {applet}{sep}{target}: {args}", level.name());
    let line = format!("{} {body}\n", timestamp_with(SystemTime::now(), precision));
    let takes = |l: Level| forced || level <= l;
    if takes(level_from(CONSOLE.load(Ordering::Relaxed))) {
        // One write per line, so that threads do not interleave within one.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    if let Some(o) = outs.as_mut() {
        if let Some((f, l)) = o.file.as_mut() {
            if takes(*l) {
                let _ = f.write_all(line.as_bytes());
            }
        }
        if let Some((u, l)) = o.syslog.as_ref() {
            if takes(*l) {
                // RFC 3164's form, facility daemon (3); syslog adds the time.
                let _ = u.send(format!("<{}>{applet}: {body}", 3 * 8 + level.severity()).as_bytes());
            }
        }
    }
    drop(outs);
    remember(line.trim_end().to_string());
}

fn remember(line: String) {
    let mut ring = RING.lock().unwrap_or_else(|e| e.into_inner());
    if ring.len() >= RING_LINES {
        ring.pop_front();
    }
    ring.push_back(line);
}

/// RFC 3339 in UTC with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    timestamp_with(t, 3)
}

/// RFC 3339 in UTC with `digits` (0-6) after the second.
pub fn timestamp_with(t: SystemTime, digits: usize) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = bgpbox_image::render::civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    let frac = match digits {
        0 => String::new(),
        n => format!(".{:0w$}", d.subsec_micros() / 10u32.pow(6 - n.min(6) as u32), w = n.min(6)),
    };
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}{frac}Z", s / 3600, s / 60 % 60, s % 60)
}

#[macro_export]
macro_rules! error {
    ($target:expr, $($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, $target, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! warn {
    ($target:expr, $($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, $target, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! info {
    ($target:expr, $($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, $target, format_args!($($arg)*)) };
}

/// A line of a `debug` switch, formatted only when it is on.
#[macro_export]
macro_rules! debug_on {
    ($switch:expr, $target:expr, $($arg:tt)*) => {
        if $crate::log::debugging($switch) {
            $crate::log::write_debug($target, format_args!($($arg)*))
        }
    };
}

#[macro_export]
macro_rules! debug {
    ($target:expr, $($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, $target, format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(timestamp(t), "2024-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(timestamp(t), "2099-12-31T23:59:59.000Z");
    }

    #[test]
    fn precision_is_frr_s_digits() {
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_789_012);
        assert_eq!(timestamp_with(t, 0), "2024-02-29T12:34:56Z");
        assert_eq!(timestamp_with(t, 1), "2024-02-29T12:34:56.7Z");
        assert_eq!(timestamp_with(t, 6), "2024-02-29T12:34:56.789012Z");
    }

    /// The ring keeps the last lines, and a debug switch's lines pass
    /// whatever the level; switches go on and off by name.
    #[test]
    fn the_ring_and_the_switches() {
        set_debugs(&[Debug::UpdatesIn]);
        assert!(debugging(Debug::UpdatesIn) && !debugging(Debug::Keepalives));
        crate::debug_on!(Debug::UpdatesIn, "bgp", "ring test: asked for {}", 1);
        crate::debug_on!(Debug::Keepalives, "bgp", "ring test: not asked for");
        write(Level::Debug, "bgp", format_args!("ring test: below the level"));
        let lines = recent();
        assert!(lines.iter().any(|l| l.ends_with("DEBUG bgpbox/bgp: ring test: asked for 1")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("ring test: not asked for") || l.contains("below the level")));
        for i in 0..RING_LINES + 5 {
            remember(format!("ring test {i}"));
        }
        let lines = recent();
        assert_eq!(lines.len(), RING_LINES);
        assert_eq!(lines.last().unwrap(), &format!("ring test {}", RING_LINES + 4));
        set_debugs(&[]);
    }

    #[test]
    fn levels() {
        assert_eq!(Level::parse("debugging"), Some(Level::Debug));
        assert_eq!(Level::parse("Warnings"), Some(Level::Warn));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Error < Level::Debug);
    }
}
