//! The control protocol between bgpd and its clients (vtysh,
//! healthcheck): one JSON object per line each way over a Unix socket.
//! Documented in ARCHITECTURE.md.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const DEFAULT_SOCKET: &str = "/run/bgpbox/bgpd.sock";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// An exec-mode command as typed in vtysh (`show bgp summary json`).
    Exec(String),
    /// Configuration lines, applied as one change: all or nothing.
    Config(Vec<String>),
    /// `write memory`: the running config to the config file, atomically.
    Write,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    pub output: String,
    /// More parts of the same answer follow (a paged show); the last part
    /// has none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

impl Response {
    pub fn ok(output: impl Into<String>) -> Response {
        Response { ok: true, output: output.into(), more: false }
    }

    pub fn err(output: impl Into<String>) -> Response {
        Response { ok: false, output: output.into(), more: false }
    }
}

/// A connection to bgpd's control socket.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Print the parts of a paged answer to stdout as they come (vtysh),
    /// rather than collect them.
    print_parts: bool,
}

/// What follows "bgpd is not running".
pub const NOT_RUNNING_HINT: &str = "; its log: `lxc console CONTAINER --show-log` on the host";

impl Client {
    /// Connects, or says in one line that bgpd is not there.
    pub fn connect(path: &Path) -> Result<Client, String> {
        let s = UnixStream::connect(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                // Where to look, since vtysh cannot say why.
                format!("bgpd is not running (no answer on {}){NOT_RUNNING_HINT}", path.display())
            }
            _ => format!("cannot reach bgpd on {}: {e}", path.display()),
        })?;
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let writer = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Client { reader: BufReader::new(s), writer, print_parts: false })
    }

    /// Parts of a paged answer go to stdout as they come; `call` returns
    /// the last. A whole table's JSON then never sits in the client either.
    pub fn print_parts(&mut self) {
        self.print_parts = true;
    }

    pub fn call(&mut self, req: &Request) -> Result<Response, String> {
        let mut line = serde_json::to_string(req).map_err(|e| e.to_string())?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).map_err(|e| format!("bgpd went away: {e}"))?;
        let mut whole = Response::ok("");
        loop {
            let part = self.part()?;
            whole.ok = part.ok;
            if self.print_parts && part.more {
                let mut out = std::io::stdout().lock();
                out.write_all(part.output.as_bytes()).map_err(|e| format!("stdout: {e}"))?;
                out.flush().map_err(|e| format!("stdout: {e}"))?;
                continue;
            }
            whole.output.push_str(&part.output);
            if !part.more {
                return Ok(whole);
            }
        }
    }

    fn part(&mut self) -> Result<Response, String> {
        let mut answer = String::new();
        match self.reader.read_line(&mut answer) {
            Ok(0) => Err("bgpd closed the connection".into()),
            Ok(_) => serde_json::from_str(&answer).map_err(|e| format!("bgpd answered something unreadable: {e}")),
            Err(e) => Err(format!("no answer from bgpd: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form() {
        let r = Request::Exec("show bgp summary".into());
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"exec":"show bgp summary"}"#);
        let r = Request::Config(vec!["router bgp 1".into()]);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"config":["router bgp 1"]}"#);
        assert_eq!(serde_json::to_string(&Request::Write).unwrap(), r#""write""#);
        let back: Response = serde_json::from_str(r#"{"ok":false,"output":"x"}"#).unwrap();
        assert_eq!(back, Response::err("x"));
    }
}
