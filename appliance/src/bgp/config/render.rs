//! Writes a `Config` back in FRR's `show running-config` layout.

use std::fmt::Write;

use super::model::{AllowasIn, Bgp, Config, FamilyField, Field, GrMode, Neighbor, NeighborFamily};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;
use crate::bgp::policy::{Members, OnMatch};

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
    c.logging.render(&mut s);
    if !c.logging.debugs.is_empty() {
        s.push_str("!\n");
        c.logging.render_debugs(&mut s);
        s.push_str("!\n");
    }
    for r in &c.statics {
        let kw = if r.prefix.addr().is_ipv4() { "ip" } else { "ipv6" };
        let _ = write!(s, "{kw} route {} {}", r.prefix, r.via);
        if let Some(t) = r.tag {
            let _ = write!(s, " tag {t}");
        }
        if let Some(d) = r.distance {
            let _ = write!(s, " {d}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "!");
    if let Some(b) = &c.bgp {
        router_bgp(&mut s, b);
    }
    policy(&mut s, c);
    if let Some(b) = &c.bfd {
        super::bfd::render(&mut s, b);
    }
    s.push_str("end\n");
    s
}

fn router_bgp(s: &mut String, b: &Bgp) {
    let _ = writeln!(s, "router bgp {}", b.asn);
    if let Some(id) = b.router_id {
        let _ = writeln!(s, " bgp router-id {id}");
    }
    if let Some(id) = b.cluster_id {
        let _ = writeln!(s, " bgp cluster-id {id}");
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
    match b.graceful_restart {
        GrMode::Restart => s.push_str(" bgp graceful-restart\n"),
        GrMode::Disable => s.push_str(" bgp graceful-restart-disable\n"),
        GrMode::Helper => {}
    }
    if let Some(t) = b.gr_restart_time {
        let _ = writeln!(s, " bgp graceful-restart restart-time {t}");
    }
    if let Some(t) = b.gr_stalepath_time {
        let _ = writeln!(s, " bgp graceful-restart stalepath-time {t}");
    }
    if let Some(l) = b.listen_limit {
        let _ = writeln!(s, " bgp listen limit {l}");
    }
    for (name, g) in &b.groups {
        let _ = writeln!(s, " neighbor {name} peer-group");
        neighbor(s, name, g, &|f| g.explicit.has(f));
        for (r, _) in b.listen_ranges.iter().filter(|(_, x)| x == name) {
            let _ = writeln!(s, " bgp listen range {r} peer-group {name}");
        }
    }
    neighbors(s, b);
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        address_family(s, b, afi);
    }
    let _ = writeln!(s, "exit\n!");
}

/// The neighbors under `router bgp`, in FRR's layout: an interface
/// neighbor's first line carries its group, else its remote-as; a group
/// member writes only what it sets itself.
fn neighbors(s: &mut String, b: &Bgp) {
    for n in &b.neighbors {
        let who = n.id.to_string();
        let mut said_group = false;
        let mut said_as = false;
        if n.id.interface().is_some() {
            let _ = write!(s, " neighbor {who} interface{}", if n.v6only { " v6only" } else { "" });
            if let Some(g) = &n.peer_group {
                let _ = write!(s, " peer-group {g}");
                said_group = true;
            } else if n.explicit.has(Field::RemoteAs) {
                let _ = write!(s, " remote-as {}", remote_as(n));
                said_as = true;
            }
            s.push('\n');
        }
        match &n.peer_group {
            // A member: what it sets itself; the rest is its group's.
            Some(g) => {
                if n.explicit.has(Field::RemoteAs) {
                    let _ = writeln!(s, " neighbor {who} remote-as {}", remote_as(n));
                }
                if !said_group {
                    let _ = writeln!(s, " neighbor {who} peer-group {g}");
                }
                neighbor(s, &who, n, &|f| f != Field::RemoteAs && n.explicit.has(f));
            }
            None => neighbor(s, &who, n, &|f| f != Field::RemoteAs || (!said_as && n.explicit.has(f))),
        }
    }
}

fn address_family(s: &mut String, b: &Bgp, afi: Afi) {
    let mut body = String::new();
    let fam = b.family(afi);
    for net in &fam.networks {
        let _ = writeln!(body, "  network {net}");
    }
    let default_on = afi == Afi::Ipv4 && b.default_ipv4_unicast;
    for (name, g) in &b.groups {
        let keep = |f| g.explicit.has(Field::Family(afi, f));
        neighbor_family(&mut body, name, g.family(afi, b.default_ipv4_unicast), default_on, &keep);
    }
    for n in &b.neighbors {
        let who = n.id.to_string();
        let f = n.family(afi, b.default_ipv4_unicast);
        match n.peer_group {
            Some(_) => neighbor_family(&mut body, &who, f, default_on, &|x| n.explicit.has(Field::Family(afi, x))),
            None => neighbor_family(&mut body, &who, f, default_on, &|_| true),
        }
    }
    for (source, r) in &fam.redistribute {
        let _ = write!(body, "  redistribute {}", source.name());
        if let Some(m) = r.metric {
            let _ = write!(body, " metric {m}");
        }
        if let Some(rm) = &r.route_map {
            let _ = write!(body, " route-map {rm}");
        }
        body.push('\n');
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

/// The lists, then the route-maps, in FRR's order.
fn policy(s: &mut String, c: &Config) {
    let mut lists = String::new();
    for (name, list) in &c.as_path_lists {
        for (seq, e) in &list.entries {
            let _ = writeln!(lists, "bgp as-path access-list {name} seq {seq} {} {}", e.action, e.pattern.text());
        }
    }
    for (kw, all) in [("community-list", &c.community_lists), ("large-community-list", &c.large_community_lists)] {
        for (name, list) in all {
            let expanded = list.entries.values().any(|e| matches!(e.members, Members::Expanded(_)));
            let kind = match (name.parse::<u16>().is_ok(), expanded) {
                (true, _) => "",
                (false, true) => "expanded ",
                (false, false) => "standard ",
            };
            for (seq, e) in &list.entries {
                let _ = writeln!(lists, "bgp {kw} {kind}{name} seq {seq} {e}");
            }
        }
    }
    if !lists.is_empty() {
        let _ = writeln!(s, "{lists}!");
    }
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
            if let Some(d) = &e.description {
                let _ = writeln!(s, " description {d}");
            }
            for m in &e.matches {
                let _ = writeln!(s, " match {m}");
            }
            for set in &e.sets {
                let _ = writeln!(s, " set {set}");
            }
            if let Some(c) = &e.call {
                let _ = writeln!(s, " call {c}");
            }
            match e.on_match {
                Some(OnMatch::Next) => s.push_str(" on-match next\n"),
                Some(OnMatch::Goto(n)) => {
                    let _ = writeln!(s, " on-match goto {n}");
                }
                None => {}
            }
            let _ = writeln!(s, "exit\n!");
        }
    }
}

fn remote_as(n: &Neighbor) -> String {
    match n.remote_as {
        RemoteAs::Asn(x) => x.to_string(),
        RemoteAs::Internal => "internal".into(),
        RemoteAs::External => "external".into(),
    }
}

/// A neighbor's (or group's) settings under `router bgp`, those `keep`
/// lets through (a member's or group's own; a plain neighbor's all).
fn neighbor(s: &mut String, a: &str, n: &Neighbor, keep: &dyn Fn(Field) -> bool) {
    if keep(Field::RemoteAs) {
        let _ = writeln!(s, " neighbor {a} remote-as {}", remote_as(n));
    }
    neighbor_options(s, a, n, keep);
}

fn neighbor_options(s: &mut String, a: &str, n: &Neighbor, keep: &dyn Fn(Field) -> bool) {
    if let (Some(d), true) = (&n.description, keep(Field::Description)) {
        let _ = writeln!(s, " neighbor {a} description {d}");
    }
    if let Some(i) = &n.interface {
        let _ = writeln!(s, " neighbor {a} interface {i}");
    }
    if n.passive && keep(Field::Passive) {
        let _ = writeln!(s, " neighbor {a} passive");
    }
    if let (Some(p), true) = (&n.password, keep(Field::Password)) {
        let _ = writeln!(s, " neighbor {a} password {p}");
    }
    match n.shutdown.as_deref().filter(|_| keep(Field::Shutdown)) {
        Some("") => {
            let _ = writeln!(s, " neighbor {a} shutdown");
        }
        Some(m) => {
            let _ = writeln!(s, " neighbor {a} shutdown message {m}");
        }
        None => {}
    }
    if let (Some(h), true) = (n.ebgp_multihop, keep(Field::EbgpMultihop)) {
        let _ = writeln!(s, " neighbor {a} ebgp-multihop {h}");
    }
    if let (Some(h), true) = (n.ttl_security_hops, keep(Field::TtlSecurity)) {
        let _ = writeln!(s, " neighbor {a} ttl-security hops {h}");
    }
    if let (Some(u), true) = (&n.update_source, keep(Field::UpdateSource)) {
        let _ = writeln!(s, " neighbor {a} update-source {u}");
    }
    if let (Some((k, h)), true) = (n.timers, keep(Field::Timers)) {
        let _ = writeln!(s, " neighbor {a} timers {k} {h}");
    }
    if let (Some(c), true) = (n.connect_retry, keep(Field::ConnectRetry)) {
        let _ = writeln!(s, " neighbor {a} timers connect {c}");
    }
    if let (Some(l), true) = (n.local_as, keep(Field::LocalAs)) {
        let opts = match (l.no_prepend, l.replace_as) {
            (true, true) => " no-prepend replace-as",
            (true, false) => " no-prepend",
            _ => "",
        };
        let _ = writeln!(s, " neighbor {a} local-as {}{opts}", l.asn);
    }
    if n.disable_connected_check && keep(Field::DisableConnectedCheck) {
        let _ = writeln!(s, " neighbor {a} disable-connected-check");
    }
    if let (Some(i), true) = (n.advertisement_interval, keep(Field::AdvertisementInterval)) {
        let _ = writeln!(s, " neighbor {a} advertisement-interval {i}");
    }
    if !n.enforce_first_as && keep(Field::EnforceFirstAs) {
        let _ = writeln!(s, " no neighbor {a} enforce-first-as");
    }
    if n.extended_nexthop && keep(Field::ExtendedNexthop) {
        let _ = writeln!(s, " neighbor {a} capability extended-nexthop");
    }
    match n.bfd.as_ref().filter(|_| keep(Field::Bfd)) {
        Some(None) => {
            let _ = writeln!(s, " neighbor {a} bfd");
        }
        Some(Some(p)) => {
            let _ = writeln!(s, " neighbor {a} bfd profile {p}");
        }
        None => {}
    }
    if let (Some(m), true) = (n.graceful_restart, keep(Field::GracefulRestart)) {
        let kind = match m {
            GrMode::Restart => "",
            GrMode::Helper => "-helper",
            GrMode::Disable => "-disable",
        };
        let _ = writeln!(s, " neighbor {a} graceful-restart{kind}");
    }
}

fn neighbor_family(
    s: &mut String,
    a: &str,
    f: &NeighborFamily,
    default_active: bool,
    keep: &dyn Fn(FamilyField) -> bool,
) {
    if f.activate != default_active && keep(FamilyField::Activate) {
        let _ = writeln!(s, "  {}neighbor {a} activate", if f.activate { "" } else { "no " });
    }
    if f.route_reflector_client && keep(FamilyField::RouteReflectorClient) {
        let _ = writeln!(s, "  neighbor {a} route-reflector-client");
    }
    if f.next_hop_self && keep(FamilyField::NextHopSelf) {
        let force = if f.next_hop_self_force { " force" } else { "" };
        let _ = writeln!(s, "  neighbor {a} next-hop-self{force}");
    }
    match f.allowas_in.filter(|_| keep(FamilyField::AllowasIn)) {
        Some(AllowasIn::Times(3)) => {
            let _ = writeln!(s, "  neighbor {a} allowas-in");
        }
        Some(AllowasIn::Times(n)) => {
            let _ = writeln!(s, "  neighbor {a} allowas-in {n}");
        }
        Some(AllowasIn::Origin) => {
            let _ = writeln!(s, "  neighbor {a} allowas-in origin");
        }
        None => {}
    }
    if f.soft_reconfiguration && keep(FamilyField::SoftReconfiguration) {
        let _ = writeln!(s, "  neighbor {a} soft-reconfiguration inbound");
    }
    if keep(FamilyField::SendCommunity) {
        let n = f.no_send;
        if n.standard && n.extended && n.large {
            let _ = writeln!(s, "  no neighbor {a} send-community all");
        } else {
            for (off, kind) in [(n.standard, ""), (n.extended, " extended"), (n.large, " large")] {
                if off {
                    let _ = writeln!(s, "  no neighbor {a} send-community{kind}");
                }
            }
        }
    }
    if f.as_override && keep(FamilyField::AsOverride) {
        let _ = writeln!(s, "  neighbor {a} as-override");
    }
    if let (Some(r), true) = (f.remove_private_as, keep(FamilyField::RemovePrivateAs)) {
        let all = if r.all { " all" } else { "" };
        let replace = if r.replace { " replace-AS" } else { "" };
        let _ = writeln!(s, "  neighbor {a} remove-private-AS{all}{replace}");
    }
    if f.default_originate && keep(FamilyField::DefaultOriginate) {
        let _ = writeln!(s, "  neighbor {a} default-originate");
    }
    if let (Some(m), true) = (f.maximum_prefix, keep(FamilyField::MaximumPrefix)) {
        let _ = writeln!(s, "  neighbor {a} maximum-prefix {m}");
    }
    if let (Some(l), true) = (&f.prefix_list_in, keep(FamilyField::PrefixListIn)) {
        let _ = writeln!(s, "  neighbor {a} prefix-list {l} in");
    }
    if let (Some(l), true) = (&f.prefix_list_out, keep(FamilyField::PrefixListOut)) {
        let _ = writeln!(s, "  neighbor {a} prefix-list {l} out");
    }
    if let (Some(l), true) = (&f.route_map_in, keep(FamilyField::RouteMapIn)) {
        let _ = writeln!(s, "  neighbor {a} route-map {l} in");
    }
    if let (Some(l), true) = (&f.route_map_out, keep(FamilyField::RouteMapOut)) {
        let _ = writeln!(s, "  neighbor {a} route-map {l} out");
    }
}
