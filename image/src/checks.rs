//! What a profile can be checked for beyond its keys: the parts that must
//! agree with each other. An error names the key at fault; a warning is
//! for what a user could mean (an iBGP neighbor off the LAN).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::keys::KeyError;
use crate::profile::{Bgp, Profile};

fn err(key: String, message: String) -> KeyError {
    KeyError { key, message }
}

/// The profile's errors (the first), or its warnings.
pub fn cross_check(p: &Profile) -> Result<Vec<String>, KeyError> {
    let lan: Vec<IpNet> = p.lan.addresses.iter().map(|a| a.trunc()).collect();
    let vm: Vec<IpNet> = p.vm_network.iter().flat_map(|v| v.addresses.iter().map(|a| a.trunc())).collect();
    for (i, v) in p.vm_network.iter().flat_map(|v| v.addresses.iter()).enumerate() {
        if let Some(l) = lan.iter().find(|l| l.contains(&v.trunc()) || v.trunc().contains(*l)) {
            return Err(err(
                format!("vm_network.addresses[{i}]"),
                format!("{v} overlaps the LAN ({l}): the VM network must be a network of its own"),
            ));
        }
    }
    let mine: Vec<IpAddr> =
        p.lan.addresses.iter().chain(p.vm_network.iter().flat_map(|v| &v.addresses)).map(|a| a.addr()).collect();
    let Bgp::Generated { announce, neighbors, .. } = &p.bgp else { return Ok(Vec::new()) };
    let connected: Vec<&IpNet> = lan.iter().chain(&vm).collect();
    // A default goes out too while the profile's gateway gives the kernel one.
    let default_ok = |a: &IpNet| {
        a.prefix_len() == 0 && if a.addr().is_ipv4() { p.lan.gateway.is_some() } else { p.lan.gateway6.is_some() }
    };
    for (i, a) in announce.iter().enumerate() {
        if !connected.contains(&a) && !default_ok(a) {
            return Err(err(
                format!("bgp.announce[{i}]"),
                format!(
                    "{a} is the network of no interface of this router ({}), nor a default with a gateway: bgpd \
                     advertises a network only while the kernel has its route",
                    connected.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut warnings = Vec::new();
    for (i, n) in neighbors.iter().enumerate() {
        let key = format!("neighbor[{i}].address");
        if mine.contains(&n.address) {
            return Err(err(key, format!("{} is this router's own address", n.address)));
        }
        if connected.iter().any(|l| l.contains(&n.address)) {
            continue;
        }
        let lans = connected.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
        if n.remote_as != p.router.asn {
            return Err(err(
                key,
                format!(
                    "{} is on no network of this router ({lans}): an eBGP neighbor is reached directly, on a shared network",
                    n.address
                ),
            ));
        }
        warnings.push(format!(
            "{key}: {} (iBGP) is on no network of this router ({lans}): it is reached through the routing table",
            n.address
        ));
    }
    Ok(warnings)
}
