//! LXD end to end: both shipped profiles built into images, imported and
//! launched on a veth the test creates in place of the host NIC.
//!
//! Needs root and LXD; `scripts/test` runs it with the static binary.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// The tests of this file one at a time: the publish test restarts LXD.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    let bin = static_bgpbox();
    let bin = bin.to_str().unwrap();
    // Stand-ins for the host: the NIC the macvlans hang off, and a VM bridge.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new("i");
    let (t, dir, lan, vmbr, root) =
        (env.t.clone(), env.dir.clone(), env.lan.clone(), env.vmbr.clone(), env.root.clone());
    for p in ["ryzen7-5700x", "optiplex"] {
        env.volume(p);
    }
    let c = &mut env.c;

    let sets = vec![
        format!("lan.parent={lan}"),
        format!("vm_network.bridge={vmbr}"),
        format!("router.storage_pool={}", env.pool),
    ];
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
        let out = run(&[lxc(), "image", "import", &first.image, "--alias", &alias]);
        c.push(&[lxc(), "image", "delete", &alias]);
        assert!(out.contains(&first.fingerprint), "LXD's fingerprint differs from ours: {out}");

        let lxd_profile = format!("bgpboxt{t}-{profile}");
        run(&[lxc(), "profile", "create", &lxd_profile]);
        c.push(&[lxc(), "profile", "delete", &lxd_profile]);
        let yaml = std::fs::read_to_string(&first.lxd_profile).unwrap();
        assert!(yaml.contains(&format!("parent: {lan}")), "{yaml}");
        let status = std::process::Command::new(lxc())
            .args(["profile", "edit", &lxd_profile])
            .stdin(std::fs::File::open(&first.lxd_profile).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "lxc profile edit {lxd_profile} failed");

        let name = format!("{hostname}-{t}").replace('_', "-");
        run(&[lxc(), "launch", &alias, &name, "--profile", &root, "--profile", &lxd_profile]);
        c.push(&[lxc(), "delete", "--force", &name]);

        // PID 1 is bgpbox's init: started as /sbin/init, running our binary.
        let state = run(&[lxc(), "query", &format!("/1.0/instances/{name}/state")]);
        let pid = json_u64(&state, "\"pid\":").expect("init pid in instance state");
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert_eq!(cmdline, b"/sbin/init\0", "PID 1 command line");
        let exe = std::fs::read(format!("/proc/{pid}/exe")).unwrap();
        assert!(exe == binary, "PID 1 does not run the bgpbox binary that built the image");
        let version = run(&[lxc(), "exec", &name, "--", "bgpbox", "--version"]);
        assert_eq!(version.trim(), format!("bgpbox {}", env!("CARGO_PKG_VERSION")));

        // Stopped once it runs, as a user would: bgpd answers, so init has
        // started its services (and may be telling LXD it is Ready).
        let up = wait_for(Duration::from_secs(20), || {
            try_run(&[lxc(), "exec", &name, "--", "vtysh", "-c", "show version"]).ok()
        });
        assert!(up.is_some_and(|v| v.contains("bgpbox")), "bgpd in {name} did not answer within 20 s");
        let started = Instant::now();
        lxc_stop(&name);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "lxc stop took {took:?}");
        let log = wait_for(Duration::from_secs(5), || try_run(&[lxc(), "console", &name, "--show-log"]).ok())
            .unwrap_or_else(|| run(&[lxc(), "console", &name, "--show-log"]));
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

/// What an LXD test makes: a stand-in host NIC (veth) and VM bridge, a
/// storage pool and a root-disk profile; removed on drop.
struct Env {
    c: Cleanup,
    t: String,
    dir: std::path::PathBuf,
    lan: String,
    vmbr: String,
    root: String,
    pool: String,
}

impl Env {
    fn new(suffix: &str) -> Env {
        require_root();
        ensure_lxd();
        let t = format!("{}{suffix}", tag());
        let mut c = Cleanup::default();
        let dir = std::env::temp_dir().join(format!("bgpbox-lxd-{t}"));
        std::fs::create_dir_all(&dir).unwrap();
        c.push(&["rm", "-rf", dir.to_str().unwrap()]);
        let (lan, peer, vmbr, pool) = (format!("bxl{t}"), format!("bxp{t}"), format!("bxb{t}"), format!("bgpboxt{t}"));
        run(&["ip", "link", "add", &lan, "type", "veth", "peer", "name", &peer]);
        c.push(&["ip", "link", "del", &lan]);
        run(&["ip", "link", "set", &lan, "up"]);
        run(&["ip", "link", "set", &peer, "up"]);
        run(&["ip", "link", "add", &vmbr, "type", "bridge"]);
        c.push(&["ip", "link", "del", &vmbr]);
        run(&["ip", "link", "set", &vmbr, "up"]);
        run(&[lxc(), "storage", "create", &pool, "dir"]);
        c.push(&[lxc(), "storage", "delete", &pool]);
        let root = format!("bgpboxt{t}-root");
        run(&[lxc(), "profile", "create", &root]);
        c.push(&[lxc(), "profile", "delete", &root]);
        run(&[lxc(), "profile", "device", "add", &root, "root", "disk", "path=/", &format!("pool={pool}")]);
        Env { c, t, dir, lan, vmbr, root, pool }
    }

    /// A profile's image for this test's host stand-ins, into `out`.
    fn build(&self, profile: &str, sets: &[String], out: &str) -> Built {
        let bin = static_bgpbox();
        let mut sets = sets.to_vec();
        sets.push(format!("lan.parent={}", self.lan));
        sets.push(format!("vm_network.bridge={}", self.vmbr));
        sets.push(format!("router.storage_pool={}", self.pool));
        let path = repo().join("profiles").join(format!("{profile}.toml"));
        build(bin.to_str().unwrap(), path.to_str().unwrap(), self.dir.join(out).to_str().unwrap(), &sets)
    }

    /// The profile's config volume (`lxc storage volume create`, once).
    fn volume(&mut self, profile: &str) {
        let v = format!("bgpbox-{profile}");
        if try_run(&[lxc(), "storage", "volume", "show", &self.pool, &v]).is_err() {
            run(&[lxc(), "storage", "volume", "create", &self.pool, &v]);
            self.c.push(&[lxc(), "storage", "volume", "delete", &self.pool, &v]);
        }
    }

    /// Builds, imports and launches a profile's image; returns the
    /// container's name.
    fn launch(&mut self, profile: &str, hostname: &str, sets: &[String]) -> String {
        self.volume(profile);
        let b = self.build(profile, sets, profile);
        let alias = format!("bgpboxt{}-{profile}", self.t);
        run(&[lxc(), "image", "import", &b.image, "--alias", &alias]);
        self.c.push(&[lxc(), "image", "delete", &alias]);
        let lxd_profile = format!("bgpboxt{}-{profile}", self.t);
        run(&[lxc(), "profile", "create", &lxd_profile]);
        self.c.push(&[lxc(), "profile", "delete", &lxd_profile]);
        let status = std::process::Command::new(lxc())
            .args(["profile", "edit", &lxd_profile])
            .stdin(std::fs::File::open(&b.lxd_profile).unwrap())
            .status()
            .unwrap();
        assert!(status.success());
        let name = format!("{hostname}-{}", self.t);
        run(&[lxc(), "launch", &alias, &name, "--profile", &self.root, "--profile", &lxd_profile]);
        self.c.push(&[lxc(), "delete", "--force", &name]);
        name
    }
}

fn init_pid(name: &str) -> u64 {
    let state = run(&[lxc(), "query", &format!("/1.0/instances/{name}/state")]);
    json_u64(&state, "\"pid\":").expect("init pid")
}

/// bgpd's pid on the host: init's child running as bgpd.
fn bgpd_pid(name: &str) -> Option<u64> {
    let init = init_pid(name);
    let kids = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).ok()?;
    kids.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .find(|p: &u64| std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"bgpd\0")))
}

fn exec_code(name: &str, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(lxc()).args(["exec", name, "--"]).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
#[ignore = "needs root and LXD: run scripts/test"]
fn router_container_lives_and_stops_cleanly() {
    use common::netns::{Bgpbox, Ns};
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new("r");
    // The home router's role: a namespace on a macvlan of the same parent.
    let home = Ns::new("lh");
    let mv = format!("bxm{}", env.t);
    run(&["ip", "link", "add", "link", &env.lan, "name", &mv, "type", "macvlan", "mode", "bridge"]);
    run(&["ip", "link", "set", &mv, "netns", &home.name]);
    home.ip(&["link", "set", &mv, "name", "eth0"]);
    home.ip(&["addr", "add", "192.0.2.254/24", "dev", "eth0"]);
    home.ip(&["link", "set", "eth0", "up"]);
    home.addr("vm", "203.0.113.1/24");
    let ix = std::fs::read_to_string(repo().join("tests/data/seed/IX2105.conf"))
        .unwrap()
        .replace("192.168.2.", "192.0.2.")
        .replace(" exit-address-family", "  network 203.0.113.0/24\n exit-address-family");
    let mut home_d = Some(Bgpbox::start(&home, "lxd-home", &ix));

    let sets: Vec<String> = [
        "lan.addresses=[\"192.0.2.203/24\"]",
        "lan.gateway=192.0.2.254",
        "router.router_id=192.0.2.203",
        "vm_network.addresses=[\"198.51.100.1/24\"]",
        "bgp.announce=[\"198.51.100.0/24\"]",
        "neighbor[0].address=192.0.2.254",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let c = env.launch("ryzen7-5700x", "RyzenRouter", &sets);

    // Up by itself: addresses, forwarding, bgpd, healthy.
    let (code, out) = exec_code(&c, &["healthcheck", "--wait", "30"]);
    // LXD's console log of a running container is sometimes missing or
    // empty (seen with LXD 5.0 here): the checks that read it are skipped
    // then, and say so.
    let console = || try_run(&[lxc(), "console", &c, "--show-log"]).ok().filter(|l| l.contains("init:"));
    assert_eq!(code, 0, "{out}\n{:?}", console());
    let (_, view) = exec_code(&c, &["vtysh", "-c", "sh ip route bgp"]);
    assert!(view.contains("B   0.0.0.0/0 [20/0] via 192.0.2.254, eth0, weight 1, "), "{view}");
    assert!(view.contains("B>* 203.0.113.0/24 [20/0] via 192.0.2.254, eth0, weight 1, "), "{view}");
    let hd = home_d.as_ref().unwrap();
    assert_eq!(hd.next_hop("ipv4", "198.51.100.0/24").as_deref(), Some("192.0.2.203"));
    let netns = format!("--net=/proc/{}/ns/net", init_pid(&c));
    assert_eq!(run(&["nsenter", &netns, "sysctl", "-n", "net.ipv4.ip_forward"]).trim(), "1");
    match console() {
        Some(log) => {
            assert!(log.contains("reported Ready to "), "{log}");
            // netsetup's first run ends before bgpd starts.
            let done = log.find("netsetup (pid").and_then(|i| log[i..].find("finished").map(|j| i + j));
            let started = log.find("started bgpd");
            assert!(done.is_some() && started.is_some() && done < started, "{log}");
        }
        None => eprintln!("{c}: no console log from LXD; Ready and start order not checked"),
    }

    // netsetup again: nothing to change; after a manual change, --check says so.
    let (code, out) = exec_code(&c, &["netsetup"]);
    assert_eq!((code, out.trim()), (0, "netsetup: nothing to change"));
    run(&["nsenter", &netns, "ip", "addr", "del", "198.51.100.1/24", "dev", "eth1"]);
    let (code, out) = exec_code(&c, &["netsetup", "--check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("would change: eth1: add address 198.51.100.1/24"), "{out}");
    let (code, out) = exec_code(&c, &["netsetup"]);
    assert_eq!(code, 0, "{out}");

    // The peer stops: unhealthy, with the reason; back: healthy.
    hd.signal("-TERM");
    let out = wait_for(Duration::from_secs(10), || {
        let (code, out) = exec_code(&c, &["healthcheck"]);
        (code == 1).then_some(out)
    })
    .expect("unhealthy without the peer");
    assert!(out.contains("neighbor 192.0.2.254: "), "{out}");
    home_d = None;
    home_d.replace(Bgpbox::start(&home, "lxd-home2", &ix));
    let (code, out) = exec_code(&c, &["healthcheck", "--wait", "30"]);
    assert_eq!(code, 0, "{out}");

    // kill -9 of bgpd: init restarts it at once, and the route never
    // leaves the FIB meanwhile.
    let old = bgpd_pid(&c).expect("bgpd running");
    let netns = format!("/proc/{}/ns/net", init_pid(&c));
    let has_route =
        || run(&["nsenter", &format!("--net={netns}"), "ip", "route", "show", "203.0.113.0/24"]).contains("proto bgp");
    assert!(has_route());
    run(&["kill", "-9", &old.to_string()]);
    let t0 = Instant::now();
    let mut restarted = None;
    while t0.elapsed() < Duration::from_secs(3) {
        assert!(has_route(), "the route left the FIB {:?} after kill -9", t0.elapsed());
        if restarted.is_none() && bgpd_pid(&c).is_some_and(|p| p != old) {
            restarted = Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let restarted = restarted.expect("bgpd restarted");
    assert!(restarted < Duration::from_secs(1), "restart took {restarted:?}");
    let (code, out) = exec_code(&c, &["healthcheck", "--wait", "30"]);
    assert_eq!(code, 0, "{out}");
    eprintln!("bgpd restarted {restarted:?} after kill -9");

    upgrade_keeps_the_saved_config(&mut env, &c, &sets);

    // lxc stop: quick, and the peer hears a Cease, not a hold timer.
    let t0 = Instant::now();
    lxc_stop(&c);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(2), "lxc stop took {took:?}");
    let hd = home_d.as_ref().unwrap();
    let log = wait_for(Duration::from_secs(5), || {
        let l = hd.log_text();
        l.contains("neighbor 192.0.2.203 Down").then_some(l)
    })
    .expect("the home router saw the session go");
    assert!(log.contains("neighbor 192.0.2.203 Down: Cease/Administrative Shutdown received"), "{log}");
    eprintln!("lxc stop took {took:?}");
}

/// `write memory` survives `bgpbox upgrade` to an image whose profile
/// changed (LXD 5.0 here: the container is replaced, its config volume
/// stays): the neighbor added in vtysh is there, the profile's change too,
/// and healthcheck says how the running config differs from the image's.
fn upgrade_keeps_the_saved_config(env: &mut Env, c: &str, sets: &[String]) {
    let (code, out) = exec_code(
        c,
        &[
            "vtysh",
            "-c",
            "configure terminal",
            "-c",
            "router bgp 65001",
            "-c",
            "neighbor 192.0.2.9 remote-as 65009",
            "-c",
            "neighbor 192.0.2.9 shutdown",
            "-c",
            "end",
            "-c",
            "write memory",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let mut sets = sets.to_vec();
    sets.retain(|s| !s.starts_with("router.router_id="));
    sets.push("router.router_id=192.0.2.77".into());
    let b = env.build("ryzen7-5700x", &sets, "upgraded");
    env.c.push(&[lxc(), "image", "delete", &b.fingerprint]);
    let lxd_profile = format!("bgpboxt{}-ryzen7-5700x", env.t);
    let bin = static_bgpbox();
    let up = std::process::Command::new(bin)
        .args([
            "upgrade",
            c,
            "--image",
            &b.image,
            "--profile-yaml",
            &b.lxd_profile,
            "--lxd-profile",
            &lxd_profile,
            "--client",
            lxc(),
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&up.stdout).into_owned() + &String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "bgpbox upgrade failed:\n{said}");
    assert!(said.contains("replacing") || said.contains("rebuilding"), "{said}");
    assert!(
        said.contains("note: config: the running config differs from the image's (/etc/bgpbox/bgpd.conf): + router bgp 65001 / neighbor 192.0.2.9 remote-as 65009"),
        "{said}"
    );
    let (_, running) = exec_code(c, &["vtysh", "-c", "show running-config"]);
    assert!(running.contains(" neighbor 192.0.2.9 remote-as 65009\n"), "the saved neighbor is gone:\n{running}");
    assert!(running.contains(" bgp router-id 192.0.2.77\n"), "the profile's change is not applied:\n{running}");
    if let Ok(log) = try_run(&[lxc(), "console", c, "--show-log"]) {
        if log.contains("init:") {
            assert!(log.contains("config: /var/lib/bgpbox/bgpd.conf (saved) with the new image's changes: "), "{log}");
        }
    }
}

/// The seed's router, renumbered into documentation prefixes.
fn renumbered() -> Vec<String> {
    [
        "lan.addresses=[\"192.0.2.203/24\"]",
        "lan.gateway=192.0.2.254",
        "router.router_id=192.0.2.203",
        "vm_network.addresses=[\"198.51.100.1/24\"]",
        "bgp.announce=[\"198.51.100.0/24\"]",
        "neighbor[0].address=192.0.2.254",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Restarts LXD's daemon, its instances left running (SIGTERM), so that it
/// reads the system's CA certificates again.
fn restart_lxd() {
    let _ = try_run(&["pkill", "-TERM", "-x", lxd_daemon()]);
    let gone = wait_for(Duration::from_secs(20), || try_run(&[lxc(), "query", "/1.0"]).is_err().then_some(()));
    assert!(gone.is_some(), "LXD did not stop");
    ensure_lxd();
}

/// A CA, a certificate for `ip` it signs, and an HTTPS server (Python's
/// http.server over TLS) on ip:port serving `root`; the CA is trusted by the
/// system (and LXD, restarted) until drop, which undoes it all.
struct Https {
    server: std::process::Child,
    ca_file: std::path::PathBuf,
    url: String,
}

impl Https {
    fn start(dir: &std::path::Path, root: &std::path::Path, ip: &str, port: u16, t: &str) -> Https {
        let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
        run(&[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN=bgpbox test CA {t}"),
            "-keyout",
            &d("ca.key"),
            "-out",
            &d("ca.pem"),
        ]);
        run(&[
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={ip}"),
            "-keyout",
            &d("srv.key"),
            "-out",
            &d("srv.csr"),
        ]);
        std::fs::write(dir.join("san.ext"), format!("subjectAltName=IP:{ip}\n")).unwrap();
        run(&[
            "openssl",
            "x509",
            "-req",
            "-in",
            &d("srv.csr"),
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &d("san.ext"),
            "-out",
            &d("srv.pem"),
        ]);
        let ca_file = std::path::PathBuf::from(format!("/usr/local/share/ca-certificates/bgpbox-test-{t}.crt"));
        std::fs::copy(dir.join("ca.pem"), &ca_file).unwrap();
        run(&["update-ca-certificates"]);
        restart_lxd();
        // Python's server: every file with its Content-Length (openssl
        // s_server -WWW ends a body by closing, and a loaded machine
        // truncated the image that way).
        let serve = format!(
            "import http.server, ssl, os, functools\n\
             ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
             ctx.load_cert_chain({cert:?}, {key:?})\n\
             h = functools.partial(http.server.SimpleHTTPRequestHandler, directory={root:?})\n\
             s = http.server.ThreadingHTTPServer(({ip:?}, {port}), h)\n\
             s.socket = ctx.wrap_socket(s.socket, server_side=True)\n\
             s.serve_forever()\n",
            cert = d("srv.pem"),
            key = d("srv.key"),
            root = root.display().to_string(),
        );
        let server = std::process::Command::new("python3")
            .args(["-c", &serve])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("https://{ip}:{port}/streams/v1/index.json");
        let up = wait_for(Duration::from_secs(10), || try_run(&["curl", "-sf", "--cacert", &d("ca.pem"), &url]).ok());
        assert!(up.is_some_and(|t| t.contains("index:1.0")), "the HTTPS server does not serve {url}");
        Https { server, ca_file, url: format!("https://{ip}:{port}") }
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_file(&self.ca_file);
        let _ = try_run(&["update-ca-certificates", "--fresh"]);
        restart_lxd();
    }
}

/// `bgpbox publish` into a directory served over HTTPS; LXD launches
/// remote:bgpbox/ryzen7-5700x from it; a second publish with a changed
/// profile adds a version beside the first, and the documented upgrade
/// to it keeps what `write memory` saved and applies the profile's change.
#[test]
#[ignore = "needs root, LXD and openssl: run scripts/test"]
fn published_images_launch_from_a_simplestreams_server_and_upgrade() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new("p");
    env.volume("ryzen7-5700x");
    let (t, dir) = (env.t.clone(), env.dir.clone());
    let bin = static_bgpbox();
    let tree = dir.join("tree");
    let mut sets = renumbered();
    sets.extend([
        format!("lan.parent={}", env.lan),
        format!("vm_network.bridge={}", env.vmbr),
        format!("router.storage_pool={}", env.pool),
    ]);
    let publish = |extra: &[&str]| {
        let mut args = vec!["publish".to_string(), "--out".into(), tree.display().to_string()];
        args.extend(["--profile".into(), repo().join("profiles/ryzen7-5700x.toml").display().to_string()]);
        for s in sets.iter().map(String::as_str).chain(extra.iter().copied()) {
            args.extend(["--set".into(), s.to_string()]);
        }
        let out = std::process::Command::new(&bin).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    publish(&[]);
    // A documentation address of the test's own veth, in the host.
    let ip = "192.0.2.77";
    run(&["ip", "addr", "add", &format!("{ip}/32"), "dev", &env.lan]);
    // A port of this run's own: LXD caches a remote's index by its URL.
    let port = 20000 + (std::process::id() % 20000) as u16;
    let https = Https::start(&dir, &tree, ip, port, &t);
    let remote = format!("bxpub{t}");
    // LXD and Incus keep a remote's index for an hour in a folder named by
    // the URL's hash: gone after the remote (and what used it) is.
    let hash = bgpbox_image::sha256_hex(https.url.as_bytes());
    let caches = ["/var/cache/lxd", "/var/cache/incus"].map(|c| format!("{c}/{hash}"));
    env.c.push(&["rm", "-rf", &caches[0], &caches[1]]);
    run(&[lxc(), "remote", "add", &remote, &https.url, "--protocol", "simplestreams", "--public"]);
    env.c.push(&[lxc(), "remote", "remove", &remote]);
    let versions = || -> Vec<String> {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tree.join("streams/v1/images.json")).unwrap()).unwrap();
        let v = doc["products"]["bgpbox:ryzen7-5700x:amd64:default"]["versions"].as_object().unwrap();
        let mut v: Vec<String> = v.keys().cloned().collect();
        v.sort();
        v
    };
    let first = versions();
    assert_eq!(first.len(), 1);
    let lxd_profile = format!("bgpboxt{t}-ryzen7-5700x");
    run(&[lxc(), "profile", "create", &lxd_profile]);
    env.c.push(&[lxc(), "profile", "delete", &lxd_profile]);
    let yaml = tree.join(format!("images/ryzen7-5700x/{}/ryzen7-5700x.profile.yaml", first[0]));
    let st = std::process::Command::new(lxc())
        .args(["profile", "edit", &lxd_profile])
        .stdin(std::fs::File::open(&yaml).unwrap())
        .status()
        .unwrap();
    assert!(st.success());
    let name = format!("RyzenRouter-{t}").replace('_', "-");
    // The image LXD caches from the remote goes with the test.
    let cached = bgpbox_image::sha256_hex(
        &std::fs::read(tree.join(format!("images/ryzen7-5700x/{}/lxd_combined.tar.gz", first[0]))).unwrap(),
    );
    env.c.push(&[lxc(), "image", "delete", &cached]);
    run(&[
        lxc(),
        "launch",
        &format!("{remote}:bgpbox/ryzen7-5700x"),
        &name,
        "--profile",
        &env.root,
        "--profile",
        &lxd_profile,
    ]);
    env.c.push(&[lxc(), "delete", "--force", &name]);
    let up = wait_for(Duration::from_secs(30), || {
        try_run(&[lxc(), "exec", &name, "--", "vtysh", "-c", "show version"]).ok()
    });
    assert!(up.is_some_and(|v| v.contains("bgpbox")), "the router from the remote did not come up");
    let (code, out) = exec_code(
        &name,
        &[
            "vtysh",
            "-c",
            "configure terminal",
            "-c",
            "router bgp 65001",
            "-c",
            "neighbor 192.0.2.9 remote-as 65009",
            "-c",
            "end",
            "-c",
            "write memory",
        ],
    );
    assert_eq!(code, 0, "{out}");

    // The profile changes; a second publish keeps the first version.
    publish(&["router.router_id=192.0.2.88"]);
    let second = versions();
    assert_eq!(second.len(), 2, "{second:?}");
    let v2 = second.iter().find(|v| !first.contains(v)).unwrap();
    let image = tree.join(format!("images/ryzen7-5700x/{v2}/lxd_combined.tar.gz"));
    let yaml = tree.join(format!("images/ryzen7-5700x/{v2}/ryzen7-5700x.profile.yaml"));
    let out = std::process::Command::new(&bin)
        .args([
            "upgrade",
            &name,
            "--image",
            &image.display().to_string(),
            "--profile-yaml",
            &yaml.display().to_string(),
            "--lxd-profile",
            &lxd_profile,
            "--client",
            lxc(),
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // No peer here: healthcheck is unhealthy, but the upgrade went through.
    assert!(said.contains("replacing") || said.contains("rebuilding"), "{said}");
    let fp = bgpbox_image::sha256_hex(&std::fs::read(&image).unwrap());
    env.c.push(&[lxc(), "image", "delete", &fp]);
    let (_, running) = exec_code(&name, &["vtysh", "-c", "show running-config"]);
    assert!(running.contains(" neighbor 192.0.2.9 remote-as 65009\n"), "{running}");
    assert!(running.contains(" bgp router-id 192.0.2.88\n"), "{running}");
    drop(https);
}
