//! Upgrades: the config an operator saved (`write memory`), the image's it
//! began from, and a new image's. The rule: the saved config wins; what
//! the new image changed against the old one (lines added, lines gone) is
//! applied on top, unless it touches what the operator changed — then the
//! saved config stays as it is and the image's changes are reported.
//!
//! The three are compared as trees of lines (a `router bgp` block holds
//! its lines, an `address-family` block its own), after each went through
//! the parser and the writer, so that formatting never counts as a change.

use super::{parse, render};

/// What a merge gave: the config to run, what the new image changed, and
/// why those changes were not applied (empty: they were).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub text: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub conflicts: Vec<String>,
}

/// A line with the lines of its block.
#[derive(Debug, Clone, Default)]
struct Node {
    line: String,
    children: Vec<Node>,
}

/// Parser and writer in turn: the canonical text of a config.
pub fn canonical(name: &str, text: &str) -> Result<String, String> {
    parse(name, text).map(|c| render(&c)).map_err(|e| e.to_string())
}

/// The lines of a canonical config as a tree (closers and `!` left out).
fn tree(text: &str) -> Node {
    let mut root = Node::default();
    // The open blocks: (indent, path of child indexes from the root).
    let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
    for raw in text.lines() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('!') || matches!(t, "exit" | "exit-address-family" | "end") {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let at = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
        let parent = node_at(&mut root, &at);
        parent.children.push(Node { line: t.to_string(), children: Vec::new() });
        let mut path = at;
        path.push(parent.children.len() - 1);
        stack.push((indent, path));
    }
    root
}

fn node_at<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    path.iter().fold(root, |n, i| &mut n.children[*i])
}

/// Every line with its enclosing blocks, in order.
fn paths(n: &Node, above: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    for c in &n.children {
        above.push(c.line.clone());
        out.push(above.clone());
        paths(c, above, out);
        above.pop();
    }
}

fn all_paths(n: &Node) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    paths(n, &mut Vec::new(), &mut out);
    out
}

fn find<'a>(n: &'a mut Node, path: &[String]) -> Option<&'a mut Node> {
    match path.split_first() {
        None => Some(n),
        Some((first, rest)) => find(n.children.iter_mut().find(|c| c.line == *first)?, rest),
    }
}

/// Adds `path`'s line (and any block above it that is missing) where the
/// new image has it: after the nearest line before it there that is here
/// too (a neighbor's `remote-as` must come before its address-family
/// lines), else first.
fn insert(n: &mut Node, path: &[String], like: &Node) {
    let Some((first, rest)) = path.split_first() else { return };
    if !n.children.iter().any(|c| c.line == *first) {
        let at = like
            .children
            .iter()
            .position(|c| c.line == *first)
            .and_then(|k| {
                like.children[..k].iter().rev().find_map(|p| n.children.iter().position(|c| c.line == p.line))
            })
            .map_or(0, |i| i + 1);
        n.children.insert(at, Node { line: first.clone(), children: Vec::new() });
    }
    let empty = Node::default();
    let sub = like.children.iter().find(|c| c.line == *first).unwrap_or(&empty);
    if let Some(c) = n.children.iter_mut().find(|c| c.line == *first) {
        insert(c, rest, sub);
    }
}

fn remove(n: &mut Node, path: &[String]) {
    match path {
        [] => {}
        [last] => n.children.retain(|c| c.line != *last),
        [first, rest @ ..] => {
            if let Some(c) = n.children.iter_mut().find(|c| c.line == *first) {
                remove(c, rest);
            }
        }
    }
}

/// The tree as config text the parser reads: one space of indent a level,
/// each block closed as FRR closes it.
fn text(n: &Node, depth: usize, out: &mut String) {
    for c in &n.children {
        out.push_str(&" ".repeat(depth));
        out.push_str(&c.line);
        out.push('\n');
        if !c.children.is_empty() {
            text(c, depth + 1, out);
            let close = if c.line.starts_with("address-family") { "exit-address-family" } else { "exit" };
            out.push_str(&" ".repeat(depth + 1));
            out.push_str(close);
            out.push('\n');
        }
    }
}

fn show(p: &[String]) -> String {
    p.join(" / ")
}

/// What `b` has that `a` has not, and what `a` has that `b` has not, as
/// lines with their blocks (a block's own line standing for its lines).
pub fn diff(a: &str, b: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let (a, b) = (all_paths(&tree(&canonical("a", a)?)), all_paths(&tree(&canonical("b", b)?)));
    let only = |x: &[Vec<String>], y: &[Vec<String>]| -> Vec<Vec<String>> {
        x.iter().filter(|p| !y.contains(p)).cloned().collect()
    };
    Ok((tops(&only(&b, &a)), tops(&only(&a, &b))))
}

/// A block's own line stands for the lines in it.
fn tops(v: &[Vec<String>]) -> Vec<String> {
    v.iter().filter(|p| p.len() == 1 || !v.contains(&p[..p.len() - 1].to_vec())).map(|p| show(p)).collect()
}

/// The saved config with the new image's changes over the old image's,
/// as the rule above says. Err: one of the three does not parse.
pub fn merge(old_base: &str, new_base: &str, saved: &str) -> Result<Merged, String> {
    let (old, new, mine) =
        (canonical("old image", old_base)?, canonical("new image", new_base)?, canonical("saved", saved)?);
    let (old_t, new_t, mine_t) = (tree(&old), tree(&new), tree(&mine));
    let (old_p, new_p, mine_p) = (all_paths(&old_t), all_paths(&new_t), all_paths(&mine_t));
    let added: Vec<Vec<String>> = new_p.iter().filter(|p| !old_p.contains(p)).cloned().collect();
    let removed: Vec<Vec<String>> = old_p.iter().filter(|p| !new_p.contains(p)).cloned().collect();
    let mut conflicts = Vec::new();
    let mut t = mine_t.clone();
    for r in &removed {
        // A block the image drops that holds lines of the operator's.
        let theirs: Vec<&Vec<String>> =
            mine_p.iter().filter(|p| p.len() > r.len() && p.starts_with(r) && !old_p.contains(p)).collect();
        if let Some(p) = theirs.first() {
            conflicts.push(format!("the new image drops {}, which holds your {}", show(r), show(p)));
        }
        if mine_p.contains(r) {
            remove(&mut t, r);
        }
    }
    for a in &added {
        if find(&mut t, a).is_none() {
            insert(&mut t, a, &new_t);
        }
    }
    let (added_s, removed_s) = (tops(&added), tops(&removed));
    let mut out = String::new();
    text(&t, 0, &mut out);
    let merged = match canonical("merged", &out) {
        Ok(m) => {
            // What the operator wrote must all be there still: a setting both
            // sides changed (the image's would win as the later line) is a
            // conflict, and the saved config stays.
            let kept = all_paths(&tree(&m));
            for p in mine_p.iter().filter(|p| !old_p.contains(p) && !kept.contains(p)) {
                conflicts.push(format!("the new image changes what you set: {}", show(p)));
            }
            // And what the image added must be there: else the operator's
            // line overrode it, which is the same conflict seen from the other side.
            if conflicts.is_empty() {
                for a in added.iter().filter(|a| !kept.contains(a)) {
                    conflicts.push(format!("the new image's {} is overridden by what you set", show(a)));
                }
            }
            if conflicts.is_empty() {
                m
            } else {
                mine
            }
        }
        Err(e) => {
            conflicts.push(format!("the merged config does not read: {e}"));
            mine
        }
    };
    Ok(Merged { text: merged, added: added_s, removed: removed_s, conflicts })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE1: &str = "hostname r1\nrouter bgp 65001\n bgp router-id 192.0.2.1\n neighbor 192.0.2.254 remote-as 65000\n \
        address-family ipv4 unicast\n  network 198.51.100.0/24\n  neighbor 192.0.2.254 prefix-list in in\n exit-address-family\n\
        exit\nip prefix-list in seq 5 permit any\n";

    #[test]
    fn the_operator_s_lines_stay_and_the_image_s_changes_come_in() {
        // The operator added a neighbor; the new image announces one more network.
        let saved = IMAGE1.replace(
            " neighbor 192.0.2.254 remote-as 65000\n",
            " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.9 remote-as 65009\n",
        );
        let image2 =
            IMAGE1.replace("  network 198.51.100.0/24\n", "  network 198.51.100.0/24\n  network 203.0.113.0/24\n");
        let m = merge(IMAGE1, &image2, &saved).unwrap();
        assert!(m.conflicts.is_empty(), "{m:?}");
        assert!(m.text.contains(" neighbor 192.0.2.9 remote-as 65009\n"), "{}", m.text);
        assert!(m.text.contains("  network 203.0.113.0/24\n"), "{}", m.text);
        assert_eq!(m.added, vec!["router bgp 65001 / address-family ipv4 unicast / network 203.0.113.0/24"]);
        assert!(m.removed.is_empty());
        // A line the image drops goes, the operator's stay.
        let image3 = image2.replace("  network 198.51.100.0/24\n", "");
        let m = merge(&image2, &image3, &m.text).unwrap();
        assert!(!m.text.contains("198.51.100.0/24") && m.text.contains("192.0.2.9"), "{}", m.text);
        assert_eq!(m.removed, vec!["router bgp 65001 / address-family ipv4 unicast / network 198.51.100.0/24"]);
    }

    #[test]
    fn a_change_under_the_operator_s_lines_is_reported_not_applied() {
        // The image moves to another AS: the block the operator added to goes.
        let saved = IMAGE1.replace(
            " neighbor 192.0.2.254 remote-as 65000\n",
            " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.9 remote-as 65009\n",
        );
        let image2 = IMAGE1.replace("router bgp 65001", "router bgp 65011");
        let m = merge(IMAGE1, &image2, &saved).unwrap();
        assert_eq!(m.text, canonical("saved", &saved).unwrap(), "the saved config stays");
        assert!(
            m.conflicts[0].contains(
                "drops router bgp 65001, which holds your router bgp 65001 / neighbor 192.0.2.9 remote-as 65009"
            ),
            "{m:?}"
        );
        assert!(m.added.iter().any(|a| a == "router bgp 65011"), "{m:?}");
    }

    /// A new neighbor of the image comes in whole, its remote-as before
    /// its address-family lines.
    #[test]
    fn a_neighbor_the_image_adds_comes_in_order() {
        let saved = IMAGE1.replace("hostname r1", "hostname mine");
        let image2 = IMAGE1
            .replace(
                " neighbor 192.0.2.254 remote-as 65000\n",
                " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.253 remote-as 65000\n",
            )
            .replace(
                "  neighbor 192.0.2.254 prefix-list in in\n",
                "  neighbor 192.0.2.254 prefix-list in in\n  neighbor 192.0.2.253 prefix-list in in\n",
            );
        let m = merge(IMAGE1, &image2, &saved).unwrap();
        assert!(m.conflicts.is_empty(), "{m:?}");
        assert!(
            m.text.contains("hostname mine") && m.text.contains("  neighbor 192.0.2.253 prefix-list in in\n"),
            "{}",
            m.text
        );
    }

    /// Both sides changed one setting: the operator's stays, and it is said.
    #[test]
    fn a_setting_both_changed_stays_the_operator_s() {
        let saved = IMAGE1.replace("bgp router-id 192.0.2.1", "bgp router-id 192.0.2.7");
        let image2 = IMAGE1.replace("bgp router-id 192.0.2.1", "bgp router-id 192.0.2.8");
        let m = merge(IMAGE1, &image2, &saved).unwrap();
        assert!(m.text.contains("bgp router-id 192.0.2.7"), "{}", m.text);
        assert!(
            m.conflicts.iter().any(|c| c.contains("router bgp 65001 / bgp router-id 192.0.2.8 is overridden")),
            "{m:?}"
        );
    }

    #[test]
    fn unchanged_images_change_nothing_and_formatting_is_no_change() {
        let saved = IMAGE1.replace("hostname r1", "hostname r1\n!\n! a comment");
        let m = merge(IMAGE1, IMAGE1, &saved).unwrap();
        assert!(m.added.is_empty() && m.removed.is_empty() && m.conflicts.is_empty(), "{m:?}");
        assert_eq!(m.text, canonical("x", IMAGE1).unwrap());
        assert!(merge(IMAGE1, "router bgp frob\n", IMAGE1).is_err());
    }
}
