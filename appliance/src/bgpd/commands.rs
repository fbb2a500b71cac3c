//! Requests on the control socket: exec commands, configuration changes
//! and `write memory`.

use std::net::IpAddr;
use std::time::Instant;

use ipnet::IpNet;

use super::daemon::Daemon;
use super::show;
use crate::bgp::config::{self, Node};
use crate::bgp::packet::Afi;
use crate::control::{Request, Response};

pub fn handle(d: &mut Daemon, req: Request) -> Response {
    match req {
        Request::Exec(line) => exec(d, &line),
        Request::Config(lines) => configure(d, &lines),
        Request::Write => write(d),
    }
}

/// Whether `w` is an abbreviation of `keyword`, as FRR accepts.
fn kw(w: Option<&&str>, keyword: &str) -> bool {
    w.is_some_and(|w| !w.is_empty() && keyword.starts_with(*w))
}

fn exec(d: &mut Daemon, line: &str) -> Response {
    let words: Vec<&str> = line.split_whitespace().collect();
    let w = |i: usize| words.get(i);
    if kw(w(0), "show") {
        return show_cmd(d, &words[1..]);
    }
    if kw(w(0), "clear") {
        let mut i = 1;
        if kw(w(i), "ip") {
            i += 1;
        }
        if !kw(w(i), "bgp") {
            return Response::err(format!("% Unknown command: {line}"));
        }
        let target = match w(i + 1).copied() {
            Some("*") => None,
            Some(a) => match a.parse::<IpAddr>() {
                Ok(a) => Some(a),
                Err(_) => return Response::err(format!("% Invalid input: {a} is not a neighbor address or *")),
            },
            None => return Response::err("% Incomplete command: clear bgp (*|A.B.C.D|X:X::X:X) [soft [in|out]]"),
        };
        if let Some(a) = target {
            if !d.speaker.peers.iter().any(|p| p.cfg.addr == a && !p.removed) {
                return Response::err(format!("% No such neighbor: {a}"));
            }
        }
        let now = Instant::now();
        let n = if kw(w(i + 2), "soft") {
            let (inb, outb) = match w(i + 3).copied() {
                None => (true, true),
                Some(x) if kw(Some(&x), "in") => (true, false),
                Some(x) if kw(Some(&x), "out") => (false, true),
                Some(x) => return Response::err(format!("% Invalid input: {x}: expected in or out")),
            };
            d.speaker.clear_soft(now, target, inb, outb)
        } else {
            d.speaker.clear(now, target)
        };
        d.perform();
        return Response::ok(if n == 0 { "% No neighbor was cleared\n".to_string() } else { String::new() });
    }
    if (kw(w(0), "write") && (w(1).is_none() || kw(w(1), "memory") || kw(w(1), "file")))
        || (kw(w(0), "copy") && kw(w(1), "running-config") && kw(w(2), "startup-config"))
    {
        return write(d);
    }
    Response::err(format!("% Unknown command: {line}"))
}

fn show_cmd(d: &mut Daemon, w: &[&str]) -> Response {
    let json = w.last() == Some(&"json");
    let w: Vec<&str> = if json { w[..w.len() - 1].to_vec() } else { w.to_vec() };
    let at = |i: usize| w.get(i);
    if kw(at(0), "running-config") {
        return Response::ok(config::render(&d.speaker.config));
    }
    if at(0) == Some(&"health") {
        return Response::ok(show::health(d));
    }
    if kw(at(0), "version") {
        return Response::ok(format!("bgpbox {} (bgpd, FRR-compatible)\n", crate::VERSION));
    }
    // show ip route [bgp] [PREFIX] / show ipv6 route ...
    if (kw(at(0), "ip") || kw(at(0), "ipv6")) && kw(at(1), "route") {
        // "ip" and its abbreviations are IPv4; only "ipv..." reaches ipv6.
        let afi = if at(0).is_some_and(|x| x.starts_with("ipv")) { Afi::Ipv6 } else { Afi::Ipv4 };
        let mut i = 2;
        if kw(at(i), "bgp") {
            i += 1;
        }
        let prefix = match at(i).map(|p| p.parse::<IpNet>()) {
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => return Response::err(format!("% Invalid input: {} is not a prefix", at(i).unwrap())),
            None => None,
        };
        return Response::ok(show::route_bgp(d, afi, prefix, json));
    }
    // show bgp ... / show ip bgp ...
    let mut i = 0;
    if kw(at(i), "ip") {
        i += 1;
    }
    if !kw(at(i), "bgp") {
        return Response::err(format!("% Unknown command: show {}", w.join(" ")));
    }
    i += 1;
    let mut afi = None;
    if kw(at(i), "ipv4") {
        afi = Some(Afi::Ipv4);
        i += 1;
    } else if kw(at(i), "ipv6") && at(i).is_some_and(|x| x.len() >= 4) {
        afi = Some(Afi::Ipv6);
        i += 1;
    }
    if afi.is_some() && kw(at(i), "unicast") {
        i += 1;
    }
    if kw(at(i), "summary") {
        return Response::ok(show::summary(d, afi, json));
    }
    let prefix = match at(i).map(|p| p.parse::<IpNet>().or_else(|_| p.parse::<IpAddr>().map(IpNet::from))) {
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return Response::err(format!("% Invalid input: {}", at(i).unwrap())),
        None => None,
    };
    let afi = afi.or(prefix.map(|p| Afi::of(&p))).unwrap_or(Afi::Ipv4);
    Response::ok(show::bgp_table(d, afi, prefix, json))
}

/// Applies configuration lines as one change: parsed on a copy of the
/// running config, handed to bgpd only if every line is valid.
fn configure(d: &mut Daemon, lines: &[String]) -> Response {
    let mut cfg = d.speaker.config.clone();
    let mut node = Node::Config;
    for (n, line) in lines.iter().enumerate() {
        match config::apply_line(&mut cfg, &node, line) {
            Ok(next) => node = next,
            Err(e) => {
                return Response::err(format!(
                    "{e}: {}\n(line {} of the change; nothing was applied)",
                    line.trim(),
                    n + 1
                ))
            }
        }
    }
    match d.speaker.reconfigure(Instant::now(), cfg) {
        Ok(()) => {
            d.perform();
            Response::ok("")
        }
        Err(e) => Response::err(format!("% {e} (nothing was applied)")),
    }
}

fn write(d: &mut Daemon) -> Response {
    let text = config::render(&d.speaker.config);
    let path = d.opts.config_path.clone();
    match bgpbox_image::fsutil::write_atomic(&path, text.as_bytes(), 0o640) {
        Ok(()) => Response::ok(format!("Building Configuration...\nConfiguration saved to {}\n[OK]\n", path.display())),
        Err(e) => Response::err(format!("% Cannot write {}: {e} (the old file is untouched)", path.display())),
    }
}
