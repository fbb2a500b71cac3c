//! Unnumbered BGP (`neighbor eth0 interface remote-as external`) over a
//! veth that carries no IPv4 address at all, with FRR 8.4 and with bgpbox
//! on the other side: the peer is found by router advertisements, IPv4
//! and IPv6 routes are exchanged, the IPv4 one goes into the kernel `via
//! inet6 fe80::...` and a ping crosses it; the link going down withdraws
//! them, its return brings them back. Needs root: run through scripts/test.

mod common;

use common::netns::*;
use common::*;

/// One side's config: its VM network in both families, the interface
/// neighbor active in both. FRR wants the policy check off too.
fn conf(asn: u32, id: &str, v4: &str, v6: &str) -> String {
    format!(
        "router bgp {asn}\n bgp router-id {id}\n no bgp ebgp-requires-policy\n neighbor eth0 interface remote-as external\n \
         neighbor eth0 timers 3 9\n !\n address-family ipv4 unicast\n  network {v4}\n exit-address-family\n !\n \
         address-family ipv6 unicast\n  network {v6}\n  neighbor eth0 activate\n exit-address-family\nexit\n"
    )
}

/// Two namespaces joined by eth0 (link-local only) with a VM bridge each.
fn link(short: &str) -> (Ns, Ns) {
    let (a, b) = (Ns::new(&format!("{short}a")), Ns::new(&format!("{short}b")));
    veth(&a, "eth0", &[], &b, "eth0", &[]);
    a.addr("vm", "198.51.100.1/24");
    a.addr("vm", "2001:db8:a::1/64");
    b.addr("vm", "203.0.113.1/24");
    b.addr("vm", "2001:db8:b::1/64");
    for ns in [&a, &b] {
        let v4 = ns.ip(&["-4", "addr", "show", "dev", "eth0"]);
        assert!(v4.trim().is_empty(), "eth0 has IPv4: {v4}");
    }
    (a, b)
}

/// The link-local address of `ns`'s eth0.
fn link_local(ns: &Ns) -> String {
    let out = ns.ip(&["-6", "-br", "addr", "show", "eth0", "scope", "link"]);
    out.split_whitespace().nth(2).and_then(|a| a.split('/').next()).expect("a link-local address").to_string()
}

/// What `a` (bgpbox) must have from `b`: both routes in the kernel by b's
/// link-local address on eth0, the IPv4 one as FRR/the kernel write an
/// IPv4 route over an IPv6 gateway.
fn has_routes_from(a: &Ns, b_ll: &str) -> bool {
    a.routes(false)
        .lines()
        .any(|l| l.starts_with("203.0.113.0/24") && l.contains(&format!("via inet6 {b_ll} dev eth0")))
        && a.routes(true)
            .lines()
            .any(|l| l.starts_with("2001:db8:b::/64") && l.contains(&format!("via {b_ll} dev eth0")))
}

fn ping_across(a: &Ns) -> bool {
    a.try_exec(&["ping", "-c", "1", "-W", "1", "-I", "198.51.100.1", "203.0.113.1"]).is_ok()
        && a.try_exec(&["ping", "-6", "-c", "1", "-W", "1", "-I", "2001:db8:a::1", "2001:db8:b::1"]).is_ok()
}

/// Down on `a`'s side, then up: the routes go and come back at both ends,
/// as the BGP tables say (the kernel drops a dead link's routes by itself).
fn flap(a: &Ns, bgp_a: &dyn Fn() -> String, bgp_b: &dyn Fn() -> String, ctx: &dyn Fn() -> String) {
    a.ip(&["link", "set", "eth0", "down"]);
    eventually("the routes withdrawn on both sides", ctx, || {
        !bgp_a().contains("203.0.113.0/24") && !bgp_b().contains("198.51.100.0/24")
    });
    a.ip(&["link", "set", "eth0", "up"]);
    eventually("the routes back on both sides", ctx, || {
        bgp_a().contains("203.0.113.0/24") && bgp_b().contains("198.51.100.0/24")
    });
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn unnumbered_with_frr() {
    require_root();
    let (a, b) = link("unf");
    let frr = Frr::start(&b, &conf(65002, "192.0.2.2", "203.0.113.0/24", "2001:db8:b::/64"));
    let x = Bgpbox::start(&a, "un-a", &conf(65001, "192.0.2.1", "198.51.100.0/24", "2001:db8:a::/64"));
    let (a_ll, b_ll) = (link_local(&a), link_local(&b));
    let ctx = || {
        format!(
            "bgpbox:\n{}\n{}\nkernel:\n{}{}\nFRR:\n{}",
            x.log_text(),
            x.show("show bgp neighbors eth0"),
            a.routes(false),
            a.routes(true),
            frr.vtysh("show bgp summary")
        )
    };
    eventually("FRR's routes in bgpbox's kernel, over eth0's link-local address", ctx, || has_routes_from(&a, &b_ll));
    eventually("bgpbox's routes in FRR's kernel", ctx, || {
        b.routes(false).lines().any(|l| l.starts_with("198.51.100.0/24") && l.contains(&format!("via inet6 {a_ll}")))
    });
    assert!(ping_across(&a), "no ping across the unnumbered link\n{}", ctx());

    // What FRR users look at: the interface as the neighbor, its address,
    // the capability, the interface as the next hop of its routes.
    let summary = x.show("show bgp summary");
    assert!(summary.lines().any(|l| l.starts_with("eth0 ") && l.contains("65002")), "{summary}");
    let n = x.show("show bgp neighbors eth0");
    assert!(n.starts_with(&format!("BGP neighbor on eth0: {b_ll}, remote AS 65002")), "{n}");
    assert!(n.contains("Extended nexthop: advertised and received"), "{n}");
    let table = x.show("show ip bgp");
    assert!(table.lines().any(|l| l.contains("203.0.113.0/24") && l.contains(" eth0 ")), "{table}");
    let j = frr.json("show bgp neighbors eth0 json");
    assert_eq!(j["eth0"]["bgpState"], "Established", "{j}");

    let bgp_a = || x.show("show ip bgp");
    let bgp_b = || frr.vtysh("show ip bgp");
    flap(&a, &bgp_a, &bgp_b, &ctx);
    eventually("the kernel routes back", ctx, || has_routes_from(&a, &b_ll));
    assert!(ping_across(&a), "no ping after the link came back\n{}", ctx());
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn unnumbered_between_two_bgpbox() {
    require_root();
    let (a, b) = link("unx");
    let x = Bgpbox::start(&a, "unx-a", &conf(65001, "192.0.2.1", "198.51.100.0/24", "2001:db8:a::/64"));
    let y = Bgpbox::start(&b, "unx-b", &conf(65002, "192.0.2.2", "203.0.113.0/24", "2001:db8:b::/64"));
    let (a_ll, b_ll) = (link_local(&a), link_local(&b));
    let ctx =
        || format!("a:\n{}\nb:\n{}\nkernel a:\n{}{}", x.log_text(), y.log_text(), a.routes(false), a.routes(true));
    eventually("b's routes in a's kernel", ctx, || has_routes_from(&a, &b_ll));
    eventually("a's routes in b's kernel", ctx, || {
        b.routes(false).lines().any(|l| l.starts_with("198.51.100.0/24") && l.contains(&format!("via inet6 {a_ll}")))
    });
    assert!(ping_across(&a), "no ping across the unnumbered link\n{}", ctx());
    // Each found the other by its router advertisements, or by the
    // connection of the one that did.
    assert!(x.log_text().contains(&format!("neighbor eth0: peer {b_ll} found on the link")), "{}", ctx());

    let bgp_a = || x.show("show ip bgp");
    let bgp_b = || y.show("show ip bgp");
    flap(&a, &bgp_a, &bgp_b, &ctx);
    eventually("the kernel routes back", ctx, || has_routes_from(&a, &b_ll));
    assert!(ping_across(&a), "no ping after the link came back\n{}", ctx());
}
