//! What the speaker knows of the host it runs on: its addresses and the
//! routes of the main table that are not BGP's. The daemon fills it from
//! the kernel; tests build it by hand.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::bgp::hash::FastSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Host {
    /// Interface addresses with their prefix length.
    pub addresses: Vec<IpNet>,
    /// Prefixes of non-BGP routes in the main table (connected, kernel,
    /// static), for the `network` import check and administrative
    /// distance. Asked for every route bgpd installs: the fast hasher.
    pub routes: FastSet<IpNet>,
    /// Interface names by address.
    pub names: BTreeMap<IpNet, String>,
    /// The non-BGP routes of the main table, for `show ip route` and
    /// next-hop reachability.
    pub table: Vec<HostRoute>,
    /// Interfaces by name: their index, and whether they are up with a
    /// carrier (what an interface neighbor's session needs).
    pub links: BTreeMap<String, (u32, bool)>,
}

/// A route of the main table that bgpd did not make.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostRoute {
    pub prefix: IpNet,
    /// The kernel's protocol number (RTPROT_KERNEL, RTPROT_STATIC, ...).
    pub protocol: u8,
    /// A link-scope route without gateway: a connected network.
    pub connected: bool,
    pub metric: u32,
    pub gateways: Vec<IpAddr>,
    pub ifname: String,
    /// The interface index of a route straight on an interface (0: none).
    pub oif: u32,
    /// The kernel's route type: unicast, or blackhole, unreachable and
    /// prohibit, which have neither gateway nor interface.
    pub kind: u8,
}

impl Host {
    /// The interface `hop` is directly reachable on: the longest route
    /// without gateway that covers it (a connected network, or a device
    /// route). The kernel takes a gateway on exactly those terms, and
    /// removes the connected route when the link goes down, when an
    /// IPv4 address stays.
    pub fn link_of(&self, hop: &IpAddr) -> Option<u32> {
        self.table
            .iter()
            .filter(|r| r.gateways.is_empty() && r.oif != 0 && r.prefix.contains(hop))
            .max_by_key(|r| r.prefix.prefix_len())
            .map(|r| r.oif)
    }

    /// Whether `a` and `b` are on one of our subnets together.
    pub fn on_link(&self, a: IpAddr, b: IpAddr) -> bool {
        self.addresses.iter().any(|n| n.trunc().contains(&a) && n.trunc().contains(&b))
    }

    /// The name of the interface whose subnet holds `addr`.
    pub fn ifname_for(&self, addr: IpAddr) -> Option<&str> {
        let net = self.addresses.iter().find(|a| a.trunc().contains(&addr))?;
        self.names.get(net).map(String::as_str)
    }

    /// Our link-local address on the interface that reaches `peer`.
    pub fn link_local_toward(&self, peer: IpAddr) -> Option<Ipv6Addr> {
        let ifname = self.ifname_for(peer)?;
        self.addresses.iter().find_map(|a| match a.addr() {
            IpAddr::V6(v) if is_link_local(v) && self.names.get(a).map(String::as_str) == Some(ifname) => Some(v),
            _ => None,
        })
    }

    /// The other address of a /31, or of a /30, of ours on interface
    /// `name` (a point-to-point link's peer).
    pub fn other_end(&self, name: &str) -> Option<Ipv4Addr> {
        self.addresses.iter().find_map(|a| match a {
            IpNet::V4(n) if self.names.get(a).map(String::as_str) == Some(name) => {
                let (me, base) = (u32::from(n.addr()), u32::from(n.network()));
                match n.prefix_len() {
                    31 => Some(Ipv4Addr::from(me ^ 1)),
                    30 if me == base + 1 => Some(Ipv4Addr::from(base + 2)),
                    30 if me == base + 2 => Some(Ipv4Addr::from(base + 1)),
                    _ => None,
                }
            }
            _ => None,
        })
    }

    /// The index of interface `name` while it is up.
    pub fn link_up(&self, name: &str) -> Option<u32> {
        self.links.get(name).filter(|(_, up)| *up).map(|(i, _)| *i)
    }

    /// The name of the interface with index `index`.
    pub fn link_name(&self, index: u32) -> Option<&str> {
        self.links.iter().find(|(_, (i, _))| *i == index).map(|(n, _)| n.as_str())
    }

    /// Our IPv6 addresses on interface `name`: a global one (if any) and
    /// the link-local one, as an RFC 8950 next hop names us there.
    pub fn v6_on(&self, name: &str) -> (Option<Ipv6Addr>, Option<Ipv6Addr>) {
        let mine = |want_ll: bool| {
            self.addresses.iter().find_map(|a| match a.addr() {
                IpAddr::V6(v) if is_link_local(v) == want_ll && self.names.get(a).map(String::as_str) == Some(name) => {
                    Some(v)
                }
                _ => None,
            })
        };
        (mine(false), mine(true))
    }

    /// A global IPv6 address of ours.
    pub fn global_v6(&self) -> Option<Ipv6Addr> {
        self.addresses.iter().find_map(|a| match a.addr() {
            IpAddr::V6(x) if (x.segments()[0] & 0xe000) == 0x2000 => Some(x),
            _ => None,
        })
    }

    /// An IPv4 address of ours that is not a loopback.
    pub fn some_v4(&self) -> Option<Ipv4Addr> {
        self.addresses.iter().find_map(|a| match a.addr() {
            IpAddr::V4(x) if !x.is_loopback() => Some(x),
            _ => None,
        })
    }

    /// FRR's router-id when none is configured: the highest IPv4 address
    /// that is not a loopback.
    pub fn highest_v4(&self) -> Option<Ipv4Addr> {
        self.addresses
            .iter()
            .filter_map(|a| match a.addr() {
                IpAddr::V4(v) if !v.is_loopback() => Some(v),
                _ => None,
            })
            .max()
    }
}

pub fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
