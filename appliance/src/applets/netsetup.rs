//! netsetup: the container's interfaces, addresses, routes and sysctls
//! from /etc/bgpbox/network.toml, over netlink and /proc/sys. Idempotent:
//! it plans against what the kernel has and changes only the difference.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bgpbox_image::netconf::{self, NetworkConfig};
use clap::{Parser, Subcommand};
use ipnet::IpNet;

use crate::netlink::{self, Msg, Socket};

/// Brings up the container's network as its image says.
#[derive(Parser, Debug)]
#[command(name = "netsetup", version = crate::VERSION)]
struct Args {
    /// The network settings (rendered by `bgpbox build`).
    #[arg(long, default_value = netconf::PATH, value_name = "FILE")]
    config: PathBuf,
    /// Print what would change; exit 1 if anything would.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// On the host: a macvlan "shim" on the parent NIC, so that the host
    /// can reach its own router container (macvlan children cannot talk to
    /// their parent directly).
    HostShim {
        /// The host NIC the container's macvlan hangs off.
        #[arg(long)]
        parent: String,
        /// The shim's address, with prefix length (default: the parent's
        /// own IPv4 address, /32: the shim needs no address of its own).
        #[arg(long)]
        address: Option<IpNet>,
        /// The router container's LAN address: reached through the shim,
        /// and the gateway of every --route.
        #[arg(long)]
        router: Option<IpAddr>,
        /// Routes to send through the shim (repeatable): the VM networks
        /// behind the router (via --router), or addresses on the LAN.
        #[arg(long)]
        route: Vec<IpNet>,
        #[arg(long, default_value = "bgpbox-shim")]
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Up(String),
    Mtu(String, u32),
    Addr(String, IpNet),
    Route(IpNet, IpAddr, Option<String>),
    Sysctl(String, String),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Up(i) => write!(f, "{i}: bring up"),
            Change::Mtu(i, m) => write!(f, "{i}: mtu {m}"),
            Change::Addr(i, a) => write!(f, "{i}: add address {a}"),
            Change::Route(p, via, Some(d)) => write!(f, "route {p} via {via} dev {d}"),
            Change::Route(p, via, None) => write!(f, "route {p} via {via}"),
            Change::Sysctl(k, v) => write!(f, "sysctl {k} = {v}"),
        }
    }
}

/// What the kernel has now.
#[derive(Debug, Default)]
pub struct Current {
    pub links: Vec<netlink::Link>,
    pub addrs: Vec<netlink::Addr>,
    pub routes: Vec<netlink::Route>,
}

impl Current {
    fn read() -> std::io::Result<Current> {
        let mut s = Socket::open(0)?;
        let mut c = Current::default();
        for m in s.dump(netlink::RTM_GETLINK, 1)? {
            if let Msg::Link(true, l) = m {
                c.links.push(l);
            }
        }
        for m in s.dump(netlink::RTM_GETADDR, 2)? {
            if let Msg::Addr(true, a) = m {
                c.addrs.push(a);
            }
        }
        for m in s.dump(netlink::RTM_GETROUTE, 3)? {
            if let Msg::Route(true, r) = m {
                if r.table == netlink::RT_TABLE_MAIN as u32 {
                    c.routes.push(r);
                }
            }
        }
        Ok(c)
    }

    fn link(&self, name: &str) -> Option<&netlink::Link> {
        self.links.iter().find(|l| l.name == name)
    }
}

fn sysctl_path(key: &str) -> PathBuf {
    Path::new("/proc/sys").join(key.replace('.', "/"))
}

/// The changes that bring `cur` to `cfg`, and what cannot be done (an
/// interface that is not there). Pure, so that it is tested without a
/// kernel.
pub fn plan(cfg: &NetworkConfig, cur: &Current, sysctl: &dyn Fn(&str) -> Option<String>) -> (Vec<Change>, Vec<String>) {
    let mut ch = Vec::new();
    let mut errors = Vec::new();
    for i in &cfg.interfaces {
        let Some(l) = cur.link(&i.name) else {
            errors.push(format!("interface {}: not found (is its NIC in the LXD profile?)", i.name));
            continue;
        };
        if let Some(m) = i.mtu {
            if l.mtu != m {
                ch.push(Change::Mtu(i.name.clone(), m));
            }
        }
        if !l.up {
            ch.push(Change::Up(i.name.clone()));
        }
        for a in &i.addresses {
            let have = cur.addrs.iter().any(|x| x.index == l.index && x.net == *a);
            if !have {
                ch.push(Change::Addr(i.name.clone(), *a));
            }
        }
    }
    let mut keys: Vec<(&String, &String)> = cfg.sysctl.iter().collect();
    // Forwarding first: per-interface keys may depend on it (accept_ra).
    keys.sort_by_key(|(k, _)| !k.ends_with("forwarding") && !k.ends_with("ip_forward"));
    for (k, v) in keys {
        match sysctl(k) {
            Some(now) if now.trim() == v.trim() => {}
            Some(_) => ch.push(Change::Sysctl(k.clone(), v.clone())),
            None => errors.push(format!("sysctl {k}: not available (interface missing, or IPv6 off?)")),
        }
    }
    for r in &cfg.routes {
        if let Some(d) = &r.dev {
            if cur.link(d).is_none() {
                errors.push(format!("route {} via {}: interface {d} not found", r.prefix, r.via));
                continue;
            }
        }
        let have = cur.routes.iter().any(|x| x.prefix == r.prefix && x.gateways.iter().any(|(g, _)| *g == r.via));
        if !have {
            ch.push(Change::Route(r.prefix, r.via, r.dev.clone()));
        }
    }
    (ch, errors)
}

fn apply(c: &Change, cur: &Current, sock: &mut Socket, seq: u32) -> Result<(), String> {
    let index = |name: &str| cur.link(name).map(|l| l.index).ok_or_else(|| format!("interface {name}: not found"));
    let mut m = Vec::new();
    match c {
        Change::Up(i) => netlink::link_set(&mut m, seq, index(i)?, true, None),
        Change::Mtu(i, mtu) => netlink::link_set(&mut m, seq, index(i)?, cur.link(i).is_some_and(|l| l.up), Some(*mtu)),
        Change::Addr(i, a) => netlink::addr_add(&mut m, seq, index(i)?, a),
        Change::Route(p, via, dev) => {
            let oif = match dev {
                Some(d) => Some(index(d)?),
                None => None,
            };
            netlink::static_route_add(&mut m, seq, p, Some(*via), oif)
        }
        Change::Sysctl(k, v) => {
            return std::fs::write(sysctl_path(k), v).map_err(|e| format!("sysctl {k} = {v}: {e}"));
        }
    }
    sock.request(&m).map_err(|e| format!("{c}: {e}"))
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    crate::log::init("netsetup");
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    if let Some(Cmd::HostShim { parent, address, router, route, name }) = a.cmd {
        return match host_shim(&parent, address, router, &route, &name) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                crate::error!("netsetup", "{e}");
                ExitCode::FAILURE
            }
        };
    }
    let cfg = match std::fs::read_to_string(&a.config).map_err(|e| e.to_string()).and_then(|t| NetworkConfig::parse(&t))
    {
        Ok(c) => c,
        Err(e) => {
            crate::error!("netsetup", "{}: {e}", a.config.display());
            return ExitCode::FAILURE;
        }
    };
    let cur = match Current::read() {
        Ok(c) => c,
        Err(e) => {
            crate::error!("netsetup", "cannot read the kernel's network state: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (changes, mut errors) = plan(&cfg, &cur, &|k| std::fs::read_to_string(sysctl_path(k)).ok());
    if a.check {
        for c in &changes {
            println!("netsetup: would change: {c}");
        }
        for e in &errors {
            crate::error!("netsetup", "{e}");
        }
        if changes.is_empty() && errors.is_empty() {
            println!("netsetup: nothing to change");
            return ExitCode::SUCCESS;
        }
        return ExitCode::FAILURE;
    }
    if changes.is_empty() {
        println!("netsetup: nothing to change");
    }
    let mut sock = match Socket::open(0) {
        Ok(s) => s,
        Err(e) => {
            crate::error!("netsetup", "netlink: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (n, c) in changes.iter().enumerate() {
        match apply(c, &cur, &mut sock, 100 + n as u32) {
            Ok(()) => println!("netsetup: {c}"),
            Err(e) => errors.push(e),
        }
    }
    for e in &errors {
        crate::error!("netsetup", "{e}");
    }
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn host_shim(
    parent: &str,
    address: Option<IpNet>,
    router: Option<IpAddr>,
    routes: &[IpNet],
    name: &str,
) -> Result<(), String> {
    let mut sock = Socket::open(0).map_err(|e| format!("netlink: {e}"))?;
    let cur = Current::read().map_err(|e| e.to_string())?;
    let p = cur.link(parent).ok_or_else(|| format!("interface {parent}: not found"))?;
    // The parent's own address serves the shim too: nothing to pick.
    let address = match address {
        Some(a) => a,
        None => cur
            .addrs
            .iter()
            .find(|a| a.index == p.index && a.net.addr().is_ipv4())
            .map(|a| IpNet::from(a.net.addr()))
            .ok_or_else(|| format!("{parent} has no IPv4 address to lend the shim: give --address"))?,
    };
    let mut seq = 1;
    if cur.link(name).is_none() {
        let mut m = Vec::new();
        netlink::macvlan_add(&mut m, seq, name, p.index);
        sock.request(&m).map_err(|e| format!("{name}: create macvlan on {parent}: {e}"))?;
        println!("netsetup: {name}: macvlan on {parent} created");
    }
    seq += 1;
    let cur = Current::read().map_err(|e| e.to_string())?;
    let shim = cur.link(name).ok_or_else(|| format!("interface {name}: not found after creating it"))?;
    if !cur.addrs.iter().any(|a| a.index == shim.index && a.net == address) {
        let mut m = Vec::new();
        netlink::addr_add(&mut m, seq, shim.index, &address);
        sock.request(&m).map_err(|e| format!("{name}: address {address}: {e}"))?;
        println!("netsetup: {name}: address {address} added");
    }
    if !shim.up {
        let mut m = Vec::new();
        netlink::link_set(&mut m, seq + 1, shim.index, true, None);
        sock.request(&m).map_err(|e| format!("{name}: bring up: {e}"))?;
    }
    // The router itself on the link, then what lies behind it via it.
    let direct = router.map(IpNet::from);
    for (n, r) in direct.iter().chain(routes).enumerate() {
        let via = router.filter(|g| !r.contains(g));
        let mut m = Vec::new();
        netlink::static_route_add(&mut m, seq + 2 + n as u32, r, via, Some(shim.index));
        let how = via.map_or(format!("dev {name}"), |g| format!("via {g} dev {name}"));
        sock.request(&m).map_err(|e| format!("route {r} {how}: {e}"))?;
        println!("netsetup: route {r} {how}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpbox_image::netconf::{Interface, Route};
    use std::collections::BTreeMap;

    fn cfg() -> NetworkConfig {
        let mut sysctl = BTreeMap::new();
        sysctl.insert("net.ipv4.ip_forward".into(), "1".into());
        NetworkConfig {
            interfaces: vec![
                Interface { name: "eth0".into(), addresses: vec!["192.0.2.203/24".parse().unwrap()], mtu: None },
                Interface { name: "eth1".into(), addresses: vec!["198.51.100.1/24".parse().unwrap()], mtu: Some(1400) },
            ],
            routes: vec![Route {
                prefix: "0.0.0.0/0".parse().unwrap(),
                via: "192.0.2.254".parse().unwrap(),
                dev: Some("eth0".into()),
            }],
            sysctl,
        }
    }

    fn link(index: u32, name: &str, up: bool, mtu: u32) -> netlink::Link {
        netlink::Link {
            index,
            name: name.into(),
            up,
            carrier: up,
            mtu,
            flags: 0,
            arphrd: 1,
            mac: Vec::new(),
            kind: String::new(),
            parent: None,
        }
    }

    #[test]
    fn plans_only_the_difference() {
        let mut cur =
            Current { links: vec![link(2, "eth0", false, 1500), link(3, "eth1", true, 1500)], ..Default::default() };
        let (ch, err) = plan(&cfg(), &cur, &|_| Some("0\n".into()));
        assert!(err.is_empty(), "{err:?}");
        assert_eq!(ch.len(), 6, "{ch:?}");
        assert_eq!(ch[0], Change::Up("eth0".into()));
        assert!(ch.contains(&Change::Mtu("eth1".into(), 1400)));
        assert!(ch.contains(&Change::Sysctl("net.ipv4.ip_forward".into(), "1".into())));
        // Once all of it is there: nothing.
        cur.links = vec![link(2, "eth0", true, 1500), link(3, "eth1", true, 1400)];
        cur.addrs = vec![
            netlink::Addr { index: 2, net: "192.0.2.203/24".parse().unwrap() },
            netlink::Addr { index: 3, net: "198.51.100.1/24".parse().unwrap() },
        ];
        cur.routes = vec![netlink::Route {
            prefix: "0.0.0.0/0".parse().unwrap(),
            protocol: 4,
            table: 254,
            kind: 1,
            scope: 0,
            metric: 0,
            oif: Some(2),
            gateways: vec![("192.0.2.254".parse().unwrap(), None)],
        }];
        let (ch, err) = plan(&cfg(), &cur, &|_| Some("1\n".into()));
        assert!(ch.is_empty() && err.is_empty(), "{ch:?} {err:?}");
    }

    #[test]
    fn a_missing_interface_is_named_and_the_rest_still_planned() {
        let cur = Current { links: vec![link(2, "eth0", true, 1500)], ..Default::default() };
        let (ch, err) = plan(&cfg(), &cur, &|_| Some("0".into()));
        assert_eq!(err, vec!["interface eth1: not found (is its NIC in the LXD profile?)"]);
        assert!(ch.contains(&Change::Addr("eth0".into(), "192.0.2.203/24".parse().unwrap())));
    }
}
