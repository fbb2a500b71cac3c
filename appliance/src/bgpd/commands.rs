//! Requests on the control socket: exec commands, configuration changes
//! and `write memory`, against the Speaker and the FIB's state. Only the
//! daemon's loop calls `handle`; it carries out the Speaker's output after.
//! The grammar resolves every word first; a word it let through that the
//! dispatch cannot read is an error for the client, never a panic.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use ipnet::IpNet;

use super::fib::Installed;
use super::show::{self, Filter, Paged, Proto, RouteShow, Routes, Rows, TableShow, View};
use crate::bgp::config::{self, NeighborId, Node};
use crate::bgp::packet::Afi;
use crate::bgp::speaker::Speaker;
use crate::cli::{self, Kind, Mode};
use crate::control::{Request, Response};

/// What a request may read and change.
pub struct Ctx<'a> {
    pub speaker: &'a mut Speaker,
    pub fib: &'a dyn Installed,
    pub kernel_since: &'a HashMap<IpNet, Instant>,
    pub started: Instant,
    pub config_path: &'a Path,
    pub bfd: &'a super::bfd_io::Bfd,
    pub logging: &'a mut super::logging::LogState,
    pub links: &'a show::LinkHistory,
    /// The image's config, when bgpd runs from a saved one.
    pub image_config: Option<&'a Path>,
}

impl Ctx<'_> {
    pub fn view(&self) -> View<'_> {
        View {
            speaker: self.speaker,
            fib: self.fib,
            kernel_since: self.kernel_since,
            started: self.started,
            now: Instant::now(),
        }
    }
}

/// An answer: whole, or a show to page out to the client.
pub enum Answer {
    Done(Response),
    Paged(Box<dyn Paged>),
}

impl From<Result<String, String>> for Answer {
    fn from(r: Result<String, String>) -> Answer {
        Answer::Done(match r {
            Ok(t) => Response::ok(t),
            Err(e) => Response::err(e),
        })
    }
}

fn paged(p: impl Paged + 'static) -> Result<Answer, String> {
    Ok(Answer::Paged(Box::new(p)))
}

fn text(t: String) -> Result<Answer, String> {
    Ok(Answer::from(Ok(t)))
}

pub fn handle(c: &mut Ctx, req: Request) -> Answer {
    match req {
        Request::Exec(line) => exec(c, &line),
        Request::Config(lines) => Answer::Done(configure(c.speaker, &lines)),
        Request::Write => Answer::Done(write(c.speaker, c.config_path)),
    }
}

/// An exec command, resolved by the grammar vtysh uses (abbreviations,
/// FRR's error messages), then dispatched on its words in full.
fn exec(c: &mut Ctx, line: &str) -> Answer {
    let r = match cli::grammar().resolve(Mode::Exec, line) {
        Ok(r) if r.spec.kind == Kind::Remote => r,
        Ok(_) => return Answer::from(Err(format!("% {} is a command of vtysh, not of bgpd", line.trim()))),
        Err(e) => return Answer::from(Err(e.message(line))),
    };
    let w: Vec<&str> = r.words.iter().map(String::as_str).collect();
    let out = match w.as_slice() {
        ["show", rest @ ..] => show_cmd(c, rest),
        ["clear", rest @ ..] => clear(c.speaker, rest).map(|t| Answer::from(Ok(t))),
        ["debug", rest @ ..] | ["no", "debug", rest @ ..] => debug(c, w[0] == "debug", rest, line),
        ["write", "terminal", ..] => text(config::render(c.speaker.config())),
        ["write", ..] | ["copy", ..] => Ok(Answer::Done(write(c.speaker, c.config_path))),
        _ => Err(format!("% Unknown command: {line}")),
    };
    out.unwrap_or_else(|e| Answer::from(Err(e)))
}

fn addr(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("% Malformed address: {s}"))
}

/// `[no] debug bgp ...` in exec mode: on or off now, over the config's.
fn debug(c: &mut Ctx, on: bool, w: &[&str], line: &str) -> Result<Answer, String> {
    let which = config::switches(w).ok_or_else(|| format!("% Unknown command: {line}"))?;
    c.logging.toggle(&which, on);
    c.speaker.set_debugs(&c.logging.on());
    crate::info!("config", "from vtysh: {}", line.trim());
    text(String::new())
}

/// A neighbor as FRR's commands name it: an address, or the interface of
/// an interface neighbor.
fn neighbor_word(s: &str) -> NeighborId {
    s.parse().unwrap_or_else(|e| match e {})
}

fn clear(sp: &mut Speaker, w: &[&str]) -> Result<String, String> {
    let w = if w.first() == Some(&"ip") { &w[1..] } else { w };
    // w: bgp <*|ADDR|IFNAME> [soft [in|out]]
    let target = match w.get(1) {
        Some(&"*") => None,
        Some(a) => Some(neighbor_word(a)),
        None => return Err("% Command incomplete: clear bgp".into()),
    };
    if let Some(a) = &target {
        if sp.peer(a).is_none() {
            return Err(format!("% No such neighbor: {a}"));
        }
    }
    let target = target.as_ref();
    let now = Instant::now();
    let n = match w.get(2..) {
        Some(["soft"]) => sp.clear_soft(now, target, true, true),
        Some(["soft", "in"]) => sp.clear_soft(now, target, true, false),
        Some(["soft", "out"]) => sp.clear_soft(now, target, false, true),
        _ => sp.clear(now, target),
    };
    Ok(if n == 0 { "% No neighbor was cleared\n".to_string() } else { String::new() })
}

fn show_cmd(c: &mut Ctx, w: &[&str]) -> Result<Answer, String> {
    let json = w.last() == Some(&"json");
    let w = if json { &w[..w.len() - 1] } else { w };
    let v = c.view();
    match w {
        ["running-config"] => text(config::render(c.speaker.config())),
        ["debugging"] => text(super::logging::show_debugging(&c.logging.on())),
        ["interface", rest @ ..] => {
            let ifs = show::read_interfaces().map_err(|e| format!("% Cannot read the interfaces: {e}"))?;
            match rest {
                ["brief"] => text(show::interface_brief(&ifs)),
                _ => text(show::interface_detail(&ifs, c.links, rest.first().copied())?),
            }
        }
        [fam @ ("ip" | "ipv6"), "nht"] => text(show::nht(c.speaker, *fam == "ipv6")),
        ["logging"] => text(super::logging::show_logging(&c.speaker.config().logging, &c.logging.on(), 50)),
        ["health"] => text(show::health(&v, c.image_config)),
        ["version"] => text(format!("bgpbox {} (bgpd, FRR-compatible)\n", crate::VERSION)),
        [fam @ ("ip" | "ipv6"), "route", rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            let (proto, rest) = match rest.first().and_then(|x| Proto::from_word(x)) {
                Some(p) => (Some(p), &rest[1..]),
                None => (None, rest),
            };
            let filter = match rest.first() {
                None => None,
                Some(x) => Some(match x.parse::<IpNet>() {
                    Ok(p) => Filter::Prefix(p),
                    Err(_) => Filter::Address(addr(x)?),
                }),
            };
            paged(RouteShow::new(afi, proto, filter, json))
        }
        [fam @ ("ip" | "ipv6"), "prefix-list", rest @ ..] => {
            let afi = if *fam == "ip" { Afi::Ipv4 } else { Afi::Ipv6 };
            show::prefix_lists(&v, afi, rest.first().copied(), json).map(|t| Answer::from(Ok(t)))
        }
        ["route-map", rest @ ..] => show::route_maps(&v, rest.first().copied(), json).map(|t| Answer::from(Ok(t))),
        ["bfd", "peers", rest @ ..] => {
            let rows = c.bfd.rows(c.speaker);
            text(show::bfd_peers(&rows, Instant::now(), rest == ["brief"], json))
        }
        ["bfd", "peer", a] => {
            let a = addr(a)?;
            let rows: Vec<_> = c.bfd.rows(c.speaker).into_iter().filter(|r| r.peer == a).collect();
            if rows.is_empty() {
                return Err(format!("% No BFD peer {a}"));
            }
            text(show::bfd_peers(&rows, Instant::now(), false, json))
        }
        [first, ..] if *first == "ip" || *first == "bgp" => show_bgp(&v, w, json),
        _ => Err(format!("% Unknown command: show {}", w.join(" "))),
    }
}

/// show [ip] bgp [ipv4|ipv6 [unicast]] ...: `show ip bgp` is IPv4 unicast
/// unless a family follows.
fn show_bgp(v: &View, w: &[&str], json: bool) -> Result<Answer, String> {
    let mut afi = (w[0] == "ip").then_some(Afi::Ipv4);
    let mut w = if w[0] == "ip" { w.get(2..).unwrap_or_default() } else { &w[1..] };
    let named = matches!(w.first(), Some(&("ipv4" | "ipv6")));
    if let Some(&f @ ("ipv4" | "ipv6")) = w.first() {
        afi = Some(if f == "ipv4" { Afi::Ipv4 } else { Afi::Ipv6 });
        w = &w[1..];
        if w.first() == Some(&"unicast") {
            w = &w[1..];
        }
    }
    match w {
        ["summary"] => text(show::summary(v, afi, !named, json)),
        ["memory"] => text(show::memory(v)),
        ["peer-group"] => show::peer_groups(v, None, json).map(|t| Answer::from(Ok(t))),
        [kind @ ("community-list" | "large-community-list"), rest @ ..] => {
            show::community_lists(v, *kind == "large-community-list", rest.first().copied(), json)
                .map(|t| Answer::from(Ok(t)))
        }
        ["as-path-access-list", rest @ ..] => {
            show::as_path_lists(v, rest.first().copied(), json).map(|t| Answer::from(Ok(t)))
        }
        ["peer-group", name] => show::peer_groups(v, Some(name), json).map(|t| Answer::from(Ok(t))),
        ["neighbors"] => show::neighbors(v, None, json).map(|t| Answer::from(Ok(t))),
        ["neighbors", a] => show::neighbors(v, Some(neighbor_word(a)), json).map(|t| Answer::from(Ok(t))),
        ["neighbors", a, which] => {
            let a = neighbor_word(a);
            let which = match *which {
                "advertised-routes" => Routes::Advertised,
                "received-routes" => Routes::Received,
                _ => Routes::Accepted,
            };
            let afi = afi.unwrap_or(if a.addr().is_none_or(|a| a.is_ipv4()) { Afi::Ipv4 } else { Afi::Ipv6 });
            paged(show::neighbor_routes(v, afi, a, which, json)?)
        }
        [] => paged(TableShow::new(afi.unwrap_or(Afi::Ipv4), Rows::All, json)),
        [p] => {
            let p = match p.parse::<IpNet>() {
                Ok(p) => p,
                Err(_) => IpNet::from(addr(p)?),
            };
            show::prefix_detail(v, afi.unwrap_or(Afi::of(&p)), p, json).map(|t| Answer::from(Ok(t)))
        }
        _ => Err(format!("% Unknown command: show {}", w.join(" "))),
    }
}

/// Applies configuration lines as one change: parsed on a copy of the
/// running config, handed to bgpd only if every line is valid (every bad
/// line is named); a change bgpd refuses leaves the running config as it
/// was. Lines accepted without effect come back as notes.
fn configure(sp: &mut Speaker, lines: &[String]) -> Response {
    let mut cfg = sp.config().clone();
    let mut node = Node::Config;
    let (mut errors, mut notes) = (Vec::new(), Vec::new());
    for (n, line) in lines.iter().enumerate() {
        match config::apply_line_noted(&mut cfg, &node, line) {
            Ok((next, note)) => {
                node = next;
                notes.extend(note.map(|x| format!("% {x}\n")));
            }
            Err(e) => errors.push(format!("{e}: {}\n(line {} of the change)", line.trim(), n + 1)),
        }
    }
    if !errors.is_empty() {
        return Response::err(format!("{}\n(nothing was applied)", errors.join("\n")));
    }
    let changed: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    match sp.reconfigure(Instant::now(), cfg) {
        Ok(()) => {
            crate::info!("config", "applied from vtysh: {}", changed.join(" / "));
            Response::ok(notes.concat())
        }
        Err(e) => Response::err(format!("% {e} (nothing was applied)")),
    }
}

/// `write memory`: the running config, checked to read back, written
/// atomically.
fn write(sp: &Speaker, path: &Path) -> Response {
    let text = config::render(sp.config());
    if let Err(e) = config::parse(&path.display().to_string(), &text) {
        return Response::err(format!(
            "% the running config does not read back ({e}); {} is untouched",
            path.display()
        ));
    }
    match bgpbox_image::fsutil::write_atomic(path, text.as_bytes(), 0o640) {
        Ok(()) => Response::ok(format!("Building Configuration...\nConfiguration saved to {}\n[OK]\n", path.display())),
        Err(e) => Response::err(format!("% Cannot write {}: {e} (the old file is untouched)", path.display())),
    }
}
