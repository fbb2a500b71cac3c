//! The shipped profiles against the seed, and profile errors.

use std::path::{Path, PathBuf};

use bgpbox_image::{netconf::NetworkConfig, render, Profile};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn load(name: &str) -> Profile {
    Profile::load(&repo().join("profiles").join(name), &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// RyzenRouter's config as the seed shows it.
const SEED_RYZEN: &str = "\
router bgp 65001
 bgp router-id 192.168.2.203
 neighbor 192.168.2.254 remote-as 65000
 !
 address-family ipv4 unicast
  network 10.1.0.0/24
  neighbor 192.168.2.254 prefix-list allowed-in in
  neighbor 192.168.2.254 prefix-list allowed-adv out
 exit-address-family
exit
!
ip prefix-list allowed-adv seq 5 permit 10.1.0.0/24
ip prefix-list allowed-adv seq 10 deny any
ip prefix-list allowed-in seq 5 permit any
";

/// router-oplx's, with the router-id its profile adds.
const SEED_OPLX: &str = "\
router bgp 65002
 bgp router-id 192.168.2.204
 neighbor 192.168.2.254 remote-as 65000
 !
 address-family ipv4 unicast
  network 10.2.0.0/24
  neighbor 192.168.2.254 prefix-list allowed-in in
  neighbor 192.168.2.254 prefix-list allowed-adv out
 exit-address-family
exit
!
ip prefix-list allowed-adv seq 5 permit 10.2.0.0/24
ip prefix-list allowed-adv seq 10 deny any
ip prefix-list allowed-in seq 5 permit any
";

fn without_comments(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("! "))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .trim_start_matches("!\n")
        .to_string()
}

#[test]
fn ryzen_profile_renders_the_seeds_config() {
    let p = load("ryzen7-5700x.toml");
    assert_eq!(p.name, "ryzen7-5700x");
    assert_eq!(p.router.hostname, "RyzenRouter");
    assert_eq!(p.lan.parent, "enp7s0");
    assert_eq!(without_comments(&render::bgpd_conf(&p)), SEED_RYZEN);
}

#[test]
fn optiplex_profile_renders_the_seeds_config() {
    let p = load("optiplex.toml");
    assert_eq!(p.router.hostname, "router-oplx");
    assert_eq!(without_comments(&render::bgpd_conf(&p)), SEED_OPLX);
}

#[test]
fn network_settings_from_profile() {
    let p = load("ryzen7-5700x.toml");
    let n = NetworkConfig::from_profile(&p);
    let text = n.to_toml();
    assert_eq!(NetworkConfig::parse(&text).unwrap(), n);
    assert_eq!(n.interfaces[0].name, "eth0");
    assert_eq!(n.interfaces[0].addresses[0].to_string(), "192.168.2.203/24");
    assert_eq!(n.interfaces[1].addresses[0].to_string(), "10.1.0.1/24");
    assert_eq!(n.routes[0].prefix.to_string(), "0.0.0.0/0");
    assert_eq!(n.routes[0].via.to_string(), "192.168.2.254");
    assert_eq!(n.sysctl["net.ipv4.ip_forward"], "1");
    assert!(!n.sysctl.contains_key("net.ipv6.conf.all.forwarding"));
    assert!(NetworkConfig::parse("[[interface]]\nname = \"eth0\"\ncolour = 1\n").unwrap_err().contains("colour"));
}

#[test]
fn lxd_profile_for_the_seed() {
    let p = load("optiplex.toml");
    let y = render::lxd_profile(&p);
    assert!(y.contains("  eth0:\n    name: eth0\n    nictype: macvlan\n    parent: enp7s0\n    type: nic\n"), "{y}");
    assert!(y.contains("  eth1:\n    name: eth1\n    nictype: bridged\n    parent: vmbr0\n    type: nic\n"), "{y}");
    assert!(
        y.contains(
            "  config:\n    path: /var/lib/bgpbox\n    pool: default\n    source: bgpbox-optiplex\n    type: disk\n"
        ),
        "the config volume: {y}"
    );
    assert!(y.contains("boot.autostart: \"true\""));
    assert!(y.contains("security.privileged: \"false\""));
    let mut p = p;
    p.lan.hwaddr = Some("00:16:3e:aa:bb:cc".into());
    assert!(render::lxd_profile(&p).contains("hwaddr: \"00:16:3e:aa:bb:cc\""));
}

/// Loads the ryzen profile with `edit` applied to its text.
fn error_of(edit: impl Fn(&str) -> String) -> String {
    let dir =
        std::env::temp_dir().join(format!("bgpbox-prof-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.toml");
    let text = std::fs::read_to_string(repo().join("profiles/ryzen7-5700x.toml")).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
    let e = Profile::load(&path, &[]).expect_err("profile should be rejected").to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    e.replace(&path.display().to_string(), "profiles/x.toml")
}

#[test]
fn errors_name_file_key_and_problem() {
    assert_eq!(
        error_of(|t| t.replace("asn = 65001", "asn = 70000000000")),
        "profiles/x.toml: router.asn: 70000000000 is not an AS number (1 to 4294967295)"
    );
    assert_eq!(
        error_of(|t| t.replace("asn = 65001", "asn = \"65001\"")),
        "profiles/x.toml: router.asn: expected an integer, found a string"
    );
    assert_eq!(
        error_of(|t| t.replace("[lan]\n", "[lan]\ncolour = \"red\"\n")),
        "profiles/x.toml: lan.colour: unknown key (expected one of: addresses, gateway, gateway6, hwaddr, mtu, parent, shim_address)"
    );
    assert_eq!(
        error_of(|t| t.replace("\"192.168.2.203/24\"", "\"192.168.2.300/24\"")),
        "profiles/x.toml: lan.addresses[0]: \"192.168.2.300/24\" is not an address with its prefix length (like 192.0.2.1/24)"
    );
    assert_eq!(
        error_of(|t| t.replace("gateway = \"192.168.2.254\"", "gateway = \"192.168.3.254\"")),
        "profiles/x.toml: lan.gateway: 192.168.3.254 is not on the LAN (192.168.2.203/24)"
    );
    assert_eq!(
        error_of(|t| t.replace("announce = [\"10.1.0.0/24\"]", "announce = [\"10.1.0.1/24\"]")),
        "profiles/x.toml: bgp.announce[0]: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)"
    );
    assert_eq!(
        error_of(|t| t.replace("remote_as = 65000", "remote_as = 0")),
        "profiles/x.toml: neighbor[0].remote_as: 0 is not an AS number (1 to 4294967295)"
    );
    assert_eq!(
        error_of(|t| t.replace("accept = [\"any\"]", "accept = [\"10.0.0.0/8 le 4\"]")),
        "profiles/x.toml: bgp.accept[0]: \"10.0.0.0/8 le 4\": `le` needs a length from 8 to 32"
    );
    assert_eq!(
        error_of(|t| t.replace("hostname = \"RyzenRouter\"", "hostname = \"Ryzen Router\"")),
        "profiles/x.toml: router.hostname: \"Ryzen Router\" is not a hostname: letters, digits and inner '-' only"
    );
    assert_eq!(
        error_of(|t| t.replace("[router]", "[routr]")),
        "profiles/x.toml: routr: unknown key: did you mean router? (expected one of: bgp, description, lan, listen, neighbor, router, vm_network)"
    );
    assert!(error_of(|t| format!("{t}\n[[[")).starts_with("profiles/x.toml: not valid TOML"));
    assert_eq!(
        error_of(|t| t.replace("[bgp]\n", "[bgp]\nconfig = \"x.conf\"\n")),
        "profiles/x.toml: bgp.config: a hand-written config replaces bgp.announce, bgp.accept, [[neighbor]] and [[listen]]: use one or the other"
    );
}

#[test]
fn overrides_renumber_a_profile() {
    let p = Profile::load(
        &repo().join("profiles/optiplex.toml"),
        &[
            "lan.parent=veth-lab0".into(),
            "lan.addresses=[\"192.0.2.204/24\"]".into(),
            "lan.gateway=192.0.2.254".into(),
            "router.router_id=192.0.2.204".into(),
            "vm_network.addresses=[\"203.0.113.1/24\"]".into(),
            "bgp.announce=[\"203.0.113.0/24\"]".into(),
            "neighbor[0].address=192.0.2.254".into(),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.lan.parent, "veth-lab0");
    let conf = render::bgpd_conf(&p);
    assert!(conf.contains(" neighbor 192.0.2.254 remote-as 65000\n"), "{conf}");
    assert!(conf.contains("ip prefix-list allowed-adv seq 5 permit 203.0.113.0/24\n"), "{conf}");

    let e = Profile::load(&repo().join("profiles/optiplex.toml"), &["neighbor[3].address=x".into()]).unwrap_err();
    assert!(e.to_string().contains("neighbor has 1 entries, no [3]"), "{e}");
}

#[test]
fn hand_written_config_is_used_as_is() {
    let dir = std::env::temp_dir().join(format!("bgpbox-hand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bgpd.conf"), SEED_RYZEN).unwrap();
    let text = std::fs::read_to_string(repo().join("profiles/ryzen7-5700x.toml")).unwrap();
    let cut = text.find("[bgp]").unwrap();
    std::fs::write(dir.join("h.toml"), format!("{}[bgp]\nconfig = \"bgpd.conf\"\n", &text[..cut])).unwrap();
    let p = Profile::load(&dir.join("h.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(render::bgpd_conf(&p), SEED_RYZEN);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ipv6_gets_its_own_address_family() {
    let p = Profile::load(
        &repo().join("profiles/ryzen7-5700x.toml"),
        &[
            "bgp.announce=[\"10.1.0.0/24\", \"2001:db8:1::/48\"]".into(),
            "lan.addresses=[\"192.168.2.203/24\", \"2001:db8::203/64\"]".into(),
            "vm_network.addresses=[\"10.1.0.1/24\", \"2001:db8:1::1/48\"]".into(),
        ],
    )
    .unwrap();
    let conf = render::bgpd_conf(&p);
    assert!(
        conf.contains(" address-family ipv6 unicast\n  network 2001:db8:1::/48\n  neighbor 192.168.2.254 activate\n"),
        "{conf}"
    );
    assert!(conf.contains("ipv6 prefix-list allowed-adv seq 5 permit 2001:db8:1::/48\nipv6 prefix-list allowed-adv seq 10 deny any\nipv6 prefix-list allowed-in seq 5 permit any\n"), "{conf}");
    let n = NetworkConfig::from_profile(&p);
    assert_eq!(n.sysctl["net.ipv6.conf.all.forwarding"], "1");
    assert_eq!(n.sysctl["net.ipv6.conf.eth0.accept_ra"], "2");
}

#[test]
fn host_shim_command_for_the_profile() {
    let p = load("ryzen7-5700x.toml");
    assert_eq!(
        render::host_shim_command(&p),
        "bgpbox netsetup host-shim --parent enp7s0 --router 192.168.2.203 --route 10.1.0.0/24"
    );
    let p = Profile::load(&repo().join("profiles/ryzen7-5700x.toml"), &["lan.shim_address=192.168.2.250/24".into()])
        .unwrap();
    assert_eq!(
        render::host_shim_command(&p),
        "bgpbox netsetup host-shim --parent enp7s0 --address 192.168.2.250/24 --router 192.168.2.203 --route 10.1.0.0/24"
    );
    let e = Profile::load(&repo().join("profiles/ryzen7-5700x.toml"), &["lan.shim_address=10.9.9.9/24".into()])
        .unwrap_err();
    assert!(e.to_string().ends_with("lan.shim_address: 10.9.9.9 is not on the LAN (192.168.2.203/24)"), "{e}");
}

#[test]
fn a_listen_range_for_the_home_router_role() {
    let p = load("home-router.toml");
    let conf = render::bgpd_conf(&p);
    for line in [
        " neighbor LISTEN1 peer-group\n neighbor LISTEN1 remote-as external\n neighbor LISTEN1 description servers\n",
        " bgp listen range 192.168.2.0/24 peer-group LISTEN1\n",
        "  network 0.0.0.0/0\n  neighbor LISTEN1 prefix-list allowed-in in\n  neighbor LISTEN1 prefix-list allowed-adv out\n",
        "ip prefix-list allowed-in seq 5 permit 10.0.0.0/8 le 24\n",
    ] {
        assert!(conf.contains(line), "{line:?} not in:\n{conf}");
    }
    let err =
        |set: &str| Profile::load(&repo().join("profiles/home-router.toml"), &[set.into()]).unwrap_err().to_string();
    let off = err("listen=[{range=\"10.9.0.0/24\", remote_as=\"external\"}]");
    assert!(off.ends_with("listen[0].range: 10.9.0.0/24 is not on the LAN (192.168.2.0/24)"), "{off}");
    assert!(err("listen=[{range=\"192.168.2.0/24\", remote_as=\"outside\"}]")
        .contains("\"outside\": expected an AS number, \"external\" or \"internal\""));
    assert!(err("listen=[{range=\"192.168.2.0/24\", remote_as=23456}]").contains("AS_TRANS"));
    assert!(err("listen=[{range=\"192.168.2.0/24\"}]").contains("remote_as: missing"));
    let p = Profile::load(
        &repo().join("profiles/home-router.toml"),
        &["listen=[{range=\"192.168.2.128/25\", remote_as=65001}]".into()],
    )
    .unwrap();
    assert!(render::bgpd_conf(&p)
        .contains(" neighbor LISTEN1 remote-as 65001\n bgp listen range 192.168.2.128/25 peer-group LISTEN1\n"));
}

#[test]
fn graceful_restart_key() {
    let with =
        |v: &str| Profile::load(&repo().join("profiles/ryzen7-5700x.toml"), &[format!("bgp.graceful_restart={v}")]);
    assert!(render::bgpd_conf(&with("\"restart\"").unwrap())
        .contains(" bgp router-id 192.168.2.203\n bgp graceful-restart\n"));
    assert!(render::bgpd_conf(&with("\"disable\"").unwrap()).contains(" bgp graceful-restart-disable\n"));
    assert!(!render::bgpd_conf(&load("ryzen7-5700x.toml")).contains("graceful"), "helper: FRR's default, no line");
    let e = with("\"sometimes\"").unwrap_err().to_string();
    assert!(e.ends_with("bgp.graceful_restart: \"sometimes\": expected \"helper\", \"restart\" or \"disable\""), "{e}");
}

#[test]
fn bfd_key() {
    let p = Profile::load(
        &repo().join("profiles/ryzen7-5700x.toml"),
        &["neighbor=[{address=\"192.168.2.254\", remote_as=65000, bfd=true}]".into()],
    )
    .unwrap();
    assert!(render::bgpd_conf(&p).contains(" neighbor 192.168.2.254 remote-as 65000\n neighbor 192.168.2.254 bfd\n"));
    let e = Profile::load(
        &repo().join("profiles/ryzen7-5700x.toml"),
        &["neighbor=[{address=\"192.168.2.254\", remote_as=65000, bfd=\"yes\"}]".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.ends_with("neighbor[0].bfd: expected true or false, found a string"), "{e}");
}

#[test]
fn bfd_interval_key() {
    let p = Profile::load(
        &repo().join("profiles/ryzen7-5700x.toml"),
        &["neighbor=[{address=\"192.168.2.254\", remote_as=65000, bfd=true}]".into(), "bgp.bfd_interval=100".into()],
    )
    .unwrap();
    let conf = render::bgpd_conf(&p);
    assert!(conf.contains(" neighbor 192.168.2.254 bfd profile profile-bfd\n"), "{conf}");
    assert!(
        conf.ends_with("bfd\n profile profile-bfd\n  receive-interval 100\n  transmit-interval 100\n exit\n !\nexit\n"),
        "{conf}"
    );
    let e = Profile::load(&repo().join("profiles/ryzen7-5700x.toml"), &["bgp.bfd_interval=5".into()]).unwrap_err();
    assert!(e.to_string().ends_with("bgp.bfd_interval: 5: 10 to 60000 ms"), "{e}");
}

/// A typo is said as the unknown key, with the one meant, before any
/// key it hides is "missing".
#[test]
fn a_typo_is_named_with_what_was_meant() {
    let e = error_of(|s| s.replace("addresses = [\"192.168.2.203/24\"]", "adresses = [\"192.168.2.203/24\"]"));
    assert!(e.contains("lan.adresses: unknown key: did you mean addresses? (expected one of:"), "{e}");
    let e = error_of(|s| s.replace("[router]", "[routr]"));
    assert!(e.contains("routr: unknown key: did you mean router?"), "{e}");
}

/// `[router] metrics`: an address of this router (or any, or loopback)
/// and a port; the image hands it to bgpd through /etc/bgpbox/metrics.
#[test]
fn metrics_address_is_checked() {
    assert_eq!(
        error_of(|t| t.replace("asn = 65001", "asn = 65001\nmetrics = \"192.0.2.9:9342\"")),
        "profiles/x.toml: router.metrics: 192.0.2.9:9342: not an address of this router (lan.addresses, vm_network.addresses, or 127.0.0.1, 0.0.0.0, ::)"
    );
    assert!(error_of(|t| t.replace("asn = 65001", "asn = 65001\nmetrics = \"192.168.2.203\""))
        .contains("router.metrics: \"192.168.2.203\" is not ADDR:PORT"));
    let dir = std::env::temp_dir().join(format!("bgpbox-prof-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.toml");
    let text = std::fs::read_to_string(repo().join("profiles/ryzen7-5700x.toml")).unwrap();
    std::fs::write(&path, text.replace("asn = 65001", "asn = 65001\nmetrics = \"192.168.2.203:9342\"")).unwrap();
    let p = Profile::load(&path, &[]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(p.router.metrics, Some("192.168.2.203:9342".parse().unwrap()));
}

/// The parts of a profile that must agree: each mistake names its key.
#[test]
fn cross_checks_name_the_key() {
    let set = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Profile::load(&repo().join("profiles/ryzen7-5700x.toml"), &sets).map_err(|e| e.to_string())
    };
    let e = set(&["bgp.announce=[\"10.9.0.0/24\"]"]).unwrap_err();
    assert!(
        e.contains(
            "bgp.announce[0]: 10.9.0.0/24 is the network of no interface of this router (192.168.2.0/24, 10.1.0.0/24)"
        ),
        "{e}"
    );
    let e = set(&["vm_network.addresses=[\"192.168.2.1/25\"]"]).unwrap_err();
    assert!(e.contains("vm_network.addresses[0]: 192.168.2.1/25 overlaps the LAN (192.168.2.0/24)"), "{e}");
    let e = set(&["neighbor[0].address=192.168.2.203"]).unwrap_err();
    assert!(e.contains("neighbor[0].address: 192.168.2.203 is this router's own address"), "{e}");
    let e = set(&["neighbor[0].address=198.51.100.1"]).unwrap_err();
    assert!(
        e.contains("neighbor[0].address: 198.51.100.1 is on no network of this router (192.168.2.0/24, 10.1.0.0/24): an eBGP neighbor"),
        "{e}"
    );
    // A neighbor on the VM network is on a shared network too.
    assert!(set(&["neighbor[0].address=10.1.0.9"]).is_ok());
    // iBGP off the LAN: a warning, the build goes on.
    let p = set(&["neighbor[0].address=198.51.100.1", "neighbor[0].remote_as=65001"]).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].starts_with("neighbor[0].address: 198.51.100.1 (iBGP) is on no network of this router"),
        "{:?}",
        p.warnings
    );
    assert!(load("ryzen7-5700x.toml").warnings.is_empty());
}
