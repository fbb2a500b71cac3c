//! Requests on the control socket: exec commands, configuration changes
//! and `write memory`.

use std::net::IpAddr;
use std::time::Instant;

use ipnet::IpNet;

use super::daemon::Daemon;
use super::show;
use super::show_neighbor::{self, Routes};
use super::show_policy;
use super::show_route::{self, Filter, Proto};
use crate::bgp::config::{self, Node};
use crate::bgp::packet::Afi;
use crate::cli::{self, Kind, Mode};
use crate::control::{Request, Response};

pub fn handle(d: &mut Daemon, req: Request) -> Response {
    match req {
        Request::Exec(line) => exec(d, &line),
        Request::Config(lines) => configure(d, &lines),
        Request::Write => write(d),
    }
}

/// An exec command, resolved by the grammar vtysh uses (abbreviations,
/// FRR's error messages), then dispatched on its words in full.
fn exec(d: &mut Daemon, line: &str) -> Response {
    let r = match cli::grammar().resolve(Mode::Exec, line) {
        Ok(r) if r.spec.kind == Kind::Remote => r,
        Ok(_) => return Response::err(format!("% {} is a command of vtysh, not of bgpd", line.trim())),
        Err(e) => return Response::err(e.message(line)),
    };
    let w: Vec<&str> = r.words.iter().map(String::as_str).collect();
    let out = match w[0] {
        "show" => show_cmd(d, &w[1..]),
        "clear" => clear(d, &w[1..]),
        "write" if w.get(1) == Some(&"terminal") => Ok(config::render(&d.speaker.config)),
        "write" | "copy" => return write(d),
        _ => Err(format!("% Unknown command: {line}")),
    };
    match out {
        Ok(text) => Response::ok(text),
        Err(e) => Response::err(e),
    }
}

fn clear(d: &mut Daemon, w: &[&str]) -> Result<String, String> {
    let w = if w[0] == "ip" { &w[1..] } else { w };
    // w: bgp <*|ADDR> [soft [in|out]]
    let target = match w[1] {
        "*" => None,
        a => Some(a.parse::<IpAddr>().map_err(|_| format!("% Invalid input: {a}"))?),
    };
    if let Some(a) = target {
        if !d.speaker.peers.iter().any(|p| p.cfg.addr == a && !p.removed) {
            return Err(format!("% No such neighbor: {a}"));
        }
    }
    let now = Instant::now();
    let n = match w.get(2..) {
        Some(["soft"]) => d.speaker.clear_soft(now, target, true, true),
        Some(["soft", "in"]) => d.speaker.clear_soft(now, target, true, false),
        Some(["soft", "out"]) => d.speaker.clear_soft(now, target, false, true),
        _ => d.speaker.clear(now, target),
    };
    d.perform();
    Ok(if n == 0 { "% No neighbor was cleared\n".to_string() } else { String::new() })
}

fn show_cmd(d: &mut Daemon, w: &[&str]) -> Result<String, String> {
    let json = w.last() == Some(&"json");
    let w = if json { &w[..w.len() - 1] } else { w };
    match w {
        ["running-config"] => return Ok(config::render(&d.speaker.config)),
        ["health"] => return Ok(show::health(d)),
        ["version"] => return Ok(format!("bgpbox {} (bgpd, FRR-compatible)\n", crate::VERSION)),
        [fam @ ("ip" | "ipv6"), "route", rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            let (proto, rest) = match rest.first().and_then(|x| Proto::from_word(x)) {
                Some(p) => (Some(p), &rest[1..]),
                None => (None, rest),
            };
            let filter = rest.first().map(|x| match x.parse::<IpNet>() {
                Ok(p) => Filter::Prefix(p),
                Err(_) => Filter::Address(x.parse().expect("the grammar checked the address")),
            });
            return Ok(show_route::route(d, afi, proto, filter, json));
        }
        [fam @ ("ip" | "ipv6"), "prefix-list", rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            return show_policy::prefix_lists(d, afi, rest.first().copied(), json);
        }
        ["route-map", rest @ ..] => return show_policy::route_maps(d, rest.first().copied(), json),
        _ => {}
    }
    // show [ip] bgp [ipv4|ipv6 [unicast]] ...
    // `show ip bgp` is IPv4 unicast unless a family follows.
    let mut afi = (w[0] == "ip").then_some(Afi::Ipv4);
    let mut w = if w[0] == "ip" { &w[2..] } else { &w[1..] };
    let named = matches!(w.first(), Some(&("ipv4" | "ipv6")));
    if let Some(&f @ ("ipv4" | "ipv6")) = w.first() {
        afi = Some(if f == "ipv4" { Afi::Ipv4 } else { Afi::Ipv6 });
        w = &w[1..];
        if w.first() == Some(&"unicast") {
            w = &w[1..];
        }
    }
    match w {
        ["summary"] => Ok(show::summary(d, afi, !named, json)),
        ["memory"] => Ok(show::memory(d)),
        ["neighbors"] => show_neighbor::neighbors(d, None, json),
        ["neighbors", a] => show_neighbor::neighbors(d, Some(addr(a)), json),
        ["neighbors", a, which] => {
            let a = addr(a);
            let which = match *which {
                "advertised-routes" => Routes::Advertised,
                "received-routes" => Routes::Received,
                _ => Routes::Accepted,
            };
            let afi = afi.unwrap_or(if a.is_ipv4() { Afi::Ipv4 } else { Afi::Ipv6 });
            show_neighbor::routes(d, afi, a, which, json)
        }
        [] => Ok(show::bgp_table(d, afi.unwrap_or(Afi::Ipv4), None, json)),
        [p] => {
            let p = p.parse::<IpNet>().unwrap_or_else(|_| IpNet::from(addr(p)));
            Ok(show::bgp_table(d, afi.unwrap_or(Afi::of(&p)), Some(p), json))
        }
        _ => Err(format!("% Unknown command: show {}", w.join(" "))),
    }
}

fn addr(s: &str) -> IpAddr {
    s.parse().expect("the grammar checked the address")
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
