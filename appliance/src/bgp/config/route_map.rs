//! The lines of a `route-map NAME permit|deny SEQ` block.

use std::net::IpAddr;

use super::lists::action_of;
use super::model::Config;
use super::words::{asn, communities, invalid, large_communities, num, rest_after, LineError, Node, R};
use crate::bgp::packet::{Afi, Origin};
use crate::bgp::policy::{Match, NextHop, OnMatch, RouteMapEntry, Set};

pub(super) fn route_map(cfg: &mut Config, name: &str, seq: u32, w: &[&str], line: &str) -> R {
    let entry = cfg.route_maps.get_mut(name).and_then(|m| m.entries.get_mut(&seq)).expect("route-map node exists");
    match w {
        ["match", rest @ ..] => add_match(entry, rest)?,
        ["no", "match", rest @ ..] if !rest.is_empty() => {
            let kind = rest[..rest.len().min(2)].join(" ");
            entry.matches.retain(|m| !m.to_string().starts_with(&kind));
        }
        ["set", rest @ ..] => set(entry, set_of(rest)?),
        ["no", "set", rest @ ..] if !rest.is_empty() => {
            let kind = rest[..rest.len().min(2)].join(" ");
            let kind = if rest[0].starts_with("ip") { kind } else { rest[0].to_string() };
            entry.sets.retain(|s| !s.to_string().starts_with(&kind));
        }
        ["call", target] => entry.call = Some(target.to_string()),
        ["no", "call", ..] => entry.call = None,
        ["on-match", "next"] => entry.on_match = Some(OnMatch::Next),
        ["on-match", "goto", n] => {
            let n: u32 = num(n, "a sequence number (1 to 65535)")?;
            if n <= seq {
                return invalid(format!("on-match goto {n}: must go forward, past {seq}"));
            }
            entry.on_match = Some(OnMatch::Goto(n));
        }
        ["no", "on-match", ..] => entry.on_match = None,
        ["description", ..] => entry.description = Some(rest_after(line, 1).to_string()),
        ["no", "description", ..] => entry.description = None,
        ["exit"] => return Ok(Some(Node::Config)),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
}

fn add_match(entry: &mut RouteMapEntry, w: &[&str]) -> Result<(), LineError> {
    let m = match_of(w)?;
    entry.matches.retain(|x| !same_kind_match(x, &m));
    entry.matches.push(m);
    Ok(())
}

/// Two matches of one kind: a new one replaces the old, as in FRR.
fn same_kind_match(a: &Match, b: &Match) -> bool {
    match (a, b) {
        (Match::PrefixList(x, _), Match::PrefixList(y, _)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn match_of(w: &[&str]) -> Result<Match, LineError> {
    let exact = |rest: &[&str]| match rest {
        [] => Ok(false),
        ["exact-match"] => Ok(true),
        r => invalid(format!("unexpected `{}`", r.join(" "))),
    };
    Ok(match w {
        [fam @ ("ip" | "ipv6"), "address", "prefix-list", list] => {
            Match::PrefixList(if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 }, list.to_string())
        }
        ["ip" | "ipv6", "address", _] => {
            return invalid("access-lists are not supported by bgpbox: match a prefix-list")
        }
        ["community", list, rest @ ..] => Match::Community(list.to_string(), exact(rest)?),
        ["large-community", list, rest @ ..] => Match::LargeCommunity(list.to_string(), exact(rest)?),
        ["as-path", list] => Match::AsPath(list.to_string()),
        ["interface", ifname] => Match::Interface(ifname.to_string()),
        ["metric", m] => Match::Metric(num(m, "a metric (0 to 4294967295)")?),
        _ => {
            return invalid(format!(
                "match {}: not supported by bgpbox (see the README's FRR compatibility)",
                w.join(" ")
            ))
        }
    })
}

fn set_of(w: &[&str]) -> Result<Set, LineError> {
    Ok(match w {
        ["local-preference", v] => Set::LocalPreference(num(v, "a local preference (0 to 4294967295)")?),
        ["metric", v] => Set::Metric(num(v, "a metric (0 to 4294967295)")?),
        ["weight", v] => Set::Weight(num(v, "a weight (0 to 4294967295)")?),
        ["tag", v] => Set::Tag(num(v, "a tag (1 to 4294967295)")?),
        ["origin", o] => Set::Origin(match *o {
            "igp" => Origin::Igp,
            "egp" => Origin::Egp,
            "incomplete" => Origin::Incomplete,
            o => return invalid(format!("origin {o}: expected igp, egp or incomplete")),
        }),
        ["community", "none"] => Set::Community(vec![], false),
        ["community", list @ ..] if !list.is_empty() => {
            let (list, additive) = additive(list);
            Set::Community(communities(list)?, additive)
        }
        ["large-community", "none"] => Set::LargeCommunity(vec![], false),
        ["large-community", list @ ..] if !list.is_empty() => {
            let (list, additive) = additive(list);
            Set::LargeCommunity(large_communities(list)?, additive)
        }
        ["comm-list", list, "delete"] => Set::CommListDelete(list.to_string()),
        ["as-path", "prepend", list @ ..] if !list.is_empty() => {
            Set::AsPathPrepend(list.iter().map(|a| asn(a)).collect::<Result<Vec<_>, _>>()?)
        }
        ["ip", "next-hop", "peer-address"] => Set::NextHop(NextHop::PeerAddress),
        ["ip", "next-hop", "unchanged"] => Set::NextHop(NextHop::Unchanged),
        ["ip", "next-hop", a] => match a.parse::<IpAddr>() {
            Ok(a @ IpAddr::V4(_)) => Set::NextHop(NextHop::Addr(a)),
            _ => return invalid(format!("{a} is not an IPv4 address, peer-address or unchanged")),
        },
        ["ipv6", "next-hop", "global", a] => match a.parse::<IpAddr>() {
            Ok(a @ IpAddr::V6(_)) => Set::NextHop(NextHop::Addr(a)),
            _ => return invalid(format!("{a} is not an IPv6 address")),
        },
        ["ipv6", "next-hop", "peer-address"] => Set::NextHop(NextHop::PeerAddress),
        _ => {
            return invalid(format!(
                "set {}: not supported by bgpbox (see the README's FRR compatibility)",
                w.join(" ")
            ))
        }
    })
}

fn additive<'a>(list: &'a [&'a str]) -> (&'a [&'a str], bool) {
    match list {
        [l @ .., "additive"] => (l, true),
        l => (l, false),
    }
}

fn set(entry: &mut RouteMapEntry, s: Set) {
    entry.sets.retain(|x| std::mem::discriminant(x) != std::mem::discriminant(&s));
    entry.sets.push(s);
}

/// `route-map NAME permit|deny SEQ` (which opens the block) and `no
/// route-map NAME [permit|deny SEQ]`.
pub(super) fn route_map_line(cfg: &mut Config, w: &[&str]) -> R {
    match w {
        ["route-map", name, action, seq] => {
            let action = action_of(action)?;
            let seq: u32 = num(seq, "a sequence number (1 to 65535)")?;
            let e = cfg.route_maps.entry(name.to_string()).or_default();
            let entry = e.entries.entry(seq).or_insert_with(|| RouteMapEntry::new(action));
            entry.action = action;
            Ok(Some(Node::RouteMap(name.to_string(), seq)))
        }
        ["no", "route-map", name, rest @ ..] => {
            match rest {
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
            }
            Ok(None)
        }
        ["route-map", ..] => invalid("expected `route-map NAME permit|deny SEQ`"),
        _ => Err(LineError::Unknown),
    }
}
