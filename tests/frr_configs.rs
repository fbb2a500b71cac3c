//! The FRR configs of `tests/data/frr-configs/`, one per pattern homelab
//! users have (Kubernetes peering, route reflectors, ISP edges, what FRR
//! 10 writes, zebra-era pastes, ...): each is valid for FRR 8.4 (`vtysh
//! --dryrun`), passes `bgpd -C`, applies through bgpbox's vtysh (`-f`) to
//! a running bgpd, and what bgpbox then writes (`show running-config`)
//! is valid for FRR 8.4 again and means what the file meant. bgpd runs in
//! a namespace of its own: its neighbors are unreachable. Needs root and
//! FRR: run through scripts/test.

mod common;

use std::path::{Path, PathBuf};

use common::netns::*;
use common::*;

fn corpus() -> Vec<PathBuf> {
    let dir = repo().join("tests/data/frr-configs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    v.sort();
    v
}

/// FRR 8.4's own check of a file: its errors, or Ok.
fn frr_dryrun(f: &Path) -> Result<(), String> {
    let out = std::process::Command::new("vtysh").args(["--dryrun", "-f"]).arg(f).output().expect("FRR's vtysh");
    match out.status.success() {
        true => Ok(()),
        false => Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))),
    }
}

fn parse(name: &str, text: &str) -> bgpbox::bgp::config::Config {
    bgpbox::bgp::config::parse(name, text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn at_least_fifteen_patterns() {
    assert!(corpus().len() >= 15, "{:?}", corpus());
}

#[test]
#[ignore = "needs root, namespaces and FRR: run scripts/test"]
fn every_config_loads_in_frr_and_bgpbox_and_back() {
    require_root();
    let ns = Ns::new("fcfg");
    let empty = workdir().join("fcfg-empty.conf");
    let mut failures = Vec::new();
    for f in corpus() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        if let Err(e) = frr_dryrun(&f) {
            failures.push(format!("{name}: FRR 8.4 refuses the file itself:\n{e}"));
            continue;
        }
        if let Err(e) = try_run(&[&bgpbox_bin(), "bgpd", "-C", "-f", f.to_str().unwrap()]) {
            failures.push(format!("{name}: bgpd -C: {e}"));
            continue;
        }
        // Pasted into a running bgpd with an empty config, as a user would.
        std::fs::write(&empty, "").unwrap();
        let b = Bgpbox::start_file(&bgpbox_bin(), &ns, "fcfg", &empty);
        if let Err(e) = b.vtysh_file(&f) {
            failures.push(format!("{name}: vtysh -f: {e}"));
            continue;
        }
        let running = b.show("show running-config");
        drop(b);
        let back = workdir().join(format!("fcfg-{name}"));
        std::fs::write(&back, &running).unwrap();
        if let Err(e) = frr_dryrun(&back) {
            failures.push(format!("{name}: FRR 8.4 refuses bgpbox's running-config of it:\n{e}\n{running}"));
            continue;
        }
        // The same meaning: bgpbox reads both alike (its running-config
        // starts with its header lines, which say nothing of the config).
        if parse(&name, &text) != parse("running-config", &running) {
            failures.push(format!("{name}: the running-config means something else:\n{running}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The home router's config `bgpbox build` writes (both seed profiles
/// built into one directory) is one FRR 8.4 takes.
#[test]
#[ignore = "needs FRR and the static build: run scripts/test"]
fn the_home_router_config_loads_in_frr() {
    let dir = workdir().join("home-router");
    std::fs::create_dir_all(&dir).unwrap();
    for p in ["ryzen7-5700x", "optiplex"] {
        let profile = repo().join("profiles").join(format!("{p}.toml"));
        let bin = static_bgpbox();
        run(&[bin.to_str().unwrap(), "build", "--profile", profile.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    }
    let f = dir.join("home-router-192.168.2.254.frr.conf");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains(" neighbor 192.168.2.203 remote-as 65001")
            && text.contains(" neighbor 192.168.2.204 remote-as 65002"),
        "{text}"
    );
    frr_dryrun(&f).unwrap_or_else(|e| panic!("FRR 8.4 refuses it: {e}\n{text}"));
}
