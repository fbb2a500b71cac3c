//! Reads FRR's configuration dialect.
//!
//! Like FRR, a line that is not a command of the current node (say `ip
//! prefix-list` after `router bgp` with no `exit`) is tried in the enclosing
//! nodes. Unlike FRR, an unknown or invalid line is an error naming the
//! file, the line number and the line, and nothing of the file is applied.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::model::{Bgp, Config, Neighbor, NeighborFamily};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;
use crate::bgp::policy::{self, Action, Match, PrefixListEntry, RouteMapEntry, Set};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.message, self.text.trim())
    }
}

impl std::error::Error for ParseError {}

/// Where a line is read: FRR's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Config,
    RouterBgp,
    AddressFamily(Afi),
    RouteMap(String, u32),
    LineVty,
}

impl Node {
    fn parent(&self) -> Option<Node> {
        match self {
            Node::Config => None,
            Node::AddressFamily(_) => Some(Node::RouterBgp),
            _ => Some(Node::Config),
        }
    }
}

/// Why a line did not apply in a node: `Unknown` lets the parser try the
/// enclosing node; `Invalid` is final.
#[derive(Debug)]
pub enum LineError {
    Unknown,
    Invalid(String),
}

type R = Result<Option<Node>, LineError>;

fn invalid<T>(m: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Invalid(m.into()))
}

/// Parses a whole file into a fresh `Config`.
pub fn parse(file: &str, text: &str) -> Result<Config, ParseError> {
    let mut cfg = Config::default();
    let mut node = Node::Config;
    for (i, line) in text.lines().enumerate() {
        node = apply_line(&mut cfg, &node, line).map_err(|message| ParseError {
            file: file.to_string(),
            line: i + 1,
            text: line.to_string(),
            message,
        })?;
    }
    Ok(cfg)
}

/// Applies one line in `node`, trying enclosing nodes as FRR does, and
/// returns the node the next line is read in.
pub fn apply_line(cfg: &mut Config, node: &Node, line: &str) -> Result<Node, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.is_empty() || words[0].starts_with('!') || words[0].starts_with('#') {
        return Ok(node.clone());
    }
    let mut at = node.clone();
    loop {
        match command(cfg, &at, &words, line) {
            Ok(Some(next)) => return Ok(next),
            Ok(None) => return Ok(at),
            Err(LineError::Invalid(m)) => return Err(format!("% Invalid input: {m}")),
            Err(LineError::Unknown) => match at.parent() {
                Some(p) => at = p,
                None => return Err("% Unknown command".into()),
            },
        }
    }
}

fn command(cfg: &mut Config, node: &Node, w: &[&str], line: &str) -> R {
    match node {
        Node::Config => top(cfg, w, line),
        Node::RouterBgp => router_bgp(cfg, w, line),
        Node::AddressFamily(afi) => address_family(cfg, *afi, w),
        Node::RouteMap(name, seq) => route_map(cfg, name, *seq, w),
        Node::LineVty => match w {
            ["exit"] => Ok(Some(Node::Config)),
            _ => Err(LineError::Unknown),
        },
    }
}

fn rest_after(line: &str, words: usize) -> &str {
    let mut s = line.trim_start();
    for _ in 0..words {
        s = s.trim_start();
        s = &s[s.find(char::is_whitespace).unwrap_or(s.len())..];
    }
    s.trim()
}

fn asn(s: &str) -> Result<u32, LineError> {
    // asdot (1.10) is accepted as FRR does.
    let v = match s.split_once('.') {
        Some((hi, lo)) => hi.parse::<u16>().ok().zip(lo.parse::<u16>().ok()).map(|(h, l)| (h as u32) << 16 | l as u32),
        None => s.parse::<u32>().ok(),
    };
    match v {
        Some(a) if a != 0 => Ok(a),
        _ => invalid(format!("{s} is not an AS number (1 to 4294967295)")),
    }
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, LineError> {
    s.parse().or_else(|_| invalid(format!("{s} is not {what}")))
}

fn prefix(s: &str) -> Result<IpNet, LineError> {
    let p: IpNet = s.parse().or_else(|_| invalid(format!("{s} is not a prefix")))?;
    if p.trunc() != p {
        return invalid(format!("{s} has host bits set (did you mean {}?)", p.trunc()));
    }
    Ok(p)
}

fn top(cfg: &mut Config, w: &[&str], line: &str) -> R {
    match w {
        ["frr", "version", ..] => cfg.frr_version = Some(rest_after(line, 2).to_string()),
        ["frr", "defaults", d] => match *d {
            "traditional" | "datacenter" => cfg.frr_defaults = Some(d.to_string()),
            _ => return invalid(format!("frr defaults {d}: expected traditional or datacenter")),
        },
        ["hostname", h] => cfg.hostname = Some(h.to_string()),
        ["log", ..] => cfg.log.push(line.trim().to_string()),
        ["service", "integrated-vtysh-config"]
        | ["no", "ipv6", "forwarding"]
        | ["ip", "forwarding"]
        | ["ipv6", "forwarding"]
        | ["end"] => {}
        ["line", "vty"] => return Ok(Some(Node::LineVty)),
        ["router", "bgp", a] => {
            let a = asn(a)?;
            match &cfg.bgp {
                Some(b) if b.asn != a => {
                    return invalid(format!("BGP is already running as AS {}; `no router bgp {}` first", b.asn, b.asn))
                }
                Some(_) => {}
                None => cfg.bgp = Some(Bgp::new(a)),
            }
            return Ok(Some(Node::RouterBgp));
        }
        ["router", "bgp"] => {
            if cfg.bgp.is_none() {
                return invalid("router bgp needs an AS number");
            }
            return Ok(Some(Node::RouterBgp));
        }
        ["no", "router", "bgp", ..] => cfg.bgp = None,
        [fam @ ("ip" | "ipv6"), "prefix-list", name, rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            prefix_list(cfg, afi, name, rest)?;
        }
        ["no", fam @ ("ip" | "ipv6"), "prefix-list", name, rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            let key = (afi, name.to_string());
            match rest {
                [] => {
                    cfg.prefix_lists.remove(&key);
                }
                ["seq", s, ..] => {
                    let s: u32 = num(s, "a sequence number")?;
                    if let Some(l) = cfg.prefix_lists.get_mut(&key) {
                        l.entries.remove(&s);
                    }
                }
                _ => return invalid("expected `no ip prefix-list NAME [seq N]`"),
            }
        }
        ["route-map", name, action, seq] => {
            let action = action_of(action)?;
            let seq: u32 = num(seq, "a sequence number (1 to 65535)")?;
            let e = cfg.route_maps.entry(name.to_string()).or_default();
            let entry = e.entries.entry(seq).or_insert(RouteMapEntry { action, matches: vec![], sets: vec![] });
            entry.action = action;
            return Ok(Some(Node::RouteMap(name.to_string(), seq)));
        }
        ["no", "route-map", name, rest @ ..] => match rest {
            [] => {
                cfg.route_maps.remove(*name);
            }
            [_, seq] => {
                let seq: u32 = num(seq, "a sequence number")?;
                if let Some(m) = cfg.route_maps.get_mut(*name) {
                    m.entries.remove(&seq);
                }
            }
            _ => return invalid("expected `no route-map NAME [permit|deny SEQ]`"),
        },
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

fn action_of(s: &str) -> Result<Action, LineError> {
    match s {
        "permit" => Ok(Action::Permit),
        "deny" => Ok(Action::Deny),
        _ => invalid(format!("{s}: expected permit or deny")),
    }
}

fn prefix_list(cfg: &mut Config, afi: Afi, name: &str, rest: &[&str]) -> Result<(), LineError> {
    let key = (afi, name.to_string());
    let list = cfg.prefix_lists.entry(key.clone()).or_default();
    let (seq, rest) = match rest {
        ["seq", s, rest @ ..] => (num::<u32>(s, "a sequence number")?, rest),
        ["description", ..] => return Ok(()),
        _ => (list.next_seq(), rest),
    };
    let (action, rest) = match rest {
        [a, rest @ ..] => (action_of(a)?, rest),
        [] => return invalid("expected permit or deny"),
    };
    let (net, mut rest) = match rest {
        ["any", rest @ ..] => (None, rest),
        [p, rest @ ..] => (Some(prefix(p)?), rest),
        [] => return invalid("expected a prefix or `any`"),
    };
    if let Some(n) = net {
        if Afi::of(&n) != afi {
            let kw = if afi == Afi::Ipv4 { "ip" } else { "ipv6" };
            return invalid(format!("{n} does not belong in an `{kw} prefix-list`"));
        }
    }
    let (mut ge, mut le) = (None, None);
    while let [kw @ ("ge" | "le"), v, tail @ ..] = rest {
        let Some(n) = net else { return invalid("ge/le need a prefix, not `any`") };
        let v: u8 = num(v, "a prefix length")?;
        if v < n.prefix_len() || v > n.max_prefix_len() {
            return invalid(format!("{kw} {v} must be from {} to {}", n.prefix_len(), n.max_prefix_len()));
        }
        if *kw == "ge" {
            ge = Some(v);
        } else {
            le = Some(v);
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return invalid(format!("unexpected `{}`", rest.join(" ")));
    }
    if let (Some(g), Some(l)) = (ge, le) {
        if g > l {
            return invalid(format!("ge {g} is greater than le {l}"));
        }
    }
    list.entries.insert(seq, PrefixListEntry { action, prefix: net, ge, le });
    Ok(())
}

fn route_map(cfg: &mut Config, name: &str, seq: u32, w: &[&str]) -> R {
    let entry = cfg.route_maps.get_mut(name).and_then(|m| m.entries.get_mut(&seq)).expect("route-map node exists");
    match w {
        ["match", fam @ ("ip" | "ipv6"), "address", "prefix-list", list] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            entry.matches.retain(|m| !matches!(m, Match::PrefixList(a, _) if *a == afi));
            entry.matches.push(Match::PrefixList(afi, list.to_string()));
        }
        ["set", "local-preference", v] => {
            let v = num(v, "a local preference (0 to 4294967295)")?;
            set(entry, Set::LocalPreference(v));
        }
        ["set", "metric", v] => {
            let v = num(v, "a metric (0 to 4294967295)")?;
            set(entry, Set::Metric(v));
        }
        ["set", "community", "none"] => set(entry, Set::Community(vec![], false)),
        ["set", "community", list @ ..] if !list.is_empty() => {
            let (list, additive) = match list {
                [l @ .., "additive"] => (l, true),
                l => (l, false),
            };
            let mut cs = Vec::new();
            for c in list {
                cs.push(policy::parse_community(c).ok_or_else(|| {
                    LineError::Invalid(format!("{c} is not a community (AA:NN, no-export, no-advertise, local-AS)"))
                })?);
            }
            set(entry, Set::Community(cs, additive));
        }
        ["set", "as-path", "prepend", list @ ..] if !list.is_empty() => {
            let asns = list.iter().map(|a| asn(a)).collect::<Result<Vec<_>, _>>()?;
            set(entry, Set::AsPathPrepend(asns));
        }
        ["match", ..] | ["set", ..] => return invalid("not supported in this route-map subset"),
        ["exit"] => return Ok(Some(Node::Config)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

fn set(entry: &mut RouteMapEntry, s: Set) {
    entry.sets.retain(|x| std::mem::discriminant(x) != std::mem::discriminant(&s));
    entry.sets.push(s);
}

fn neighbor_addr(s: &str) -> Result<IpAddr, LineError> {
    s.parse()
        .or_else(|_| invalid(format!("{s} is not a neighbor address (peer-groups and interfaces are not supported)")))
}

fn router_bgp(cfg: &mut Config, w: &[&str], line: &str) -> R {
    let bgp = cfg.bgp.as_mut().expect("router bgp node exists");
    match w {
        ["bgp", "router-id", id] => {
            let id: Ipv4Addr = num(id, "an IPv4 address")?;
            bgp.router_id = Some(id);
        }
        ["no", "bgp", "router-id", ..] => bgp.router_id = None,
        ["bgp", "ebgp-requires-policy"] => bgp.ebgp_requires_policy = true,
        ["no", "bgp", "ebgp-requires-policy"] => bgp.ebgp_requires_policy = false,
        ["bgp", "default", "ipv4-unicast"] => bgp.default_ipv4_unicast = true,
        ["no", "bgp", "default", "ipv4-unicast"] => bgp.default_ipv4_unicast = false,
        ["bgp", "network", "import-check"] => bgp.network_import_check = true,
        ["no", "bgp", "network", "import-check"] => bgp.network_import_check = false,
        ["bgp", "log-neighbor-changes"] => bgp.log_neighbor_changes = true,
        ["no", "bgp", "log-neighbor-changes"] => bgp.log_neighbor_changes = false,
        // FRR writes these into running configs; they change nothing here.
        ["no", "bgp", "suppress-duplicates"] | ["bgp", "suppress-duplicates"] => {}
        ["address-family", fam] | ["address-family", fam, "unicast"] => {
            let afi = match *fam {
                "ipv4" => Afi::Ipv4,
                "ipv6" => Afi::Ipv6,
                f => return invalid(format!("address-family {f}: only ipv4 and ipv6 unicast")),
            };
            return Ok(Some(Node::AddressFamily(afi)));
        }
        ["neighbor", addr, "remote-as", r] => {
            let addr = neighbor_addr(addr)?;
            let remote = match *r {
                "internal" => RemoteAs::Internal,
                "external" => RemoteAs::External,
                a => RemoteAs::Asn(asn(a)?),
            };
            match bgp.neighbor_mut(addr) {
                Some(n) => n.remote_as = remote,
                None => bgp.neighbors.push(Neighbor::new(addr, remote)),
            }
        }
        ["no", "neighbor", addr] | ["no", "neighbor", addr, "remote-as", ..] => {
            let addr = neighbor_addr(addr)?;
            bgp.neighbors.retain(|n| n.addr != addr);
        }
        ["neighbor", addr, rest @ ..] | ["no", "neighbor", addr, rest @ ..] => {
            let no = w[0] == "no";
            let addr = neighbor_addr(addr)?;
            let n = bgp.neighbor_mut(addr).ok_or_else(|| {
                LineError::Invalid(format!(
                    "neighbor {addr}: specify remote-as first (`neighbor {addr} remote-as ASN`)"
                ))
            })?;
            neighbor(n, no, rest, line)?;
        }
        ["exit"] => return Ok(Some(Node::Config)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

fn neighbor(n: &mut Neighbor, no: bool, w: &[&str], line: &str) -> Result<(), LineError> {
    let skip = if no { 3 } else { 2 };
    match (no, w) {
        (false, ["description", ..]) => n.description = Some(rest_after(line, 3).to_string()),
        (true, ["description", ..]) => n.description = None,
        (false, ["timers", "connect", s]) => n.connect_retry = Some(num(s, "seconds (1 to 65535)")?),
        (true, ["timers", "connect", ..]) => n.connect_retry = None,
        (false, ["timers", k, h]) => {
            let k: u16 = num(k, "a keepalive interval (0 to 65535)")?;
            let h: u16 = num(h, "a hold time (0 or 3 to 65535)")?;
            if h != 0 && h < 3 {
                return invalid(format!("hold time {h}: must be 0 or at least 3"));
            }
            n.timers = Some((k, h));
        }
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

fn address_family(cfg: &mut Config, afi: Afi, w: &[&str]) -> R {
    let bgp = cfg.bgp.as_mut().expect("router bgp node exists");
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
        ["neighbor", addr, rest @ ..] | ["no", "neighbor", addr, rest @ ..] => {
            let no = w[0] == "no";
            let addr = neighbor_addr(addr)?;
            let default_v4 = bgp.default_ipv4_unicast;
            let n = bgp.neighbor_mut(addr).ok_or_else(|| {
                LineError::Invalid(format!(
                    "neighbor {addr}: specify remote-as first (`neighbor {addr} remote-as ASN`)"
                ))
            })?;
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
        (no, ["next-hop-self"]) => f.next_hop_self = !no,
        (false, ["maximum-prefix", n]) => {
            let n: u32 = num(n, "a prefix count (1 to 4294967295)")?;
            if n == 0 {
                return invalid("maximum-prefix must be at least 1");
            }
            f.maximum_prefix = Some(n);
        }
        (true, ["maximum-prefix", ..]) => f.maximum_prefix = None,
        (_, ["soft-reconfiguration", "inbound"]) | (_, ["send-community", ..]) => {}
        (_, rest) => {
            return invalid(format!("unknown neighbor option `{}`", rest.first().copied().unwrap_or("")));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
