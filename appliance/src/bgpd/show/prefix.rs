//! `show bgp [ipv4|ipv6] [unicast] PREFIX [json]`: one prefix's paths in
//! FRR's detail layout ("BGP routing table entry for ..."), with the
//! attributes the table view leaves out: communities, large communities,
//! ORIGINATOR_ID and CLUSTER_LIST, weight, last update.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use serde_json::{json, Value};

use super::{afi_word, next_hop_text, origin_name, pretty, View};
use crate::bgp::packet::Afi;
use crate::bgp::policy::{communities_text, large_text};
use crate::bgp::rib::{weight, Path, LOCAL};

/// The prefix itself, or the longest one that holds an address.
pub fn prefix_detail(v: &View, afi: Afi, asked: IpNet, json_out: bool) -> Result<String, String> {
    let table = v.speaker.table(afi);
    let found = if asked.prefix_len() == asked.max_prefix_len() {
        table.iter_after(None).filter(|(p, _, _)| p.contains(&asked.addr())).max_by_key(|(p, _, _)| p.prefix_len())
    } else {
        Some(asked).map(|p| (p, table.paths(&p), table.selected(&p).len())).filter(|(_, paths, _)| !paths.is_empty())
    };
    let Some((prefix, paths, n)) = found else {
        return Err("% Network not in table".into());
    };
    let advertised: Vec<String> =
        v.speaker.configured().filter(|p| v.speaker.advertises(p, &prefix)).map(|p| p.name().to_string()).collect();
    if json_out {
        let ps: Vec<Value> = paths.iter().enumerate().map(|(i, p)| path_json(v, afi, p, i, n)).collect();
        let to: serde_json::Map<String, Value> = advertised.iter().map(|a| (a.clone(), json!({}))).collect();
        return Ok(pretty(&json!({
            "prefix": prefix.to_string(), "version": 0, "advertisedTo": to, "paths": ps,
        })));
    }
    let mut s = format!("BGP routing table entry for {prefix}, version 0\n");
    let best = if paths.is_empty() { String::new() } else { ", best #1".into() };
    let _ = writeln!(s, "Paths: ({} available{best}, table default)", paths.len());
    if advertised.is_empty() {
        s.push_str("  Not advertised to any peer\n");
    } else {
        let _ = writeln!(s, "  Advertised to non peer-group peers:\n  {}", advertised.join(" "));
    }
    for (i, p) in paths.iter().enumerate() {
        path_text(v, afi, p, i, n, &mut s);
    }
    Ok(s)
}

fn path_text(v: &View, afi: Afi, p: &Path, i: usize, n: usize, s: &mut String) {
    let a = &p.attrs;
    let path = a.as_path().to_string();
    let _ = writeln!(s, "  {}", if path.is_empty() { "Local" } else { &path });
    let peer = v.speaker.peer_by_id(p.peer);
    let (from, id) = match peer {
        Some(x) => (x.name().to_string(), x.negotiated().map(|n| n.peer.bgp_id.to_string()).unwrap_or_default()),
        None => (if afi == Afi::Ipv4 { "0.0.0.0" } else { "::" }.to_string(), v.speaker.router_id().to_string()),
    };
    let _ = writeln!(s, "    {} from {from} ({id})", next_hop_text(p, afi));
    if let Some(ll) = a.link_local().filter(|_| p.peer != LOCAL) {
        let _ = writeln!(s, "    ({ll}) (used)");
    }
    let mut line = format!("      Origin {}", origin_name(a.origin));
    if let Some(m) = a.med.get().or((p.peer == LOCAL).then_some(0)) {
        let _ = write!(line, ", metric {m}");
    }
    if let Some(lp) = a.local_pref.get() {
        let _ = write!(line, ", localpref {lp}");
    }
    if weight(p) != 0 {
        let _ = write!(line, ", weight {}", weight(p));
    }
    line.push_str(", valid");
    line.push_str(match peer {
        None => ", sourced, local",
        Some(x) if x.ebgp(v.speaker.local_as()) => ", external",
        Some(_) => ", internal",
    });
    if i > 0 && i < n {
        line.push_str(", multipath");
    }
    if i == 0 {
        line.push_str(", best");
    }
    let _ = writeln!(s, "{line}");
    if !a.communities().is_empty() {
        let _ = writeln!(s, "      Community: {}", communities_text(a.communities()));
    }
    if !a.large_communities().is_empty() {
        let _ = writeln!(s, "      Large Community: {}", large_text(a.large_communities()));
    }
    if let Some(o) = a.originator_id() {
        let cl: Vec<String> = a.cluster_list().iter().map(|c| c.to_string()).collect();
        let _ = writeln!(s, "      Originator: {o}, Cluster list: {}", cl.join(" "));
    }
    let _ = writeln!(s, "      Last update: {}", ctime(updated(v, p)));
}

fn path_json(v: &View, afi: Afi, p: &Path, i: usize, n: usize) -> Value {
    let a = &p.attrs;
    let peer = v.speaker.peer_by_id(p.peer);
    let kind = match peer {
        None => "local",
        Some(x) if x.ebgp(v.speaker.local_as()) => "external",
        Some(_) => "internal",
    };
    let mut j = json!({
        "aspath": {"string": a.as_path().to_string(), "length": a.as_path().len()},
        "origin": origin_name(a.origin),
        "valid": true,
        "weight": weight(p),
        "multipath": i > 0 && i < n,
        "lastUpdate": {"epoch": updated(v, p).duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()},
        "nexthops": match a.link_local().filter(|_| p.peer != LOCAL) {
            Some(ll) => json!([
                {"ip": next_hop_text(p, afi), "afi": afi_word(afi), "scope": "global", "accessible": true},
                {"ip": ll.to_string(), "afi": afi_word(afi), "scope": "link-local", "accessible": true, "used": true},
            ]),
            None => json!([{"ip": next_hop_text(p, afi), "afi": afi_word(afi), "accessible": true, "used": true}]),
        },
        "peer": {
            "peerId": peer.map_or("0.0.0.0".to_string(), |x| x.name().to_string()),
            "routerId": peer.and_then(|x| x.negotiated()).map_or(v.speaker.router_id(), |n| n.peer.bgp_id).to_string(),
            "type": kind,
        },
    });
    if i == 0 {
        j["bestpath"] = json!({"overall": true});
    }
    if let Some(m) = a.med.get() {
        j["metric"] = json!(m);
    }
    if let Some(l) = a.local_pref.get() {
        j["locPrf"] = json!(l);
    }
    if !a.communities().is_empty() {
        j["community"] = json!({"string": communities_text(a.communities())});
    }
    if !a.large_communities().is_empty() {
        j["largeCommunity"] = json!({"string": large_text(a.large_communities())});
    }
    if let Some(o) = a.originator_id() {
        j["originatorId"] = json!(o.to_string());
        let cl: Vec<String> = a.cluster_list().iter().map(|c| c.to_string()).collect();
        j["clusterList"] = json!({"list": cl});
    }
    j
}

/// When the path was last changed, on the wall clock.
fn updated(v: &View, p: &Path) -> SystemTime {
    let at = v.speaker.epoch() + Duration::from_secs(p.since as u64);
    SystemTime::now() - v.now.saturating_duration_since(at)
}

/// C's ctime() form, as FRR prints it: `Mon Nov 30 01:47:55 2026`.
fn ctime(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let days = (secs / 86_400) as i64;
    let (y, m, d) = bgpbox_image::render::civil_from_days(days);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let s = secs % 86_400;
    format!(
        "{} {} {d:2} {:02}:{:02}:{:02} {y}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m as usize).saturating_sub(1) % 12],
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_as_c_prints_it() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_002_075);
        assert_eq!(ctime(t), "Mon Nov 30 01:27:55 2026");
        assert_eq!(ctime(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
    }
}
