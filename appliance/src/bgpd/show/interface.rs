//! `show interface [brief] [IFNAME]` and `show ip|ipv6 nht` in the layouts
//! of FRR 8.4's zebra, whose part bgpd plays: the interfaces as the kernel
//! has them (read when asked), with the ups and downs bgpd has seen since
//! it started, and the next hops bgpd depends on, resolved over the
//! host's routes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;
use std::time::SystemTime;

use ipnet::IpNet;

use crate::bgp::speaker::{Host, Speaker};
use crate::netlink::{self, Link, Msg, Socket};

/// An interface and its addresses, read from the kernel.
pub struct IfInfo {
    pub link: Link,
    pub addrs: Vec<IpNet>,
    /// Mb/s, as the kernel says (0: none, or down).
    pub speed: u64,
}

pub fn read_interfaces() -> std::io::Result<Vec<IfInfo>> {
    let mut s = Socket::open(0)?;
    let mut ifs: BTreeMap<u32, IfInfo> = BTreeMap::new();
    s.dump_each(netlink::RTM_GETLINK, 1, |m| {
        if let Msg::Link(true, l) = m {
            let speed = speed(&l.name);
            ifs.insert(l.index, IfInfo { link: l, addrs: Vec::new(), speed });
        }
    })?;
    s.dump_each(netlink::RTM_GETADDR, 2, |m| {
        if let Msg::Addr(true, a) = m {
            if let Some(i) = ifs.get_mut(&a.index) {
                i.addrs.push(a.net);
            }
        }
    })?;
    let mut v: Vec<IfInfo> = ifs.into_values().collect();
    for i in &mut v {
        // zebra keeps no loopback addresses as connected.
        i.addrs.retain(|a| !a.addr().is_loopback());
        // IPv4 first, then IPv6, link-local last, as zebra lists them.
        i.addrs.sort_by_key(|a| (a.addr().is_ipv6(), link_local(a), *a));
    }
    v.sort_by(|a, b| a.link.name.cmp(&b.link.name));
    Ok(v)
}

fn link_local(a: &IpNet) -> bool {
    matches!(a.addr(), IpAddr::V6(v) if v.segments()[0] & 0xffc0 == 0xfe80)
}

/// The ups and downs of each interface (with a carrier) since bgpd started.
#[derive(Default)]
pub struct LinkHistory {
    seen: BTreeMap<String, Counts>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    up: bool,
    ups: u32,
    last_up: Option<SystemTime>,
    downs: u32,
    last_down: Option<SystemTime>,
}

impl LinkHistory {
    /// The host's links now (at bgpd's start: an interface up counts one up).
    pub fn observe(&mut self, h: &Host, now: SystemTime) {
        for (name, (_, up)) in &h.links {
            let c = self.seen.entry(name.clone()).or_default();
            match (c.up, *up) {
                (false, true) => (c.ups, c.last_up) = (c.ups + 1, Some(now)),
                (true, false) => (c.downs, c.last_down) = (c.downs + 1, Some(now)),
                _ => {}
            }
            c.up = *up;
        }
    }
}

/// `show interface brief`.
pub fn interface_brief(ifs: &[IfInfo]) -> String {
    let mut s = String::from(
        "Interface       Status  VRF             Addresses\n---------       ------  ---             ---------\n",
    );
    for i in ifs {
        let status = if i.link.up { "up" } else { "down" };
        let shown: Vec<&IpNet> = i.addrs.iter().filter(|a| !link_local(a)).collect();
        let first = shown.first().map(|a| a.to_string()).unwrap_or_default();
        let _ = writeln!(s, "{:<16}{:<8}{:<16}{first}", i.link.name, status, "default");
        for a in shown.iter().skip(1) {
            let _ = writeln!(s, "{:40}+ {a}", "");
        }
    }
    s.push('\n');
    s
}

/// `show interface [IFNAME]`.
pub fn interface_detail(ifs: &[IfInfo], h: &LinkHistory, name: Option<&str>) -> Result<String, String> {
    let mut s = String::new();
    for i in ifs.iter().filter(|i| name.is_none_or(|n| n == i.link.name)) {
        detail(&mut s, i, h.seen.get(&i.link.name).copied().unwrap_or_default());
    }
    match (s.is_empty(), name) {
        (true, Some(n)) => Err(format!("% Can't find interface {n}")),
        _ => Ok(s),
    }
}

fn detail(s: &mut String, i: &IfInfo, c: Counts) {
    let l = &i.link;
    // zebra's line protocol is the kernel's IFF_RUNNING.
    let _ = match (l.up, l.flags & 0x40 != 0) {
        (true, c) => writeln!(s, "Interface {} is up, line protocol is {}", l.name, if c { "up" } else { "down" }),
        (false, _) => writeln!(s, "Interface {} is down", l.name),
    };
    let _ = writeln!(s, "  Link ups:   {:>5}    last: {}", c.ups, when(c.last_up));
    let _ = writeln!(s, "  Link downs: {:>5}    last: {}", c.downs, when(c.last_down));
    let _ = writeln!(s, "  vrf: default\n  index {} metric 0 mtu {} speed {} ", l.index, l.mtu, i.speed);
    let _ = writeln!(s, "  flags: <{}>", flag_names(l.flags));
    let _ = writeln!(s, "  Type: {}", arphrd_name(l.arphrd));
    if l.mac.len() == 6 && l.arphrd != 772 {
        let mac: Vec<String> = l.mac.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(s, "  HWaddr: {}", mac.join(":"));
    }
    for a in &i.addrs {
        let _ = writeln!(s, "  {} {a}", if a.addr().is_ipv4() { "inet" } else { "inet6" });
    }
    let _ = writeln!(s, "  Interface Type {}\n  Interface Slave Type None", kind_name(&l.kind));
    if l.kind == "bridge" {
        s.push_str("  Bridge VLAN-aware: no\n");
    }
    s.push_str("  protodown: off \n");
    if let Some(p) = l.parent.filter(|p| *p != l.index && *p != 0) {
        let _ = writeln!(s, "  Parent ifindex: {p}");
    }
}

/// The link's speed in Mb/s as the kernel says it (0: none, or down).
fn speed(name: &str) -> u64 {
    std::fs::read_to_string(format!("/sys/class/net/{name}/speed"))
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(0, |v| v.max(0) as u64)
}

/// zebra's time of a link event: local time, hundredths of a second.
fn when(t: Option<SystemTime>) -> String {
    let Some(t) = t else { return "(never)".into() };
    let ts = crate::log::timestamp_with(t, 2);
    // 2026-11-30T04:41:45.83Z -> 2026/11/30 04:41:45.83 (bgpbox runs in UTC)
    ts.trim_end_matches('Z').replacen('T', " ", 1).replace('-', "/")
}

/// FRR's `if_flag_dump` order.
fn flag_names(f: u32) -> String {
    const NAMES: [(u32, &str); 10] = [
        (0x1, "UP"),
        (0x2, "BROADCAST"),
        (0x4, "DEBUG"),
        (0x8, "LOOPBACK"),
        (0x10, "POINTOPOINT"),
        (0x20, "NOTRAILERS"),
        (0x40, "RUNNING"),
        (0x80, "NOARP"),
        (0x100, "PROMISC"),
        (0x1000, "MULTICAST"),
    ];
    NAMES.iter().filter(|(b, _)| f & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(",")
}

fn arphrd_name(t: u16) -> &'static str {
    match t {
        1 => "Ethernet",
        772 => "Loopback",
        65534 => "None",
        776 => "IPv6-in-IPv4",
        778 => "GRE over IP",
        _ => "Unknown",
    }
}

/// zebra's interface types.
fn kind_name(k: &str) -> &'static str {
    match k {
        "veth" => "VETH",
        "bridge" => "Bridge",
        "vlan" => "Vlan",
        "vxlan" => "Vxlan",
        "vrf" => "VRF",
        "bond" => "bond",
        "macvlan" => "macvlan",
        "gre" | "gretap" => "GRE",
        _ => "Other",
    }
}

/// `show ip nht` / `show ipv6 nht`: the neighbors' addresses (a single-hop
/// eBGP one as FRR registers it, "Connected"), the next hops of the paths
/// bgpd holds and the `network`s' addresses, each resolved over the
/// host's routes.
pub fn nht(sp: &Speaker, v6: bool) -> String {
    let local_as = sp.local_as();
    let mut hops: BTreeMap<IpAddr, bool> = BTreeMap::new();
    for p in sp.configured() {
        if let Some(a) = p.remote() {
            let single_hop = p.ebgp(local_as) && p.config().ebgp_multihop.is_none();
            hops.insert(a, single_hop);
        }
    }
    let afi = if v6 { crate::bgp::packet::Afi::Ipv6 } else { crate::bgp::packet::Afi::Ipv4 };
    let mut path_hops = BTreeSet::new();
    for (_, paths, _) in sp.table(afi).iter() {
        for p in paths.iter().filter(|p| p.peer != crate::bgp::rib::LOCAL) {
            path_hops.extend(p.attrs.next_hop());
        }
    }
    // `network` statements too: FRR's import check tracks each one's
    // address.
    if let Some(b) = &sp.config().bgp {
        path_hops.extend(b.family(afi).networks.iter().map(|n| n.network()));
    }
    for h in path_hops {
        hops.entry(h).or_insert(false);
    }
    let mut s = String::new();
    for (a, connected) in hops.into_iter().filter(|(a, _)| a.is_ipv6() == v6) {
        let flag = if connected { "(Connected)" } else { "" };
        let _ = writeln!(s, "{a}{flag}");
        let _ = match resolve(sp.host(), a) {
            Some((None, ifname)) => writeln!(s, " resolved via connected\n is directly connected, {ifname}"),
            Some((Some((proto, gw)), ifname)) => writeln!(s, " resolved via {proto}\n via {gw}, {ifname}"),
            None => writeln!(s, " unresolved{flag}"),
        };
        s.push_str(" Client list: bgp\n");
    }
    s
}

/// The route that takes `a`: a connected one (None), or a gateway's with
/// its protocol; and the interface.
fn resolve(h: &Host, a: IpAddr) -> Option<(Option<(&'static str, IpAddr)>, String)> {
    let r = h.table.iter().filter(|r| r.prefix.contains(&a)).max_by_key(|r| r.prefix.prefix_len())?;
    match r.gateways.first() {
        None if r.oif != 0 => Some((None, r.ifname.clone())),
        Some(gw) => {
            let proto = if r.protocol == netlink::RTPROT_STATIC { "static" } else { "kernel" };
            Some((Some((proto, *gw)), r.ifname.clone()))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, up: bool, kind: &str, addrs: &[&str]) -> IfInfo {
        IfInfo {
            link: Link {
                index: 2,
                name: name.into(),
                up,
                carrier: up,
                mtu: 1500,
                flags: if up { 0x1043 } else { 0x1002 },
                arphrd: 1,
                mac: vec![0x82, 0xd7, 0x52, 0xd6, 0xe0, 0x71],
                kind: kind.into(),
                parent: None,
            },
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            speed: 0,
        }
    }

    #[test]
    fn brief_and_detail_as_zebra_prints_them() {
        let ifs = vec![
            iface("eth0", true, "veth", &["192.0.2.1/24", "2001:db8::1/64", "fe80::1/64"]),
            iface("vm", false, "bridge", &["198.51.100.1/24"]),
        ];
        assert_eq!(
            interface_brief(&ifs),
            "Interface       Status  VRF             Addresses\n---------       ------  ---             ---------\n\
             eth0            up      default         192.0.2.1/24\n                                        + 2001:db8::1/64\n\
             vm              down    default         198.51.100.1/24\n\n"
        );
        let mut h = LinkHistory::default();
        let mut host = Host::default();
        host.links.insert("eth0".into(), (2, true));
        h.observe(&host, SystemTime::UNIX_EPOCH);
        let d = interface_detail(&ifs, &h, Some("eth0")).unwrap();
        assert_eq!(
            d,
            "Interface eth0 is up, line protocol is up\n  Link ups:       1    last: 1970/01/01 00:00:00.00\n  \
             Link downs:     0    last: (never)\n  vrf: default\n  index 2 metric 0 mtu 1500 speed 0 \n  \
             flags: <UP,BROADCAST,RUNNING,MULTICAST>\n  Type: Ethernet\n  HWaddr: 82:d7:52:d6:e0:71\n  \
             inet 192.0.2.1/24\n  inet6 2001:db8::1/64\n  inet6 fe80::1/64\n  Interface Type VETH\n  \
             Interface Slave Type None\n  protodown: off \n"
        );
        let d = interface_detail(&ifs, &h, Some("vm")).unwrap();
        assert!(d.starts_with("Interface vm is down\n") && d.contains("Bridge VLAN-aware: no\n"), "{d}");
        assert_eq!(interface_detail(&ifs, &h, Some("eth9")), Err("% Can't find interface eth9".into()));
    }
}
