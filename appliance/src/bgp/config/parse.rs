//! Reads FRR's configuration dialect.
//!
//! Like FRR, a line that is not a command of the current node (say `ip
//! prefix-list` after `router bgp` with no `exit`) is tried in the enclosing
//! nodes. Unlike FRR, an unknown or invalid line is an error naming the
//! file, the line number and the line, and nothing of the file is applied.

use std::fmt;

use super::bfd;
use super::foreign;
use super::lists::{action_of, as_path_list, community_list, static_route};
use super::logging;
use super::model::{Bgp, Config};
use super::route_map::{route_map, route_map_line};
use super::router_bgp::{address_family, router_bgp};
pub use super::words::Node;
use super::words::{asn, invalid, num, prefix, rest_after, LineError, R};
use crate::bgp::packet::Afi;
use crate::bgp::policy::PrefixListEntry;

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

/// Every bad line of a file, one per line of the message: a file is
/// refused whole, and all of what is wrong is said at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors(pub Vec<ParseError>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

/// A file that parsed, with the lines accepted without effect
/// (`file:line: note`), which the caller says out loud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub config: Config,
    pub notes: Vec<String>,
}

/// Parses a whole file into a fresh `Config`.
pub fn parse(file: &str, text: &str) -> Result<Config, ParseErrors> {
    parse_noted(file, text).map(|p| p.config)
}

/// Parses a whole file: the config and its notes, or every bad line.
pub fn parse_noted(file: &str, text: &str) -> Result<Parsed, ParseErrors> {
    let mut cfg = Config::default();
    let mut node = Node::Config;
    let (mut errors, mut notes) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        match apply_line_noted(&mut cfg, &node, line) {
            Ok((next, note)) => {
                node = next;
                notes.extend(note.map(|n| format!("{file}:{}: {n}", i + 1)));
            }
            Err(message) => {
                errors.push(ParseError { file: file.to_string(), line: i + 1, text: line.to_string(), message });
                // The rest of a block that failed to open goes with it.
                if let Some(block) = unsupported_block(&node, line) {
                    node = block;
                }
            }
        }
    }
    match errors.is_empty() {
        true => Ok(Parsed { config: cfg, notes }),
        false => Err(ParseErrors(errors)),
    }
}

/// Applies one line in `node`, trying enclosing nodes as FRR does, and
/// returns the node the next line is read in.
pub fn apply_line(cfg: &mut Config, node: &Node, line: &str) -> Result<Node, String> {
    apply_line_noted(cfg, node, line).map(|(n, _)| n)
}

/// `apply_line`, and for a line accepted without effect, why (the note
/// the caller shows or logs).
pub fn apply_line_noted(cfg: &mut Config, node: &Node, line: &str) -> Result<(Node, Option<String>), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.is_empty() || words[0].starts_with('!') || words[0].starts_with('#') {
        return Ok((node.clone(), None));
    }
    if let Some(r) = in_skipped_block(cfg, node, &words, line) {
        return r;
    }
    let mut at = node.clone();
    loop {
        if let Some((feature, _)) = foreign::unsupported(&at, &words) {
            return Err(format!("% Not supported by bgpbox: {feature}"));
        }
        if let Some((block, why)) = foreign::ignored(&at, &words) {
            return Ok((block.unwrap_or(at), Some(format!("ignored: {} ({why})", line.trim()))));
        }
        match command(cfg, &at, &words, line) {
            Ok(Some(next)) => return Ok((next, None)),
            Ok(None) => return Ok((at, None)),
            Err(LineError::Invalid(m)) => return Err(format!("% Invalid input: {m}")),
            Err(LineError::Unknown) => match at.parent() {
                Some(p) => at = p,
                None => return Err("% Unknown command".into()),
            },
        }
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A line in a block whose lines are not read: more indented than the
/// block (or not a command outside it) it is one of them; `exit` and its
/// kin close the block; anything else is read where the block stands.
fn in_skipped_block(
    cfg: &mut Config,
    node: &Node,
    w: &[&str],
    line: &str,
) -> Option<Result<(Node, Option<String>), String>> {
    if !node.skips() {
        return None;
    }
    let block_indent = match node {
        Node::Unsupported { indent, .. } => *indent,
        _ => 0,
    };
    let back = node.parent().unwrap_or(Node::Config);
    if matches!(w, ["exit" | "exit-address-family" | "exit-vrf" | "quit"]) && indent(line) <= block_indent {
        return Some(Ok((back, None)));
    }
    let noted = |n: &Node| match n {
        Node::Unsupported { .. } => None,
        _ => Some(format!("ignored: {} (inside a block bgpbox does not use)", line.trim())),
    };
    if indent(line) > block_indent {
        return Some(Ok((node.clone(), noted(node))));
    }
    // Not indented (vtysh sends lines so): the enclosing node's command if
    // it has one, else one of the block's.
    let mut probe = cfg.clone();
    match apply_line_noted(&mut probe, &back, line) {
        Err(m) if m == "% Unknown command" => Some(Ok((node.clone(), noted(node)))),
        _ => Some(apply_line_noted(cfg, &back, line)),
    }
}

/// The node for the rest of a block whose first line was refused as an
/// unsupported feature.
fn unsupported_block(node: &Node, line: &str) -> Option<Node> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = if node.skips() { node.parent().unwrap_or(Node::Config) } else { node.clone() };
    let mut probe = Some(at);
    while let Some(n) = probe {
        if let Some((_, true)) = foreign::unsupported(&n, &words) {
            return Some(Node::Unsupported { back: Box::new(n), indent: indent(line) });
        }
        probe = n.parent();
    }
    None
}

fn command(cfg: &mut Config, node: &Node, w: &[&str], line: &str) -> R {
    match node {
        Node::Config => top(cfg, w, line),
        Node::RouterBgp => router_bgp(cfg, w, line),
        Node::AddressFamily(afi) => address_family(cfg, *afi, w),
        Node::RouteMap(name, seq) => route_map(cfg, name, *seq, w, line),
        Node::Bfd => bfd::bfd_line(cfg, w),
        Node::BfdPeer(_) | Node::BfdProfile(_) => bfd::timers_line(cfg, node, w),
        Node::LineVty | Node::Ignored | Node::Unsupported { .. } => Err(LineError::Unknown),
    }
}

fn top(cfg: &mut Config, w: &[&str], line: &str) -> R {
    match w {
        ["frr", "version", ..] => cfg.frr_version = Some(rest_after(line, 2).to_string()),
        ["frr", "defaults", d] => match *d {
            "traditional" | "datacenter" => cfg.frr_defaults = Some(d.to_string()),
            _ => return invalid(format!("frr defaults {d}: expected traditional or datacenter")),
        },
        ["hostname", h] => cfg.hostname = Some(h.to_string()),
        ["log", rest @ ..] => cfg.logging.log_line(false, rest, line)?,
        ["no", "log", rest @ ..] => cfg.logging.log_line(true, rest, line)?,
        ["debug", rest @ ..] if logging::switches(rest).is_some() => {
            cfg.logging.debugs.extend(logging::switches(rest).unwrap_or_default())
        }
        ["no", "debug", rest @ ..] if logging::switches(rest).is_some() => {
            for d in logging::switches(rest).unwrap_or_default() {
                cfg.logging.debugs.remove(&d);
            }
        }
        ["end"] => {}
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
        ["bfd"] => {
            cfg.bfd.get_or_insert_with(Default::default);
            return Ok(Some(Node::Bfd));
        }
        ["no", "bfd"] => cfg.bfd = None,
        ["bgp" | "ip", kind @ ("community-list" | "large-community-list"), rest @ ..]
        | ["no", "bgp" | "ip", kind @ ("community-list" | "large-community-list"), rest @ ..] => {
            community_list(cfg, *kind == "large-community-list", w[0] == "no", rest)?
        }
        ["bgp" | "ip", "as-path", "access-list", rest @ ..]
        | ["no", "bgp" | "ip", "as-path", "access-list", rest @ ..] => as_path_list(cfg, w[0] == "no", rest)?,
        [fam @ ("ip" | "ipv6"), "route", rest @ ..] | ["no", fam @ ("ip" | "ipv6"), "route", rest @ ..] => {
            static_route(cfg, *fam == "ipv6", w[0] == "no", rest)?
        }
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
        ["route-map", ..] | ["no", "route-map", ..] => return route_map_line(cfg, w),
        _ => return Err(LineError::Unknown),
    }
    Ok(None)
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

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
