//! `router bgp` and its address families: the neighbor and family
//! commands of FRR's bgpd.

use std::net::{IpAddr, Ipv4Addr};

use super::model::{
    AllowasIn, Bgp, Config, Field, GrMode, LocalAs, Neighbor, NeighborFamily, Redistribute, RemovePrivate, Source,
};
use super::peer_group::{self, Target};
use super::types::NeighborId;
use super::words::{asn, invalid, num, prefix, rest_after, LineError, Node, R};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;

/// The instance's own settings (`bgp ...`, `timers bgp`); None: not one.
fn knob(bgp: &mut Bgp, w: &[&str]) -> Option<Result<(), LineError>> {
    let (no, w) = match w {
        ["no", rest @ ..] => (true, rest),
        w => (false, w),
    };
    match (no, w) {
        (false, ["bgp", "router-id", id]) => match num::<Ipv4Addr>(id, "an IPv4 address") {
            Ok(id) => bgp.router_id = Some(id),
            Err(e) => return Some(Err(e)),
        },
        (true, ["bgp", "router-id", ..]) => bgp.router_id = None,
        (no, ["bgp", "ebgp-requires-policy"]) => bgp.ebgp_requires_policy = !no,
        (no, ["bgp", "default", "ipv4-unicast"]) => bgp.default_ipv4_unicast = !no,
        (no, ["bgp", "network", "import-check"]) => bgp.network_import_check = !no,
        (no, ["bgp", "log-neighbor-changes"]) => bgp.log_neighbor_changes = !no,
        (no, ["bgp", "bestpath", "as-path", "multipath-relax"]) => bgp.multipath_relax = !no,
        (no, ["bgp", "bestpath", "compare-routerid"]) => bgp.compare_routerid = !no,
        (no, ["bgp", "deterministic-med"]) => bgp.deterministic_med = Some(!no),
        (false, ["bgp", "cluster-id", id]) => match num::<Ipv4Addr>(id, "an IPv4 address") {
            Ok(id) => bgp.cluster_id = Some(id),
            Err(e) => return Some(Err(e)),
        },
        (true, ["bgp", "cluster-id", ..]) => bgp.cluster_id = None,
        (no, ["bgp", "listen", "range", p, rest @ ..]) => return Some(listen_range(bgp, no, p, rest)),
        (no, ["bgp", "graceful-restart"]) => bgp.graceful_restart = if no { GrMode::Helper } else { GrMode::Restart },
        (no, ["bgp", "graceful-restart-disable"]) => {
            bgp.graceful_restart = if no { GrMode::Helper } else { GrMode::Disable }
        }
        (false, ["bgp", "graceful-restart", kind @ ("restart-time" | "stalepath-time"), n]) => {
            let v = match num::<u16>(n, "seconds (1 to 4095)") {
                Ok(v @ 1..=4095) => v,
                Ok(_) => return Some(invalid(format!("{kind} {n}: 1 to 4095 seconds"))),
                Err(e) => return Some(Err(e)),
            };
            match *kind {
                "restart-time" => bgp.gr_restart_time = Some(v),
                _ => bgp.gr_stalepath_time = Some(v),
            }
        }
        (true, ["bgp", "graceful-restart", "restart-time", ..]) => bgp.gr_restart_time = None,
        (true, ["bgp", "graceful-restart", "stalepath-time", ..]) => bgp.gr_stalepath_time = None,
        (false, ["bgp", "listen", "limit", n]) => match num::<u32>(n, "a neighbor count (1 to 65535)") {
            Ok(n @ 1..=65535) => bgp.listen_limit = Some(n),
            Ok(_) => return Some(invalid(format!("bgp listen limit {n}: 1 to 65535"))),
            Err(e) => return Some(Err(e)),
        },
        (true, ["bgp", "listen", "limit", ..]) => bgp.listen_limit = None,
        (false, ["timers", "bgp", k, h]) => match timers(k, h) {
            Ok(t) => bgp.timers = Some(t),
            Err(e) => return Some(Err(e)),
        },
        (true, ["timers", "bgp", ..]) => bgp.timers = None,
        // FRR writes this into running configs; it changes nothing here.
        (_, ["bgp", "suppress-duplicates"]) => {}
        _ => return None,
    }
    Some(Ok(()))
}

/// `[no] bgp listen range PREFIX peer-group NAME`.
fn listen_range(bgp: &mut Bgp, no: bool, p: &str, rest: &[&str]) -> Result<(), LineError> {
    // A link-local range is taken too (FRR refuses it): each dynamic
    // neighbor is tied to the interface its connection came over.
    let range = prefix(p)?;
    let group = match rest {
        ["peer-group", g] => *g,
        [] if no => {
            bgp.listen_ranges.retain(|(r, _)| *r != range);
            return Ok(());
        }
        _ => return invalid("expected `bgp listen range PREFIX peer-group NAME`"),
    };
    if no {
        bgp.listen_ranges.retain(|(r, g)| !(*r == range && g == group));
        return Ok(());
    }
    if !bgp.groups.contains_key(group) {
        return invalid(format!("no peer-group {group} (create it with `neighbor {group} peer-group`)"));
    }
    if let Some((_, other)) = bgp.listen_ranges.iter().find(|(r, g)| *r == range && g != group) {
        return invalid(format!("{range} is already a listen range of peer-group {other}"));
    }
    if !bgp.listen_ranges.iter().any(|(r, _)| *r == range) {
        bgp.listen_ranges.push((range, group.to_string()));
    }
    Ok(())
}

/// `[no] redistribute connected|static|kernel [metric N] [route-map NAME]`.
pub(super) fn redistribute(bgp: &mut Bgp, afi: Afi, w: &[&str]) -> Result<(), LineError> {
    let (no, w) = match w {
        ["no", rest @ ..] => (true, rest),
        w => (false, w),
    };
    let [_, source, rest @ ..] = w else { return invalid("expected `redistribute connected|static|kernel`") };
    let mut opts: &[&str] = rest;
    let source = match *source {
        "connected" => Source::Connected,
        "static" => Source::Static,
        "kernel" => Source::Kernel,
        s => return invalid(format!("redistribute {s}: bgpbox redistributes connected, static and kernel routes")),
    };
    let fam = bgp.families.entry(afi).or_default();
    if no {
        fam.redistribute.remove(&source);
        return Ok(());
    }
    let mut r = Redistribute::default();
    loop {
        match *opts {
            ["metric", m, ref rest @ ..] => {
                r.metric = Some(num(m, "a metric (0 to 4294967295)")?);
                opts = rest;
            }
            ["route-map", name, ref rest @ ..] => {
                r.route_map = Some(name.to_string());
                opts = rest;
            }
            [] => break,
            ref rest => return invalid(format!("unexpected `{}`", rest.join(" "))),
        }
    }
    fam.redistribute.insert(source, r);
    Ok(())
}

/// `[no] neighbor X send-community [standard|extended|large|both|all]`:
/// FRR sends every kind unless told not to.
fn send_community(f: &mut NeighborFamily, no: bool, kinds: &[&str]) -> Result<(), LineError> {
    let (standard, extended, large) = match kinds {
        [] | ["standard"] => (true, false, false),
        ["extended"] => (false, true, false),
        ["large"] => (false, false, true),
        ["both"] => (true, true, false),
        ["all"] => (true, true, true),
        k => {
            return invalid(format!("send-community {}: expected standard, extended, large, both or all", k.join(" ")))
        }
    };
    let s = &mut f.no_send;
    s.standard = if standard { no } else { s.standard };
    s.extended = if extended { no } else { s.extended };
    s.large = if large { no } else { s.large };
    Ok(())
}

/// `remove-private-AS [all] [replace-AS]`.
fn remove_private(opts: &[&str]) -> Result<RemovePrivate, LineError> {
    let mut r = RemovePrivate { all: false, replace: false };
    for o in opts {
        match *o {
            "all" => r.all = true,
            x if x.eq_ignore_ascii_case("replace-as") => r.replace = true,
            x => return invalid(format!("remove-private-AS {x}: expected all or replace-AS")),
        }
    }
    Ok(r)
}

/// `local-as N [no-prepend [replace-as]]`.
fn local_as(a: &str, opts: &[&str]) -> Result<LocalAs, LineError> {
    let asn = asn(a)?;
    match opts {
        [] => Ok(LocalAs { asn, no_prepend: false, replace_as: false }),
        ["no-prepend"] => Ok(LocalAs { asn, no_prepend: true, replace_as: false }),
        ["no-prepend", "replace-as"] => Ok(LocalAs { asn, no_prepend: true, replace_as: true }),
        o => invalid(format!("local-as {a} {}: expected [no-prepend [replace-as]]", o.join(" "))),
    }
}

/// `timers K H`, for a neighbor or the instance.
pub(super) fn timers(k: &str, h: &str) -> Result<(u16, u16), LineError> {
    let k: u16 = num(k, "a keepalive interval (0 to 65535)")?;
    let h: u16 = num(h, "a hold time (0 or 3 to 65535)")?;
    if h != 0 && h < 3 {
        return invalid(format!("hold time {h}: must be 0 or at least 3"));
    }
    Ok((k, h))
}

/// `neighbor ADDR|GROUP remote-as ...`: a new neighbor, or a new remote-as.
fn remote_as(bgp: &mut Bgp, who: &str, r: &str) -> Result<(), LineError> {
    let remote = match r {
        "internal" => RemoteAs::Internal,
        "external" => RemoteAs::External,
        a => RemoteAs::Asn(asn(a)?),
    };
    let n = match who.parse::<IpAddr>() {
        Ok(addr) if bgp.neighbor(&addr.into()).is_none() => {
            bgp.neighbors.push(Neighbor::new(addr.into(), remote));
            return Ok(());
        }
        _ => peer_group::settings(bgp, &peer_group::target(bgp, who)?)?,
    };
    n.remote_as = remote;
    n.explicit.0.insert(Field::RemoteAs);
    Ok(())
}

pub(super) fn router_bgp(cfg: &mut Config, w: &[&str], line: &str) -> R {
    let bgp = cfg.bgp.as_mut().ok_or(LineError::Unknown)?;
    if let Some(r) = knob(bgp, w) {
        return r.map(|()| None);
    }
    match w {
        // FRR takes it under `router bgp` too, for IPv4 unicast.
        ["redistribute", ..] | ["no", "redistribute", ..] => redistribute(bgp, Afi::Ipv4, w)?,
        ["address-family", fam] | ["address-family", fam, "unicast"] => {
            let afi = match *fam {
                "ipv4" => Afi::Ipv4,
                "ipv6" => Afi::Ipv6,
                f => return invalid(format!("address-family {f}: only ipv4 and ipv6 unicast")),
            };
            return Ok(Some(Node::AddressFamily(afi)));
        }
        ["neighbor", who, "interface", rest @ ..] | ["no", "neighbor", who, "interface", rest @ ..] => {
            interface(bgp, w[0] == "no", who, rest)?;
        }
        ["neighbor", who, "peer-group", group @ ..] | ["no", "neighbor", who, "peer-group", group @ ..] => {
            peer_group::command(bgp, w[0] == "no", who, group.first().copied())?;
        }
        ["neighbor", who, "remote-as", r] => remote_as(bgp, who, r)?,
        ["no", "neighbor", who, "remote-as", ..] if bgp.neighbor(&NeighborId::Interface(who.to_string())).is_some() => {
            // An interface neighbor stays, waiting for a remote-as (FRR).
            if let Some(n) = bgp.neighbor_mut(&NeighborId::Interface(who.to_string())) {
                n.explicit.0.remove(&Field::RemoteAs);
            }
        }
        ["no", "neighbor", who] | ["no", "neighbor", who, "remote-as", ..] => match peer_group::target(bgp, who)? {
            Target::Neighbor(id) => bgp.neighbors.retain(|n| n.id != id),
            Target::Group(g) => {
                if let Some(n) = bgp.groups.get_mut(&g) {
                    n.explicit.0.remove(&Field::RemoteAs);
                }
            }
        },
        ["neighbor", who, rest @ ..] | ["no", "neighbor", who, rest @ ..] => {
            let no = w[0] == "no";
            let t = peer_group::target(bgp, who)?;
            let n = peer_group::settings(bgp, &t)?;
            neighbor(n, no, rest, line)?;
            peer_group::note(n, no, rest, Afi::Ipv4);
        }
        ["exit"] => return Ok(Some(Node::Config)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

/// `neighbor IFNAME interface [v6only] [remote-as R | peer-group G]`, an
/// unnumbered neighbor (its address is learnt on the link), and
/// `neighbor ADDR interface IFNAME`, the interface of a link-local address.
fn interface(bgp: &mut Bgp, no: bool, who: &str, rest: &[&str]) -> Result<(), LineError> {
    if let Ok(addr) = who.parse::<IpAddr>() {
        let n = peer_group::settings(bgp, &Target::Neighbor(addr.into()))?;
        n.interface = match (no, rest) {
            (false, [ifname]) => Some(ifname.to_string()),
            (true, _) => None,
            _ => return invalid(format!("expected `neighbor {who} interface IFNAME`")),
        };
        return Ok(());
    }
    let id = NeighborId::Interface(who.to_string());
    if no {
        bgp.neighbors.retain(|n| n.id != id);
        return Ok(());
    }
    if bgp.groups.contains_key(who) {
        return invalid(format!("{who} is a peer-group: an interface neighbor needs another name"));
    }
    let (v6only, rest) = match rest {
        ["v6only", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let existed = bgp.neighbor(&id).is_some();
    if !existed {
        // Not yet a remote-as: FRR takes one on a later line too.
        let mut n = Neighbor::new(id.clone(), RemoteAs::External);
        n.explicit.0.remove(&Field::RemoteAs);
        bgp.neighbors.push(n);
    }
    let done = match rest {
        [] => Ok(()),
        ["remote-as", r] => remote_as(bgp, who, r),
        ["peer-group", g] => peer_group::bind(bgp, id.clone(), g),
        _ => invalid(format!("expected `neighbor {who} interface [v6only] [remote-as ASN | peer-group NAME]`")),
    };
    if done.is_err() && !existed {
        bgp.neighbors.retain(|n| n.id != id);
    }
    done?;
    if let Some(n) = bgp.neighbor_mut(&id) {
        n.v6only = v6only;
    }
    Ok(())
}

fn neighbor(n: &mut Neighbor, no: bool, w: &[&str], line: &str) -> Result<(), LineError> {
    let skip = if no { 3 } else { 2 };
    match (no, w) {
        (false, ["description", ..]) => n.description = Some(rest_after(line, 3).to_string()),
        (true, ["description", ..]) => n.description = None,
        (false, ["timers", "connect", s]) => n.connect_retry = Some(num(s, "seconds (1 to 65535)")?),
        (true, ["timers", "connect", ..]) => n.connect_retry = None,
        (false, ["timers", k, h]) => n.timers = Some(timers(k, h)?),
        (true, ["timers", ..]) => n.timers = None,
        (false, ["shutdown"]) => n.shutdown = Some(String::new()),
        (false, ["shutdown", "message", ..]) => n.shutdown = Some(rest_after(line, skip + 2).to_string()),
        (true, ["shutdown", ..]) => n.shutdown = None,
        (false, ["password", ..]) => {
            let p = rest_after(line, skip + 1);
            if p.len() > 80 {
                return invalid("TCP-MD5 passwords are at most 80 characters");
            }
            n.password = Some(p.to_string());
        }
        (true, ["password", ..]) => n.password = None,
        (false, ["ttl-security", "hops", h]) => {
            let h: u8 = num(h, "a hop count (1 to 254)")?;
            if h == 0 || h == 255 {
                return invalid("ttl-security hops must be 1 to 254");
            }
            n.ttl_security_hops = Some(h);
        }
        (true, ["ttl-security", ..]) => n.ttl_security_hops = None,
        (false, ["ebgp-multihop"]) => n.ebgp_multihop = Some(255),
        (false, ["ebgp-multihop", h]) => n.ebgp_multihop = Some(num(h, "a hop count (1 to 255)")?),
        (true, ["ebgp-multihop", ..]) => n.ebgp_multihop = None,
        (false, ["update-source", s]) => n.update_source = Some(s.to_string()),
        (true, ["update-source", ..]) => n.update_source = None,
        (no, ["passive"]) => n.passive = !no,
        (false, ["local-as", a, opts @ ..]) => n.local_as = Some(local_as(a, opts)?),
        (true, ["local-as", ..]) => n.local_as = None,
        (no, ["disable-connected-check"]) => n.disable_connected_check = !no,
        (false, ["advertisement-interval", s]) => {
            n.advertisement_interval = Some(num(s, "seconds (0 to 600)")?).filter(|s| *s <= 600);
            if n.advertisement_interval.is_none() {
                return invalid(format!("advertisement-interval {s}: 0 to 600 seconds"));
            }
        }
        (true, ["advertisement-interval", ..]) => n.advertisement_interval = None,
        (no, ["enforce-first-as"]) => n.enforce_first_as = !no,
        (no, ["capability", "extended-nexthop"]) => n.extended_nexthop = !no,
        (false, ["bfd"]) => n.bfd = Some(None),
        (false, ["bfd", "profile", p]) => n.bfd = Some(Some(p.to_string())),
        (true, ["bfd", ..]) => n.bfd = None,
        (no, [kind @ ("graceful-restart" | "graceful-restart-helper" | "graceful-restart-disable")]) => {
            n.graceful_restart = (!no).then_some(match *kind {
                "graceful-restart" => GrMode::Restart,
                "graceful-restart-helper" => GrMode::Helper,
                _ => GrMode::Disable,
            });
        }
        (_, ["capability", c, ..]) => {
            return invalid(format!(
                "capability {c}: bgpbox negotiates route refresh, 4-octet AS and multiprotocol itself"
            ))
        }
        // The per-family commands may also be written under `router bgp`
        // (FRR's ipv4 unicast default).
        (no, rest) => return neighbor_family(n.families.entry(Afi::Ipv4).or_insert_with(ipv4_default), no, rest),
    }
    if n.ttl_security_hops.is_some() && n.ebgp_multihop.is_some() {
        return invalid("ttl-security and ebgp-multihop cannot be used together");
    }
    Ok(())
}

fn ipv4_default() -> NeighborFamily {
    NeighborFamily { activate: true, ..Default::default() }
}

pub(super) fn address_family(cfg: &mut Config, afi: Afi, w: &[&str]) -> R {
    let bgp = cfg.bgp.as_mut().ok_or(LineError::Unknown)?;
    match w {
        ["network", p] => {
            let p = prefix(p)?;
            if Afi::of(&p) != afi {
                return invalid(format!("{p} is not an {afi:?} prefix"));
            }
            let f = bgp.families.entry(afi).or_default();
            if !f.networks.contains(&p) {
                f.networks.push(p);
            }
        }
        ["no", "network", p] => {
            let p = prefix(p)?;
            bgp.families.entry(afi).or_default().networks.retain(|n| *n != p);
        }
        ["maximum-paths", n] => {
            bgp.families.entry(afi).or_default().maximum_paths = Some(paths(n)?);
        }
        ["maximum-paths", "ibgp", n] => {
            bgp.families.entry(afi).or_default().maximum_paths_ibgp = Some(paths(n)?);
        }
        ["no", "maximum-paths", ..] => bgp.families.entry(afi).or_default().maximum_paths = None,
        ["redistribute", ..] | ["no", "redistribute", ..] => redistribute(bgp, afi, w)?,
        ["neighbor", who, rest @ ..] | ["no", "neighbor", who, rest @ ..] => {
            let no = w[0] == "no";
            let default_v4 = bgp.default_ipv4_unicast;
            let t = peer_group::target(bgp, who)?;
            let n = peer_group::settings(bgp, &t)?;
            peer_group::note(n, no, rest, afi);
            let f = n
                .families
                .entry(afi)
                .or_insert_with(|| NeighborFamily { activate: afi == Afi::Ipv4 && default_v4, ..Default::default() });
            neighbor_family(f, no, rest)?;
        }
        ["exit-address-family"] | ["exit"] => return Ok(Some(Node::RouterBgp)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

fn paths(n: &str) -> Result<u16, LineError> {
    match n.parse::<u16>() {
        Ok(v) if (1..=256).contains(&v) => Ok(v),
        _ => invalid(format!("{n}: maximum-paths is 1 to 256")),
    }
}

fn neighbor_family(f: &mut NeighborFamily, no: bool, w: &[&str]) -> Result<(), LineError> {
    let dir = |d: &str| match d {
        "in" => Ok(true),
        "out" => Ok(false),
        _ => invalid(format!("{d}: expected in or out")),
    };
    match (no, w) {
        (no, ["activate"]) => f.activate = !no,
        (no, [kind @ ("prefix-list" | "route-map"), name, d]) => {
            let slot = match (*kind, dir(d)?) {
                ("prefix-list", true) => &mut f.prefix_list_in,
                ("prefix-list", false) => &mut f.prefix_list_out,
                (_, true) => &mut f.route_map_in,
                (_, false) => &mut f.route_map_out,
            };
            *slot = (!no).then(|| name.to_string());
        }
        (no, ["default-originate"]) => f.default_originate = !no,
        (no, ["next-hop-self"]) => {
            f.next_hop_self = !no;
            f.next_hop_self_force = false;
        }
        (no, ["next-hop-self", "force"]) => {
            f.next_hop_self = !no;
            f.next_hop_self_force = !no;
        }
        (false, ["allowas-in"]) => f.allowas_in = Some(AllowasIn::Times(3)),
        (false, ["allowas-in", "origin"]) => f.allowas_in = Some(AllowasIn::Origin),
        (false, ["allowas-in", n]) => match n.parse::<u8>() {
            Ok(n) if (1..=10).contains(&n) => f.allowas_in = Some(AllowasIn::Times(n)),
            _ => return invalid(format!("allowas-in {n}: expected 1 to 10 or origin")),
        },
        (true, ["allowas-in", ..]) => f.allowas_in = None,
        (no, ["as-override"]) => f.as_override = !no,
        (false, [kw, opts @ ..]) if kw.eq_ignore_ascii_case("remove-private-as") => {
            f.remove_private_as = Some(remove_private(opts)?);
        }
        (true, [kw, ..]) if kw.eq_ignore_ascii_case("remove-private-as") => f.remove_private_as = None,
        (false, ["maximum-prefix", n]) => {
            let n: u32 = num(n, "a prefix count (1 to 4294967295)")?;
            if n == 0 {
                return invalid("maximum-prefix must be at least 1");
            }
            f.maximum_prefix = Some(n);
        }
        (true, ["maximum-prefix", ..]) => f.maximum_prefix = None,
        (no, ["soft-reconfiguration", "inbound"]) => f.soft_reconfiguration = !no,
        (no, ["send-community", kinds @ ..]) => send_community(f, no, kinds)?,
        (no, ["route-reflector-client"]) => f.route_reflector_client = !no,
        (_, rest) => {
            return invalid(format!("unknown neighbor option `{}`", rest.first().copied().unwrap_or("")));
        }
    }
    Ok(())
}
