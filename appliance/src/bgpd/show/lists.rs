//! `show bgp community-list`, `show bgp large-community-list` and `show
//! bgp as-path-access-list`, in FRR's layout.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::{pretty, View};
use crate::bgp::policy::{CommunityList, Members};

/// `large`: the large-community lists.
pub fn community_lists(v: &View, large: bool, name: Option<&str>, json: bool) -> Result<String, String> {
    let c = v.speaker.config();
    let all = if large { &c.large_community_lists } else { &c.community_lists };
    let lists: Vec<(&String, &CommunityList)> = all.iter().filter(|(n, _)| name.is_none_or(|x| x == *n)).collect();
    if let (Some(n), true) = (name, lists.is_empty()) {
        return Err(format!("% Can't find {}community-list: {n}", if large { "large-" } else { "" }));
    }
    if json {
        return Ok(by_name(lists.iter().copied(), |l| {
            let entries: Vec<Value> = l
                .entries
                .iter()
                .map(|(seq, e)| json!({"sequenceNumber": seq, "type": e.action.to_string(), "entry": e.to_string()}))
                .collect();
            json!({"expanded": expanded(l), "entries": entries})
        }));
    }
    let mut s = String::new();
    for (n, l) in lists {
        let kind = if expanded(l) { "expanded" } else { "standard" };
        let what = if large { "Large Community" } else { "Community" };
        match n.parse::<u16>() {
            Ok(_) => {
                let _ = writeln!(s, "{what} {kind} list {n}");
            }
            Err(_) => {
                let _ = writeln!(s, "Named {what} {kind} list {n}");
            }
        }
        for e in l.entries.values() {
            let _ = writeln!(s, "    {e}");
        }
    }
    Ok(s)
}

/// `{NAME: ...}` for each list, as FRR's JSON has them.
fn by_name<'a, L: 'a>(lists: impl IntoIterator<Item = (&'a String, &'a L)>, f: impl Fn(&L) -> Value) -> String {
    let js: Map<String, Value> = lists.into_iter().map(|(n, l)| (n.clone(), f(l))).collect();
    pretty(&Value::Object(js))
}

fn expanded(l: &CommunityList) -> bool {
    l.entries.values().any(|e| matches!(e.members, Members::Expanded(_)))
}

pub fn as_path_lists(v: &View, name: Option<&str>, json: bool) -> Result<String, String> {
    let all = &v.speaker.config().as_path_lists;
    let lists: BTreeMap<_, _> = all.iter().filter(|(n, _)| name.is_none_or(|x| x == *n)).collect();
    if let (Some(n), true) = (name, lists.is_empty()) {
        return Err(format!("% Can't find as-path access-list: {n}"));
    }
    if json {
        return Ok(by_name(lists, |l| {
            let entries: Vec<Value> = l
                .entries
                .iter()
                .map(
                    |(seq, e)| json!({"sequenceNumber": seq, "type": e.action.to_string(), "regExp": e.pattern.text()}),
                )
                .collect();
            json!({ "entries": entries })
        }));
    }
    let mut s = String::new();
    for (n, l) in lists {
        let _ = writeln!(s, "AS path access list {n}");
        for e in l.entries.values() {
            let _ = writeln!(s, "    {} {}", e.action, e.pattern.text());
        }
    }
    Ok(s)
}
