//! `show bfd peers [brief|json]` and `show bfd peer X [json]`, in FRR's
//! bfdd layout.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::Instant;

use serde_json::{json, Value};

use super::pretty;
use crate::bfd::{Session, State};

/// One session as the shows see it.
pub struct BfdRow<'a> {
    pub peer: IpAddr,
    pub local: Option<IpAddr>,
    /// Asked for by a BGP neighbor only (FRR's "dynamic" peer type).
    pub dynamic: bool,
    pub session: &'a Session,
}

pub fn bfd_peers(rows: &[BfdRow], now: Instant, brief: bool, json_out: bool) -> String {
    if json_out {
        let list: Vec<Value> = rows.iter().map(|r| row_json(r, now)).collect();
        return pretty(&Value::Array(list));
    }
    if brief {
        let mut s = format!("Session count: {}\n", rows.len());
        let _ = writeln!(s, "{:<10} {:<40} {:<40} {:<15}", "SessionId", "LocalAddress", "PeerAddress", "Status");
        let _ = writeln!(s, "{:<10} {:<40} {:<40} {:<15}", "=========", "============", "===========", "======");
        for r in rows {
            let local = r.local.map_or("unknown".to_string(), |a| a.to_string());
            let _ = writeln!(
                s,
                "{:<10} {:<40} {:<40} {:<15}",
                r.session.local_discr(),
                local,
                r.peer,
                r.session.state().name()
            );
        }
        return s;
    }
    let mut s = String::from("BFD Peers:\n");
    for r in rows {
        s.push_str(&row_text(r, now));
    }
    s
}

fn row_text(r: &BfdRow, now: Instant) -> String {
    let ses = r.session;
    let t = &ses.timers;
    let mut s = format!("\tpeer {}", r.peer);
    if let Some(l) = r.local {
        let _ = write!(s, " local-address {l}");
    }
    let _ = writeln!(s, " vrf default");
    let _ = writeln!(s, "\t\tID: {}", ses.local_discr());
    let _ = writeln!(s, "\t\tRemote ID: {}", ses.remote_discr());
    let _ = writeln!(s, "\t\t{} mode", if t.passive { "Passive" } else { "Active" });
    let _ = writeln!(s, "\t\tStatus: {}", ses.state().name());
    let secs = now.saturating_duration_since(ses.since()).as_secs();
    let _ = writeln!(s, "\t\t{}: {secs} second(s)", if ses.state() == State::Up { "Uptime" } else { "Downtime" });
    let _ = writeln!(s, "\t\tDiagnostics: {}", ses.diag());
    let _ = writeln!(s, "\t\tRemote diagnostics: {}", ses.remote().map_or("ok".to_string(), |c| c.diag.to_string()));
    let _ = writeln!(s, "\t\tPeer Type: {}", if r.dynamic { "dynamic" } else { "configured" });
    let _ = writeln!(s, "\t\tLocal timers:");
    let _ = writeln!(s, "\t\t\tDetect-multiplier: {}", t.detect_mult);
    let _ = writeln!(s, "\t\t\tReceive interval: {}ms", t.receive_interval);
    let _ = writeln!(s, "\t\t\tTransmission interval: {}ms", t.transmit_interval);
    let _ = writeln!(s, "\t\t\tEcho receive interval: disabled");
    let _ = writeln!(s, "\t\t\tEcho transmission interval: disabled");
    if let Some(c) = ses.remote() {
        let _ = writeln!(s, "\t\tRemote timers:");
        let _ = writeln!(s, "\t\t\tDetect-multiplier: {}", c.detect_mult);
        let _ = writeln!(s, "\t\t\tReceive interval: {}ms", c.required_min_rx / 1000);
        let _ = writeln!(s, "\t\t\tTransmission interval: {}ms", c.desired_min_tx / 1000);
        let _ = writeln!(s, "\t\t\tEcho receive interval: {}ms", c.required_min_echo_rx / 1000);
    }
    s.push('\n');
    s
}

fn row_json(r: &BfdRow, now: Instant) -> Value {
    let ses = r.session;
    let t = &ses.timers;
    let secs = now.saturating_duration_since(ses.since()).as_secs();
    let mut j = json!({
        "multihop": false,
        "peer": r.peer.to_string(),
        "vrf": "default",
        "id": ses.local_discr(),
        "remote-id": ses.remote_discr(),
        "passive-mode": t.passive,
        "status": ses.state().name(),
        "diagnostic": ses.diag().to_string(),
        "remote-diagnostic": ses.remote().map_or("ok".to_string(), |c| c.diag.to_string()),
        "receive-interval": t.receive_interval,
        "transmit-interval": t.transmit_interval,
        "echo-receive-interval": 0,
        "echo-transmit-interval": 0,
        "detect-multiplier": t.detect_mult,
    });
    j[if ses.state() == State::Up { "uptime" } else { "downtime" }] = json!(secs);
    if let Some(l) = r.local {
        j["local"] = json!(l.to_string());
    }
    if let Some(c) = ses.remote() {
        j["remote-receive-interval"] = json!(c.required_min_rx / 1000);
        j["remote-transmit-interval"] = json!(c.desired_min_tx / 1000);
        j["remote-echo-receive-interval"] = json!(c.required_min_echo_rx / 1000);
        j["remote-detect-multiplier"] = json!(c.detect_mult);
    }
    j
}
