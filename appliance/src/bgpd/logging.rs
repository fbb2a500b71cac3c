//! bgpd's log as the config and vtysh set it: the config's `log` lines
//! applied to `crate::log` whenever the config changes, the `debug`
//! switches (the config's, and those turned on or off in vtysh's exec
//! mode on top, which a config change keeps), and FRR's `show logging`
//! and `show debugging`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::bgp::config::{debug_lines, Config, Logging};
use crate::log::{self, Debug};

#[derive(Default)]
pub struct LogState {
    generation: Option<u64>,
    /// Switches set in exec mode: on or off over the config's.
    term: BTreeMap<Debug, bool>,
    config_debugs: BTreeSet<Debug>,
}

impl LogState {
    /// After a config change (`generation` moved): its `log` lines and
    /// switches take effect. Err: a sink that could not be opened.
    pub fn sync(&mut self, cfg: &Config, generation: u64) -> Option<String> {
        if self.generation == Some(generation) {
            return None;
        }
        self.generation = Some(generation);
        self.config_debugs = cfg.logging.debugs.clone();
        self.apply();
        log::configure(&cfg.logging.sinks()).err()
    }

    /// The switches on now.
    pub fn on(&self) -> BTreeSet<Debug> {
        let mut on = self.config_debugs.clone();
        for (d, v) in &self.term {
            if *v {
                on.insert(*d);
            } else {
                on.remove(d);
            }
        }
        on
    }

    /// `[no] debug ...` in exec mode.
    pub fn toggle(&mut self, which: &[Debug], on: bool) {
        for d in which {
            self.term.insert(*d, on);
        }
        self.apply();
    }

    fn apply(&self) {
        let on: Vec<Debug> = self.on().into_iter().collect();
        log::set_debugs(&on);
    }
}

/// FRR's `show debugging`: bgpd's switches (and BFD's, which bgpd runs).
pub fn show_debugging(on: &BTreeSet<Debug>) -> String {
    let mut s = String::from("BGP debugging status:\n");
    let updates = match (on.contains(&Debug::UpdatesIn), on.contains(&Debug::UpdatesOut)) {
        (true, true) => Some(""),
        (true, false) => Some(" (inbound)"),
        (false, true) => Some(" (outbound)"),
        (false, false) => None,
    };
    for (d, what) in [
        (Debug::Keepalives, "keepalives"),
        (Debug::NeighborEvents, "neighbor-events"),
        (Debug::Nht, "next-hop tracking"),
    ] {
        if on.contains(&d) {
            let _ = writeln!(s, "  BGP {what} debugging is on");
        }
    }
    if let Some(dir) = updates {
        let _ = writeln!(s, "  BGP updates debugging is on{dir}");
    }
    if on.contains(&Debug::Zebra) {
        s.push_str("  BGP zebra debugging is on\n");
    }
    s.push('\n');
    if on.contains(&Debug::Bfd) {
        s.push_str("BFD debugging status:\n  Peer events debugging is on\n\n");
    }
    s
}

/// FRR's `show logging` for bgpd, then where bgpbox's console goes and
/// the last lines kept (at most `n`).
pub fn show_logging(l: &Logging, on: &BTreeSet<Debug>, n: usize) -> String {
    let sinks = l.sinks();
    let level = |x: log::Level| x.frr_name();
    let mut s = String::from("Logging configuration for bgpd:\n");
    let _ = match sinks.syslog {
        Some(x) => writeln!(s, "Syslog logging: level {}, facility daemon, ident bgpd", level(x)),
        None => writeln!(s, "Syslog logging: disabled"),
    };
    let _ = match sinks.console {
        Some(x) => writeln!(s, "Stdout logging: level {}", level(x)),
        None => writeln!(s, "Stdout logging: disabled"),
    };
    let _ = match &sinks.file {
        Some((p, x)) => writeln!(s, "File logging: level {}, filename {p}", level(*x)),
        None => writeln!(s, "File logging: disabled"),
    };
    let _ = writeln!(s, "Protocol name: BGP\nRecord priority: disabled");
    let _ = writeln!(s, "Timestamp precision: {}", sinks.precision.unwrap_or(3));
    let console = sinks.console.map_or_else(|| "informational (the default)".to_string(), |x| level(x).to_string());
    let _ = writeln!(s, "Console (stderr: `lxc console NAME --show-log`): level {console}");
    let lines = debug_lines(on);
    let _ = writeln!(s, "Debugging: {}", if lines.is_empty() { "off".to_string() } else { lines.join(", ") });
    let recent = log::recent();
    let from = recent.len().saturating_sub(n);
    let _ = writeln!(s, "\nLast {} lines:", recent.len() - from);
    for line in &recent[from..] {
        let _ = writeln!(s, "{line}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_from_the_config_and_vtysh() {
        let cfg = crate::bgp::config::parse("t", "debug bgp neighbor-events\ndebug bgp updates in\n").unwrap();
        let mut st = LogState::default();
        assert_eq!(st.sync(&cfg, 1), None);
        let want = |v: &[Debug]| v.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(st.on(), want(&[Debug::NeighborEvents, Debug::UpdatesIn]));
        st.toggle(&[Debug::NeighborEvents], false);
        st.toggle(&[Debug::Keepalives], true);
        assert_eq!(st.on(), want(&[Debug::UpdatesIn, Debug::Keepalives]));
        // A config change keeps what vtysh turned on or off.
        assert_eq!(st.sync(&cfg, 2), None);
        assert_eq!(st.on(), want(&[Debug::UpdatesIn, Debug::Keepalives]));
        let d = show_debugging(&st.on());
        assert_eq!(
            d,
            "BGP debugging status:\n  BGP keepalives debugging is on\n  BGP updates debugging is on (inbound)\n\n"
        );
        st.toggle(&Debug::ALL, false);
        assert_eq!(show_debugging(&st.on()), "BGP debugging status:\n\n");
    }

    #[test]
    fn show_logging_says_frr_s_lines_then_the_console_and_the_ring() {
        let cfg = crate::bgp::config::parse("t", "log syslog informational\nlog timestamp precision 3\n").unwrap();
        let out = show_logging(&cfg.logging, &BTreeSet::new(), 5);
        for l in [
            "Logging configuration for bgpd:",
            "Syslog logging: level informational, facility daemon, ident bgpd",
            "Stdout logging: disabled",
            "File logging: disabled",
            "Timestamp precision: 3",
            "Debugging: off",
        ] {
            assert!(out.lines().any(|x| x == l), "{l:?} not in\n{out}");
        }
        assert!(out.contains("\nLast "), "{out}");
    }
}
