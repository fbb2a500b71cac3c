//! `show ip prefix-list` and `show route-map`, in the layout FRR's vtysh
//! prints for bgpd (each block headed by the daemon, `BGP:`).

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::{pretty, View};
use crate::bgp::packet::Afi;

pub fn prefix_lists(v: &View, afi: Afi, name: Option<&str>, json: bool) -> Result<String, String> {
    let kw = if afi == Afi::Ipv4 { "ip" } else { "ipv6" };
    let lists: Vec<_> =
        v.speaker.config().prefix_lists.iter().filter(|((a, n), _)| *a == afi && name.is_none_or(|x| x == n)).collect();
    if let (Some(n), true) = (name, lists.is_empty()) {
        return Err(format!("% Can't find specified prefix-list: {n}"));
    }
    if json {
        let mut js = Map::new();
        for ((_, n), l) in &lists {
            let entries: Vec<Value> = l
                .entries
                .iter()
                .map(|(seq, e)| {
                    let mut v = json!({"sequenceNumber": seq, "type": e.action.to_string()});
                    match e.prefix {
                        None => v["prefix"] = json!("any"),
                        Some(p) => v["prefix"] = json!(p.to_string()),
                    }
                    if let Some(g) = e.ge {
                        v["minimumPrefixLength"] = json!(g);
                    }
                    if let Some(l) = e.le {
                        v["maximumPrefixLength"] = json!(l);
                    }
                    v
                })
                .collect();
            let family = if afi == Afi::Ipv4 { "IPv4" } else { "IPv6" };
            js.insert(n.clone(), json!({"addressFamily": family, "entries": entries}));
        }
        return Ok(pretty(&json!({"BGP": js})));
    }
    let mut s = String::new();
    for ((_, n), l) in lists {
        let _ = writeln!(s, "BGP: {kw} prefix-list {n}: {} entries", l.entries.len());
        for (seq, e) in &l.entries {
            let _ = writeln!(s, "   seq {seq} {e}");
        }
    }
    Ok(s)
}

pub fn route_maps(v: &View, name: Option<&str>, json: bool) -> Result<String, String> {
    let maps: Vec<_> = v.speaker.config().route_maps.iter().filter(|(n, _)| name.is_none_or(|x| x == *n)).collect();
    if let (Some(n), true) = (name, maps.is_empty()) {
        return Err(format!("% Can't find route-map: {n}"));
    }
    if json {
        let mut js = Map::new();
        for (n, m) in &maps {
            let (total, _) = m.invoked.get(0);
            let rules: Vec<Value> = m
                .entries
                .iter()
                .map(|(seq, e)| {
                    json!({
                        "sequenceNumber": seq,
                        "type": e.action.to_string(),
                        "invoked": m.invoked.get(*seq).1,
                        "matchClauses": e.matches.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                        "setClauses": e.sets.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                        "action": "Exit routemap",
                    })
                })
                .collect();
            js.insert(
                n.to_string(),
                json!({"invoked": total, "disabledOptimization": false, "processedChange": false, "rules": rules}),
            );
        }
        return Ok(pretty(&json!({"BGP": js})));
    }
    let mut s = String::from("BGP:\n");
    for (n, m) in maps {
        let (total, _) = m.invoked.get(0);
        let _ = writeln!(s, "route-map: {n} Invoked: {total} Optimization: enabled Processed Change: false");
        for (seq, e) in &m.entries {
            let _ = writeln!(s, " {}, sequence {seq} Invoked {}", e.action, m.invoked.get(*seq).1);
            s.push_str("  Match clauses:\n");
            for x in &e.matches {
                let _ = writeln!(s, "    {x}");
            }
            s.push_str("  Set clauses:\n");
            for x in &e.sets {
                let _ = writeln!(s, "    {x}");
            }
            s.push_str("  Call clause:\n  Action:\n    Exit routemap\n");
        }
    }
    Ok(s)
}
