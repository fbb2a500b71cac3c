//! `show health` (what `healthcheck` reports) and `show bgp memory`.

use std::fmt::Write;
use std::mem::size_of;

use serde_json::{json, Map, Value};

use super::{pretty, View};
use crate::bgp::fsm::State;
use crate::bgp::packet::Afi;
use crate::bgp::rib::Path;
use crate::bgpd::fib::NotInstalled;

/// Healthy when every configured neighbor that is not shut down is
/// Established, every selected BGP route is in the FIB (or rightly held
/// back), and every `network` is originated and advertised to every
/// established neighbor.
pub fn health(v: &View, image_config: Option<&std::path::Path>) -> String {
    let sp = v.speaker;
    let mut failures = Vec::new();
    let mut neighbors = Map::new();
    for p in sp.configured() {
        let s = p.session();
        let st = s.state();
        let since = v.now.saturating_duration_since(s.since()).as_secs();
        neighbors.insert(
            p.name().to_string(),
            json!({"state": st.name(), "for": since, "lastError": s.last_error, "shutdown": p.config().shutdown.is_some()}),
        );
        if p.config().shutdown.is_some() || st == State::Established {
            continue;
        }
        let why = match (&s.last_error, p.overflow()) {
            (_, true) => ", stopped by maximum-prefix (clear bgp to restart)".to_string(),
            (Some(e), _) => format!(", last error: {e}"),
            (None, _) => String::new(),
        };
        // A neighbor never up is down since bgpd started, whatever its
        // retries did to the state's own timer.
        let down = match s.established_count {
            0 => format!(
                "never up ({} now) in {}s since bgpd started",
                st.name(),
                v.now.saturating_duration_since(v.started).as_secs()
            ),
            _ => format!("{} for {since}s", st.name()),
        };
        failures.push(format!("neighbor {}: {down}{why}", p.name()));
    }
    let mut rejected = 0;
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        for (prefix, _) in sp.fib_routes(afi) {
            if let Err(NotInstalled::Rejected(e)) = v.fib.installed(&prefix) {
                rejected += 1;
                if rejected <= 10 {
                    failures.push(format!("route {prefix}: not in the FIB: {e}"));
                }
            }
        }
        failures.extend(network_failures(v, afi));
    }
    if rejected > 10 {
        failures.push(format!("... and {} more routes not in the FIB", rejected - 10));
    }
    let notes = image_config.and_then(|p| config_note(v, p)).into_iter().collect::<Vec<_>>();
    pretty(&json!({
        "healthy": failures.is_empty(),
        "failures": failures,
        "notes": notes,
        "neighbors": Value::Object(neighbors)
    }))
}

/// The running config against the one the image was built with: never a
/// silent difference (an upgrade that kept a saved config says so here).
fn config_note(v: &View, image: &std::path::Path) -> Option<String> {
    let built = std::fs::read_to_string(image).ok()?;
    let running = crate::bgp::config::render(v.speaker.config());
    let (added, removed) = crate::bgp::config::diff(&built, &running).ok()?;
    if added.is_empty() && removed.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = added.iter().map(|a| format!("+ {a}")).collect();
    parts.extend(removed.iter().map(|r| format!("- {r}")));
    Some(format!("config: the running config differs from the image's ({}): {}", image.display(), parts.join(", ")))
}

fn network_failures(v: &View, afi: Afi) -> Vec<String> {
    let sp = v.speaker;
    let Some(b) = &sp.config().bgp else { return Vec::new() };
    let def_v4 = b.default_ipv4_unicast;
    let mut failures = Vec::new();
    for net in &b.family(afi).networks {
        if !sp.is_originated(net) {
            failures.push(format!("network {net}: not advertised: no such route in the kernel (import check)"));
            continue;
        }
        for p in sp.configured().filter(|p| p.is_up() && p.config().active_families(def_v4).contains(&afi)) {
            if !sp.advertises(p, net) {
                failures.push(format!("network {net}: not advertised to {} (outbound policy?)", p.name()));
            }
        }
    }
    failures
}

/// FRR's counts, with bytes as our structures size them (the element
/// sizes times the counts; allocator overhead aside).
pub fn memory(v: &View) -> String {
    let sp = v.speaker;
    let tables = [sp.table(Afi::Ipv4), sp.table(Afi::Ipv6)];
    let nodes: usize = tables.iter().map(|t| t.len()).sum();
    let paths: usize = tables.iter().flat_map(|t| t.iter().map(|(_, p, _)| p.len())).sum();
    let adj_out: usize = sp.configured().map(|p| p.advertised(Afi::Ipv4) + p.advertised(Afi::Ipv6)).sum();
    let sets = sp.attr_sets();
    let mut s = String::new();
    let _ = writeln!(s, "{nodes} RIB nodes, using {} bytes of memory", nodes * 24);
    let _ = writeln!(s, "{paths} BGP routes, using {} bytes of memory", paths * size_of::<Path>());
    // What a neighbor was sent is a bit in the RIB's entries: the bytes
    // are those of changes waiting and of routes sent from outside the RIB.
    let bytes: usize = sp.configured().map(|p| p.adj_out_bytes()).sum();
    let _ = writeln!(s, "{adj_out} Adj-Out entries, using {bytes} bytes of memory");
    let _ = writeln!(s, "{sets} BGP attributes, using {} bytes of memory", sp.attr_bytes());
    // Each kept route out holds its key's set and its own (both counted
    // above when the RIB has them too) in a map entry.
    let (groups, kept) = sp.update_groups();
    let _ = writeln!(s, "{groups} update-groups, {kept} routes out kept, using {} bytes of memory", kept * 48);
    let _ = writeln!(s, "{} peers", sp.configured().count());
    s
}
