//! Network namespaces, links and BGP daemons for end-to-end tests: bgpbox,
//! FRR 8.4, BIRD 2 and GoBGP 3 from Debian. Everything is removed on drop,
//! processes first, also when a test fails.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{run, tag, try_run, wait_for};

/// A network namespace; its processes are killed and it is deleted on drop.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new(short: &str) -> Ns {
        let name = format!("bx{}{short}", tag());
        let _ = try_run(&["ip", "netns", "del", &name]);
        run(&["ip", "netns", "add", &name]);
        let ns = Ns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        // Routers forward; a namespace starts with forwarding off.
        ns.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
        ns
    }

    pub fn exec(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "netns", "exec", &self.name];
        a.extend_from_slice(args);
        run(&a)
    }

    pub fn try_exec(&self, args: &[&str]) -> Result<String, String> {
        let mut a = vec!["ip", "netns", "exec", &self.name];
        a.extend_from_slice(args);
        try_run(&a)
    }

    /// `ip -n NS ARGS`. Routes are shown without `nhid N`: bgpd's routes
    /// name their nexthop object, and tests check where they lead.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "-n", &self.name];
        a.extend_from_slice(args);
        let out = run(&a);
        if args.contains(&"route") {
            without_nhid(&out)
        } else {
            out
        }
    }

    /// A process inside the namespace.
    pub fn spawn(&self, args: &[&str], log: &PathBuf) -> Child {
        let f = std::fs::File::create(log).unwrap();
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Adds an address to an interface (bridge `vm` is made if needed).
    pub fn addr(&self, dev: &str, cidr: &str) {
        if try_run(&["ip", "-n", &self.name, "link", "show", dev]).is_err() {
            self.ip(&["link", "add", dev, "type", "bridge"]);
            self.ip(&["link", "set", dev, "up"]);
        }
        let nodad: &[&str] = if cidr.contains(':') { &["nodad"] } else { &[] };
        let mut a = vec!["addr", "add", cidr, "dev", dev];
        a.extend_from_slice(nodad);
        self.ip(&a);
    }

    pub fn routes(&self, v6: bool) -> String {
        self.ip(&[if v6 { "-6" } else { "-4" }, "route", "show", "table", "main"])
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Ok(pids) = try_run(&["ip", "netns", "pids", &self.name]) {
            for pid in pids.split_whitespace() {
                let _ = try_run(&["kill", "-9", pid]);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        let _ = try_run(&["ip", "netns", "del", &self.name]);
    }
}

/// Connects two namespaces with a veth pair and addresses each end.
pub fn veth(a: &Ns, a_if: &str, a_addrs: &[&str], b: &Ns, b_if: &str, b_addrs: &[&str]) {
    // Unique host-side names while the ends are moved into their namespaces.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp_a = format!("bxv{}x{n}a", tag());
    let tmp_b = format!("bxv{}x{n}b", tag());
    run(&["ip", "link", "add", &tmp_a, "type", "veth", "peer", "name", &tmp_b]);
    for (ns, tmp, name, addrs) in [(a, &tmp_a, a_if, a_addrs), (b, &tmp_b, b_if, b_addrs)] {
        run(&["ip", "link", "set", tmp, "netns", &ns.name]);
        ns.ip(&["link", "set", tmp, "name", name]);
        for cidr in addrs {
            let mut args = vec!["addr", "add", cidr, "dev", name];
            if cidr.contains(':') {
                args.push("nodad");
            }
            ns.ip(&args);
        }
        ns.ip(&["link", "set", name, "up"]);
    }
}

/// A shared LAN: a bridge in its own namespace, one veth per member.
pub struct Switch {
    pub ns: Ns,
    n: usize,
}

impl Switch {
    pub fn new() -> Switch {
        Switch::named("sw")
    }

    /// A switch whose namespace name is `short`: tests of one binary run
    /// at once, each with its own.
    pub fn named(short: &str) -> Switch {
        let ns = Ns::new(short);
        ns.ip(&["link", "add", "br0", "type", "bridge"]);
        ns.ip(&["link", "set", "br0", "up"]);
        Switch { ns, n: 0 }
    }

    pub fn attach(&mut self, member: &Ns, ifname: &str, addrs: &[&str]) {
        self.n += 1;
        let port = format!("p{}", self.n);
        veth(&self.ns, &port, &[], member, ifname, addrs);
        self.ns.ip(&["link", "set", &port, "master", "br0"]);
    }
}

pub fn workdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("bgpbox-test-{}", tag()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// bgpbox's bgpd in a namespace.
pub struct Bgpbox {
    pub socket: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    ns: String,
}

pub fn bgpbox_bin() -> String {
    env!("CARGO_BIN_EXE_bgpbox").to_string()
}

impl Bgpbox {
    pub fn start(ns: &Ns, name: &str, conf: &str) -> Bgpbox {
        Bgpbox::start_bin(&bgpbox_bin(), ns, name, conf)
    }

    /// With another binary: the static release build that ships, where
    /// a test is about memory.
    pub fn start_bin(bin: &str, ns: &Ns, name: &str, conf: &str) -> Bgpbox {
        let conf_path = workdir().join(format!("{name}.conf"));
        std::fs::write(&conf_path, conf).unwrap();
        Bgpbox::start_file(bin, ns, name, &conf_path)
    }

    /// From a config file as it is (a restart after `write memory`).
    pub fn start_file(bin: &str, ns: &Ns, name: &str, conf_path: &std::path::Path) -> Bgpbox {
        Bgpbox::start_with(bin, ns, name, conf_path, &[])
    }

    /// With more of bgpd's options (`--metrics ADDR:PORT`).
    pub fn start_args(ns: &Ns, name: &str, conf: &str, extra: &[&str]) -> Bgpbox {
        let conf_path = workdir().join(format!("{name}.conf"));
        std::fs::write(&conf_path, conf).unwrap();
        Bgpbox::start_with(&bgpbox_bin(), ns, name, &conf_path, extra)
    }

    fn start_with(bin: &str, ns: &Ns, name: &str, conf_path: &std::path::Path, extra: &[&str]) -> Bgpbox {
        let conf_path = conf_path.to_path_buf();
        let dir = workdir();
        let socket = dir.join(format!("{name}.sock"));
        let log = dir.join(format!("{name}.log"));
        // A killed bgpd leaves its socket behind: wait for the new one.
        let _ = std::fs::remove_file(&socket);
        let mut args = vec![bin, "bgpd", "-f", conf_path.to_str().unwrap(), "--socket", socket.to_str().unwrap()];
        args.extend_from_slice(extra);
        let child = ns.spawn(&args, &log);
        let b = Bgpbox { socket, conf: conf_path, log, child: Some(child), ns: ns.name.clone() };
        wait_for(Duration::from_secs(10), || b.socket.exists().then_some(()))
            .unwrap_or_else(|| panic!("bgpd {name} did not start:\n{}", b.log_text()));
        b
    }

    /// bgpd's pid (the child is `ip netns exec`, which exec()s bgpd).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("bgpd is running")
    }

    /// A field of /proc/PID/status in kB: `VmRSS`, or `VmHWM` (the peak).
    pub fn mem_kb(&self, field: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{field} not in /proc/{}/status", self.pid()))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn vtysh(&self, cmds: &[&str]) -> Result<String, String> {
        let bin = bgpbox_bin();
        let mut a = vec![bin.as_str(), "vtysh", "--socket", self.socket.to_str().unwrap()];
        for c in cmds {
            a.extend(["-c", c]);
        }
        try_run(&a)
    }

    /// `vtysh -f FILE`: stdout, or stderr and stdout on failure.
    pub fn vtysh_file(&self, f: &std::path::Path) -> Result<String, String> {
        let bin = bgpbox_bin();
        try_run(&[&bin, "vtysh", "--socket", self.socket.to_str().unwrap(), "-f", f.to_str().unwrap()])
    }

    pub fn show(&self, cmd: &str) -> String {
        self.vtysh(&[cmd]).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", self.log_text()))
    }

    pub fn json(&self, cmd: &str) -> serde_json::Value {
        serde_json::from_str(&self.show(cmd)).unwrap()
    }

    /// Whether the neighbor is Established.
    pub fn established(&self, peer: &str) -> bool {
        let j = self.json("show bgp summary json");
        ["ipv4Unicast", "ipv6Unicast"].iter().any(|f| j[f]["peers"][peer]["state"].as_str() == Some("Established"))
    }

    pub fn wait_established(&self, peer: &str) {
        wait_for(Duration::from_secs(30), || self.established(peer).then_some(()))
            .unwrap_or_else(|| panic!("no session with {peer}:\n{}", self.log_text()));
    }

    /// The best path's next hop for a prefix, if bgpd has one.
    pub fn next_hop(&self, afi: &str, prefix: &str) -> Option<String> {
        let j = self.json(&format!("show bgp {afi} unicast json"));
        j["routes"][prefix][0]["nexthops"][0]["ip"].as_str().map(str::to_string)
    }

    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            // The child is `ip netns exec`, which exec()s bgpd: same pid.
            run(&["kill", sig, &c.id().to_string()]);
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = try_run(&["kill", "-TERM", &c.id().to_string()]);
            let _ = c.wait();
        }
    }
}

impl Drop for Bgpbox {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = &self.ns;
    }
}

/// FRR 8.4's zebra and bgpd in a namespace, with their own state dir.
pub struct Frr {
    pub name: String,
    pub dir: PathBuf,
}

impl Frr {
    pub fn start(ns: &Ns, conf: &str) -> Frr {
        let name = ns.name.clone();
        let dir = PathBuf::from(format!("/var/run/frr/{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        run(&["chown", "-R", "frr:frr", "/var/run/frr"]);
        let conf_path = workdir().join(format!("{name}-frr.conf"));
        std::fs::write(&conf_path, conf).unwrap();
        run(&["chmod", "644", conf_path.to_str().unwrap()]);
        let zpid = dir.join("zebra.pid");
        let bpid = dir.join("bgpd.pid");
        ns.exec(&["/usr/lib/frr/zebra", "-d", "-N", &name, "-f", "/dev/null", "-i", zpid.to_str().unwrap()]);
        ns.exec(&[
            "/usr/lib/frr/bgpd",
            "-d",
            "-N",
            &name,
            "-f",
            conf_path.to_str().unwrap(),
            "-i",
            bpid.to_str().unwrap(),
        ]);
        Frr { name, dir }
    }

    pub fn vtysh(&self, cmd: &str) -> String {
        run(&["vtysh", "-N", &self.name, "-c", cmd])
    }

    /// bfdd too, with its own `bfd` block.
    pub fn start_bfdd(&self, ns: &Ns, conf: &str) {
        let path = workdir().join(format!("{}-bfdd.conf", self.name));
        std::fs::write(&path, conf).unwrap();
        run(&["chmod", "644", path.to_str().unwrap()]);
        let pid = self.dir.join("bfdd.pid");
        ns.exec(&[
            "/usr/lib/frr/bfdd",
            "-d",
            "-N",
            &self.name,
            "-f",
            path.to_str().unwrap(),
            "-i",
            pid.to_str().unwrap(),
        ]);
    }

    /// Sends a signal to one of the daemons (`-STOP`: a frozen router).
    pub fn signal(&self, daemon: &str, sig: &str) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join(format!("{daemon}.pid"))) {
            let _ = try_run(&["kill", sig, pid.trim()]);
        }
    }

    /// Kills bgpd (-9: no NOTIFICATION), zebra staying.
    pub fn kill_bgpd(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("bgpd.pid")) {
            let _ = try_run(&["kill", "-9", pid.trim()]);
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Starts bgpd again with its config and `extra` options (FRR 8.4 has
    /// no `-K`: a restart's OPEN says R=0, and F with preserve-fw-state).
    pub fn start_bgpd(&self, ns: &Ns, extra: &[&str]) {
        let conf = workdir().join(format!("{}-frr.conf", self.name));
        let pid = self.dir.join("bgpd.pid");
        let mut a = vec!["/usr/lib/frr/bgpd", "-d", "-N", &self.name, "-f", conf.to_str().unwrap()];
        a.extend(["-i", pid.to_str().unwrap()]);
        a.extend(extra);
        ns.exec(&a);
    }

    pub fn json(&self, cmd: &str) -> serde_json::Value {
        serde_json::from_str(&self.vtysh(cmd)).unwrap_or(serde_json::Value::Null)
    }

    pub fn established(&self, peer: &str) -> bool {
        let j = self.json("show bgp neighbors json");
        j[peer]["bgpState"].as_str() == Some("Established")
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        // The daemons go with their namespace, but not if the namespace was
        // already gone (they would keep an unnamed one alive).
        for d in ["bgpd", "bfdd", "zebra"] {
            if let Ok(pid) = std::fs::read_to_string(self.dir.join(format!("{d}.pid"))) {
                let _ = try_run(&["kill", "-9", pid.trim()]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// BIRD 2 in a namespace.
pub struct Bird {
    pub socket: PathBuf,
}

impl Bird {
    pub fn start(ns: &Ns, conf: &str) -> Bird {
        let dir = workdir();
        let conf_path = dir.join(format!("{}-bird.conf", ns.name));
        std::fs::write(&conf_path, conf).unwrap();
        let socket = dir.join(format!("{}-bird.ctl", ns.name));
        let pid = dir.join(format!("{}-bird.pid", ns.name));
        ns.exec(&[
            "bird",
            "-c",
            conf_path.to_str().unwrap(),
            "-s",
            socket.to_str().unwrap(),
            "-P",
            pid.to_str().unwrap(),
        ]);
        Bird { socket }
    }

    pub fn birdc(&self, cmd: &str) -> String {
        let mut a = vec!["birdc", "-s", self.socket.to_str().unwrap()];
        a.extend(cmd.split_whitespace());
        try_run(&a).unwrap_or_default()
    }
}

/// GoBGP 3 in a namespace, its API on a port of the namespace's loopback.
pub struct Gobgp {
    ns: String,
    child: Option<Child>,
}

impl Gobgp {
    pub fn start(ns: &Ns, conf_toml: &str) -> Gobgp {
        let dir = workdir();
        let conf = dir.join(format!("{}-gobgp.toml", ns.name));
        std::fs::write(&conf, conf_toml).unwrap();
        let log = dir.join(format!("{}-gobgp.log", ns.name));
        let child = ns.spawn(&["gobgpd", "-f", conf.to_str().unwrap(), "--api-hosts", "127.0.0.1:50051"], &log);
        Gobgp { ns: ns.name.clone(), child: Some(child) }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "netns", "exec", &self.ns, "gobgp", "-u", "127.0.0.1", "-p", "50051"];
        a.extend_from_slice(args);
        try_run(&a).unwrap_or_default()
    }
}

impl Drop for Gobgp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn without_nhid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut words = s.split_inclusive(' ').peekable();
    while let Some(w) = words.next() {
        if w == "nhid " {
            words.next();
        } else {
            out.push_str(w);
        }
    }
    out
}
