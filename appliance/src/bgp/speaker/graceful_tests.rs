//! Graceful restart on the in-memory LAN: a server's bgpd dies (no
//! NOTIFICATION) and comes back; the home router keeps its routes stale.

use super::tests::{seed, server, Lan, IX};
use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Node `name`'s bgpd dies: its connections reset under its neighbors;
/// nothing runs in its place until `restart`.
fn crash(lan: &mut Lan, name: &str) {
    let i = lan.idx(name);
    let now = lan.now;
    let mine: Vec<_> = lan.links.iter().filter(|((n, _), _)| *n == i).map(|(k, v)| (*k, *v)).collect();
    for (k, (j, c)) in mine {
        lan.links.remove(&k);
        lan.links.remove(&(j, c));
        lan.nodes[j].sp.closed(now, c, "Connection reset by peer");
    }
    let host = lan.nodes[i].sp.host().clone();
    let old = std::mem::replace(&mut lan.nodes[i].sp, Speaker::new(Default::default(), host, now).unwrap());
    lan.dead.insert(i, old.config().clone());
    lan.settle();
}

/// A new bgpd of `conf` (the old one's if None) where `name` crashed.
fn restart(lan: &mut Lan, name: &str, conf: Option<&str>) {
    let i = lan.idx(name);
    let cfg = match conf {
        Some(c) => crate::bgp::config::parse(name, c).unwrap(),
        None => lan.dead.remove(&i).unwrap(),
    };
    let host = lan.nodes[i].sp.host().clone();
    lan.nodes[i].sp = Speaker::new(cfg, host, lan.now).unwrap();
    // Its routes are in the kernel still, as bgpd leaves them.
    let mut kept = PerFamily::<bool>::default();
    kept[Afi::Ipv4] = true;
    let now = lan.now;
    lan.nodes[i].sp.set_restarted(now, kept);
}

fn with_gr(conf: &str) -> String {
    conf.replace(" bgp router-id", " bgp graceful-restart\n bgp graceful-restart restart-time 90\n bgp router-id")
}

fn gr_lan() -> Lan {
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", IX, &[]);
    lan.add("ryzen", "192.0.2.203", &with_gr(&server(65001, "192.0.2.203", "198.51.100.0/24")), &["198.51.100.1/24"]);
    lan.add("oplx", "192.0.2.204", &server(65002, "192.0.2.204", "203.0.113.0/24"), &["203.0.113.1/24"]);
    lan.start();
    lan
}

#[test]
fn a_restarting_neighbor_keeps_its_routes() {
    let mut lan = gr_lan();
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    crash(&mut lan, "ryzen");
    // The home router (a helper by default) keeps ryzen's route, stale,
    // in its FIB and toward oplx.
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    let ix = &lan.node("ix").sp;
    let p = ix.peer_at(ip("192.0.2.203")).unwrap();
    assert!(p.stale().is_some_and(|s| s.contains(&"198.51.100.0/24".parse().unwrap())));
    assert!(lan.node("ix").log.iter().any(|l| l.contains("1 routes kept (stale) for up to 90s")));
    // Back, it sends its table and End-of-RIB: nothing stale is left, and
    // the route never left.
    restart(&mut lan, "ryzen", None);
    lan.advance(5);
    let p = lan.node("ix").sp.peer_at(ip("192.0.2.203")).unwrap();
    assert!(p.is_up() && p.stale().is_none(), "{:?}", lan.node("ix").log);
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]));
    assert!(!lan.node("ix").log.iter().any(|l| l.contains("routes removed")), "{:?}", lan.node("ix").log);
}

#[test]
fn what_it_does_not_send_again_goes_at_end_of_rib() {
    let mut lan = gr_lan();
    crash(&mut lan, "ryzen");
    // It comes back without that network.
    let conf = with_gr(&server(65001, "192.0.2.203", "198.51.100.0/24")).replace("  network 198.51.100.0/24\n", "");
    restart(&mut lan, "ryzen", Some(&conf));
    lan.advance(5);
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None);
    assert!(lan.node("ix").log.iter().any(|l| l.contains("1 stale IPv4 Unicast routes removed (End-of-RIB received)")));
}

#[test]
fn a_neighbor_that_does_not_return_loses_them_at_its_restart_time() {
    let mut lan = gr_lan();
    crash(&mut lan, "ryzen");
    lan.advance(60);
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), Some(vec![ip("192.0.2.203")]), "within its 90 s");
    lan.advance(31);
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None);
    assert_eq!(lan.hop("oplx", "198.51.100.0/24"), None);
}

/// Without graceful restart on the restarting side, or with it disabled
/// on the helper, or after a NOTIFICATION, the routes go at once.
#[test]
fn no_graceful_restart_no_stale_routes() {
    let mut lan = seed();
    crash(&mut lan, "ryzen");
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None, "ryzen offered no restart (helper only)");
    let mut lan = Lan::new();
    lan.add("ix", "192.0.2.254", &IX.replace(" bgp router-id", " bgp graceful-restart-disable\n bgp router-id"), &[]);
    lan.add("ryzen", "192.0.2.203", &with_gr(&server(65001, "192.0.2.203", "198.51.100.0/24")), &["198.51.100.1/24"]);
    lan.start();
    crash(&mut lan, "ryzen");
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None, "the helper is disabled");
    let mut lan = gr_lan();
    let i = lan.idx("ryzen");
    let now = lan.now;
    lan.nodes[i].sp.shutdown(now, "maintenance");
    lan.settle();
    assert_eq!(lan.hop("ix", "198.51.100.0/24"), None, "a Cease is no restart");
}

/// The restarting side's OPEN: R after a restart with kept routes, F for
/// the families kept; plain once every neighbor has sent its table.
#[test]
fn the_restarting_side_says_so() {
    let now = std::time::Instant::now();
    let cfg = crate::bgp::config::parse("r", &with_gr(&server(65001, "192.0.2.203", "198.51.100.0/24"))).unwrap();
    let mut sp = Speaker::new(cfg, super::tests::host("192.0.2.203", &["198.51.100.1/24"]), now).unwrap();
    let mut kept = PerFamily::<bool>::default();
    kept[Afi::Ipv4] = true;
    sp.set_restarted(now, kept);
    let gr = sp.peers()[0].session().cfg.graceful_restart.clone().unwrap();
    assert!(gr.restarting);
    assert_eq!((gr.time, gr.families), (90, vec![(1, 1, true)]));
    let helper = crate::bgp::config::parse("h", IX).unwrap();
    let sp = Speaker::new(helper, super::tests::host("192.0.2.254", &[]), now).unwrap();
    let gr = sp.peers()[0].session().cfg.graceful_restart.clone().unwrap();
    assert!(!gr.restarting && gr.families.is_empty() && gr.time == 120, "FRR's helper default");
}
