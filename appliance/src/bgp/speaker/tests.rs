//! Speakers wired together in memory: the seed's three routers on one
//! subnet, policy, RFC 8212 and withdrawals, with no sockets at all.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::*;
use crate::bgp::config::parse;
use crate::bgp::fsm::State;
use crate::bgp::packet::{frame, EXTENDED_MAX_LEN};

pub(crate) struct Node {
    pub name: &'static str,
    pub addr: IpAddr,
    pub sp: Speaker,
    fib: BTreeMap<IpNet, Vec<IpAddr>>,
    pub log: Vec<String>,
}

/// A LAN of speakers. Connections are pairs of (node, conn) ends.
pub(crate) struct Lan {
    pub nodes: Vec<Node>,
    pub(crate) links: HashMap<(usize, ConnId), (usize, ConnId)>,
    /// The configs of nodes whose bgpd crashed (graceful_tests.rs).
    pub(crate) dead: HashMap<usize, crate::bgp::config::Config>,
    pub now: Instant,
}

const LAN: &str = "192.0.2.0/24";

pub(crate) fn host(addr: &str, extra: &[&str]) -> Host {
    let mut addresses: Vec<IpNet> = vec![format!("{addr}/24").parse().unwrap()];
    let mut routes: crate::bgp::hash::FastSet<IpNet> = [LAN.parse().unwrap()].into_iter().collect();
    for e in extra {
        let n: IpNet = e.parse().unwrap();
        addresses.push(n);
        routes.insert(n.trunc());
    }
    Host { addresses, routes, names: Default::default(), table: vec![], links: Default::default() }
}

impl Lan {
    pub(crate) fn new() -> Lan {
        Lan { nodes: Vec::new(), links: HashMap::new(), dead: HashMap::new(), now: Instant::now() }
    }

    pub(crate) fn add(&mut self, name: &'static str, addr: &str, conf: &str, extra: &[&str]) -> usize {
        self.add_host(name, addr, conf, host(addr, extra))
    }

    /// A node on a host of the test's making (links, link-local only).
    pub(crate) fn add_host(&mut self, name: &'static str, addr: &str, conf: &str, host: Host) -> usize {
        let cfg = parse(name, conf).unwrap_or_else(|e| panic!("{e}"));
        let sp = Speaker::new(cfg, host, self.now).unwrap();
        self.nodes.push(Node { name, addr: addr.parse().unwrap(), sp, fib: BTreeMap::new(), log: Vec::new() });
        self.nodes.len() - 1
    }

    pub(crate) fn node(&self, name: &str) -> &Node {
        self.nodes.iter().find(|n| n.name == name).unwrap()
    }

    pub(crate) fn idx(&self, name: &str) -> usize {
        self.nodes.iter().position(|n| n.name == name).unwrap()
    }

    /// Delivers everything until no node has output left.
    pub(crate) fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            for i in 0..self.nodes.len() {
                while self.nodes[i].sp.has_work() {
                    self.nodes[i].sp.work(self.now, 3);
                }
                let out = self.nodes[i].sp.take_output();
                busy |= !out.is_empty();
                for o in out {
                    self.carry(i, o);
                }
            }
            if !busy {
                return;
            }
        }
        panic!("the LAN never settled");
    }

    pub(crate) fn carry(&mut self, i: usize, o: Output) {
        let now = self.now;
        match o {
            Output::Connect { conn, peer, scope } => {
                let from = self.nodes[i].addr;
                // One link: the scope of a link-local address is the same
                // interface index on both sides.
                match self.nodes.iter().position(|n| n.addr == peer) {
                    Some(j) => match self.nodes[j].sp.accept(now, from, scope, peer).ok() {
                        Some(c2) => {
                            self.links.insert((i, conn), (j, c2));
                            self.links.insert((j, c2), (i, conn));
                            self.nodes[i].sp.connected(now, conn, from);
                        }
                        None => self.nodes[i].sp.closed(now, conn, "Connection refused"),
                    },
                    None => self.nodes[i].sp.closed(now, conn, "No route to host"),
                }
            }
            Output::Send(conn, bytes) => {
                let Some(&(j, c2)) = self.links.get(&(i, conn)) else { return };
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let len = frame(rest, EXTENDED_MAX_LEN).unwrap().expect("whole messages");
                    self.nodes[j].sp.message(now, c2, &rest[..len]);
                    rest = &rest[len..];
                }
            }
            Output::Close(conn) => {
                if let Some((j, c2)) = self.links.remove(&(i, conn)) {
                    self.links.remove(&(j, c2));
                    self.nodes[j].sp.closed(now, c2, "Connection closed by peer");
                }
            }
            Output::Fib(p, hops) => {
                if hops.as_slice().is_empty() {
                    self.nodes[i].fib.remove(&p);
                } else {
                    self.nodes[i].fib.insert(p, hops.as_slice().iter().map(|h| h.0).collect());
                }
            }
            Output::Log(_, l) => self.nodes[i].log.push(l),
        }
    }

    /// Moves the clock and fires timers.
    pub(crate) fn advance(&mut self, secs: u64) {
        let end = self.now + Duration::from_secs(secs);
        loop {
            let next = self.nodes.iter().filter_map(|n| n.sp.next_deadline()).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for n in &mut self.nodes {
                        n.sp.timeout(self.now);
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = end;
    }

    pub(crate) fn start(&mut self) {
        self.settle();
        self.advance(5);
    }

    pub(crate) fn reconfigure(&mut self, name: &str, conf: &str) {
        let i = self.idx(name);
        let cfg = parse(name, conf).unwrap();
        self.nodes[i].sp.reconfigure(self.now, cfg).unwrap();
        self.settle();
    }

    pub(crate) fn hop(&self, name: &str, prefix: &str) -> Option<Vec<IpAddr>> {
        self.node(name).fib.get(&prefix.parse().unwrap()).cloned()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(crate) const IX: &str = "
router bgp 65000
 bgp router-id 192.0.2.254
 no bgp ebgp-requires-policy
 neighbor 192.0.2.203 remote-as 65001
 neighbor 192.0.2.204 remote-as 65002
 !
 address-family ipv4 unicast
  neighbor 192.0.2.203 default-originate
  neighbor 192.0.2.204 default-originate
 exit-address-family
exit
";

pub(crate) fn server(asn: u32, me: &str, vm: &str) -> String {
    format!(
        "router bgp {asn}
 bgp router-id {me}
 neighbor 192.0.2.254 remote-as 65000
 !
 address-family ipv4 unicast
  network {vm}
  neighbor 192.0.2.254 prefix-list allowed-in in
  neighbor 192.0.2.254 prefix-list allowed-adv out
 exit-address-family
exit
!
ip prefix-list allowed-adv seq 5 permit {vm}
ip prefix-list allowed-adv seq 10 deny any
ip prefix-list allowed-in seq 5 permit any
"
    )
}

pub(crate) fn seed() -> Lan {
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", IX, &[]);
    lan.add("ryzen", "192.0.2.203", &server(65001, "192.0.2.203", "198.51.100.0/24"), &["198.51.100.1/24"]);
    lan.add("oplx", "192.0.2.204", &server(65002, "192.0.2.204", "203.0.113.0/24"), &["203.0.113.1/24"]);
    lan.start();
    lan
}

#[test]
fn the_seed_on_one_subnet() {
    let lan = seed();
    for n in &lan.nodes {
        for p in n.sp.peers() {
            assert_eq!(p.session().state(), State::Established, "{} with {}: {:?}", n.name, p.name(), n.log);
        }
    }
    // The home router has both VM networks, via each server.
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    assert_eq!(lan.hop("ix", "203.0.113.0/24"), Some(vec![ip("192.0.2.204")]));
    // Each server learns the other's with the other as next hop (third
    // party), and the default from the home router.
    assert_eq!(lan.hop("ryzen", "203.0.113.0/24"), Some(vec![ip("192.0.2.204")]));
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    assert_eq!(lan.hop("ryzen", "0.0.0.0/0"), Some(vec![ip("192.0.2.254")]));
    assert_eq!(lan.hop("oplx", "0.0.0.0/0"), Some(vec![ip("192.0.2.254")]));
    // The servers' own networks are not FIB routes of theirs.
    assert_eq!(lan.hop("ryzen", "198.51.100.0/24"), None);
    // AS paths as FRR would show them.
    let r = &lan.node("ryzen").sp;
    let p = &r.table(Afi::Ipv4).selected(&"203.0.113.0/24".parse().unwrap())[0];
    assert_eq!(p.attrs.as_path().to_string(), "65000 65002");
    assert_eq!(p.attrs.med.get(), None, "MED is not passed on between ASes");
}

#[test]
fn withdrawal_and_session_loss() {
    let mut lan = seed();
    // A removed `network` is withdrawn everywhere.
    lan.reconfigure("oplx", &server(65002, "192.0.2.204", "203.0.113.0/24").replace("  network 203.0.113.0/24\n", ""));
    assert_eq!(lan.hop("ix", "203.0.113.0/24"), None);
    assert_eq!(lan.hop("ryzen", "203.0.113.0/24"), None);
    // The session did not reset for that.
    assert_eq!(lan.node("oplx").sp.peers()[0].session().established_count, 1);
    lan.reconfigure("oplx", &server(65002, "192.0.2.204", "203.0.113.0/24"));
    assert_eq!(lan.hop("ryzen", "203.0.113.0/24"), Some(vec![ip("192.0.2.204")]));
    // Stopping a server (what `lxc stop` does) takes its routes away at once.
    let i = lan.idx("oplx");
    let now = lan.now;
    lan.nodes[i].sp.shutdown(now, "router leaving");
    lan.settle();
    assert_eq!(lan.hop("ix", "203.0.113.0/24"), None);
    assert_eq!(lan.hop("ryzen", "203.0.113.0/24"), None);
    let ix_log = lan.node("ix").log.join("\n");
    assert!(
        ix_log.contains("neighbor 192.0.2.204 Down: Cease/Administrative Shutdown (\"router leaving\") received"),
        "{ix_log}"
    );
}

#[test]
fn prefix_lists_in_and_out() {
    let mut lan = seed();
    // Ryzen's outbound list lets only its VM network out, even if it
    // originates more.
    let more = server(65001, "192.0.2.203", "198.51.100.0/24")
        .replace("  network 198.51.100.0/24\n", "  network 198.51.100.0/24\n  network 192.0.2.0/24\n");
    lan.reconfigure("ryzen", &more);
    assert!(lan.node("ryzen").sp.is_originated(&LAN.parse().unwrap()));
    assert_eq!(lan.hop("ix", "192.0.2.0/24"), None);
    // Oplx accepts only the default from now on (route refresh, no reset).
    let only_default = server(65002, "192.0.2.204", "203.0.113.0/24")
        .replace("ip prefix-list allowed-in seq 5 permit any", "ip prefix-list allowed-in seq 5 permit 0.0.0.0/0");
    lan.reconfigure("oplx", &only_default);
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), None);
    assert_eq!(lan.hop("oplx", "0.0.0.0/0"), Some(vec![ip("192.0.2.254")]));
    let o = lan.node("oplx");
    assert_eq!(o.sp.peers()[0].session().established_count, 1, "{:?}", o.log);
    assert!(o.log.iter().any(|l| l.contains("route refresh sent")), "{:?}", o.log);
    // And back: the refresh brings the route again.
    lan.reconfigure("oplx", &server(65002, "192.0.2.204", "203.0.113.0/24"));
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
}

#[test]
fn rfc8212_blocks_ebgp_without_policy_and_says_how_to_fix_it() {
    let mut lan = Lan::new();
    let bare = "router bgp 65001\n neighbor 192.0.2.254 remote-as 65000\n address-family ipv4 unicast\n  network 198.51.100.0/24\n";
    lan.add("ix", "192.0.2.254", IX, &[]);
    lan.add("ryzen", "192.0.2.203", bare, &["198.51.100.1/24"]);
    lan.start();
    let r = lan.node("ryzen");
    assert_eq!(r.sp.peers()[0].session().state(), State::Established);
    assert_eq!(lan.hop("ryzen", "0.0.0.0/0"), None, "nothing accepted");
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None, "nothing advertised");
    let blocks: Vec<&String> = r.log.iter().filter(|l| l.contains("RFC 8212")).collect();
    assert_eq!(blocks.len(), 2, "one line per direction: {:?}", r.log);
    assert!(
        blocks[0].contains("neighbor 192.0.2.254 prefix-list NAME in")
            && blocks[0].contains("no bgp ebgp-requires-policy")
    );
    // Turning the check off lets routes flow without a reset.
    lan.reconfigure("ryzen", &format!("{bare}exit\nrouter bgp 65001\n no bgp ebgp-requires-policy\n"));
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    assert_eq!(lan.node("ryzen").sp.peers()[0].session().established_count, 1);
}

#[test]
fn network_import_check_follows_the_kernel() {
    let mut lan = seed();
    let i = lan.idx("ryzen");
    let now = lan.now;
    let mut k = lan.nodes[i].sp.host().clone();
    k.routes.remove(&"198.51.100.0/24".parse().unwrap());
    lan.nodes[i].sp.set_host(now, k.clone());
    lan.settle();
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None);
    k.routes.insert("198.51.100.0/24".parse().unwrap());
    lan.nodes[i].sp.set_host(now, k);
    lan.settle();
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
}

#[test]
fn maximum_prefix_stops_the_session() {
    let mut lan = seed();
    let limited = server(65001, "192.0.2.203", "198.51.100.0/24")
        .replace(" exit-address-family", "  neighbor 192.0.2.254 maximum-prefix 1\n exit-address-family");
    lan.reconfigure("ryzen", &limited);
    lan.advance(5);
    let r = lan.node("ryzen");
    assert!(r.sp.peers()[0].overflow(), "{:?}", r.log);
    assert_eq!(r.sp.peers()[0].session().state(), State::Idle);
    assert!(r.log.iter().any(|l| l.contains("exceed maximum-prefix 1")));
    let ix = lan.node("ix").log.join("\n");
    assert!(ix.contains("Maximum Number of Prefixes Reached"), "{ix}");
}

/// A full table leaves the RIB in slices: the first at once, the rest as
/// the daemon calls `work`, and the FIB ends up empty all the same.
#[test]
fn a_lost_table_leaves_in_slices() {
    let n = WITHDRAW_SLICE + 808;
    let mut conf = String::from(
        "router bgp 65009\n bgp router-id 192.0.2.9\n no bgp ebgp-requires-policy\n no bgp network import-check\n neighbor 192.0.2.254 remote-as 65000\n address-family ipv4 unicast\n",
    );
    for i in 0..n {
        conf.push_str(&format!("  network 10.{}.{}.0/24\n", i >> 8, i & 255));
    }
    let ix = "router bgp 65000\n bgp router-id 192.0.2.254\n no bgp ebgp-requires-policy\n neighbor 192.0.2.9 remote-as 65009\n";
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", ix, &[]);
    lan.add("big", "192.0.2.9", &conf, &[]);
    lan.start();
    let (ix_i, big_i) = (lan.idx("ix"), lan.idx("big"));
    assert_eq!(lan.nodes[ix_i].fib.len(), n);

    // The big router leaves; the home router hears it without draining.
    let now = lan.now;
    lan.nodes[big_i].sp.shutdown(now, "maintenance");
    for o in lan.nodes[big_i].sp.take_output() {
        lan.carry(big_i, o);
    }
    for o in lan.nodes[ix_i].sp.take_output() {
        lan.carry(ix_i, o);
    }
    let sp = &lan.nodes[ix_i].sp;
    assert!(sp.has_work());
    assert_eq!(sp.table(Afi::Ipv4).len(), n - WITHDRAW_SLICE, "the first slice left at once");
    assert_eq!(lan.nodes[ix_i].fib.len(), n - WITHDRAW_SLICE);
    lan.nodes[ix_i].sp.work(now, WITHDRAW_SLICE);
    assert!(!lan.nodes[ix_i].sp.has_work());
    for o in lan.nodes[ix_i].sp.take_output() {
        lan.carry(ix_i, o);
    }
    assert!(lan.nodes[ix_i].fib.is_empty() && lan.nodes[ix_i].sp.table(Afi::Ipv4).is_empty());
}

/// What a selection means for the kernel is decided in the core: the
/// learnt paths' next hops, nothing for our own routes.
#[test]
fn the_fib_meaning_of_a_selection() {
    use crate::bgp::packet::PathAttrs;
    use crate::bgp::rib::{Path, LOCAL};
    use std::sync::Arc;
    let via = |peer, hop: &str| Path { peer, attrs: Arc::new(PathAttrs::default().with_next_hop(ip(hop))), since: 0 };
    let none = |_: &Path| None;
    assert_eq!(fib_hops(&[], &none), Hops::None);
    assert_eq!(fib_hops(&[via(LOCAL, "0.0.0.0")], &none), Hops::None);
    assert_eq!(fib_hops(&[via(1, "192.0.2.1")], &none), Hops::One((ip("192.0.2.1"), 0)));
    let two = fib_hops(&[via(1, "192.0.2.1"), via(2, "192.0.2.2")], &none);
    assert_eq!(two.as_slice(), &[(ip("192.0.2.1"), 0), (ip("192.0.2.2"), 0)]);
    // A link-local next hop goes with its interface.
    let ll = |p: &Path| (p.peer == 2).then(|| (ip("fe80::2"), 7));
    let two = fib_hops(&[via(1, "192.0.2.1"), via(2, "192.0.2.2")], &ll);
    assert_eq!(two.as_slice(), &[(ip("192.0.2.1"), 0), (ip("fe80::2"), 7)]);
    // The seed's servers: the other's network and the default, not their own.
    let lan = seed();
    let r: Vec<(IpNet, Hops)> = lan.node("ryzen").sp.fib_routes(Afi::Ipv4).collect();
    let want: Vec<(IpNet, Hops)> = vec![
        ("0.0.0.0/0".parse().unwrap(), Hops::One((ip("192.0.2.254"), 0))),
        ("203.0.113.0/24".parse().unwrap(), Hops::One((ip("192.0.2.204"), 0))),
    ];
    assert_eq!(r, want);
}

/// An earlier run's routes may go once every neighbor that is to be up
/// has sent End-of-RIB for each of its families.
#[test]
fn the_stale_sweep_waits_for_every_end_of_rib() {
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", IX, &[]);
    lan.add("ryzen", "192.0.2.203", &server(65001, "192.0.2.203", "198.51.100.0/24"), &["198.51.100.1/24"]);
    assert!(!lan.node("ryzen").sp.initial_sync_done(), "no session yet");
    lan.start();
    assert!(lan.node("ryzen").sp.initial_sync_done());
    // A neighbor that is configured but not there holds the sweep back...
    lan.reconfigure(
        "ryzen",
        &server(65001, "192.0.2.203", "198.51.100.0/24").replace(
            " neighbor 192.0.2.254 remote-as 65000\n",
            " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.9 remote-as 65009\n",
        ),
    );
    assert!(!lan.node("ryzen").sp.initial_sync_done());
    // ...unless it is shut down.
    lan.reconfigure(
        "ryzen",
        &server(65001, "192.0.2.203", "198.51.100.0/24").replace(
            " neighbor 192.0.2.254 remote-as 65000\n",
            " neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.9 remote-as 65009\n neighbor 192.0.2.9 shutdown\n",
        ),
    );
    assert!(lan.node("ryzen").sp.initial_sync_done());
}

/// The home router with its servers in a peer-group: the group's
/// default-originate and remote-as reach both members.
#[test]
fn a_peer_group_of_servers() {
    let ix = "
router bgp 65000
 bgp router-id 192.0.2.254
 no bgp ebgp-requires-policy
 neighbor SERVERS peer-group
 neighbor SERVERS remote-as external
 neighbor 192.0.2.203 peer-group SERVERS
 neighbor 192.0.2.204 peer-group SERVERS
 address-family ipv4 unicast
  neighbor SERVERS default-originate
 exit-address-family
exit
";
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", ix, &[]);
    lan.add("ryzen", "192.0.2.203", &server(65001, "192.0.2.203", "198.51.100.0/24"), &["198.51.100.1/24"]);
    lan.add("oplx", "192.0.2.204", &server(65002, "192.0.2.204", "203.0.113.0/24"), &["203.0.113.1/24"]);
    lan.start();
    assert_eq!(lan.hop("ryzen", "0.0.0.0/0"), Some(vec![ip("192.0.2.254")]));
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    // A change to the group reaches its members: no more default.
    lan.reconfigure("ix", &ix.replace("  neighbor SERVERS default-originate\n", ""));
    assert_eq!(lan.hop("ryzen", "0.0.0.0/0"), None);
    assert_eq!(lan.hop("oplx", "0.0.0.0/0"), None);
    assert_eq!(lan.node("ix").sp.peers()[0].session().established_count, 1, "no reset for a policy change");
}

/// `redistribute connected|static|kernel`: the kernel's routes of that
/// kind, origin incomplete, through the route-map; gone when the kernel's
/// route goes.
#[test]
fn redistribute_follows_the_kernel() {
    use crate::bgp::packet::Origin;
    use crate::netlink::{RTPROT_KERNEL, RTPROT_STATIC};
    let route = |p: &str, protocol, connected| HostRoute {
        prefix: p.parse().unwrap(),
        protocol,
        connected,
        metric: 7,
        gateways: vec![],
        ifname: "eth1".into(),
        oif: 3,
        kind: crate::netlink::RTN_UNICAST,
    };
    let conf = "router bgp 65001\n bgp router-id 192.0.2.203\n no bgp ebgp-requires-policy\n neighbor 192.0.2.254 remote-as 65000\n \
        address-family ipv4 unicast\n  redistribute connected route-map LANS\n  redistribute static metric 50\n exit-address-family\nexit\n\
        route-map LANS deny 5\n match ip address prefix-list THE-LAN\nexit\nroute-map LANS permit 10\nexit\n\
        ip prefix-list THE-LAN seq 5 permit 192.0.2.0/24\n";
    let ix = "router bgp 65000\n bgp router-id 192.0.2.254\n no bgp ebgp-requires-policy\n neighbor 192.0.2.203 remote-as 65001\n";
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", ix, &[]);
    lan.add("ryzen", "192.0.2.203", conf, &[]);
    let i = lan.idx("ryzen");
    let mut h = lan.nodes[i].sp.host().clone();
    h.table = vec![
        route("192.0.2.0/24", RTPROT_KERNEL, true),
        route("198.51.100.0/24", RTPROT_KERNEL, true),
        route("203.0.113.0/24", RTPROT_STATIC, false),
        route("10.9.0.0/16", 3, false),
    ];
    let now = lan.now;
    lan.nodes[i].sp.set_host(now, h.clone());
    lan.start();
    let ix_sp = &lan.node("ix").sp;
    let got = |p: &str| ix_sp.table(Afi::Ipv4).selected(&p.parse().unwrap()).first().map(|p| p.attrs.clone());
    let vm = got("198.51.100.0/24").expect("a connected network");
    assert_eq!((vm.origin, vm.med.get(), vm.as_path().to_string()), (Origin::Incomplete, Some(0), "65001".to_string()));
    assert!(got("192.0.2.0/24").is_none(), "the route-map denies the LAN");
    assert!(got("203.0.113.0/24").is_some(), "static");
    assert!(got("10.9.0.0/16").is_none(), "kernel routes are not asked for");
    let mine = &lan.node("ryzen").sp;
    let st = &mine.table(Afi::Ipv4).selected(&"203.0.113.0/24".parse().unwrap())[0];
    assert_eq!((st.attrs.origin, st.attrs.med.get()), (Origin::Incomplete, Some(50)));
    // The connected network goes with its kernel route.
    h.table.retain(|r| r.prefix.to_string() != "198.51.100.0/24");
    lan.nodes[i].sp.set_host(now, h);
    lan.settle();
    assert!(lan.node("ix").sp.table(Afi::Ipv4).selected(&"198.51.100.0/24".parse().unwrap()).is_empty());
}

/// Two sites of one AS behind a transit (the home router): `allowas-in` on
/// one side, `as-override` on the transit, `remove-private-AS` toward a
/// third; what each neighbor gets, as FRR gives it.
#[test]
fn allowas_in_as_override_and_remove_private_as() {
    let site = |me: &str, net: &str, extra: &str| {
        format!(
            "router bgp 65001\n bgp router-id {me}\n no bgp ebgp-requires-policy\n neighbor 192.0.2.254 remote-as 65000\n \
             address-family ipv4 unicast\n  network {net}\n{extra} exit-address-family\n"
        )
    };
    let ix = |extra: &str| {
        format!(
            "router bgp 65000\n bgp router-id 192.0.2.254\n no bgp ebgp-requires-policy\n neighbor 192.0.2.1 remote-as 65001\n \
             neighbor 192.0.2.2 remote-as 65001\n neighbor 192.0.2.3 remote-as 65003\n address-family ipv4 unicast\n{extra} exit-address-family\n"
        )
    };
    let third = "router bgp 65003\n bgp router-id 192.0.2.3\n no bgp ebgp-requires-policy\n neighbor 192.0.2.254 remote-as 65000\n";
    let build = |ix_extra: &str, b_extra: &str| {
        let mut lan = Lan::new();
        lan.add("ix", "192.0.2.254", &ix(ix_extra), &[]);
        lan.add("a", "192.0.2.1", &site("192.0.2.1", "198.51.100.0/24", ""), &["198.51.100.1/24"]);
        lan.add("b", "192.0.2.2", &site("192.0.2.2", "203.0.113.0/24", b_extra), &["203.0.113.1/24"]);
        lan.add("c", "192.0.2.3", third, &[]);
        lan.start();
        lan
    };
    let path = |lan: &Lan, node: &str, p: &str| {
        lan.node(node).sp.table(Afi::Ipv4).selected(&p.parse().unwrap()).first().map(|x| x.attrs.as_path().to_string())
    };
    // Plain: the transit does not send site A's route to site B (B's AS
    // is in its path), and the third AS sees both sites' private AS.
    let lan = build("", "");
    assert_eq!(path(&lan, "b", "198.51.100.0/24"), None);
    assert_eq!(path(&lan, "c", "198.51.100.0/24").as_deref(), Some("65000 65001"));
    // as-override on the transit: B gets it, its own AS replaced.
    let lan = build("  neighbor 192.0.2.2 as-override\n", "");
    assert_eq!(path(&lan, "b", "198.51.100.0/24").as_deref(), Some("65000 65000"));
    // remove-private-AS toward C: a path of private ASes only loses them.
    let lan = build("  neighbor 192.0.2.3 remove-private-AS\n", "");
    assert_eq!(path(&lan, "c", "198.51.100.0/24").as_deref(), Some("65000"), "private ASes removed toward C");
    // allowas-in on its own: a route whose path holds B's AS once.
    let mut lan = build("", "  neighbor 192.0.2.254 allowas-in 1\n");
    let i = lan.idx("b");
    let looped = PathAttrs::default()
        .with_as_path(&crate::bgp::packet::AsPath::sequence(&[65000, 65001]))
        .with_next_hop(ip("192.0.2.254"));
    let accepted = lan.nodes[i].sp.import_attrs(0, Afi::Ipv4, looped.clone()).is_some();
    assert!(accepted, "allowas-in 1 takes our AS once");
    let twice = looped.with_as_path(&crate::bgp::packet::AsPath::sequence(&[65000, 65001, 65001]));
    assert!(lan.nodes[i].sp.import_attrs(0, Afi::Ipv4, twice).is_none(), "but not twice");
}

/// `no neighbor X send-community`: what that neighbor gets carries none.
#[test]
fn send_community_off_strips_them() {
    let ryzen = server(65001, "192.0.2.203", "198.51.100.0/24")
        .replace("neighbor 192.0.2.254 prefix-list allowed-adv out", "neighbor 192.0.2.254 route-map TAG out")
        + "route-map TAG permit 10\n match ip address prefix-list allowed-adv\n set community 65001:7\nexit\n";
    let ix = IX.replace(
        "  neighbor 192.0.2.204 default-originate\n",
        "  neighbor 192.0.2.204 default-originate\n  no neighbor 192.0.2.204 send-community all\n",
    );
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", &ix, &[]);
    lan.add("ryzen", "192.0.2.203", &ryzen, &["198.51.100.1/24"]);
    lan.add("oplx", "192.0.2.204", &server(65002, "192.0.2.204", "203.0.113.0/24"), &["203.0.113.1/24"]);
    lan.start();
    let at = |n: &str| lan.node(n).sp.table(Afi::Ipv4).selected(&"198.51.100.0/24".parse().unwrap())[0].attrs.clone();
    assert_eq!(at("ix").communities(), &[65001 << 16 | 7], "the home router has it");
    let o = at("oplx");
    assert!(o.communities().is_empty(), "{o:?}");
}
