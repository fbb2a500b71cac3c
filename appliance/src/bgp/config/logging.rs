//! FRR's `log` and `debug` lines: where bgpd's log goes and how much
//! (`log stdout|syslog|file PATH [LEVEL]`, `log timestamp precision N`),
//! and the `debug bgp ...` switches kept in the config. The console is
//! bgpd's stderr (LXD's console log): `log stdout` sets its level.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::words::{invalid, num, LineError};
use crate::log::{Debug, Level, Sinks};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    /// `log stdout [LEVEL]`: Some(None) without a level (FRR's default,
    /// debugging).
    pub stdout: Option<Option<Level>>,
    pub syslog: Option<Option<Level>>,
    pub file: Option<(String, Option<Level>)>,
    pub precision: Option<u8>,
    /// `log commands`, `log record-priority`, `log facility ...`: kept
    /// as written (bgpd logs every config change anyway).
    pub other: Vec<String>,
    pub debugs: BTreeSet<Debug>,
}

impl Logging {
    /// What `crate::log::configure` applies.
    pub fn sinks(&self) -> Sinks {
        let or_debug = |l: Option<Level>| l.unwrap_or(Level::Debug);
        Sinks {
            console: self.stdout.map(or_debug),
            file: self.file.as_ref().map(|(p, l)| (p.clone(), or_debug(*l))),
            syslog: self.syslog.map(or_debug),
            precision: self.precision,
        }
    }

    /// A `[no] log ...` line (the words after `log`).
    pub fn log_line(&mut self, no: bool, w: &[&str], line: &str) -> Result<(), LineError> {
        let level = |l: Option<&&str>| -> Result<Option<Level>, LineError> {
            match l {
                None => Ok(None),
                Some(l) => Level::parse(l).map(Some).ok_or_else(|| {
                    LineError::Invalid(format!(
                        "{l}: expected a level (emergencies, alerts, critical, errors, warnings, notifications, \
                         informational, debugging)"
                    ))
                }),
            }
        };
        match (no, w) {
            (false, ["stdout", l @ ..]) if l.len() <= 1 => self.stdout = Some(level(l.first())?),
            (false, ["syslog", l @ ..]) if l.len() <= 1 => self.syslog = Some(level(l.first())?),
            (false, ["file", path, l @ ..]) if l.len() <= 1 => self.file = Some((path.to_string(), level(l.first())?)),
            (false, ["timestamp", "precision", n]) => {
                let n: u8 = num(n, "digits (0 to 6)")?;
                if n > 6 {
                    return invalid(format!("log timestamp precision {n}: 0 to 6"));
                }
                self.precision = Some(n);
            }
            (true, ["stdout", ..]) => self.stdout = None,
            (true, ["syslog", ..]) => self.syslog = None,
            (true, ["file", ..]) => self.file = None,
            (true, ["timestamp", "precision", ..]) => self.precision = None,
            (
                false,
                ["commands" | "record-priority" | "facility" | "unique-id" | "filtered-file" | "filter-text", ..],
            ) => {
                let l = line.trim().to_string();
                if !self.other.contains(&l) {
                    self.other.push(l);
                }
            }
            (true, [what, ..]) => self.other.retain(|l| l.split_whitespace().nth(1) != Some(what)),
            _ => {
                return invalid(
                    "expected `log stdout|syslog [LEVEL]`, `log file PATH [LEVEL]` or `log timestamp precision N`",
                )
            }
        }
        Ok(())
    }

    /// FRR's lines, in its order.
    pub fn render(&self, s: &mut String) {
        let lv = |l: &Option<Level>| l.map(|l| format!(" {}", l.frr_name())).unwrap_or_default();
        if let Some((p, l)) = &self.file {
            let _ = writeln!(s, "log file {p}{}", lv(l));
        }
        if let Some(l) = &self.stdout {
            let _ = writeln!(s, "log stdout{}", lv(l));
        }
        if let Some(l) = &self.syslog {
            let _ = writeln!(s, "log syslog{}", lv(l));
        }
        for l in &self.other {
            let _ = writeln!(s, "{l}");
        }
        if let Some(p) = self.precision {
            let _ = writeln!(s, "log timestamp precision {p}");
        }
    }

    /// The `debug` lines of the running config, as FRR writes them.
    pub fn render_debugs(&self, s: &mut String) {
        for line in debug_lines(&self.debugs) {
            let _ = writeln!(s, "{line}");
        }
    }
}

/// The switches a `debug ...` line names (after `debug`); None: not one
/// bgpbox has.
pub fn switches(w: &[&str]) -> Option<Vec<Debug>> {
    Some(match w {
        ["bgp", "neighbor-events"] => vec![Debug::NeighborEvents],
        ["bgp", "updates"] => vec![Debug::UpdatesIn, Debug::UpdatesOut],
        ["bgp", "updates", "in"] => vec![Debug::UpdatesIn],
        ["bgp", "updates", "out"] => vec![Debug::UpdatesOut],
        ["bgp", "keepalives"] => vec![Debug::Keepalives],
        ["bgp", "nht"] => vec![Debug::Nht],
        ["bgp", "zebra"] => vec![Debug::Zebra],
        ["bfd", ..] => vec![Debug::Bfd],
        _ => return None,
    })
}

/// How FRR writes a set of switches (`debug bgp updates` for both ways).
pub fn debug_lines(on: &BTreeSet<Debug>) -> Vec<&'static str> {
    let mut v = Vec::new();
    let both = on.contains(&Debug::UpdatesIn) && on.contains(&Debug::UpdatesOut);
    for d in on {
        v.push(match d {
            Debug::NeighborEvents => "debug bgp neighbor-events",
            Debug::UpdatesIn if both => "debug bgp updates",
            Debug::UpdatesOut if both => continue,
            Debug::UpdatesIn => "debug bgp updates in",
            Debug::UpdatesOut => "debug bgp updates out",
            Debug::Keepalives => "debug bgp keepalives",
            Debug::Nht => "debug bgp nht",
            Debug::Zebra => "debug bgp zebra",
            Debug::Bfd => "debug bfd peer",
        });
    }
    v
}
