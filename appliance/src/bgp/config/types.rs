//! Config types that other config types hold and parsers fill: a leaf,
//! so that the model and the parsers do not import each other.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

/// `ip route PREFIX NEXTHOP [tag N] [DISTANCE]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StaticRoute {
    pub prefix: IpNet,
    pub via: StaticVia,
    pub tag: Option<u32>,
    /// As written: bgpbox installs one route per prefix, the first.
    pub distance: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaticVia {
    Gateway(IpAddr, Option<String>),
    Interface(String),
    /// `Null0` or `blackhole`: dropped silently.
    Blackhole(bool),
    /// `reject`: dropped with an ICMP unreachable.
    Reject,
}

impl std::fmt::Display for StaticVia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaticVia::Gateway(a, None) => write!(f, "{a}"),
            StaticVia::Gateway(a, Some(i)) => write!(f, "{a} {i}"),
            StaticVia::Interface(i) => f.write_str(i),
            StaticVia::Blackhole(true) => f.write_str("Null0"),
            StaticVia::Blackhole(false) => f.write_str("blackhole"),
            StaticVia::Reject => f.write_str("reject"),
        }
    }
}

/// A profile's, or a peer's own, settings; None: the profile's or FRR's
/// default (3 x 300 ms).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BfdTimers {
    pub detect_multiplier: Option<u8>,
    pub receive_interval: Option<u32>,
    pub transmit_interval: Option<u32>,
    pub shutdown: bool,
    pub passive: bool,
}

/// `peer ADDR [interface IFNAME] [local-address ADDR]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdPeer {
    pub addr: IpAddr,
    pub interface: Option<String>,
    pub local_address: Option<IpAddr>,
    pub profile: Option<String>,
    pub timers: BfdTimers,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bfd {
    pub profiles: BTreeMap<String, BfdTimers>,
    pub peers: Vec<BfdPeer>,
}

/// Who a `neighbor` line names: an address, or an interface whose peer is
/// found on the link (`neighbor eth0 interface`: unnumbered BGP over IPv6
/// link-local addresses).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeighborId {
    Addr(IpAddr),
    Interface(String),
}

impl NeighborId {
    /// The configured address (None: an interface neighbor's is learnt).
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            NeighborId::Addr(a) => Some(*a),
            NeighborId::Interface(_) => None,
        }
    }

    pub fn interface(&self) -> Option<&str> {
        match self {
            NeighborId::Interface(n) => Some(n),
            NeighborId::Addr(_) => None,
        }
    }
}

impl From<IpAddr> for NeighborId {
    fn from(a: IpAddr) -> NeighborId {
        NeighborId::Addr(a)
    }
}

impl std::fmt::Display for NeighborId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NeighborId::Addr(a) => a.fmt(f),
            NeighborId::Interface(n) => f.write_str(n),
        }
    }
}

impl std::str::FromStr for NeighborId {
    type Err = std::convert::Infallible;

    /// An address, else an interface's name.
    fn from_str(s: &str) -> Result<NeighborId, Self::Err> {
        Ok(match s.parse::<IpAddr>() {
            Ok(a) => NeighborId::Addr(a),
            Err(_) => NeighborId::Interface(s.to_string()),
        })
    }
}
