//! `show bgp peer-group [NAME] [json]`, in FRR 8.4's layout.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::{pretty, View};
use crate::bgp::config::{Field, Neighbor};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;

pub fn peer_groups(v: &View, name: Option<&str>, json: bool) -> Result<String, String> {
    let Some(b) = &v.speaker.config().bgp else { return Err("% No BGP instance configured".into()) };
    let groups: Vec<(&String, &Neighbor)> = b.groups.iter().filter(|(n, _)| name.is_none_or(|x| x == *n)).collect();
    if let (Some(n), true) = (name, groups.is_empty()) {
        return Err(format!("% No such peer-group {n}"));
    }
    let mut text = String::new();
    let mut js = Map::new();
    for (gname, g) in groups {
        let remote = g.explicit.has(Field::RemoteAs).then_some(match g.remote_as {
            RemoteAs::Asn(a) => a,
            RemoteAs::Internal => b.asn,
            // FRR shows no AS for `remote-as external`.
            RemoteAs::External => 0,
        });
        let internal = remote == Some(b.asn);
        let families: Vec<&str> = [Afi::Ipv4, Afi::Ipv6]
            .into_iter()
            .filter(|a| g.family(*a, b.default_ipv4_unicast).activate)
            .map(|a| a.name())
            .collect();
        let members: Vec<(String, bool, &str)> = v
            .speaker
            .configured()
            .filter(|p| p.config().peer_group.as_deref() == Some(gname.as_str()))
            .map(|p| (p.name().to_string(), p.is_dynamic(), p.session().state().name()))
            .collect();
        let kind = if internal { "internal" } else { "external" };
        let mut gj = Map::new();
        match remote.filter(|a| *a != 0) {
            Some(a) => {
                let _ = writeln!(text, "\nBGP peer-group {gname}, remote AS {a}");
                gj.insert("remoteAs".into(), json!(a));
            }
            None => {
                let _ = writeln!(text, "\nBGP peer-group {gname}");
            }
        }
        let _ = writeln!(text, "  Peer-group type is {kind}");
        let fams: String = families.iter().map(|f| format!(" {f};")).collect();
        let _ = writeln!(text, "  Configured address-families:{fams}");
        gj.insert("type".into(), json!(kind));
        gj.insert("addressFamiliesConfigured".into(), json!(families));
        let ranges: Vec<&ipnet::IpNet> = b.listen_ranges.iter().filter(|(_, g)| g == gname).map(|(r, _)| r).collect();
        let mut rj = Map::new();
        for (af, v6) in [("IPv4", false), ("IPv6", true)] {
            let of: Vec<String> = ranges.iter().filter(|r| r.addr().is_ipv6() == v6).map(|r| r.to_string()).collect();
            if !of.is_empty() {
                let _ = writeln!(text, "  {} {af} listen range(s)", of.len());
                for r in &of {
                    let _ = writeln!(text, "    {r}");
                }
                rj.insert(af.to_string(), json!(of));
            }
        }
        if !rj.is_empty() {
            gj.insert("dynamicRanges".into(), Value::Object(rj));
        }
        if !members.is_empty() {
            text.push_str("  Peer-group members:\n");
            let mut mj = Map::new();
            for (addr, dynamic, state) in &members {
                let _ = writeln!(text, "    {addr} {} {state} ", if *dynamic { "(dynamic)" } else { "" });
                mj.insert(addr.clone(), json!({ "status": state, "dynamic": dynamic }));
            }
            gj.insert("members".into(), Value::Object(mj));
        }
        js.insert(gname.clone(), Value::Object(gj));
    }
    Ok(if json { pretty(&Value::Object(js)) } else { text })
}
