//! The shape of the code, checked like behaviour: no two modules of
//! `appliance/src` import each other (directly or around a circle), no
//! file over 600 lines and no function over 80 lines outside tests. A
//! module that grows past these is split by concern (holo-bgp, OpenBGPD).
//! Read from the `use` and `crate::`/`super::` paths of the files, as text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn module_of(root: &Path, f: &Path) -> Vec<String> {
    let rel = f.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn is_test_file(f: &Path) -> bool {
    f.file_name().is_some_and(|n| n.to_string_lossy().ends_with("tests.rs"))
}

/// The text before a file's `#[cfg(test)]` module, comments removed.
fn code(f: &Path) -> String {
    let text = std::fs::read_to_string(f).unwrap();
    let body = match text.find("\n#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => &text,
    };
    body.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Paths a file names: `crate::a::b`, `super::x`, `self::y`, and the
/// members of `use a::{b, c::d}` groups.
fn paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let starts = ["crate::", "super::", "self::"].iter().find(|p| text[i..].starts_with(**p));
        let boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
        if let (Some(_), true) = (starts, boundary) {
            let end =
                text[i..].find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(text.len(), |e| i + e);
            let p = text[i..end].trim_end_matches(':').to_string();
            if text[end..].starts_with('{') {
                let close = text[end..].find('}').map_or(text.len(), |c| end + c);
                for item in text[end + 1..close].split(',') {
                    let item = item.split(" as ").next().unwrap_or("").trim();
                    if !item.is_empty() && item != "self" && !item.contains('{') {
                        out.push(format!("{p}::{item}"));
                    }
                }
            }
            out.push(p);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The longest module a path names, from the module `here`.
fn resolve(here: &[String], path: &str, modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let parts: Vec<&str> = path.split("::").collect();
    let (mut base, mut rest): (Vec<String>, &[&str]) =
        if parts[0] == "crate" { (Vec::new(), &parts[1..]) } else { (here.to_vec(), &parts[..]) };
    while let Some(first) = rest.first() {
        match *first {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    (0..=rest.len())
        .rev()
        .map(|n| base.iter().cloned().chain(rest[..n].iter().map(|s| s.to_string())).collect::<Vec<_>>())
        .find(|m| modules.contains(m))
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&root, f)).collect();
    let mut edges = BTreeMap::new();
    for f in &files {
        let m = module_of(&root, f);
        let text = std::fs::read_to_string(f).unwrap();
        let text: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let targets: BTreeSet<Vec<String>> = paths(&text)
            .iter()
            .filter_map(|p| resolve(&m, p, &modules))
            .filter(|t| *t != m && !t.starts_with(&m))
            .collect();
        edges.insert(m, targets);
    }
    edges
}

/// Strongly connected components of two or more modules (Tarjan).
fn cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        for w in t.g.get(v).into_iter().flatten() {
            let Some((w, _)) = t.g.get_key_value(w) else { continue };
            if !t.index.contains_key(w) {
                visit(t, w);
                let l = t.low[v].min(t.low[w]);
                t.low.insert(v, l);
            } else if t.stack.contains(&w) {
                let l = t.low[v].min(t.index[w]);
                t.low.insert(v, l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                comp.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_module_imports_around_a_circle() {
    let found = cycles(&graph());
    assert!(found.is_empty(), "modules that import each other: {found:#?}");
}

#[test]
fn the_check_finds_a_circle() {
    let m = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let g: BTreeMap<_, BTreeSet<_>> =
        [(m("a"), [m("b")].into()), (m("b"), [m("c")].into()), (m("c"), [m("a")].into()), (m("d"), [m("a")].into())]
            .into();
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".into(), "c".into()]]);
    let mods: BTreeSet<Vec<String>> = [m("bgpd"), m("bgpd::show"), m("bgp"), m("bgp::speaker")].into();
    assert_eq!(resolve(&m("bgpd::show"), "super::fib", &mods), Some(m("bgpd")));
    assert_eq!(resolve(&m("bgpd"), "crate::bgp::speaker::Speaker", &mods), Some(m("bgp::speaker")));
    assert_eq!(paths("use crate::a::{b, c::d as e};"), vec!["crate::a::b", "crate::a::c::d", "crate::a"]);
}

#[test]
fn files_and_functions_stay_small() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut big = Vec::new();
    for f in files.iter().filter(|f| !is_test_file(f)) {
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        let text = code(f);
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            big.push(format!("{name}: {lines} lines (at most {MAX_FILE_LINES})"));
        }
        for (fname, n) in long_functions(&text) {
            big.push(format!("{name}: fn {fname} is {n} lines (at most {MAX_FN_LINES})"));
        }
    }
    assert!(big.is_empty(), "split these by concern:\n{}", big.join("\n"));
}

/// Functions longer than MAX_FN_LINES: from a line that declares one to
/// the line that closes its body (braces counted outside strings).
fn long_functions(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = fn_name(l) else { continue };
        let (mut depth, mut opened) = (0i32, false);
        for (j, l) in lines[i..].iter().enumerate() {
            for c in strip_strings(l).chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !opened && l.trim_end().ends_with(';') {
                break;
            }
            if opened && depth == 0 {
                if j + 1 > MAX_FN_LINES {
                    out.push((name.clone(), j + 1));
                }
                break;
            }
        }
    }
    out
}

fn fn_name(line: &str) -> Option<String> {
    let t = line.trim_start();
    let t = match t.strip_prefix("pub") {
        Some(r) if r.starts_with('(') => &r[r.find(')')? + 1..],
        Some(r) => r,
        None => t,
    };
    let mut t = t.trim_start();
    for kw in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        t = t.strip_prefix(kw).unwrap_or(t);
    }
    let rest = t.strip_prefix("fn ")?;
    Some(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
}

/// The line without string and char literals (their braces do not count).
fn strip_strings(l: &str) -> String {
    let c: Vec<char> = l.chars().collect();
    let (mut out, mut i) = (String::new(), 0);
    while i < c.len() {
        match c[i] {
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    i += if c[i] == '\\' { 2 } else { 1 };
                }
            }
            // A char literal ('x', '\n'), not a lifetime ('a).
            '\'' if c.get(i + 2) == Some(&'\'') => i += 2,
            '\'' if c.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
            }
            x => out.push(x),
        }
        i += 1;
    }
    out
}
