//! The one logging facility of every applet: a line per event on stderr
//! with a UTC timestamp, a level, the applet and the subsystem, e.g.
//! `2026-11-29T23:04:09.123Z INFO  bgpd/fib: removed 3 stale routes`.
//! LXD keeps stderr as the console log (`lxc console NAME --show-log`).
//! `BGPBOX_LOG=debug|info|warn|error` sets the least level written.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
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

    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "error" | "errors" | "err" => Some(Level::Error),
            "warn" | "warning" | "warnings" => Some(Level::Warn),
            "info" | "informational" | "notice" | "notifications" => Some(Level::Info),
            "debug" | "debugging" => Some(Level::Debug),
            _ => None,
        }
    }
}

static MAX: AtomicU8 = AtomicU8::new(Level::Info as u8);
static APPLET: OnceLock<&'static str> = OnceLock::new();

/// Names the applet in every line and reads `BGPBOX_LOG`. Lines written
/// before it (or in tests) carry `bgpbox`.
pub fn init(applet: &'static str) {
    let _ = APPLET.set(applet);
    if let Some(l) = std::env::var("BGPBOX_LOG").ok().as_deref().and_then(Level::parse) {
        set_level(l);
    }
}

pub fn set_level(l: Level) {
    MAX.store(l as u8, Ordering::Relaxed);
}

pub fn enabled(l: Level) -> bool {
    l as u8 <= MAX.load(Ordering::Relaxed)
}

/// Writes one line (the macros call this).
pub fn write(level: Level, target: &str, args: fmt::Arguments) {
    if !enabled(level) {
        return;
    }
    let applet = APPLET.get().copied().unwrap_or("bgpbox");
    // `init: ...` for an applet's own lines, `bgpd/fib: ...` for a part's.
    let (sep, target) = if target == applet { ("", "") } else { ("/", target) };
    let line = format!("{} {:<5} {applet}{sep}{target}: {args}\n", timestamp(SystemTime::now()), level.name());
    // One write per line, so that threads do not interleave within one.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// RFC 3339 in UTC with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = bgpbox_image::render::civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", s / 3600, s / 60 % 60, s % 60, d.subsec_millis())
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
    fn levels() {
        assert_eq!(Level::parse("debugging"), Some(Level::Debug));
        assert_eq!(Level::parse("Warnings"), Some(Level::Warn));
        assert_eq!(Level::parse("loud"), None);
        assert!(Level::Error < Level::Debug);
    }
}
