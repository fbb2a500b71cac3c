//! Writes a `Config` back in FRR's `show running-config` layout.

use std::fmt::Write;

use super::model::{Bgp, Config, Neighbor, NeighborFamily};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;

pub fn render(c: &Config) -> String {
    let mut s = String::new();
    if let Some(v) = &c.frr_version {
        let _ = writeln!(s, "frr version {v}");
    }
    if let Some(d) = &c.frr_defaults {
        let _ = writeln!(s, "frr defaults {d}");
    }
    if let Some(h) = &c.hostname {
        let _ = writeln!(s, "hostname {h}");
    }
    for l in &c.log {
        let _ = writeln!(s, "{l}");
    }
    let _ = writeln!(s, "!");
    if let Some(b) = &c.bgp {
        router_bgp(&mut s, b);
    }
    policy(&mut s, c);
    s.push_str("end\n");
    s
}

fn router_bgp(s: &mut String, b: &Bgp) {
    let _ = writeln!(s, "router bgp {}", b.asn);
    if let Some(id) = b.router_id {
        let _ = writeln!(s, " bgp router-id {id}");
    }
    if b.log_neighbor_changes {
        let _ = writeln!(s, " bgp log-neighbor-changes");
    }
    if !b.ebgp_requires_policy {
        let _ = writeln!(s, " no bgp ebgp-requires-policy");
    }
    if !b.default_ipv4_unicast {
        let _ = writeln!(s, " no bgp default ipv4-unicast");
    }
    if !b.network_import_check {
        let _ = writeln!(s, " no bgp network import-check");
    }
    match b.deterministic_med {
        Some(true) => s.push_str(" bgp deterministic-med\n"),
        Some(false) => s.push_str(" no bgp deterministic-med\n"),
        None => {}
    }
    if b.compare_routerid {
        s.push_str(" bgp bestpath compare-routerid\n");
    }
    if b.multipath_relax {
        s.push_str(" bgp bestpath as-path multipath-relax\n");
    }
    if let Some((k, h)) = b.timers {
        let _ = writeln!(s, " timers bgp {k} {h}");
    }
    for n in &b.neighbors {
        neighbor(s, n);
    }
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        address_family(s, b, afi);
    }
    let _ = writeln!(s, "exit\n!");
}

fn address_family(s: &mut String, b: &Bgp, afi: Afi) {
    let mut body = String::new();
    let fam = b.family(afi);
    for net in &fam.networks {
        let _ = writeln!(body, "  network {net}");
    }
    for n in &b.neighbors {
        let default_on = afi == Afi::Ipv4 && b.default_ipv4_unicast;
        neighbor_family(&mut body, n, afi, n.family(afi, b.default_ipv4_unicast), default_on);
    }
    if let Some(p) = fam.maximum_paths {
        let _ = writeln!(body, "  maximum-paths {p}");
    }
    if let Some(p) = fam.maximum_paths_ibgp {
        let _ = writeln!(body, "  maximum-paths ibgp {p}");
    }
    if !body.is_empty() {
        let name = if afi == Afi::Ipv4 { "ipv4" } else { "ipv6" };
        let _ = write!(s, " !\n address-family {name} unicast\n{body} exit-address-family\n");
    }
}

/// Prefix-lists and route-maps.
fn policy(s: &mut String, c: &Config) {
    for ((afi, name), list) in &c.prefix_lists {
        let kw = if *afi == Afi::Ipv4 { "ip" } else { "ipv6" };
        for (seq, e) in &list.entries {
            let _ = writeln!(s, "{kw} prefix-list {name} seq {seq} {e}");
        }
    }
    if !c.prefix_lists.is_empty() {
        let _ = writeln!(s, "!");
    }
    for (name, map) in &c.route_maps {
        for (seq, e) in &map.entries {
            let _ = writeln!(s, "route-map {name} {} {seq}", e.action);
            for m in &e.matches {
                let _ = writeln!(s, " match {m}");
            }
            for set in &e.sets {
                let _ = writeln!(s, " set {set}");
            }
            let _ = writeln!(s, "exit\n!");
        }
    }
}

fn neighbor(s: &mut String, n: &Neighbor) {
    let a = n.addr;
    let remote = match n.remote_as {
        RemoteAs::Asn(x) => x.to_string(),
        RemoteAs::Internal => "internal".into(),
        RemoteAs::External => "external".into(),
    };
    let _ = writeln!(s, " neighbor {a} remote-as {remote}");
    if let Some(d) = &n.description {
        let _ = writeln!(s, " neighbor {a} description {d}");
    }
    if n.passive {
        let _ = writeln!(s, " neighbor {a} passive");
    }
    if let Some(p) = &n.password {
        let _ = writeln!(s, " neighbor {a} password {p}");
    }
    match n.shutdown.as_deref() {
        Some("") => {
            let _ = writeln!(s, " neighbor {a} shutdown");
        }
        Some(m) => {
            let _ = writeln!(s, " neighbor {a} shutdown message {m}");
        }
        None => {}
    }
    if let Some(h) = n.ebgp_multihop {
        let _ = writeln!(s, " neighbor {a} ebgp-multihop {h}");
    }
    if let Some(h) = n.ttl_security_hops {
        let _ = writeln!(s, " neighbor {a} ttl-security hops {h}");
    }
    if let Some(u) = &n.update_source {
        let _ = writeln!(s, " neighbor {a} update-source {u}");
    }
    if let Some((k, h)) = n.timers {
        let _ = writeln!(s, " neighbor {a} timers {k} {h}");
    }
    if let Some(c) = n.connect_retry {
        let _ = writeln!(s, " neighbor {a} timers connect {c}");
    }
}

fn neighbor_family(s: &mut String, n: &Neighbor, _afi: Afi, f: &NeighborFamily, default_active: bool) {
    let a = n.addr;
    if f.activate != default_active {
        let _ = writeln!(s, "  {}neighbor {a} activate", if f.activate { "" } else { "no " });
    }
    if f.next_hop_self {
        let _ = writeln!(s, "  neighbor {a} next-hop-self");
    }
    if f.default_originate {
        let _ = writeln!(s, "  neighbor {a} default-originate");
    }
    if let Some(m) = f.maximum_prefix {
        let _ = writeln!(s, "  neighbor {a} maximum-prefix {m}");
    }
    if let Some(l) = &f.prefix_list_in {
        let _ = writeln!(s, "  neighbor {a} prefix-list {l} in");
    }
    if let Some(l) = &f.prefix_list_out {
        let _ = writeln!(s, "  neighbor {a} prefix-list {l} out");
    }
    if let Some(l) = &f.route_map_in {
        let _ = writeln!(s, "  neighbor {a} route-map {l} in");
    }
    if let Some(l) = &f.route_map_out {
        let _ = writeln!(s, "  neighbor {a} route-map {l} out");
    }
}
