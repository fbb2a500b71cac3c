//! The multi-call binary's dispatch and errors; no root needed.

use std::os::unix::fs::symlink;
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_bgpbox")
}

fn out(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn help_lists_every_applet() {
    let (code, stdout, _) = out(Command::new(bin()).arg("--help"));
    assert_eq!(code, 0);
    for a in ["init", "bgpd", "vtysh", "netsetup", "healthcheck", "build"] {
        assert!(stdout.lines().any(|l| l.trim_start().starts_with(a)), "{a} missing from:\n{stdout}");
    }
    let (code, stdout, _) = out(Command::new(bin()).arg("--version"));
    assert_eq!((code, stdout.trim()), (0, format!("bgpbox {}", env!("CARGO_PKG_VERSION")).as_str()));
}

#[test]
fn an_unknown_applet_is_an_error_naming_the_known_ones() {
    let (code, _, stderr) = out(Command::new(bin()).arg("ospfd"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown applet \"ospfd\" (known applets: init, bgpd, vtysh, netsetup, healthcheck, ping, traceroute, upgrade, publish, build)"),
        "{stderr}"
    );
}

#[test]
fn argv0_selects_the_applet() {
    let dir = std::env::temp_dir().join(format!("bgpbox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("vtysh");
    let _ = std::fs::remove_file(&link);
    symlink(bin(), &link).unwrap();
    let sock = dir.join("none.sock");
    let (code, _, stderr) = out(Command::new(&link).args(["--socket", sock.to_str().unwrap(), "-c", "show version"]));
    assert_eq!(code, 1);
    assert_eq!(
        stderr.trim(),
        format!("bgpd is not running (no answer on {}){}", sock.display(), bgpbox::control::NOT_RUNNING_HINT)
    );
    // The same through `bgpbox <applet>`, and applet arguments through clap.
    let (code, _, stderr) = out(Command::new(bin()).args(["vtysh", "--socket", sock.to_str().unwrap(), "-c", "x"]));
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = out(Command::new(bin()).args(["netsetup", "--frobnicate"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("--frobnicate"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bgpd_refuses_a_bad_config_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("bgpbox-cli-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("bgpd.conf");
    std::fs::write(&conf, "router bgp 65001\n neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 frobnicate\n")
        .unwrap();
    let (code, _, stderr) = out(Command::new(bin()).args(["bgpd", "-C", "-f", conf.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("{}:3: % Invalid input: unknown neighbor option `frobnicate`", conf.display())),
        "{stderr}"
    );
    std::fs::write(&conf, include_str!("data/seed/RyzenRouter.conf")).unwrap();
    let (code, stdout, _) = out(Command::new(bin()).args(["bgpd", "-C", "-f", conf.to_str().unwrap()]));
    assert_eq!(code, 0);
    assert!(stdout.contains("configuration is valid"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dynamic_binary_refuses_to_build_and_says_how() {
    // The test binary is the debug, dynamically linked build.
    let (code, _, stderr) = out(Command::new(bin())
        .args(["build", "--out", "/nonexistent"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--profile")
        .arg("../profiles/ryzen7-5700x.toml"));
    assert_eq!(code, 1);
    assert!(stderr.contains("is dynamically linked") && stderr.contains("scripts/build-image"), "{stderr}");
}

/// `bgpbox build` reads the profile's bgp.config with bgpd's parser and
/// refuses to build an image whose bgpd would refuse it, naming every bad
/// line at once (before it even looks at its own binary).
#[test]
fn build_refuses_a_bgp_config_that_bgpd_would_refuse() {
    let dir = std::env::temp_dir().join(format!("bgpbox-cli-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = std::fs::read_to_string("../profiles/ryzen7-5700x.toml").unwrap();
    let head = &profile[..profile.find("[bgp]").unwrap()];
    std::fs::write(dir.join("p.toml"), format!("{head}[bgp]\nconfig = \"bgpd.conf\"\n")).unwrap();
    std::fs::write(
        dir.join("bgpd.conf"),
        "router bgp 65001\n neighbor UPSTREAM frobnicate\n neighbor 192.0.2.1 remote-as 65000\n neighbor 192.0.2.1 frobnicate\n!\nrouter ospf\n network 192.0.2.0/24 area 0\n",
    )
    .unwrap();
    let (code, _, stderr) =
        out(Command::new(bin()).args(["build", "--out"]).arg(&dir).arg("--profile").arg(dir.join("p.toml")));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("bgpd would refuse this config, so no image was built"), "{stderr}");
    for line in [
        ":2: % Invalid input: UPSTREAM is neither a neighbor address, an interface neighbor nor a peer-group",
        ":4: % Invalid input: unknown neighbor option",
        ":6: % Not supported by bgpbox: OSPF",
    ] {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    assert_eq!(stderr.matches("bgpd.conf:").count(), 3, "{stderr}");
}

/// A profile outside any git checkout builds: the image is dated by the
/// newest of its inputs' modification times (said in the output), so
/// the same files give the same image.
#[test]
#[ignore = "needs the static build: run scripts/test"]
fn a_profile_outside_git_builds_and_says_how_it_is_dated() {
    let bin = std::env::var("BGPBOX_STATIC").expect("BGPBOX_STATIC: run through scripts/test");
    let top = std::env::temp_dir().join(format!("bgpbox-cli-home-{}", std::process::id()));
    let dir = top.join("homelab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("../profiles/ryzen7-5700x.toml", dir.join("third.toml")).unwrap();
    let build = || {
        out(Command::new(&bin).env_remove("SOURCE_DATE_EPOCH").current_dir(&dir).args([
            "build",
            "--profile",
            "third.toml",
            "--out",
            "out",
        ]))
    };
    let (code, stdout, stderr) = build();
    // A rootfs/ that happens to sit beside the profile's folder is not
    // packed: the same image.
    std::fs::create_dir_all(top.join("rootfs/etc")).unwrap();
    std::fs::write(top.join("rootfs/etc/stray"), "not for the image\n").unwrap();
    let (_, again, _) = build();
    let _ = std::fs::remove_dir_all(&top);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(the newest modification time of third.toml, "), "{stdout}");
    let fp = |s: &str| s.lines().find(|l| l.starts_with("fingerprint:")).map(str::to_string);
    assert_eq!(fp(&stdout), fp(&again), "the same files, the same image");
}
