//! vtysh end to end: the interactive shell in tmux (`?`, Tab,
//! abbreviations, errors marked), scripted errors, and `write memory`
//! against crashes and restarts. bgpd runs in a namespace of its own, so
//! its neighbors are unreachable and nothing leaves the machine. Needs root
//! and tmux: run through scripts/test.

mod common;

use std::process::Command;
use std::time::Duration;

use common::netns::*;
use common::*;

const CONF: &str = "hostname vt1
router bgp 65001
 bgp router-id 192.0.2.1
 neighbor 192.0.2.2 remote-as 65002
 address-family ipv4 unicast
  neighbor 192.0.2.2 prefix-list in4 in
 exit-address-family
exit
ip prefix-list in4 seq 5 permit any
";

struct Tmux(String);

impl Tmux {
    fn start(cmd: &[&str]) -> Tmux {
        let name = format!("bgpbox-vt-{}", tag());
        let mut a = vec!["tmux", "new-session", "-d", "-s", &name, "-x", "150", "-y", "50"];
        a.extend(cmd);
        run(&a);
        Tmux(name)
    }

    /// Types text (literally: tmux would read `end` as the End key) and
    /// then the named keys.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let named = ["Enter", "Tab", "C-u", "?"].contains(k);
            let mut a = vec!["tmux", "send-keys", "-t", &self.0];
            if !named {
                a.push("-l");
            }
            a.push(k);
            run(&a);
        }
    }

    fn screen(&self) -> String {
        run(&["tmux", "capture-pane", "-t", &self.0, "-p", "-S", "-200"])
    }

    /// Waits until the screen shows `what`.
    fn wait(&self, what: &str) -> String {
        wait_for(Duration::from_secs(10), || Some(self.screen()).filter(|s| s.contains(what)))
            .unwrap_or_else(|| panic!("the screen never showed {what:?}:\n{}", self.screen()))
    }

    /// The line the cursor is on (the prompt and what is typed).
    fn last_line(&self) -> String {
        self.screen().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string()
    }

    /// Waits until the cursor's line is `want`: the shell redraws its
    /// prompt after the output, a moment later than the output shows.
    fn wait_line(&self, want: &str) {
        wait_for(Duration::from_secs(10), || (self.last_line().trim_end() == want).then_some(()))
            .unwrap_or_else(|| panic!("the prompt line never became {want:?}:\n{}", self.screen()));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = try_run(&["tmux", "kill-session", "-t", &self.0]);
    }
}

#[test]
#[ignore = "needs root, namespaces and tmux: run scripts/test"]
fn interactive_shell_helps_completes_and_marks_errors() {
    require_root();
    let ns = Ns::new("vi");
    let d = Bgpbox::start(&ns, "vt-shell", CONF);
    let bin = bgpbox_bin();
    let t = Tmux::start(&[&bin, "vtysh", "--socket", d.socket.to_str().unwrap()]);
    t.wait("vt1#");

    // `?` after `show ` lists the choices at once, and keeps the line.
    t.keys(&["show ", "?"]);
    let s = t.wait("running-config  running configuration");
    assert!(s.contains("  bgp             BGP information"), "{s}");
    assert!(s.contains("  ip              IP information"), "{s}");
    t.wait_line("vt1# show");
    t.keys(&["C-u"]);

    // Tab completes `config` to `configure`.
    t.keys(&["config", "Tab"]);
    wait_for(Duration::from_secs(5), || t.last_line().contains("configure").then_some(()))
        .unwrap_or_else(|| panic!("Tab did not complete:\n{}", t.screen()));
    t.keys(&["Enter"]);
    t.wait("vt1(config)#");
    t.keys(&["router bgp", "Enter"]);
    t.wait("vt1(config-router)#");
    t.keys(&["nei 192.0.2.2 desc the home router", "Enter"]);
    t.wait_line("vt1(config-router)#");
    t.keys(&["end", "Enter"]);
    t.wait_line("vt1#");

    // Abbreviations, then a bad word marked where it is.
    t.keys(&["sh bgp nei 192.0.2.2", "Enter"]);
    t.wait("Description: the home router");
    t.wait_line("vt1#");
    t.keys(&["sh ip ro bgpx", "Enter"]);
    let s = t.wait("% Invalid input detected at '^' marker.");
    t.wait_line("vt1#");
    assert!(s.contains("sh ip ro bgpx\n         ^\n% Invalid input"), "{s}");
    t.keys(&["frobnicate", "Enter"]);
    t.wait("% Unknown command: frobnicate");
    t.wait_line("vt1#");
    t.keys(&["exit", "Enter"]);
}

#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn scripted_commands_stop_at_the_first_error() {
    require_root();
    let ns = Ns::new("vs");
    let d = Bgpbox::start(&ns, "vt-script", CONF);
    // A config line the grammar refuses: nothing applied, exit status 1.
    let e = d.vtysh(&["conf t", "hostname changed", "router bgp 65001 typo", "end"]).unwrap_err();
    assert!(e.contains("router bgp 65001 typo\n                 ^\n% Invalid input detected"), "{e}");
    assert!(d.show("show running-config").contains("hostname vt1\n"));
    // One that bgpd refuses: nothing of the change applied either.
    let e = d.vtysh(&["conf t", "hostname changed", "router bgp 65009", "end"]).unwrap_err();
    assert!(e.contains("BGP is already running as AS 65001"), "{e}");
    assert!(d.show("show running-config").contains("hostname vt1\n"));
    let e = d.vtysh(&["show bgp nonsense"]).unwrap_err();
    assert!(e.contains("% Invalid input detected at '^' marker."), "{e}");
    // A whole change goes through at `end`.
    d.vtysh(&["conf t", "hostname changed", "end"]).unwrap();
    assert!(d.show("show running-config").contains("hostname changed\n"));
    // `vtysh -f`: every bad line of the file at once, nothing applied; and
    // what bgpd refuses, all of it too.
    let f = common::netns::workdir().join("vt-script-bad.conf");
    std::fs::write(&f, "hostname again\nrouter bgp 65001 typo\n neighbor 192.0.2.9 remote-as 65009\nfrobnicate\n")
        .unwrap();
    let e = d.vtysh_file(&f).unwrap_err();
    assert!(e.contains("vt-script-bad.conf:2:") && e.contains("vt-script-bad.conf:4:"), "{e}");
    assert!(e.contains("(nothing was applied)"), "{e}");
    std::fs::write(
        &f,
        "router bgp 65001\n neighbor 192.0.2.9 description no remote-as yet\n neighbor 192.0.2.8 timers 1 2\n",
    )
    .unwrap();
    let e = d.vtysh_file(&f).unwrap_err();
    assert_eq!(e.matches("% Invalid input").count(), 2, "{e}");
    assert!(d.show("show running-config").contains("hostname changed\n"));
    // A line of FRR's other daemons: applied around, with a note.
    std::fs::write(&f, "password zebra\nhostname noted\n").unwrap();
    let out = d.vtysh_file(&f).unwrap();
    assert!(out.contains("% ignored: password zebra (vty passwords"), "{out}");
    assert!(d.show("show running-config").contains("hostname noted\n"));
    // No bgpd: one line that names the socket.
    let out = Command::new(bgpbox_bin())
        .args(["vtysh", "--socket", "/nonexistent/bgpd.sock", "-c", "sh bgp sum"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("bgpd is not running (no answer on /nonexistent/bgpd.sock){}\n", bgpbox::control::NOT_RUNNING_HINT)
    );
}

/// `write memory` with bgpd killed at moments swept across the write: the
/// file is always the old or the new config, whole; bgpd restarted from it
/// shows that same running-config.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn write_memory_survives_crashes_and_restarts() {
    require_root();
    let ns = Ns::new("vw");
    // A large config makes the write take long enough to be hit.
    let mut conf = CONF.to_string();
    for i in 0..60_000u32 {
        conf.push_str(&format!("ip prefix-list big seq {} permit 10.{}.{}.0/24\n", i + 1, i >> 8 & 255, i & 255));
    }
    let bin = bgpbox_bin();
    let mut d = Bgpbox::start(&ns, "vt-write", &conf);
    let path = d.conf.clone();
    let dir = path.parent().unwrap().to_path_buf();
    let (mut old, mut new, mut torn_temps) = (0, 0, 0);
    // The running-config the file on disk stands for.
    let mut saved = d.show("show running-config");
    for i in 0..16u64 {
        d.vtysh(&["conf t", &format!("hostname crash{i}"), "end"]).unwrap();
        let wanted = d.show("show running-config");
        let before = std::fs::read_to_string(&path).unwrap();
        assert_ne!(before, wanted);
        let mut w = Command::new(&bin)
            .args(["vtysh", "--socket", d.socket.to_str().unwrap(), "-c", "write memory"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if i < 4 {
            // Killed the moment the temp file appears: mid-write.
            let temp = || {
                std::fs::read_dir(&dir)
                    .unwrap()
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".vt-write.conf.tmp."))
            };
            let t0 = std::time::Instant::now();
            while !temp() && t0.elapsed() < Duration::from_secs(10) {}
        } else {
            // From at once to well after the write (which first checks that
            // the config reads back: 60,000 lines take a while in a debug build).
            std::thread::sleep(Duration::from_millis((i - 4) * 80));
        }
        d.signal("-KILL");
        let _ = w.wait();
        drop(d);
        let after = std::fs::read_to_string(&path).unwrap();
        if after == before {
            old += 1;
        } else {
            assert!(
                after == wanted,
                "round {i}: the file is neither the old nor the new config:\n{}",
                first_diff(&after, &wanted)
            );
            new += 1;
            saved = wanted;
        }
        // A crash mid-write leaves only a temp file beside it.
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with(".vt-write.conf.tmp.") {
                torn_temps += 1;
                std::fs::remove_file(e.path()).unwrap();
            }
        }
        d = Bgpbox::start_file(&bin, &ns, "vt-write", &path);
        let running = d.show("show running-config");
        assert!(running == saved, "round {i}: restarted bgpd differs from its file:\n{}", first_diff(&running, &saved));
    }
    eprintln!("write memory under kill -9: {old} old, {new} new, {torn_temps} killed mid-write");
    assert!(old > 0 && new > 0, "the kills did not sweep across the write ({old} old, {new} new)");
    assert!(torn_temps > 0, "no kill landed mid-write");
    // And without a crash: saved, restarted, the same running-config.
    d.vtysh(&["conf t", "hostname saved", "end"]).unwrap();
    let running = d.show("show running-config");
    assert!(d.show("write memory").contains("[OK]"));
    d.stop();
    let d = Bgpbox::start_file(&bin, &ns, "vt-write", &path);
    let again = d.show("show running-config");
    assert!(again == running, "{}", first_diff(&again, &running));
}

/// Where two long texts part, for a failure message of readable size.
fn first_diff(a: &str, b: &str) -> String {
    let (la, lb) = (a.lines().count(), b.lines().count());
    match a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y) {
        Some((n, (x, y))) => format!("line {}: {x:?} vs {y:?} ({la} and {lb} lines)", n + 1),
        None => format!("one ends early: {la} and {lb} lines"),
    }
}

/// The control socket: root's only (0660), shared by several sessions at
/// once, and a client that never reads its answers holds up no one else.
#[test]
#[ignore = "needs root and namespaces: run scripts/test"]
fn control_socket_is_private_and_shared() {
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    require_root();
    let ns = Ns::new("vc");
    let mut conf = CONF.to_string();
    for i in 0..5_000u32 {
        conf.push_str(&format!("ip prefix-list big seq {} permit 10.{}.{}.0/24\n", i + 1, i >> 8 & 255, i & 255));
    }
    let d = Bgpbox::start(&ns, "vt-ctl", &conf);
    let meta = std::fs::metadata(&d.socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);

    // A client that asks for a large answer again and again and never reads.
    let mut stuck = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    stuck.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    for _ in 0..200 {
        if stuck.write_all(b"{\"exec\":\"show running-config\"}\n").is_err() {
            break;
        }
    }
    // Everyone else is still answered, several at once.
    let t0 = std::time::Instant::now();
    let kids: Vec<_> = (0..8)
        .map(|_| {
            Command::new(bgpbox_bin())
                .args([
                    "vtysh",
                    "--socket",
                    d.socket.to_str().unwrap(),
                    "-c",
                    "show bgp summary",
                    "-c",
                    "show running-config",
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for k in kids {
        let out = k.wait_with_output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("hostname vt1"));
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "sessions took {:?} beside a stuck client", t0.elapsed());
    drop(stuck);
}
