//! The top-level lines of FRR's policy lists and static routes:
//! `bgp community-list`, `bgp large-community-list`, `bgp as-path
//! access-list` (and the `ip ...` spellings of FRR 6), `ip route`.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::model::Config;
use super::types::{StaticRoute, StaticVia};
use super::words::{communities, invalid, large_communities, num, prefix, LineError};
use crate::bgp::policy::{Action, AsPathEntry, CommunityEntry, CommunityList, Members, Pattern};

pub(super) fn action_of(s: &str) -> Result<Action, LineError> {
    match s {
        "permit" => Ok(Action::Permit),
        "deny" => Ok(Action::Deny),
        _ => invalid(format!("{s}: expected permit or deny")),
    }
}

/// `[seq N] permit|deny REST...`: the sequence number (None: next), the
/// action and the rest.
fn seq_action<'a>(w: &'a [&'a str]) -> Result<(Option<u32>, Action, &'a [&'a str]), LineError> {
    let (seq, w) = match w {
        ["seq", s, rest @ ..] => (Some(num::<u32>(s, "a sequence number")?), rest),
        w => (None, w),
    };
    match w {
        [a, rest @ ..] if !rest.is_empty() => Ok((seq, action_of(a)?, rest)),
        [a] => {
            action_of(a)?;
            invalid(format!("{a} needs what to match"))
        }
        _ => invalid("expected permit or deny"),
    }
}

/// `bgp [large-]community-list standard|expanded|NUMBER NAME ...` and its
/// `no` form. `large`: a large-community list.
pub(super) fn community_list(cfg: &mut Config, large: bool, no: bool, w: &[&str]) -> Result<(), LineError> {
    let (expanded, name, rest) = match w {
        [kind @ ("standard" | "expanded"), name, rest @ ..] => (Some(*kind == "expanded"), *name, rest),
        [name, rest @ ..] => match name.parse::<u16>() {
            Ok(1..=99) => (Some(false), *name, rest),
            Ok(100..=500) => (Some(true), *name, rest),
            _ if no => (None, *name, rest),
            _ => return invalid(format!("{name}: expected standard NAME, expanded NAME, 1-99 or 100-500")),
        },
        [] => return invalid("expected standard NAME or expanded NAME"),
    };
    let lists = if large { &mut cfg.large_community_lists } else { &mut cfg.community_lists };
    if no {
        match rest {
            ["seq", s, ..] => {
                let s: u32 = num(s, "a sequence number")?;
                if let Some(l) = lists.get_mut(name) {
                    l.entries.remove(&s);
                }
            }
            _ => {
                lists.remove(name);
            }
        }
        return Ok(());
    }
    let expanded = expanded.unwrap_or(false);
    let (seq, action, values) = seq_action(rest)?;
    let members = if expanded {
        Members::Expanded(Pattern::new(&values.join(" ")).map_err(LineError::Invalid)?)
    } else if large {
        Members::Large(large_communities(values)?)
    } else if values == ["internet"] {
        Members::Standard(vec![])
    } else {
        Members::Standard(communities(values)?)
    };
    let list = lists.entry(name.to_string()).or_insert_with(CommunityList::default);
    if list.entries.values().any(|e| matches!(e.members, Members::Expanded(_)) != expanded) {
        let (was, is) = if expanded { ("standard", "expanded") } else { ("expanded", "standard") };
        return invalid(format!("{name} is a {was} list: an {is} entry cannot join it"));
    }
    let seq = seq.unwrap_or_else(|| list.next_seq());
    list.entries.insert(seq, CommunityEntry { action, members });
    Ok(())
}

/// `bgp as-path access-list NAME [seq N] permit|deny REGEX` and its `no`.
pub(super) fn as_path_list(cfg: &mut Config, no: bool, w: &[&str]) -> Result<(), LineError> {
    let [name, rest @ ..] = w else { return invalid("expected an as-path access-list name") };
    if no {
        match rest {
            ["seq", s, ..] => {
                let s: u32 = num(s, "a sequence number")?;
                if let Some(l) = cfg.as_path_lists.get_mut(*name) {
                    l.entries.remove(&s);
                }
            }
            _ => {
                cfg.as_path_lists.remove(*name);
            }
        }
        return Ok(());
    }
    let (seq, action, re) = seq_action(rest)?;
    let pattern = Pattern::new(&re.join(" ")).map_err(LineError::Invalid)?;
    let list = cfg.as_path_lists.entry(name.to_string()).or_default();
    let seq = seq.unwrap_or_else(|| list.next_seq());
    list.entries.insert(seq, AsPathEntry { action, pattern });
    Ok(())
}

/// `[no] ip|ipv6 route PREFIX [MASK] NEXTHOP [IFNAME] [tag N] [DISTANCE]`.
pub(super) fn static_route(cfg: &mut Config, v6: bool, no: bool, w: &[&str]) -> Result<(), LineError> {
    let (p, rest) = match w {
        [addr, mask, rest @ ..] if !v6 && !addr.contains('/') => {
            let m: Ipv4Addr = num(mask, "a network mask")?;
            let len = u32::from(m).leading_ones();
            if u32::from(m).count_ones() != len {
                return invalid(format!("{mask} is not a network mask"));
            }
            (prefix(&format!("{addr}/{len}"))?, rest)
        }
        [p, rest @ ..] => (prefix(p)?, rest),
        [] => return invalid("expected a prefix"),
    };
    if p.addr().is_ipv6() != v6 {
        return invalid(format!("{p} does not belong in an `{} route`", if v6 { "ipv6" } else { "ip" }));
    }
    if no && rest.is_empty() {
        cfg.statics.retain(|s| s.prefix != p);
        return Ok(());
    }
    let r = static_target(p, rest)?;
    cfg.statics.retain(|s| !(s.prefix == p && s.via == r.via));
    if !no {
        cfg.statics.push(r);
    }
    Ok(())
}

fn static_target(prefix: IpNet, w: &[&str]) -> Result<StaticRoute, LineError> {
    let (via, mut rest) = match w {
        ["Null0", rest @ ..] => (StaticVia::Blackhole(true), rest),
        ["blackhole", rest @ ..] => (StaticVia::Blackhole(false), rest),
        ["reject", rest @ ..] => (StaticVia::Reject, rest),
        [hop, rest @ ..] => match hop.parse::<IpAddr>() {
            Ok(a) if a.is_ipv6() != prefix.addr().is_ipv6() => {
                return invalid(format!("next hop {a} is not of the prefix's family"))
            }
            Ok(a) => match rest {
                [i, rest @ ..] if !STATIC_OPTIONS.contains(i) && i.parse::<u8>().is_err() => {
                    (StaticVia::Gateway(a, Some(i.to_string())), rest)
                }
                _ => (StaticVia::Gateway(a, None), rest),
            },
            Err(_) => (StaticVia::Interface(hop.to_string()), rest),
        },
        [] => return invalid("expected a next hop: an address, an interface, Null0, blackhole or reject"),
    };
    let mut r = StaticRoute { prefix, via, tag: None, distance: None };
    loop {
        match rest {
            ["tag", t, tail @ ..] => {
                r.tag = Some(num(t, "a tag (1 to 4294967295)")?);
                rest = tail;
            }
            [d, tail @ ..] if d.parse::<u8>().is_ok() => {
                r.distance = Some(num::<u8>(d, "a distance")?).filter(|d| *d > 0);
                if r.distance.is_none() {
                    return invalid("distance must be 1 to 255");
                }
                rest = tail;
            }
            [] => return Ok(r),
            [opt, ..] if STATIC_OPTIONS.contains(opt) => {
                return invalid(format!("{opt}: not supported by bgpbox in static routes"))
            }
            [x, ..] => return invalid(format!("unexpected `{x}`")),
        }
    }
}

/// The keywords after a static route's next hop (all but `tag` refused).
const STATIC_OPTIONS: &[&str] = &["tag", "label", "table", "vrf", "nexthop-vrf", "color", "bfd", "segments", "onlink"];

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
