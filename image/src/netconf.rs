//! The network settings netsetup applies inside the container.
//!
//! `bgpbox build` renders them from the profile into
//! `/etc/bgpbox/network.toml`; netsetup reads them back. A file written by
//! hand is read the same way, and unknown keys are errors.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::profile::Profile;

pub const PATH: &str = "/etc/bgpbox/network.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<Interface>,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
    /// `/proc/sys` keys in dotted form, as `sysctl` takes them.
    #[serde(default)]
    pub sysctl: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    #[serde(default)]
    pub addresses: Vec<IpNet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub prefix: IpNet,
    pub via: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
}

/// Interface names inside the container: the profile's NICs, in LXD's
/// device order.
pub const LAN_IF: &str = "eth0";
pub const VM_IF: &str = "eth1";

impl NetworkConfig {
    pub fn from_profile(p: &Profile) -> NetworkConfig {
        let mut cfg = NetworkConfig::default();
        cfg.interfaces.push(Interface { name: LAN_IF.into(), addresses: p.lan.addresses.clone(), mtu: p.lan.mtu });
        if let Some(vm) = &p.vm_network {
            cfg.interfaces.push(Interface { name: VM_IF.into(), addresses: vm.addresses.clone(), mtu: vm.mtu });
        }
        // The gateway is a kernel route so that it keeps the default in the
        // FIB ahead of eBGP's (distance 20), as in the seed's `B   0.0.0.0/0`.
        if let Some(gw) = p.lan.gateway {
            cfg.routes.push(Route { prefix: "0.0.0.0/0".parse().unwrap(), via: gw, dev: Some(LAN_IF.into()) });
        }
        if let Some(gw) = p.lan.gateway6 {
            cfg.routes.push(Route { prefix: "::/0".parse().unwrap(), via: gw, dev: Some(LAN_IF.into()) });
        }
        let has_v6 = cfg.interfaces.iter().flat_map(|i| &i.addresses).any(|a| matches!(a, IpNet::V6(_)));
        let s = &mut cfg.sysctl;
        s.insert("net.ipv4.ip_forward".into(), "1".into());
        // Loose mode: routes learnt by BGP may send replies in on another NIC
        // than the one the kernel would pick for the source.
        s.insert("net.ipv4.conf.all.rp_filter".into(), "2".into());
        s.insert("net.ipv4.conf.default.rp_filter".into(), "2".into());
        for i in &cfg.interfaces {
            s.insert(format!("net.ipv4.conf.{}.rp_filter", i.name), "2".into());
        }
        if has_v6 {
            s.insert("net.ipv6.conf.all.forwarding".into(), "1".into());
            // Forwarding turns SLAAC off unless accept_ra is 2.
            s.insert(format!("net.ipv6.conf.{LAN_IF}.accept_ra"), "2".into());
        }
        cfg
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("network config always serialises");
        format!("# Network settings applied by netsetup at boot (rendered by bgpbox build).\n{body}")
    }

    pub fn parse(text: &str) -> Result<NetworkConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
