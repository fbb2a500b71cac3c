//! The configuration model: what bgpd.conf says, in FRR's vocabulary.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;
use crate::bgp::policy::{PrefixList, RouteMap};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub frr_version: Option<String>,
    pub frr_defaults: Option<String>,
    pub hostname: Option<String>,
    /// `log ...` lines, kept as written: bgpd always logs to stderr.
    pub log: Vec<String>,
    pub bgp: Option<Bgp>,
    pub prefix_lists: BTreeMap<(Afi, String), PrefixList>,
    pub route_maps: BTreeMap<String, RouteMap>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp {
    pub asn: u32,
    pub router_id: Option<Ipv4Addr>,
    pub ebgp_requires_policy: bool,
    /// `bgp default ipv4-unicast` (on unless `no bgp default ipv4-unicast`).
    pub default_ipv4_unicast: bool,
    /// `bgp network import-check` (on unless turned off).
    pub network_import_check: bool,
    pub log_neighbor_changes: bool,
    /// `bgp bestpath as-path multipath-relax`: multipath over paths of
    /// equal length from different ASes.
    pub multipath_relax: bool,
    /// `bgp bestpath compare-routerid` (bgpbox always compares them).
    pub compare_routerid: bool,
    /// `[no] bgp deterministic-med` as written (bgpbox compares MED
    /// between paths of one neighboring AS whatever their order).
    pub deterministic_med: Option<bool>,
    /// `timers bgp KEEPALIVE HOLD`: for neighbors without their own.
    pub timers: Option<(u16, u16)>,
    pub neighbors: Vec<Neighbor>,
    pub families: BTreeMap<Afi, Family>,
}

impl Bgp {
    pub fn new(asn: u32) -> Bgp {
        Bgp {
            asn,
            router_id: None,
            ebgp_requires_policy: true,
            default_ipv4_unicast: true,
            network_import_check: true,
            log_neighbor_changes: false,
            multipath_relax: false,
            compare_routerid: false,
            deterministic_med: None,
            timers: None,
            neighbors: Vec::new(),
            families: BTreeMap::new(),
        }
    }

    pub fn neighbor(&self, addr: IpAddr) -> Option<&Neighbor> {
        self.neighbors.iter().find(|n| n.addr == addr)
    }

    pub fn neighbor_mut(&mut self, addr: IpAddr) -> Option<&mut Neighbor> {
        self.neighbors.iter_mut().find(|n| n.addr == addr)
    }

    pub fn family(&self, afi: Afi) -> &Family {
        static NONE: Family = Family { networks: Vec::new(), maximum_paths: None, maximum_paths_ibgp: None };
        self.families.get(&afi).unwrap_or(&NONE)
    }
}

/// `address-family ... unicast` settings of the BGP instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Family {
    pub networks: Vec<IpNet>,
    /// `maximum-paths N` for eBGP (1: no multipath).
    pub maximum_paths: Option<u16>,
    pub maximum_paths_ibgp: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub addr: IpAddr,
    pub remote_as: RemoteAs,
    pub description: Option<String>,
    /// `timers KEEPALIVE HOLD`.
    pub timers: Option<(u16, u16)>,
    pub connect_retry: Option<u16>,
    /// `shutdown [message TEXT]`: Some("") without a message.
    pub shutdown: Option<String>,
    pub password: Option<String>,
    pub ttl_security_hops: Option<u8>,
    pub update_source: Option<String>,
    pub passive: bool,
    pub ebgp_multihop: Option<u8>,
    pub families: BTreeMap<Afi, NeighborFamily>,
}

impl Neighbor {
    pub fn new(addr: IpAddr, remote_as: RemoteAs) -> Neighbor {
        Neighbor {
            addr,
            remote_as,
            description: None,
            timers: None,
            connect_retry: None,
            shutdown: None,
            password: None,
            ttl_security_hops: None,
            update_source: None,
            passive: false,
            ebgp_multihop: None,
            families: BTreeMap::new(),
        }
    }

    /// Whether the neighbor is eBGP for an instance of AS `local`.
    pub fn is_ebgp(&self, local: u32) -> bool {
        match self.remote_as {
            RemoteAs::Asn(a) => a != local,
            RemoteAs::Internal => false,
            RemoteAs::External => true,
        }
    }

    /// The family settings, with FRR's default activation: IPv4 unicast is
    /// on unless turned off (given `bgp default ipv4-unicast`), IPv6 needs
    /// `activate`.
    pub fn family(&self, afi: Afi, default_ipv4: bool) -> &NeighborFamily {
        // Borrowed, not built: this is on the per-route path.
        static ACTIVE: NeighborFamily = NeighborFamily::new(true);
        static INACTIVE: NeighborFamily = NeighborFamily::new(false);
        match self.families.get(&afi) {
            Some(f) => f,
            None if afi == Afi::Ipv4 && default_ipv4 => &ACTIVE,
            None => &INACTIVE,
        }
    }

    pub fn active_families(&self, default_ipv4: bool) -> Vec<Afi> {
        [Afi::Ipv4, Afi::Ipv6].into_iter().filter(|a| self.family(*a, default_ipv4).activate).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighborFamily {
    pub activate: bool,
    pub prefix_list_in: Option<String>,
    pub prefix_list_out: Option<String>,
    pub route_map_in: Option<String>,
    pub route_map_out: Option<String>,
    pub default_originate: bool,
    pub next_hop_self: bool,
    pub maximum_prefix: Option<u32>,
}

impl NeighborFamily {
    pub const fn new(activate: bool) -> NeighborFamily {
        NeighborFamily {
            activate,
            prefix_list_in: None,
            prefix_list_out: None,
            route_map_in: None,
            route_map_out: None,
            default_originate: false,
            next_hop_self: false,
            maximum_prefix: None,
        }
    }

    pub fn has_policy_in(&self) -> bool {
        self.prefix_list_in.is_some() || self.route_map_in.is_some()
    }

    pub fn has_policy_out(&self) -> bool {
        self.prefix_list_out.is_some() || self.route_map_out.is_some()
    }
}
