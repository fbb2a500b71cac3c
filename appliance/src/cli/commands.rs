//! Every command the shell knows, per mode, in FRR's syntax. bgpd's
//! config parser (`bgp::config::parse`) is the authority on what a config
//! line means; a test keeps the two in step (every line `show
//! running-config` can print resolves here).

use super::grammar::{Kind, Mode, Spec};

use Kind as K;
use Mode as M;

const fn s(mode: Mode, syntax: &'static str, kind: Kind) -> Spec {
    Spec { mode, syntax, kind }
}

/// A plain configuration line of `mode`.
const fn c(mode: Mode, syntax: &'static str) -> Spec {
    Spec { mode, syntax, kind: Kind::Config }
}

pub static SPECS: &[Spec] = &[
    // exec
    s(M::Exec, "show running-config", K::Remote),
    s(M::Exec, "show version", K::Remote),
    s(M::Exec, "show health [json]", K::Remote),
    s(M::Exec, "show ip route [<bgp|connected|kernel|static>] [<A.B.C.D|A.B.C.D/M>] [json]", K::Remote),
    s(M::Exec, "show ipv6 route [<bgp|connected|kernel|static>] [<X:X::X:X|X:X::X:X/M>] [json]", K::Remote),
    s(M::Exec, "show [ip] bgp [<ipv4|ipv6> [unicast]] summary [json]", K::Remote),
    s(M::Exec, "show [ip] bgp [<ipv4|ipv6> [unicast]] [<A.B.C.D|A.B.C.D/M|X:X::X:X|X:X::X:X/M>] [json]", K::Remote),
    s(
        M::Exec,
        "show [ip] bgp [<ipv4|ipv6> [unicast]] neighbors [<A.B.C.D|X:X::X:X|IFNAME> [<advertised-routes|received-routes|routes>]] [json]",
        K::Remote,
    ),
    s(M::Exec, "show bgp memory", K::Remote),
    s(M::Exec, "show debugging", K::Remote),
    s(M::Exec, "show interface [<brief|IFNAME>]", K::Remote),
    s(M::Exec, "show <ip|ipv6> nht", K::Remote),
    s(M::Exec, "show logging", K::Remote),
    s(M::Exec, "[no] debug bgp <neighbor-events|updates [<in|out>]|keepalives|nht|zebra>", K::Remote),
    s(M::Exec, "[no] debug bfd [LINE]", K::Remote),
    s(M::Exec, "show [ip] bgp peer-group [WORD] [json]", K::Remote),
    s(M::Exec, "show bfd peers [<brief|json>]", K::Remote),
    s(M::Exec, "show bfd peer <A.B.C.D|X:X::X:X> [json]", K::Remote),
    s(M::Exec, "show bgp <community-list|large-community-list|as-path-access-list> [WORD] [json]", K::Remote),
    s(M::Exec, "show ip prefix-list [WORD] [json]", K::Remote),
    s(M::Exec, "show ipv6 prefix-list [WORD] [json]", K::Remote),
    s(M::Exec, "show route-map [WORD] [json]", K::Remote),
    s(M::Exec, "clear [ip] bgp <*|A.B.C.D|X:X::X:X|IFNAME> [soft [<in|out>]]", K::Remote),
    s(M::Exec, "write [<memory|file>]", K::Remote),
    s(M::Exec, "write terminal", K::Remote),
    s(M::Exec, "copy running-config startup-config", K::Remote),
    s(M::Exec, "configure [terminal]", K::Configure),
    s(M::Exec, "terminal length (0-512)", K::Local),
    s(M::Exec, "ping [<ip|ipv6>] WORD [count (1-1000)] [source WORD]", K::Diag),
    s(M::Exec, "traceroute [<ip|ipv6>] WORD", K::Diag),
    s(M::Exec, "exit", K::Quit),
    s(M::Exec, "quit", K::Quit),
    s(M::Exec, "end", K::Local),
    // config
    c(M::Config, "hostname WORD"),
    c(M::Config, "no hostname [WORD]"),
    c(M::Config, "frr version LINE"),
    c(M::Config, "frr defaults <traditional|datacenter>"),
    c(M::Config, "[no] log LINE"),
    c(M::Config, "[no] <ip|ipv6> forwarding"),
    // FRR's vty and other daemons: bgpd accepts them with a note that they
    // mean nothing in bgpbox.
    c(M::Config, "[no] service LINE"),
    c(M::Config, "[no] password LINE"),
    c(M::Config, "[no] enable password LINE"),
    c(M::Config, "[no] debug LINE"),
    c(M::Config, "agentx"),
    c(M::Config, "<ip|ipv6> nht LINE"),
    s(M::Config, "interface WORD [LINE]", K::Enter(M::Interface)),
    c(M::Interface, "<ip|ipv6> address LINE"),
    c(M::Interface, "description LINE"),
    c(M::Interface, "[no] shutdown"),
    c(M::Interface, "[no] ipv6 nd LINE"),
    c(M::Interface, "[no] link-detect"),
    c(M::Interface, "mtu (68-65535)"),
    s(M::Interface, "exit", K::Exit),
    c(M::LineVty, "[no] exec-timeout LINE"),
    c(M::LineVty, "[no] login"),
    c(M::LineVty, "access-class LINE"),
    // Features bgpbox does not have: bgpd names them in its error.
    c(M::Config, "router <ospf|ospf6|isis|rip|ripng|babel|eigrp|openfabric|pim> [LINE]"),
    c(M::Config, "vrf WORD"),
    c(M::Config, "segment-routing"),
    c(M::Config, "rpki"),
    s(M::Config, "bfd", K::Enter(M::Bfd)),
    c(M::Config, "no bfd"),
    s(M::Bfd, "peer <A.B.C.D|X:X::X:X> [LINE]", K::Enter(M::BfdPeer)),
    c(M::Bfd, "no peer <A.B.C.D|X:X::X:X> [LINE]"),
    s(M::Bfd, "profile WORD", K::Enter(M::BfdProfile)),
    c(M::Bfd, "no profile WORD"),
    s(M::Bfd, "exit", K::Exit),
    c(M::BfdPeer, BFD_TIMER),
    c(M::BfdPeer, BFD_FLAG),
    c(M::BfdPeer, BFD_NO),
    c(M::BfdPeer, BFD_ECHO),
    c(M::BfdPeer, "profile WORD"),
    c(M::BfdPeer, "no profile [WORD]"),
    s(M::BfdPeer, "exit", K::Exit),
    c(M::BfdProfile, BFD_TIMER),
    c(M::BfdProfile, BFD_FLAG),
    c(M::BfdProfile, BFD_NO),
    c(M::BfdProfile, BFD_ECHO),
    s(M::BfdProfile, "exit", K::Exit),
    c(M::Config, "mpls LINE"),
    c(M::Config, "[no] <ip|ipv6> route LINE"),
    c(M::Config, "[no] bgp <community-list|large-community-list> <standard|expanded> WORD [seq (1-4294967295)] <permit|deny> LINE"),
    c(M::Config, "[no] bgp <community-list|large-community-list> (1-500) [seq (1-4294967295)] <permit|deny> LINE"),
    c(M::Config, "no bgp <community-list|large-community-list> [<standard|expanded>] WORD [LINE]"),
    c(M::Config, "[no] bgp as-path access-list WORD [seq (1-4294967295)] <permit|deny> LINE"),
    c(M::Config, "no bgp as-path access-list WORD [LINE]"),
    c(M::Config, "[no] ip <community-list|large-community-list> LINE"),
    c(M::Config, "[no] ip as-path access-list LINE"),
    c(M::Config, "access-list LINE"),
    c(M::Config, "<ip|ipv6> access-list LINE"),
    s(M::Config, "router bgp [ASNUM]", K::Enter(M::RouterBgp)),
    c(M::Config, "no router bgp [ASNUM]"),
    c(
        M::Config,
        "ip prefix-list WORD [seq (1-4294967295)] <permit|deny> <A.B.C.D/M|any> [ge (0-32)] [le (0-32)]",
    ),
    c(
        M::Config,
        "ipv6 prefix-list WORD [seq (1-4294967295)] <permit|deny> <X:X::X:X/M|any> [ge (0-128)] [le (0-128)]",
    ),
    c(M::Config, "<ip|ipv6> prefix-list WORD description LINE"),
    c(M::Config, "no <ip|ipv6> prefix-list WORD [seq (1-4294967295) [LINE]]"),
    s(M::Config, "route-map WORD <permit|deny> (1-65535)", K::Enter(M::RouteMap)),
    c(M::Config, "no route-map WORD [<permit|deny> (1-65535)]"),
    s(M::Config, "line vty", K::Enter(M::LineVty)),
    // router bgp
    c(M::RouterBgp, "bgp router-id A.B.C.D"),
    c(M::RouterBgp, "no bgp router-id [A.B.C.D]"),
    c(M::RouterBgp, "bgp cluster-id A.B.C.D"),
    c(M::RouterBgp, "bgp listen range <A.B.C.D/M|X:X::X:X/M> peer-group WORD"),
    c(M::RouterBgp, "no bgp listen range <A.B.C.D/M|X:X::X:X/M> [peer-group WORD]"),
    c(M::RouterBgp, "bgp listen limit (1-65535)"),
    c(M::RouterBgp, "no bgp listen limit [(1-65535)]"),
    c(M::RouterBgp, "no bgp cluster-id [A.B.C.D]"),
    c(
        M::RouterBgp,
        "[no] bgp <ebgp-requires-policy|log-neighbor-changes|suppress-duplicates|default ipv4-unicast|network import-check>",
    ),
    s(M::RouterBgp, "address-family <ipv4|ipv6> [unicast]", K::Enter(M::AddressFamily)),
    c(M::RouterBgp, "address-family <ipv4|ipv6|l2vpn> <vpn|flowspec|multicast|labeled-unicast|evpn>"),
    c(M::RouterBgp, "[no] bgp bestpath <compare-routerid|as-path multipath-relax>"),
    c(M::RouterBgp, "[no] bgp deterministic-med"),
    c(M::RouterBgp, REDISTRIBUTE),
    c(M::RouterBgp, REDISTRIBUTE_RM_FIRST),
    c(M::RouterBgp, NO_REDISTRIBUTE),
    c(M::RouterBgp, "timers bgp (0-65535) (0-65535)"),
    c(M::RouterBgp, "no timers bgp [LINE]"),
    c(M::RouterBgp, "[no] bgp hard-administrative-reset"),
    c(M::RouterBgp, "[no] bgp graceful-restart [LINE]"),
    c(M::RouterBgp, "[no] bgp graceful-restart-disable"),
    c(M::RouterBgp, "[no] neighbor <A.B.C.D|X:X::X:X|WORD> <graceful-restart|graceful-restart-helper|graceful-restart-disable>"),
    c(M::RouterBgp, "bgp confederation LINE"),
    c(M::RouterBgp, "[no] neighbor <A.B.C.D|X:X::X:X|WORD> bfd [LINE]"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> remote-as <ASNUM|internal|external>"),
    c(M::RouterBgp, "[no] neighbor WORD peer-group"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> peer-group WORD"),
    c(M::RouterBgp, "no neighbor <A.B.C.D|X:X::X:X> peer-group [WORD]"),
    c(M::RouterBgp, "no neighbor WORD peer-group WORD"),
    c(M::RouterBgp, "neighbor WORD interface [v6only]"),
    c(M::RouterBgp, "neighbor WORD interface [v6only] remote-as <ASNUM|internal|external>"),
    c(M::RouterBgp, "neighbor WORD interface [v6only] peer-group WORD"),
    c(M::RouterBgp, "no neighbor WORD interface [LINE]"),
    c(M::RouterBgp, "[no] neighbor <A.B.C.D|X:X::X:X> interface WORD"),
    c(M::RouterBgp, "no neighbor <A.B.C.D|X:X::X:X|WORD> [remote-as [<ASNUM|internal|external>]]"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> description LINE"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> timers (0-65535) (0-65535)"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> timers connect (1-65535)"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> shutdown [message LINE]"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> password LINE"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> ttl-security hops (1-254)"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> ebgp-multihop [(1-255)]"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> update-source WORD"),
    c(M::RouterBgp, "[no] neighbor <A.B.C.D|X:X::X:X|WORD> passive"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> local-as ASNUM [no-prepend [replace-as]]"),
    c(M::RouterBgp, "[no] neighbor <A.B.C.D|X:X::X:X|WORD> <disable-connected-check|enforce-first-as|capability extended-nexthop>"),
    c(M::RouterBgp, "neighbor <A.B.C.D|X:X::X:X|WORD> advertisement-interval (0-600)"),
    c(
        M::RouterBgp,
        "no neighbor <A.B.C.D|X:X::X:X|WORD> <description|timers|shutdown|password|ttl-security|ebgp-multihop|update-source|local-as|advertisement-interval> [LINE]",
    ),
    // Per-family neighbor commands: FRR also takes them under `router bgp`
    // (for IPv4 unicast).
    c(M::RouterBgp, NEIGHBOR_AF),
    c(M::RouterBgp, ALLOWAS_IN),
    c(M::RouterBgp, NO_ALLOWAS_IN),
    c(M::RouterBgp, REMOVE_PRIVATE_AS),
    c(M::RouterBgp, NEIGHBOR_AF_ARG),
    c(M::RouterBgp, MAXIMUM_PREFIX),
    c(M::RouterBgp, NO_MAXIMUM_PREFIX),
    s(M::RouterBgp, "exit", K::Exit),
    // address-family
    c(M::AddressFamily, "[no] network <A.B.C.D/M|X:X::X:X/M>"),
    c(M::AddressFamily, "maximum-paths [ibgp] (1-256)"),
    c(M::AddressFamily, REDISTRIBUTE),
    c(M::AddressFamily, REDISTRIBUTE_RM_FIRST),
    c(M::AddressFamily, NO_REDISTRIBUTE),
    c(M::AddressFamily, "no maximum-paths [LINE]"),
    c(M::AddressFamily, NEIGHBOR_AF),
    c(M::AddressFamily, ALLOWAS_IN),
    c(M::AddressFamily, NO_ALLOWAS_IN),
    c(M::AddressFamily, REMOVE_PRIVATE_AS),
    c(M::AddressFamily, NEIGHBOR_AF_ARG),
    c(M::AddressFamily, MAXIMUM_PREFIX),
    c(M::AddressFamily, NO_MAXIMUM_PREFIX),
    s(M::AddressFamily, "exit-address-family", K::Exit),
    s(M::AddressFamily, "exit", K::Exit),
    // route-map
    c(M::RouteMap, "match <ip|ipv6> address prefix-list WORD"),
    c(M::RouteMap, "match <community|large-community> WORD [exact-match]"),
    c(M::RouteMap, "match <as-path|interface> WORD"),
    c(M::RouteMap, "match metric (0-4294967295)"),
    c(M::RouteMap, "no match LINE"),
    c(M::RouteMap, "set <local-preference|metric|weight|tag> (0-4294967295)"),
    c(M::RouteMap, "set origin <igp|egp|incomplete>"),
    c(M::RouteMap, "set <community|large-community> LINE"),
    c(M::RouteMap, "set comm-list WORD delete"),
    c(M::RouteMap, "set as-path prepend LINE"),
    c(M::RouteMap, "set ip next-hop <A.B.C.D|peer-address|unchanged>"),
    c(M::RouteMap, "set ipv6 next-hop <global X:X::X:X|peer-address>"),
    c(M::RouteMap, "no set LINE"),
    c(M::RouteMap, "call WORD"),
    c(M::RouteMap, "no call [WORD]"),
    c(M::RouteMap, "on-match <next|goto (1-65535)>"),
    c(M::RouteMap, "no on-match [LINE]"),
    c(M::RouteMap, "[no] description LINE"),
    s(M::RouteMap, "exit", K::Exit),
    s(M::LineVty, "exit", K::Exit),
    // every config mode
    s(M::Config, "end", K::End),
    s(M::Config, "exit", K::Exit),
    s(M::Config, "do LINE", K::Do),
];

const BFD_TIMER: &str = "<detect-multiplier (2-255)|receive-interval (10-60000)|transmit-interval (10-60000)>";
const BFD_FLAG: &str = "[no] <shutdown|passive-mode>";
const BFD_NO: &str = "no <detect-multiplier|receive-interval|transmit-interval> [LINE]";
const BFD_ECHO: &str = "[no] <echo-mode|echo|echo-interval|minimum-ttl> [LINE]";
const REDISTRIBUTE: &str = "redistribute <connected|static|kernel> [metric (0-4294967295)] [route-map WORD]";
const REDISTRIBUTE_RM_FIRST: &str = "redistribute <connected|static|kernel> route-map WORD metric (0-4294967295)";
const NO_REDISTRIBUTE: &str = "no redistribute <connected|static|kernel> [LINE]";
const NEIGHBOR_AF: &str = "[no] neighbor <A.B.C.D|X:X::X:X|WORD> <activate|default-originate|next-hop-self [force]|as-override|soft-reconfiguration inbound|route-reflector-client|send-community [LINE]>";
const ALLOWAS_IN: &str = "neighbor <A.B.C.D|X:X::X:X|WORD> allowas-in [<(1-10)|origin>]";
const NO_ALLOWAS_IN: &str = "no neighbor <A.B.C.D|X:X::X:X|WORD> allowas-in [LINE]";
const REMOVE_PRIVATE_AS: &str = "[no] neighbor <A.B.C.D|X:X::X:X|WORD> remove-private-AS [all] [replace-AS]";
const NEIGHBOR_AF_ARG: &str = "[no] neighbor <A.B.C.D|X:X::X:X|WORD> <prefix-list|route-map> WORD <in|out>";
const MAXIMUM_PREFIX: &str = "neighbor <A.B.C.D|X:X::X:X|WORD> maximum-prefix (1-4294967295)";
const NO_MAXIMUM_PREFIX: &str = "no neighbor <A.B.C.D|X:X::X:X|WORD> maximum-prefix [LINE]";
