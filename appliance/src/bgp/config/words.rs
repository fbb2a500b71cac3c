//! What the config parser's parts share: FRR's nodes, why a line did not
//! apply, and the values lines carry (AS numbers, prefixes, numbers).

use ipnet::IpNet;

use crate::bgp::packet::Afi;

/// Where a line is read: FRR's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Config,
    RouterBgp,
    AddressFamily(Afi),
    RouteMap(String, u32),
    /// The `bfd` block, and its `peer` and `profile` blocks.
    Bfd,
    BfdPeer(std::net::IpAddr),
    BfdProfile(String),
    /// `line vty`'s lines, accepted without effect.
    LineVty,
    /// The lines of a block accepted without effect (`interface X`).
    Ignored,
    /// The lines of a block of a feature bgpbox does not have (its first
    /// line was the error); `back` is where the block stands, `indent` its
    /// first line's indentation.
    Unsupported {
        back: Box<Node>,
        indent: usize,
    },
}

impl Node {
    pub(super) fn parent(&self) -> Option<Node> {
        match self {
            Node::Config => None,
            Node::AddressFamily(_) => Some(Node::RouterBgp),
            Node::Unsupported { back, .. } => Some((**back).clone()),
            Node::BfdPeer(_) | Node::BfdProfile(_) => Some(Node::Bfd),
            _ => Some(Node::Config),
        }
    }

    /// A block whose own lines are not read (see `apply_line`).
    pub(super) fn skips(&self) -> bool {
        matches!(self, Node::LineVty | Node::Ignored | Node::Unsupported { .. })
    }
}

/// Why a line did not apply in a node: `Unknown` lets the parser try the
/// enclosing node; `Invalid` is final.
#[derive(Debug)]
pub enum LineError {
    Unknown,
    Invalid(String),
}

pub(super) type R = Result<Option<Node>, LineError>;

pub(super) fn invalid<T>(m: impl Into<String>) -> Result<T, LineError> {
    Err(LineError::Invalid(m.into()))
}

pub(super) fn rest_after(line: &str, words: usize) -> &str {
    let mut s = line.trim_start();
    for _ in 0..words {
        s = s.trim_start();
        s = &s[s.find(char::is_whitespace).unwrap_or(s.len())..];
    }
    s.trim()
}

pub(super) fn asn(s: &str) -> Result<u32, LineError> {
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

pub(super) fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, LineError> {
    s.parse().or_else(|_| invalid(format!("{s} is not {what}")))
}

/// Communities as written (`65000:1 no-export ...`), each checked.
pub(super) fn communities(words: &[&str]) -> Result<Vec<u32>, LineError> {
    words
        .iter()
        .map(|c| {
            crate::bgp::policy::parse_community(c).ok_or_else(|| {
                LineError::Invalid(format!("{c} is not a community (AA:NN, no-export, no-advertise, local-AS, ...)"))
            })
        })
        .collect()
}

/// Large communities as written (`65000:1:2 ...`), each checked.
pub(super) fn large_communities(words: &[&str]) -> Result<Vec<[u32; 3]>, LineError> {
    words
        .iter()
        .map(|l| {
            crate::bgp::policy::parse_large(l)
                .ok_or_else(|| LineError::Invalid(format!("{l} is not a large community (A:B:C)")))
        })
        .collect()
}

pub(super) fn prefix(s: &str) -> Result<IpNet, LineError> {
    let p: IpNet = s.parse().or_else(|_| invalid(format!("{s} is not a prefix")))?;
    if p.trunc() != p {
        return invalid(format!("{s} has host bits set (did you mean {}?)", p.trunc()));
    }
    Ok(p)
}
