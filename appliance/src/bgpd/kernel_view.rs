//! The kernel's addresses and non-BGP routes, kept up to date from netlink
//! notifications: a change costs what it touches. Re-reading the kernel
//! on every change dumped the whole table, a million BGP routes on a full
//! feed, and held the kernel's routing lock against the FIB writer.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::bgp::speaker::{Host, HostRoute};
use crate::netlink::{self, Addr, Link, Msg, Route, Socket, RTPROT_BGP, RT_TABLE_MAIN};

#[derive(Debug, Default)]
pub struct View {
    addrs: Vec<Addr>,
    /// As they were at the last read (a link change reads the view again).
    links: Vec<Link>,
    /// Main-table routes of every protocol but bgp.
    routes: Vec<Route>,
    /// A link changed: the view is to be read again.
    pub stale: bool,
}

impl View {
    /// A fresh view from dumps; the prefixes of BGP routes go to `bgp`
    /// when asked for (ours, or an earlier run's).
    pub fn read(s: &mut Socket, mut bgp: Option<&mut Vec<IpNet>>) -> std::io::Result<View> {
        let mut v = View::default();
        s.dump_each(netlink::RTM_GETLINK, 3, |m| {
            if let Msg::Link(true, l) = m {
                v.links.push(l);
            }
        })?;
        s.dump_each(netlink::RTM_GETADDR, 1, |m| {
            v.apply(m);
        })?;
        s.dump_each(netlink::RTM_GETROUTE, 2, |m| match m {
            Msg::Route(true, r) if r.protocol == RTPROT_BGP && r.table == RT_TABLE_MAIN as u32 => {
                if let Some(b) = bgp.as_deref_mut() {
                    b.push(r.prefix);
                }
            }
            m => {
                v.apply(m);
            }
        })?;
        Ok(v)
    }

    /// Applies one message; whether it changed anything. A link message
    /// makes the view stale instead (see `stale`).
    pub fn apply(&mut self, m: Msg) -> bool {
        match m {
            Msg::Addr(new, a) => {
                let at = self.addrs.iter().position(|x| *x == a);
                match (new, at) {
                    (true, None) => self.addrs.push(a),
                    (false, Some(i)) => {
                        self.addrs.remove(i);
                    }
                    _ => return false,
                }
            }
            Msg::Route(new, r) => {
                if r.table != RT_TABLE_MAIN as u32 || r.protocol == RTPROT_BGP {
                    return false;
                }
                // The kernel's key: prefix and metric (and, in IPv6, the
                // next hops of routes that are not multipath).
                let same =
                    |x: &Route| x.prefix == r.prefix && x.metric == r.metric && (new || x.gateways == r.gateways);
                let at = self.routes.iter().position(same);
                match (new, at) {
                    (true, Some(i)) if self.routes[i] == r => return false,
                    (true, Some(i)) => self.routes[i] = r,
                    (true, None) => self.routes.push(r),
                    (false, Some(i)) => {
                        self.routes.remove(i);
                    }
                    (false, None) => return false,
                }
            }
            // A link that goes down or away takes its IPv4 routes with it
            // without a notification for each: only a re-read tells.
            Msg::Link(..) => self.stale = true,
            _ => return false,
        }
        true
    }

    pub fn host(&self) -> Host {
        let mut k = Host::default();
        for l in &self.links {
            k.links.insert(l.name.clone(), (l.index, l.carrier));
        }
        for a in &self.addrs {
            if let Some(name) = ifname(a.index) {
                k.names.insert(a.net, name);
            }
            k.addresses.push(a.net);
        }
        for r in &self.routes {
            k.routes.insert(r.prefix);
            if matches!(
                r.kind,
                netlink::RTN_UNICAST | netlink::RTN_BLACKHOLE | netlink::RTN_UNREACHABLE | netlink::RTN_PROHIBIT
            ) {
                k.table.push(kernel_route(r));
            }
        }
        k.addresses.sort();
        k.table.sort();
        k
    }
}

fn ifname(index: u32) -> Option<String> {
    nix::net::if_::if_indextoname(index).ok().map(|n| n.to_string_lossy().into_owned())
}

fn kernel_route(r: &Route) -> HostRoute {
    let oif = r.oif.or_else(|| r.gateways.iter().find_map(|g| g.1));
    HostRoute {
        prefix: r.prefix,
        protocol: r.protocol,
        connected: r.gateways.is_empty() && r.scope == netlink::RT_SCOPE_LINK,
        metric: r.metric,
        gateways: r.gateways.iter().map(|g| g.0).collect::<Vec<IpAddr>>(),
        ifname: oif.and_then(ifname).unwrap_or_default(),
        oif: if r.gateways.is_empty() { r.oif.unwrap_or(0) } else { 0 },
        kind: r.kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &str, proto: u8, metric: u32) -> Route {
        Route {
            prefix: p.parse().unwrap(),
            protocol: proto,
            table: RT_TABLE_MAIN as u32,
            kind: netlink::RTN_UNICAST,
            scope: 0,
            metric,
            oif: None,
            gateways: vec![("192.0.2.254".parse().unwrap(), None)],
        }
    }

    #[test]
    fn notifications_update_the_view() {
        let mut v = View::default();
        assert!(v.apply(Msg::Route(true, route("0.0.0.0/0", netlink::RTPROT_STATIC, 0))));
        assert!(!v.apply(Msg::Route(true, route("0.0.0.0/0", netlink::RTPROT_STATIC, 0))), "the same again");
        assert!(!v.apply(Msg::Route(true, route("198.51.100.0/24", RTPROT_BGP, 20))), "ours are not in the view");
        assert!(v.apply(Msg::Route(true, route("0.0.0.0/0", netlink::RTPROT_STATIC, 100))), "another metric");
        assert_eq!(v.host().table.len(), 2);
        assert!(v.apply(Msg::Route(false, route("0.0.0.0/0", netlink::RTPROT_STATIC, 0))));
        let k = v.host();
        assert_eq!(k.table.len(), 1);
        assert!(k.routes.contains(&"0.0.0.0/0".parse().unwrap()));
        assert!(v.apply(Msg::Route(false, route("0.0.0.0/0", netlink::RTPROT_STATIC, 100))));
        assert!(v.host().routes.is_empty());
        let a = Addr { index: 1, net: "192.0.2.1/24".parse().unwrap() };
        assert!(v.apply(Msg::Addr(true, a.clone())));
        assert_eq!(v.host().addresses, vec!["192.0.2.1/24".parse::<IpNet>().unwrap()]);
        assert!(v.apply(Msg::Addr(false, a)));
        assert!(v.host().addresses.is_empty());
    }
}
