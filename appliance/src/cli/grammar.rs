//! FRR's command grammar: definitions written as FRR writes them
//! (`show [ip] bgp [<ipv4|ipv6> [unicast]] summary [json]`), expanded into
//! one token tree per mode. vtysh walks it for `?`, Tab and abbreviations;
//! bgpd walks it to dispatch; both therefore accept the same commands.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// A place in the shell: FRR's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Exec,
    Config,
    RouterBgp,
    AddressFamily,
    RouteMap,
    LineVty,
    /// `interface X`: accepted, no effect in bgpbox.
    Interface,
    /// `bfd`, and its `peer` and `profile` blocks.
    Bfd,
    BfdPeer,
    BfdProfile,
}

impl Mode {
    /// Where a line that is not a command here is tried next, as in FRR.
    pub fn parent(self) -> Option<Mode> {
        match self {
            Mode::Exec | Mode::Config => None,
            Mode::AddressFamily => Some(Mode::RouterBgp),
            Mode::RouterBgp | Mode::RouteMap | Mode::LineVty | Mode::Interface | Mode::Bfd => Some(Mode::Config),
            Mode::BfdPeer | Mode::BfdProfile => Some(Mode::Bfd),
        }
    }

    /// The part of FRR's prompt in parentheses.
    pub fn prompt(self) -> &'static str {
        match self {
            Mode::Exec => "",
            Mode::Config => "(config)",
            Mode::RouterBgp => "(config-router)",
            Mode::AddressFamily => "(config-router-af)",
            Mode::RouteMap => "(config-route-map)",
            Mode::LineVty => "(config-line)",
            Mode::Interface => "(config-if)",
            Mode::Bfd => "(config-bfd)",
            Mode::BfdPeer => "(config-bfd-peer)",
            Mode::BfdProfile => "(config-bfd-profile)",
        }
    }
}

/// What a command does, for the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An exec command that bgpd answers.
    Remote,
    /// A configuration line bgpd applies.
    Config,
    /// A configuration line that also enters a mode.
    Enter(Mode),
    /// `configure terminal`.
    Configure,
    /// `exit`, `exit-address-family`: one mode up.
    Exit,
    /// `end`: back to exec mode.
    End,
    /// `exit`/`quit` in exec mode: leave the shell.
    Quit,
    /// `do COMMAND` in a config mode.
    Do,
    /// `terminal length N`: the shell's own setting.
    Local,
    /// `ping`, `traceroute`: run by vtysh itself (`crate::diag`).
    Diag,
}

#[derive(Debug)]
pub struct Spec {
    pub mode: Mode,
    pub syntax: &'static str,
    pub kind: Kind,
}

/// The kinds of variable FRR's grammar knows, as far as we use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Ipv4,
    Ipv4Prefix,
    Ipv6,
    Ipv6Prefix,
    Range(u64, u64),
    /// An AS number, plain or asdot.
    Asn,
    Word,
    /// An interface's name: not what looks like an address.
    Ifname,
    /// The rest of the line.
    Line,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Kw(&'static str),
    Var(Var, &'static str),
}

impl Token {
    pub fn text(&self) -> &'static str {
        match self {
            Token::Kw(k) | Token::Var(_, k) => k,
        }
    }

    fn parse(word: &'static str) -> Token {
        let var = match word {
            "A.B.C.D" => Var::Ipv4,
            "A.B.C.D/M" => Var::Ipv4Prefix,
            "X:X::X:X" => Var::Ipv6,
            "X:X::X:X/M" => Var::Ipv6Prefix,
            "LINE" => Var::Line,
            "IFNAME" => Var::Ifname,
            "ASNUM" => return Token::Var(Var::Asn, "(1-4294967295)"),
            w if w.starts_with('(') => {
                let (lo, hi) = w[1..w.len() - 1].split_once('-').expect("range as (LO-HI)");
                Var::Range(lo.parse().expect("range low"), hi.parse().expect("range high"))
            }
            w if w.chars().all(|c| c.is_ascii_uppercase() || c == ':') => Var::Word,
            w => return Token::Kw(w),
        };
        Token::Var(var, word)
    }

    /// How well `word` matches: None when it cannot; lower is better.
    /// `partial` accepts a word still being typed (for `?` and Tab).
    fn score(&self, word: &str, partial: bool) -> Option<u8> {
        match self {
            Token::Kw(k) if *k == word => Some(0),
            Token::Kw(k) if k.starts_with(word) && !word.is_empty() => Some(2),
            Token::Kw(_) => None,
            Token::Var(v, _) => {
                let full = match v {
                    Var::Ipv4 => word.parse::<Ipv4Addr>().is_ok(),
                    Var::Ipv4Prefix => word.contains('/') && word.parse::<Ipv4Net>().is_ok(),
                    Var::Ipv6 => word.parse::<Ipv6Addr>().is_ok(),
                    Var::Ipv6Prefix => word.contains('/') && word.parse::<Ipv6Net>().is_ok(),
                    Var::Range(lo, hi) => word.parse::<u64>().is_ok_and(|n| (*lo..=*hi).contains(&n)),
                    Var::Asn => asn(word).is_some(),
                    Var::Word | Var::Line => return (!word.is_empty()).then_some(3),
                    Var::Ifname => return is_ifname(word).then_some(3),
                };
                if full {
                    return Some(1);
                }
                let could = |ok: fn(char) -> bool| partial && !word.is_empty() && word.chars().all(ok);
                let maybe = match v {
                    Var::Ipv4 => could(|c| c.is_ascii_digit() || c == '.'),
                    Var::Ipv4Prefix => could(|c| c.is_ascii_digit() || c == '.' || c == '/'),
                    Var::Ipv6 => could(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'),
                    Var::Ipv6Prefix => could(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' || c == '/'),
                    Var::Range(..) | Var::Asn => could(|c| c.is_ascii_digit() || c == '.'),
                    Var::Word | Var::Line | Var::Ifname => unreachable!(),
                };
                maybe.then_some(1)
            }
        }
    }
}

/// A Linux interface name (at most 15 bytes, no '/', ':' or space), and
/// not a mistyped IPv4 address.
fn is_ifname(w: &str) -> bool {
    (1..=15).contains(&w.len()) && !w.contains(['/', ':', ' ']) && !w.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// An AS number, plain (65001) or asdot (1.10).
pub fn asn(s: &str) -> Option<u32> {
    let v = match s.split_once('.') {
        Some((hi, lo)) => hi.parse::<u16>().ok().zip(lo.parse::<u16>().ok()).map(|(h, l)| (h as u32) << 16 | l as u32),
        None => s.parse::<u32>().ok(),
    };
    v.filter(|a| *a != 0)
}

/// Expands FRR's syntax (`[opt]`, `<a|b>`, nesting) into the token
/// sequences it stands for.
pub fn expand(syntax: &'static str) -> Vec<Vec<Token>> {
    let mut toks = Vec::new();
    let mut start = None;
    for (i, c) in syntax.char_indices() {
        let punct = matches!(c, '[' | ']' | '<' | '>' | '|');
        if c.is_whitespace() || punct {
            if let Some(s) = start.take() {
                toks.push(&syntax[s..i]);
            }
            if punct {
                toks.push(&syntax[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        toks.push(&syntax[s..]);
    }
    let mut i = 0;
    let out = alternatives(&toks, &mut i);
    assert_eq!(i, toks.len(), "unbalanced syntax: {syntax}");
    out
}

fn alternatives(t: &[&'static str], i: &mut usize) -> Vec<Vec<Token>> {
    let mut out = sequence(t, i);
    while t.get(*i) == Some(&"|") {
        *i += 1;
        out.extend(sequence(t, i));
    }
    out
}

fn sequence(t: &[&'static str], i: &mut usize) -> Vec<Vec<Token>> {
    let mut acc: Vec<Vec<Token>> = vec![vec![]];
    while let Some(&w) = t.get(*i) {
        let item = match w {
            "|" | "]" | ">" => break,
            "[" | "<" => {
                *i += 1;
                let mut a = alternatives(t, i);
                let close = if w == "[" { "]" } else { ">" };
                assert_eq!(t.get(*i), Some(&close), "unbalanced group");
                *i += 1;
                if w == "[" {
                    a.push(vec![]);
                }
                a
            }
            w => {
                *i += 1;
                vec![vec![Token::parse(w)]]
            }
        };
        acc = acc.iter().flat_map(|a| item.iter().map(move |b| [a.as_slice(), b].concat())).collect();
    }
    acc
}

struct Node {
    token: Option<Token>,
    children: Vec<usize>,
    /// The command that ends here, by index into the specs.
    command: Option<usize>,
}

/// The token trees of every mode.
pub struct Grammar {
    specs: &'static [Spec],
    nodes: Vec<Node>,
    roots: Vec<(Mode, usize)>,
}

/// A command as resolved: its spec and its words in full (keywords
/// unabbreviated, variables as typed).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub spec: &'static Spec,
    pub words: Vec<String>,
    /// The mode the command belongs to (an enclosing one when it was not
    /// a command of the current mode, as in FRR).
    pub mode: Mode,
}

impl Resolved {
    pub fn line(&self) -> String {
        self.words.join(" ")
    }

    /// Whether the resolved words contain `kw`.
    pub fn has(&self, kw: &str) -> bool {
        self.words.iter().any(|w| w == kw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// The first word is no command here.
    Unknown,
    /// Word `at` (0-based) does not fit.
    Invalid(usize),
    /// Word `at` is a prefix of several keywords.
    Ambiguous(usize),
    /// The line stops before the command is complete.
    Incomplete,
}

impl CliError {
    /// FRR's message for `line`, with a `^` under the word that went
    /// wrong where there is one.
    pub fn message(&self, line: &str) -> String {
        let marker = |at: usize, what: &str| {
            let col = word_spans(line).get(at).map_or(line.len(), |s| s.0);
            format!("{}\n{}^\n% {what} at '^' marker.", line.trim_end(), " ".repeat(col))
        };
        match self {
            CliError::Unknown => format!("% Unknown command: {}", line.trim()),
            CliError::Invalid(at) => marker(*at, "Invalid input detected"),
            CliError::Ambiguous(at) => marker(*at, "Ambiguous command"),
            CliError::Incomplete => format!("% Command incomplete: {}", line.trim()),
        }
    }
}

/// Byte offsets (start, end) of the words of `line`.
pub fn word_spans(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

/// One choice for `?`: the token as FRR shows it, and whether it is the
/// end of a command (`<cr>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub token: Option<Token>,
    /// The word before it, for context-dependent help texts.
    pub after: Option<&'static str>,
}

impl Grammar {
    pub fn new(specs: &'static [Spec]) -> Grammar {
        let mut g = Grammar { specs, nodes: Vec::new(), roots: Vec::new() };
        for (idx, spec) in specs.iter().enumerate() {
            let root = g.root(spec.mode);
            for seq in expand(spec.syntax) {
                let mut at = root;
                for tok in seq {
                    at = match g.nodes[at].children.iter().copied().find(|&c| g.nodes[c].token == Some(tok)) {
                        Some(c) => c,
                        None => {
                            g.nodes.push(Node { token: Some(tok), children: vec![], command: None });
                            let c = g.nodes.len() - 1;
                            g.nodes[at].children.push(c);
                            c
                        }
                    };
                }
                let prev = g.nodes[at].command.replace(idx);
                assert!(prev.is_none_or(|p| p == idx), "two commands end at the same place: {}", spec.syntax);
            }
        }
        g
    }

    fn root(&mut self, mode: Mode) -> usize {
        if let Some((_, r)) = self.roots.iter().find(|(m, _)| *m == mode) {
            return *r;
        }
        self.nodes.push(Node { token: None, children: vec![], command: None });
        self.roots.push((mode, self.nodes.len() - 1));
        self.nodes.len() - 1
    }

    fn root_of(&self, mode: Mode) -> Option<usize> {
        self.roots.iter().find(|(m, _)| *m == mode).map(|(_, r)| *r)
    }

    /// The best child of `node` for `word`: Err(true) when ambiguous,
    /// Err(false) when none.
    fn step(&self, node: usize, word: &str, partial: bool) -> Result<usize, bool> {
        let mut best: Option<(u8, usize)> = None;
        let mut tie = false;
        for &c in &self.nodes[node].children {
            let Some(s) = self.nodes[c].token.and_then(|t| t.score(word, partial)) else { continue };
            match best {
                Some((b, _)) if s > b => {}
                Some((b, _)) if s == b => tie = true,
                _ => {
                    best = Some((s, c));
                    tie = false;
                }
            }
        }
        match best {
            // Two partial keywords (`s` for show and set) are ambiguous;
            // two variables that both fit are not (the first wins).
            Some((2, _)) if tie => Err(true),
            Some((_, c)) => Ok(c),
            None => Err(false),
        }
    }

    fn walk(&self, mode: Mode, words: &[&str]) -> Result<(usize, Vec<String>), CliError> {
        let mut at = self.root_of(mode).ok_or(CliError::Unknown)?;
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            match self.step(at, w, false) {
                Ok(c) => {
                    at = c;
                    match self.nodes[c].token {
                        Some(Token::Kw(k)) => out.push(k.to_string()),
                        Some(Token::Var(Var::Line, _)) => {
                            out.push(words[i..].join(" "));
                            return Ok((at, out));
                        }
                        _ => out.push(w.to_string()),
                    }
                }
                Err(true) => return Err(CliError::Ambiguous(i)),
                Err(false) if i == 0 => return Err(CliError::Unknown),
                Err(false) => return Err(CliError::Invalid(i)),
            }
        }
        Ok((at, out))
    }

    /// Resolves a line typed in `mode`, trying enclosing modes as FRR does.
    pub fn resolve(&self, mode: Mode, line: &str) -> Result<Resolved, CliError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut first_err = None;
        let mut m = Some(mode);
        while let Some(cur) = m {
            match self.walk(cur, &words) {
                Ok((node, out)) => match self.nodes[node].command {
                    Some(idx) => return Ok(Resolved { spec: &self.specs[idx], words: out, mode: cur }),
                    None => {
                        first_err.get_or_insert(CliError::Incomplete);
                    }
                },
                Err(e) => {
                    // The deepest error says most about what went wrong.
                    let depth = |e: &CliError| match e {
                        CliError::Unknown => 0,
                        CliError::Invalid(a) | CliError::Ambiguous(a) => *a,
                        CliError::Incomplete => usize::MAX,
                    };
                    if first_err.as_ref().is_none_or(|f| depth(&e) > depth(f)) {
                        first_err = Some(e);
                    }
                }
            }
            m = cur.parent();
        }
        Err(first_err.unwrap_or(CliError::Unknown))
    }

    /// What may come next in `line` (the last word still being typed when
    /// the line does not end in a space): FRR's `?`. `None` in a choice's
    /// token is `<cr>`.
    pub fn help(&self, mode: Mode, line: &str) -> Result<Vec<Choice>, CliError> {
        let ends_open = line.is_empty() || line.ends_with(char::is_whitespace);
        let words: Vec<&str> = line.split_whitespace().collect();
        let (done, partial) = if ends_open { (&words[..], None) } else { (&words[..words.len() - 1], words.last()) };
        let mut out: Vec<Choice> = Vec::new();
        let mut err = None;
        let mut m = Some(mode);
        while let Some(cur) = m {
            match self.walk(cur, done) {
                Ok((node, _)) => {
                    let after = self.nodes[node].token.map(|t| t.text());
                    if matches!(self.nodes[node].token, Some(Token::Var(Var::Line, _))) {
                        out.push(Choice { token: None, after });
                    }
                    for &c in &self.nodes[node].children {
                        let tok = self.nodes[c].token.expect("children have tokens");
                        if partial.is_none_or(|p| tok.score(p, true).is_some())
                            && !out.iter().any(|x| x.token == Some(tok))
                        {
                            out.push(Choice { token: Some(tok), after });
                        }
                    }
                    if partial.is_none() && self.nodes[node].command.is_some() && !out.iter().any(|c| c.token.is_none())
                    {
                        out.push(Choice { token: None, after });
                    }
                }
                Err(e) => {
                    err.get_or_insert(e);
                }
            }
            // Enclosing modes add their commands only at the first word.
            if !done.is_empty() && !out.is_empty() {
                break;
            }
            m = cur.parent();
        }
        if out.is_empty() {
            return Err(err.unwrap_or(if done.is_empty() { CliError::Unknown } else { CliError::Invalid(done.len()) }));
        }
        out.sort_by_key(|c| (c.token.is_none(), c.token.map(|t| t.text())));
        Ok(out)
    }

    /// Keywords that complete the last word of `line` (Tab).
    pub fn complete(&self, mode: Mode, line: &str) -> Vec<&'static str> {
        let Ok(choices) = self.help(mode, line) else { return vec![] };
        choices
            .into_iter()
            .filter_map(|c| match c.token {
                Some(Token::Kw(k)) => Some(k),
                _ => None,
            })
            .collect()
    }
}
