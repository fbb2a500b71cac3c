//! Golden formats: FRR 8.4 and bgpbox in the same role (the seed's
//! RyzenRouter, renumbered) against the same kind of home router, in two
//! identical namespace pairs; their `show` outputs must match line for line
//! once times, table versions, message counts and memory figures are
//! masked. Needs root and FRR: run through scripts/test.

mod common;

use std::time::Duration;

use common::netns::*;
use common::*;

fn renumber(s: &str) -> String {
    s.replace("192.168.2.", "192.0.2.")
        .replace("10.1.0.0/24", "198.51.100.0/24")
        .replace("10.2.0.0/24", "203.0.113.0/24")
}

/// A home router (bgpbox with the seed's IX2105 config, announcing
/// 203.0.113.0/24 as well) and a router namespace with its VM network.
fn world(tag: &str) -> (Ns, Ns, Bgpbox) {
    let home = Ns::new(&format!("{tag}h"));
    let r = Ns::new(&format!("{tag}r"));
    veth(&home, "eth0", &["192.0.2.254/24"], &r, "eth0", &["192.0.2.203/24"]);
    home.addr("vm", "203.0.113.1/24");
    r.addr("vm", "198.51.100.1/24");
    let ix = renumber(&std::fs::read_to_string(repo().join("tests/data/seed/IX2105.conf")).unwrap())
        .replace(" exit-address-family", "  network 203.0.113.0/24\n exit-address-family");
    let d = Bgpbox::start(&home, &format!("fmt-{tag}-home"), &ix);
    (home, r, d)
}

/// Replaces the `idx`-th word of `line` by `N`; in a table column
/// (`aligned`), right-aligned in the space the word and the blanks before
/// it took.
fn mask_word(line: &str, idx: usize, aligned: bool) -> String {
    let spans = bgpbox::cli::grammar::word_spans(line);
    let Some(&(start, end)) = spans.get(idx) else { return line.to_string() };
    if !aligned {
        return format!("{}N{}", &line[..start], &line[end..]);
    }
    let from = if idx == 0 { 0 } else { spans[idx - 1].1 };
    format!("{}{}N{}", &line[..from], " ".repeat(end - from - 1), &line[end..])
}

/// Masks what differs between two runs of the same router: times, table
/// versions, message counts, memory.
fn mask(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let mut l = l.to_string();
            // hh:mm:ss anywhere.
            let b = l.as_bytes().to_vec();
            for i in 0..b.len().saturating_sub(7) {
                let d = |j: usize| b[i + j].is_ascii_digit();
                if d(0) && d(1) && b[i + 2] == b':' && d(3) && d(4) && b[i + 5] == b':' && d(6) && d(7) {
                    l.replace_range(i..i + 8, "hh:mm:ss");
                }
            }
            // zebra's part: counts since the daemon started, MACs, indexes,
            // link-local addresses and file descriptors differ per run.
            for p in [
                "  Link ups:",
                "  Link downs:",
                "  HWaddr:",
                "  inet6 fe80::",
                "Timestamp precision:",
                "  Parent ifindex:",
            ] {
                if l.starts_with(p) {
                    l = format!("{p} N");
                }
            }
            if l.starts_with("  index ") {
                l = mask_word(&l, 1, false);
            }
            if let Some(i) = l.find("Client list: bgp") {
                l.truncate(i + "Client list: bgp".len());
            }
            let words: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            if l.starts_with("BGP table version is ") {
                l = mask_word(&l, 4, false);
            } else if l.starts_with("BGP table version ") {
                l = mask_word(&l, 3, false);
            } else if l.starts_with("RIB entries ") {
                // FRR counts the nodes of its radix tree: a memory figure.
                l = mask_word(&mask_word(&l, 2, false), 4, false);
            } else if l.starts_with("Peers ") {
                l = mask_word(&l, 3, false);
            } else if words.len() > 8 && words[1] == "4" && words[0].parse::<std::net::IpAddr>().is_ok() {
                // Neighbor rows: MsgRcvd, MsgSent, TblVer.
                for i in [3, 4, 5] {
                    l = mask_word(&l, i, true);
                }
            }
            l
        })
        .collect()
}

fn same(what: &str, frr: &str, ours: &str) {
    let (f, o) = (mask(frr), mask(ours));
    for (i, (a, b)) in f.iter().zip(o.iter()).enumerate() {
        assert_eq!(a, b, "{what}: line {} differs\n--- FRR:\n{frr}\n--- bgpbox:\n{ours}", i + 1);
    }
    assert_eq!(f.len(), o.len(), "{what}: line counts differ\n--- FRR:\n{frr}\n--- bgpbox:\n{ours}");
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn show_outputs_match_frr_line_for_line() {
    require_root();
    let conf = renumber(&std::fs::read_to_string(repo().join("tests/data/seed/RyzenRouter.conf")).unwrap());
    let (_fh, fr, fh_d) = world("gf");
    let (_bh, br, bh_d) = world("gb");
    let frr = Frr::start(&fr, &conf);
    let ours = Bgpbox::start(&br, "fmt-bgpbox", &conf);
    let ctx = || format!("home (FRR side):\n{}\nhome (bgpbox side):\n{}", fh_d.log_text(), bh_d.log_text());
    let converged = |text: &str| {
        text.contains("B>* 0.0.0.0/0 [20/0] via 192.0.2.254, eth0") && text.contains("B>* 203.0.113.0/24 [20/0]")
    };
    let ok = wait_for(Duration::from_secs(60), || {
        (converged(&frr.vtysh("show ip route bgp"))
            && converged(&ours.show("show ip route bgp"))
            && fh_d.next_hop("ipv4", "198.51.100.0/24").is_some()
            && bh_d.next_hop("ipv4", "198.51.100.0/24").is_some())
        .then_some(())
    });
    assert!(
        ok.is_some(),
        "no convergence\nFRR:\n{}\nbgpbox:\n{}\n{}",
        frr.vtysh("show ip route bgp"),
        ours.show("show ip route bgp"),
        ctx()
    );
    for cmd in [
        "show ip route bgp",
        "show bgp summary",
        "show bgp ipv4 unicast",
        "show ip bgp summary",
        "show bgp ipv4 unicast summary",
        "show ip bgp",
    ] {
        same(cmd, &frr.vtysh(cmd), &ours.show(cmd));
    }
    // What zebra answers in FRR, bgpd here: the interfaces, next hops.
    for cmd in ["show interface brief", "show interface eth0", "show interface lo", "show ip nht"] {
        same(cmd, &frr.vtysh(cmd), &ours.show(cmd));
    }
    // bgpd's sections of FRR's answers (vtysh asks every daemon).
    for c in ["debug bgp neighbor-events", "debug bgp updates in", "debug bgp keepalives"] {
        frr.vtysh(c);
        ours.vtysh(&[c]).unwrap();
    }
    let debugging = |t: &str| section(t, "BGP debugging status:", usize::MAX);
    same("show debugging", &debugging(&frr.vtysh("show debugging")), &debugging(&ours.show("show debugging")));
    let logging = |t: &str| section(t, "Logging configuration for bgpd:", 7);
    same("show logging", &logging(&frr.vtysh("show logging")), &logging(&ours.show("show logging")));
}

/// The lines from `header` to the next blank one, at most `n`.
fn section(text: &str, header: &str, n: usize) -> String {
    let from = text.find(header).unwrap_or_else(|| panic!("no {header:?} in\n{text}"));
    text[from..].lines().take_while(|l| !l.is_empty()).take(n).map(|l| format!("{l}\n")).collect()
}
