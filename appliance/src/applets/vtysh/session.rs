//! What a vtysh session is, whatever drives it (a terminal, `-c`, a file):
//! the mode stack, and config lines sent to bgpd, one at a time when typed
//! or as one change per `configure terminal` ... `end` when scripted.

use crate::cli::{grammar, Kind, Mode};
use crate::control::{Client, Request, Response};

/// Where requests go: bgpd's control socket, or a test's stand-in.
pub trait Bgpd {
    fn call(&mut self, req: &Request) -> Result<Response, String>;
}

impl Bgpd for Client {
    fn call(&mut self, req: &Request) -> Result<Response, String> {
        Client::call(self, req)
    }
}

pub struct Session<B> {
    pub bgpd: B,
    /// The modes entered, with the config line that entered each (empty
    /// for `configure terminal`); empty in exec mode.
    stack: Vec<(Mode, String)>,
    /// Scripted (`-c`, `-f`, stdin): config lines wait for `end`.
    scripted: bool,
    batch: Vec<String>,
    /// `exit` or `quit` in exec mode.
    pub quit: bool,
}

/// `ping [ip|ipv6] HOST [count N] [source ADDR]` and `traceroute [ip|ipv6]
/// HOST`, run here (they need no bgpd): what they printed, or why not.
fn diag(w: &[String]) -> Result<String, String> {
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let (cmd, rest) = w.split_first().ok_or("% Command incomplete")?;
    let (v6, rest) = match rest {
        ["ip", r @ ..] => (Some(false), r),
        ["ipv6", r @ ..] => (Some(true), r),
        r => (None, r),
    };
    let (host, mut opts) = rest.split_first().ok_or("% Command incomplete")?;
    let mut o = crate::diag::PingOpts { v6, ..Default::default() };
    while let [k, v, more @ ..] = opts {
        match *k {
            "count" => o.count = v.parse().map_err(|_| format!("% Invalid count {v}"))?,
            "source" => o.source = Some(v.parse().map_err(|_| format!("% Invalid source address {v}"))?),
            _ => return Err(format!("% Unknown option {k}")),
        }
        opts = more;
    }
    let mut out = Vec::new();
    let answered = match *cmd {
        "ping" => crate::diag::ping(host, &o, &mut out),
        _ => crate::diag::traceroute(host, v6, 30, &mut out),
    }
    .map_err(|e| format!("% {e}"))?;
    let text = String::from_utf8_lossy(&out).into_owned();
    if answered {
        Ok(text)
    } else {
        Err(text)
    }
}

impl<B: Bgpd> Session<B> {
    pub fn new(bgpd: B, scripted: bool) -> Session<B> {
        Session { bgpd, stack: Vec::new(), scripted, batch: Vec::new(), quit: false }
    }

    /// A session that starts in config mode (`vtysh -f FILE`).
    pub fn configuring(bgpd: B) -> Session<B> {
        let mut s = Session::new(bgpd, true);
        s.stack.push((Mode::Config, String::new()));
        s
    }

    pub fn mode(&self) -> Mode {
        self.stack.last().map_or(Mode::Exec, |m| m.0)
    }

    /// Runs one line; Ok holds what to print, Err the error to show.
    pub fn run(&mut self, line: &str) -> Result<String, String> {
        let t = line.trim();
        if t.is_empty() || t.starts_with('!') || t.starts_with('#') {
            return Ok(String::new());
        }
        let r = grammar().resolve(self.mode(), t).map_err(|e| e.message(t))?;
        // A command of an enclosing mode leaves the sub-modes, as in FRR
        // (`do` and `end` work from anywhere).
        while self.mode() != r.mode && self.stack.len() > 1 && !matches!(r.spec.kind, Kind::Do | Kind::End) {
            self.stack.pop();
        }
        match r.spec.kind {
            Kind::Remote => self.exec(&r.line()),
            Kind::Configure => {
                self.stack.push((Mode::Config, String::new()));
                Ok(String::new())
            }
            Kind::Quit => {
                self.quit = true;
                Ok(String::new())
            }
            Kind::Local => Ok(String::new()),
            Kind::Diag => diag(&r.words),
            Kind::Do => {
                let cmd = &r.words[1];
                match grammar().resolve(Mode::Exec, cmd) {
                    Ok(e) if e.spec.kind == Kind::Remote => self.exec(&e.line()),
                    Ok(_) => Err(format!("% do: {cmd} is not a show, clear or write command")),
                    Err(e) => Err(e.message(cmd)),
                }
            }
            Kind::End => {
                self.stack.clear();
                self.flush()
            }
            Kind::Exit => {
                if self.mode() != Mode::Config && self.scripted {
                    self.batch.push(r.line());
                }
                self.stack.pop();
                if self.stack.is_empty() {
                    self.flush()
                } else {
                    Ok(String::new())
                }
            }
            Kind::Config => self.config(r.line(), None),
            Kind::Enter(m) => self.config(r.line(), Some(m)),
        }
    }

    /// Applies what a script left pending (its last `-c` was a config line).
    pub fn finish(&mut self) -> Result<String, String> {
        self.flush()
    }

    fn exec(&mut self, line: &str) -> Result<String, String> {
        let resp = self.bgpd.call(&Request::Exec(line.to_string()))?;
        if resp.ok {
            Ok(resp.output)
        } else {
            Err(resp.output)
        }
    }

    fn config(&mut self, line: String, enter: Option<Mode>) -> Result<String, String> {
        if self.scripted {
            self.batch.push(line.clone());
            if let Some(m) = enter {
                self.stack.push((m, line));
            }
            return Ok(String::new());
        }
        // Typed: applied now, in the modes entered so far.
        let mut lines: Vec<String> = self.stack.iter().skip(1).map(|(_, l)| l.clone()).collect();
        lines.push(line.clone());
        let resp = self.bgpd.call(&Request::Config(lines))?;
        if !resp.ok {
            return Err(resp.output);
        }
        if let Some(m) = enter {
            self.stack.push((m, line));
        }
        Ok(resp.output)
    }

    fn flush(&mut self) -> Result<String, String> {
        if self.batch.is_empty() {
            return Ok(String::new());
        }
        let lines = std::mem::take(&mut self.batch);
        let resp = self.bgpd.call(&Request::Config(lines))?;
        if resp.ok {
            Ok(resp.output)
        } else {
            Err(resp.output)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records requests; fails config changes that contain `bad`.
    #[derive(Default)]
    struct Fake(Vec<Request>);

    impl Bgpd for Fake {
        fn call(&mut self, req: &Request) -> Result<Response, String> {
            self.0.push(req.clone());
            Ok(match req {
                Request::Config(l) if l.iter().any(|x| x.contains("bad")) => Response::err("% rejected"),
                _ => Response::ok("ok\n"),
            })
        }
    }

    #[test]
    fn typed_config_lines_apply_at_once_in_their_modes() {
        let mut s = Session::new(Fake::default(), false);
        s.run("conf t").unwrap();
        assert_eq!(s.mode(), Mode::Config);
        s.run("router bgp 65001").unwrap();
        s.run("address-family ipv4").unwrap();
        assert_eq!(s.mode(), Mode::AddressFamily);
        s.run("net 198.51.100.0/24").unwrap();
        assert_eq!(
            s.bgpd.0.last(),
            Some(&Request::Config(vec![
                "router bgp 65001".into(),
                "address-family ipv4".into(),
                "network 198.51.100.0/24".into()
            ]))
        );
        s.run("exit-address-family").unwrap();
        assert_eq!(s.mode(), Mode::RouterBgp);
        // A top-level command leaves router bgp.
        s.run("ip prefix-list PL permit any").unwrap();
        assert_eq!(s.mode(), Mode::Config);
        assert_eq!(s.bgpd.0.last(), Some(&Request::Config(vec!["ip prefix-list PL permit any".into()])));
        s.run("router bgp").unwrap();
        assert_eq!(s.run("do sh bgp sum").unwrap(), "ok\n");
        assert_eq!(s.bgpd.0.last(), Some(&Request::Exec("show bgp summary".into())));
        assert_eq!(s.mode(), Mode::RouterBgp, "do stays in the mode");
        s.run("exit").unwrap();
        // A rejected line leaves the mode as it was.
        assert_eq!(s.run("route-map bad permit 10").unwrap_err(), "% rejected");
        assert_eq!(s.mode(), Mode::Config);
        s.run("end").unwrap();
        assert_eq!(s.mode(), Mode::Exec);
    }

    #[test]
    fn scripted_config_is_one_change_at_end() {
        let mut s = Session::new(Fake::default(), true);
        for l in ["configure terminal", "router bgp 65001", "neighbor 192.0.2.1 remote-as 65000", "exit"] {
            s.run(l).unwrap();
        }
        assert!(s.bgpd.0.is_empty(), "nothing is sent before end");
        s.run("end").unwrap();
        assert_eq!(
            s.bgpd.0,
            [Request::Config(vec![
                "router bgp 65001".into(),
                "neighbor 192.0.2.1 remote-as 65000".into(),
                "exit".into()
            ])]
        );
        // A wrong line is refused before anything reaches bgpd.
        let mut s = Session::new(Fake::default(), true);
        s.run("conf t").unwrap();
        let e = s.run("router bgp 65001 extra").unwrap_err();
        assert!(e.contains("^\n% Invalid input detected at '^' marker."), "{e}");
        assert!(s.bgpd.0.is_empty());
    }

    #[test]
    fn exit_in_exec_mode_quits() {
        let mut s = Session::new(Fake::default(), false);
        s.run("exit").unwrap();
        assert!(s.quit);
    }
}
