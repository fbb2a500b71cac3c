//! The grammar: abbreviations, errors with their place, `?`, Tab, and
//! agreement with bgpd's config parser.

use super::grammar::expand;
use super::*;
use crate::bgp::config::{self, Node};

fn line(mode: Mode, l: &str) -> String {
    grammar().resolve(mode, l).unwrap_or_else(|e| panic!("{l}: {}", e.message(l))).line()
}

#[test]
fn syntax_expands_options_and_alternatives() {
    assert_eq!(expand("a [b|c] <d|e>").len(), 6);
    assert_eq!(expand("a [b [c]]").len(), 3);
    let all: Vec<String> =
        expand("x <y|z [w]>").iter().map(|s| s.iter().map(|t| t.text()).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(all, ["x y", "x z w", "x z"]);
}

#[test]
fn any_unique_prefix_of_a_keyword_works() {
    assert_eq!(line(Mode::Exec, "sh ip ro bg"), "show ip route bgp");
    assert_eq!(line(Mode::Exec, "sh ip bgp sum"), "show ip bgp summary");
    assert_eq!(line(Mode::Exec, "sh bgp ipv4 uni 10.1.0.0/24 js"), "show bgp ipv4 unicast 10.1.0.0/24 json");
    assert_eq!(line(Mode::Exec, "sh bgp nei 192.0.2.1 adv"), "show bgp neighbors 192.0.2.1 advertised-routes");
    assert_eq!(line(Mode::Exec, "conf t"), "configure terminal");
    assert_eq!(line(Mode::Exec, "wr"), "write");
    assert_eq!(line(Mode::Exec, "wr mem"), "write memory");
    assert_eq!(line(Mode::Exec, "cl ip bgp * so in"), "clear ip bgp * soft in");
    // `ip` exactly is IPv4, not the start of `ipv6`.
    assert_eq!(line(Mode::Exec, "sh ip route"), "show ip route");
    assert_eq!(line(Mode::Exec, "sh ipv route"), "show ipv6 route");
    assert_eq!(line(Mode::RouterBgp, "nei 192.0.2.1 remote-as 65000"), "neighbor 192.0.2.1 remote-as 65000");
    assert_eq!(
        line(Mode::RouterBgp, "neighbor 192.0.2.1 desc the home  router"),
        "neighbor 192.0.2.1 description the home router"
    );
}

#[test]
fn wrong_commands_are_marked_where_they_went_wrong() {
    let g = grammar();
    assert_eq!(g.resolve(Mode::Exec, "foo bar").unwrap_err(), CliError::Unknown);
    assert_eq!(CliError::Unknown.message("foo bar"), "% Unknown command: foo bar");
    let l = "show ip route bgpx";
    let e = g.resolve(Mode::Exec, l).unwrap_err();
    assert_eq!(e, CliError::Invalid(3));
    assert_eq!(e.message(l), "show ip route bgpx\n              ^\n% Invalid input detected at '^' marker.");
    assert_eq!(g.resolve(Mode::Exec, "c").unwrap_err(), CliError::Ambiguous(0));
    assert_eq!(g.resolve(Mode::Exec, "show").unwrap_err(), CliError::Incomplete);
    assert_eq!(g.resolve(Mode::Exec, "show bgp neighbors 300.1.1.1").unwrap_err(), CliError::Invalid(3));
    assert_eq!(g.resolve(Mode::Config, "router bgp 0").unwrap_err(), CliError::Invalid(2));
}

#[test]
fn question_mark_lists_the_next_tokens() {
    let h = help_text(Mode::Exec, "show ").unwrap();
    for want in ["  bgp ", "  ip ", "  running-config ", "  version "] {
        assert!(h.contains(want), "{want} missing in\n{h}");
    }
    assert!(!h.contains("<cr>"), "{h}");
    let h = help_text(Mode::Exec, "show ip route ").unwrap();
    assert!(h.contains("  A.B.C.D/M ") && h.contains("  bgp ") && h.ends_with("  <cr>\n"), "{h}");
    assert!(h.contains("JavaScript Object Notation"), "{h}");
    // A word being typed: only what it can become.
    let h = help_text(Mode::Exec, "show ip route b").unwrap();
    assert_eq!(h.lines().count(), 1, "{h}");
    assert!(h.starts_with("  bgp  Border Gateway Protocol (BGP)"), "{h}");
    // In a config sub-mode, the first word also offers the enclosing modes'.
    let h = help_text(Mode::AddressFamily, "").unwrap();
    assert!(h.contains("  network ") && h.contains("  route-map ") && h.contains("  end "), "{h}");
    assert!(help_text(Mode::Exec, "show foo ").is_err());
}

#[test]
fn tab_completes_keywords() {
    assert_eq!(grammar().complete(Mode::Exec, "config"), ["configure"]);
    assert_eq!(grammar().complete(Mode::Exec, "show ip ro"), ["route"]);
    let mut c = grammar().complete(Mode::Exec, "c");
    c.sort();
    assert_eq!(c, ["clear", "configure", "copy"]);
    assert!(grammar().complete(Mode::Exec, "show bgp neighbors 192.").is_empty());
}

/// Walks a config file through the grammar as vtysh would, returning the
/// canonical lines.
fn through_grammar(text: &str) -> Vec<String> {
    let mut mode = Mode::Config;
    let mut out = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('!') {
            continue;
        }
        let r = grammar().resolve(mode, t).unwrap_or_else(|e| panic!("{t} (in {mode:?}): {}", e.message(t)));
        mode = r.mode;
        match r.spec.kind {
            Kind::Enter(m) => mode = m,
            Kind::Exit => mode = mode.parent().unwrap_or(Mode::Config),
            // `end` closes a file FRR writes.
            Kind::Config | Kind::End => {}
            k => panic!("{t}: {k:?} in a config file"),
        }
        out.push(r.line());
    }
    out
}

#[test]
fn every_line_bgpd_writes_resolves_and_means_the_same() {
    let rich = "hostname r1\nlog syslog informational\nrouter bgp 65001\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n \
        neighbor 192.0.2.254 remote-as 65000\n neighbor 192.0.2.254 description home router\n \
        neighbor 192.0.2.254 timers 10 30\n neighbor 192.0.2.254 password s3cret\n neighbor 192.0.2.254 ttl-security hops 1\n \
        neighbor 2001:db8::2 remote-as external\n neighbor 2001:db8::2 shutdown message maintenance\n \
        address-family ipv4 unicast\n  network 198.51.100.0/24\n  maximum-paths 4\n  neighbor 192.0.2.254 route-map RM in\n  \
        neighbor 192.0.2.254 default-originate\n  neighbor 192.0.2.254 maximum-prefix 1000\n exit-address-family\n \
        address-family ipv6 unicast\n  network 2001:db8:1::/48\n  neighbor 2001:db8::2 activate\n  neighbor 2001:db8::2 next-hop-self\n \
        exit-address-family\nexit\nip prefix-list PL seq 5 permit 198.51.100.0/24 le 32\nipv6 prefix-list P6 seq 5 deny any\n\
        route-map RM permit 10\n match ip address prefix-list PL\n set local-preference 200\n set community 65000:1 no-export additive\n \
        set as-path prepend 65001 65001\nexit\n";
    let groups = "router bgp 64512\n bgp router-id 192.0.2.1\n timers bgp 3 9\n bgp bestpath as-path multipath-relax\n \
        neighbor K8S peer-group\n neighbor K8S remote-as external\n neighbor K8S password s3cret\n \
        neighbor 192.0.2.11 peer-group K8S\n neighbor 192.0.2.12 peer-group K8S\n neighbor 192.0.2.12 description odd\n \
        address-family ipv4 unicast\n  neighbor K8S route-map RM in\n  neighbor 192.0.2.12 route-map RM out\n \
        exit-address-family\nexit\nroute-map RM permit 10\nexit\n";
    let seeds = [
        include_str!("../../../tests/data/seed/RyzenRouter.conf"),
        include_str!("../../../tests/data/seed/router-oplx.conf"),
        include_str!("../../../tests/data/seed/IX2105.conf"),
        rich,
        groups,
    ];
    for text in seeds {
        let original = config::parse("x", text).unwrap();
        let rendered = config::render(&original);
        let lines = through_grammar(&rendered);
        // bgpd reads the canonical lines into the same configuration.
        let mut cfg = config::Config::default();
        let mut node = Node::Config;
        for l in &lines {
            node = config::apply_line(&mut cfg, &node, l).unwrap_or_else(|e| panic!("{l}: {e}"));
        }
        assert_eq!(config::render(&cfg), rendered);
    }
}

#[test]
fn abbreviated_config_lines_mean_what_they_say() {
    assert_eq!(
        line(Mode::Config, "ip prefix-l PL seq 5 per 10.0.0.0/8 le 24"),
        "ip prefix-list PL seq 5 permit 10.0.0.0/8 le 24"
    );
    let r = grammar().resolve(Mode::AddressFamily, "ip prefix-list PL permit any").unwrap();
    assert_eq!(r.mode, Mode::Config, "a top-level command leaves the address-family, as in FRR");
    let r = grammar().resolve(Mode::RouterBgp, "address-family ipv6").unwrap();
    assert_eq!(r.spec.kind, Kind::Enter(Mode::AddressFamily));
    let r = grammar().resolve(Mode::RouteMap, "do sh bgp sum").unwrap();
    assert_eq!((r.spec.kind, r.words[1].as_str()), (Kind::Do, "sh bgp sum"));
}

/// After `bgp`, an address is a network to show, or a neighbor to clear.
#[test]
fn an_address_s_help_fits_its_command() {
    let show = help_text(Mode::Exec, "show ip bgp ").unwrap();
    assert!(
        show.lines().any(|l| l.contains("A.B.C.D") && l.ends_with("Network in the BGP routing table to display")),
        "{show}"
    );
    let clear = help_text(Mode::Exec, "clear bgp ").unwrap();
    assert!(clear.lines().any(|l| l.contains("A.B.C.D") && l.ends_with("BGP neighbor address to clear")), "{clear}");
    let clear = help_text(Mode::Exec, "cl ip bgp ").unwrap();
    assert!(clear.lines().any(|l| l.contains("IFNAME") && l.ends_with("BGP neighbor address to clear")), "{clear}");
}
