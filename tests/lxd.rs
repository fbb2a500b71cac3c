//! LXD end to end: both shipped profiles built into images, imported and
//! launched on a veth the test creates in place of the host NIC.
//!
//! Needs root and LXD; `scripts/test` runs it with the static binary.

mod common;

use std::time::{Duration, Instant};

use common::*;

struct Built {
    image: String,
    lxd_profile: String,
    fingerprint: String,
}

fn build(bin: &str, profile: &str, out: &str, sets: &[String]) -> Built {
    let mut args = vec![bin, "build", "--profile", profile, "--out", out];
    for s in sets {
        args.extend(["--set", s.as_str()]);
    }
    let text = run(&args);
    let fingerprint = text
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap_or_else(|| panic!("no fingerprint in:\n{text}"))
        .trim()
        .to_string();
    assert_eq!(fingerprint.len(), 64, "{text}");
    let name = std::path::Path::new(profile).file_stem().unwrap().to_str().unwrap();
    Built { image: format!("{out}/{name}.tar.gz"), lxd_profile: format!("{out}/{name}.profile.yaml"), fingerprint }
}

#[test]
#[ignore = "needs root and LXD: run scripts/test"]
fn images_launch_stop_and_rebuild_identically() {
    require_root();
    ensure_lxd();
    let bin = static_bgpbox();
    let bin = bin.to_str().unwrap();
    let t = tag();
    let mut c = Cleanup::default();
    let dir = std::env::temp_dir().join(format!("bgpbox-lxd-{t}"));
    std::fs::create_dir_all(&dir).unwrap();
    c.push(&["rm", "-rf", dir.to_str().unwrap()]);

    // Stand-ins for the host: the NIC the macvlans hang off, and a VM bridge.
    let (lan, lan_peer, vmbr, pool) = (format!("bxl{t}"), format!("bxp{t}"), format!("bxb{t}"), format!("bgpboxt{t}"));
    run(&["ip", "link", "add", &lan, "type", "veth", "peer", "name", &lan_peer]);
    c.push(&["ip", "link", "del", &lan]);
    run(&["ip", "link", "set", &lan, "up"]);
    run(&["ip", "link", "set", &lan_peer, "up"]);
    run(&["ip", "link", "add", &vmbr, "type", "bridge"]);
    c.push(&["ip", "link", "del", &vmbr]);
    run(&["ip", "link", "set", &vmbr, "up"]);
    run(&["lxc", "storage", "create", &pool, "dir"]);
    c.push(&["lxc", "storage", "delete", &pool]);
    let root = format!("bgpboxt{t}-root");
    run(&["lxc", "profile", "create", &root]);
    c.push(&["lxc", "profile", "delete", &root]);
    run(&["lxc", "profile", "device", "add", &root, "root", "disk", "path=/", &format!("pool={pool}")]);

    let sets = vec![format!("lan.parent={lan}"), format!("vm_network.bridge={vmbr}")];
    let binary = std::fs::read(bin).unwrap();
    for (profile, hostname) in [("ryzen7-5700x", "RyzenRouter"), ("optiplex", "router-oplx")] {
        let path = repo().join("profiles").join(format!("{profile}.toml"));
        let path = path.to_str().unwrap();
        let first = build(bin, path, dir.join("a").to_str().unwrap(), &sets);
        let second = build(bin, path, dir.join("b").to_str().unwrap(), &sets);
        assert_eq!(first.fingerprint, second.fingerprint, "{profile}: two builds differ");
        assert_eq!(std::fs::read(&first.image).unwrap(), std::fs::read(&second.image).unwrap());
        let size = std::fs::metadata(&first.image).unwrap().len();
        assert!(size < 3_000_000, "{profile}: image is {size} bytes, over 3 MB");
        eprintln!("{profile}: image {size} bytes, fingerprint {}", first.fingerprint);

        let alias = format!("bgpboxt{t}-{profile}");
        let out = run(&["lxc", "image", "import", &first.image, "--alias", &alias]);
        c.push(&["lxc", "image", "delete", &alias]);
        assert!(out.contains(&first.fingerprint), "LXD's fingerprint differs from ours: {out}");

        let lxd_profile = format!("bgpboxt{t}-{profile}");
        run(&["lxc", "profile", "create", &lxd_profile]);
        c.push(&["lxc", "profile", "delete", &lxd_profile]);
        let yaml = std::fs::read_to_string(&first.lxd_profile).unwrap();
        assert!(yaml.contains(&format!("parent: {lan}")), "{yaml}");
        let status = std::process::Command::new("lxc")
            .args(["profile", "edit", &lxd_profile])
            .stdin(std::fs::File::open(&first.lxd_profile).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "lxc profile edit {lxd_profile} failed");

        let name = format!("{hostname}-{t}").replace('_', "-");
        run(&["lxc", "launch", &alias, &name, "--profile", &root, "--profile", &lxd_profile]);
        c.push(&["lxc", "delete", "--force", &name]);

        // PID 1 is bgpbox's init: started as /sbin/init, running our binary.
        let state = run(&["lxc", "query", &format!("/1.0/instances/{name}/state")]);
        let pid = json_u64(&state, "\"pid\":").expect("init pid in instance state");
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert_eq!(cmdline, b"/sbin/init\0", "PID 1 command line");
        let exe = std::fs::read(format!("/proc/{pid}/exe")).unwrap();
        assert!(exe == binary, "PID 1 does not run the bgpbox binary that built the image");
        let version = run(&["lxc", "exec", &name, "--", "bgpbox", "--version"]);
        assert_eq!(version.trim(), format!("bgpbox {}", env!("CARGO_PKG_VERSION")));

        let started = Instant::now();
        run(&["lxc", "stop", &name]);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "lxc stop took {took:?}");
        let log = run(&["lxc", "console", &name, "--show-log"]);
        assert!(log.contains("init: halted"), "console log:\n{log}");
        eprintln!("{name}: lxc stop took {took:?}");
    }
}

/// The first number after `key` in a JSON text (enough for LXD's state).
fn json_u64(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..].trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}
