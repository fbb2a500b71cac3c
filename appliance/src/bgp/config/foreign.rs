//! Lines a pasted FRR config holds that are not bgpd's: those of FRR's
//! other daemons and of its vty, accepted with a note that says they have
//! no meaning in bgpbox, and features bgpbox does not have, refused with
//! an error that names the feature (never `% Unknown command`). A block
//! (`interface X`, `router ospf`, `address-family l2vpn evpn`) takes its
//! indented lines with it.

use super::words::Node;

/// A line accepted without effect: the node its block's lines are read in
/// (None: a single line), and why it means nothing here.
pub(super) fn ignored(node: &Node, w: &[&str]) -> Option<(Option<Node>, &'static str)> {
    let single = |why| Some((None, why));
    match (node, w) {
        (Node::Config, ["interface", ..]) => Some((
            Some(Node::Ignored),
            "interface blocks: bgpbox's addresses and interfaces come from the profile ([lan], [vm]), applied by netsetup",
        )),
        (Node::Config, ["line", "vty"]) => Some((Some(Node::LineVty), "FRR's vty: vtysh is reached with `lxc exec`")),
        (Node::LineVty | Node::Ignored, _) => single("inside a block bgpbox does not use"),
        (Node::Config, ["password" | "enable", ..]) | (Node::Config, ["no", "password" | "enable", ..]) => {
            single("vty passwords: vtysh is reached with `lxc exec`, as root")
        }
        (Node::Config, ["service", ..]) | (Node::Config, ["no", "service", ..]) => {
            single("vtysh services: bgpbox has one config file, bgpd.conf")
        }
        (Node::Config, ["debug", rest @ ..]) | (Node::Config, ["no", "debug", rest @ ..])
            if super::logging::switches(rest).is_none() =>
        {
            single("not a switch bgpbox has: it has debug bgp neighbor-events|updates [in|out]|keepalives|nht|zebra and debug bfd")
        }
        (Node::Config, ["agentx"]) => single("SNMP AgentX: bgpbox has no SNMP"),
        (Node::Config, ["no" | "ip" | "ipv6", ..]) if w.contains(&"forwarding") => {
            single("forwarding: netsetup turns it on in every image (sysctl)")
        }
        (Node::Config, ["ip" | "ipv6", "nht", ..]) => {
            single("next-hop tracking: bgpd resolves next hops over connected and device routes")
        }
        (Node::Config, ["username" | "banner" | "allow-external-route-update" | "zebra", ..]) => {
            single("a setting of FRR's vty or zebra")
        }
        (Node::RouterBgp, ["no" | "bgp", ..]) if w.contains(&"hard-administrative-reset") => {
            single("RFC 9494 hard reset: bgpbox does not negotiate it")
        }
        (Node::BfdPeer(_) | Node::BfdProfile(_), ["echo-mode" | "echo" | "echo-interval" | "minimum-ttl", ..])
        | (Node::BfdPeer(_) | Node::BfdProfile(_), ["no", "echo-mode" | "echo" | "echo-interval" | "minimum-ttl", ..]) => {
            single("BFD echo and multihop settings: bgpbox runs single-hop asynchronous mode")
        }
        (Node::RouterBgp, ["neighbor", _, "bfd", "check-control-plane-failure"]) => {
            single("BFD's control-plane-failure check: bgpbox has no graceful-restart interplay with BFD")
        }
        (Node::RouterBgp, ["bgp" | "no", ..]) if gr_option(w) => {
            single("bgpbox restarts gracefully as RFC 4724 has it: after a TCP failure, not a NOTIFICATION (RFC 8538), and keeps its FIB across a restart anyway")
        }
        _ => None,
    }
}

/// `bgp graceful-restart notification|preserve-fw-state|select-defer-time
/// |rib-stale-time ...`: the knobs bgpbox has no use for.
fn gr_option(w: &[&str]) -> bool {
    let w = if w.first() == Some(&"no") { &w[1..] } else { w };
    matches!(
        w,
        ["bgp", "graceful-restart", "notification" | "preserve-fw-state" | "select-defer-time" | "rib-stale-time", ..]
    )
}

/// A feature bgpbox does not have: its name, and whether the line opens a
/// block whose lines go with it.
pub(super) fn unsupported(node: &Node, w: &[&str]) -> Option<(&'static str, bool)> {
    let feature = match (node, w) {
        (Node::Config, ["router", "bgp", _, "vrf", ..]) | (Node::Config, ["vrf", ..]) => ("VRFs", true),
        (Node::Config, ["router", "ospf" | "ospf6", ..]) => ("OSPF", true),
        (Node::Config, ["router", "isis", ..]) => ("IS-IS", true),
        (Node::Config, ["router", "rip" | "ripng", ..]) => ("RIP", true),
        (Node::Config, ["router", "babel" | "eigrp" | "openfabric" | "pim", ..]) => {
            ("routing protocols other than BGP", true)
        }
        (Node::Config, ["segment-routing", ..]) => ("segment routing (SRv6, SR-MPLS)", true),
        (Node::Config, ["mpls", ..]) => ("MPLS", true),
        (Node::Config, ["rpki", ..]) | (Node::RouterBgp, ["rpki", ..]) => ("RPKI", true),
        (Node::Config, ["access-list" | "ipv6" | "ip", ..])
            if w.contains(&"access-list") && !w.contains(&"as-path") =>
        {
            ("access-lists (use prefix-lists)", false)
        }
        (Node::RouterBgp, ["address-family", fam, sub, ..]) if !matches!(*sub, "unicast") => {
            (family_name(fam, sub), true)
        }
        (Node::RouterBgp, ["address-family", fam]) if !matches!(*fam, "ipv4" | "ipv6") => (family_name(fam, ""), true),
        (Node::RouterBgp, ["bgp", "confederation", ..]) => ("BGP confederations", false),
        _ => return None,
    };
    Some(feature)
}

fn family_name(fam: &str, sub: &str) -> &'static str {
    match (fam, sub) {
        ("l2vpn", _) => "address-family l2vpn evpn (EVPN)",
        (_, "vpn") => "VPNv4/VPNv6 (address-family ... vpn)",
        (_, "flowspec") => "BGP flowspec",
        (_, "multicast") => "multicast address families",
        (_, "labeled-unicast") => "labeled unicast",
        _ => "this address family (bgpbox has ipv4 and ipv6 unicast)",
    }
}
