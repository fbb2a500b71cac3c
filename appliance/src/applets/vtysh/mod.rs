//! vtysh: bgpd's shell. Interactive on a terminal; `-c` runs commands in
//! order like FRR's vtysh; `-f` applies a file as one change.

mod session;
mod shell;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::control::{Client, Request};
use session::{Bgpd, Session};

/// The configuration shell, FRR-compatible.
#[derive(Parser, Debug)]
#[command(name = "vtysh", version = crate::VERSION)]
struct Args {
    /// bgpd's control socket.
    #[arg(long, default_value = crate::control::DEFAULT_SOCKET, value_name = "PATH")]
    socket: PathBuf,
    /// A command to run; repeat for several. Config lines after
    /// `configure terminal` are applied together at `end` or after the
    /// last -c.
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    commands: Vec<String>,
    /// Apply a file of config lines as one change.
    #[arg(short = 'f', long = "inputfile", value_name = "FILE", conflicts_with = "commands")]
    file: Option<PathBuf>,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    // `ping` and `traceroute` need no bgpd: the connection waits for the
    // first command that does, except in the interactive shell.
    let mut client = Lazy { socket: a.socket.clone(), client: None };
    let interactive = a.file.is_none() && a.commands.is_empty() && std::io::stdin().is_terminal();
    if interactive {
        if let Err(e) = client.connect() {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    if let Some(f) = &a.file {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("vtysh: {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        };
        let name = f.display().to_string();
        return script(Session::configuring(client), text.lines().map(str::to_string), Some(&name));
    }
    if !a.commands.is_empty() {
        return script(Session::new(client, true), a.commands.into_iter(), None);
    }
    if !std::io::stdin().is_terminal() {
        let lines = std::io::stdin().lock().lines().map_while(Result::ok);
        return script(Session::new(client, true), lines, None);
    }
    let mut s = Session::new(client, false);
    let host = hostname(&mut s.bgpd);
    if shell::run(s, &host) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// bgpd's control socket, connected when first needed.
struct Lazy {
    socket: PathBuf,
    client: Option<Client>,
}

impl Lazy {
    fn connect(&mut self) -> Result<&mut Client, String> {
        if self.client.is_none() {
            let mut c = Client::connect(&self.socket)?;
            c.print_parts();
            self.client = Some(c);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }
}

impl Bgpd for Lazy {
    fn call(&mut self, req: &Request) -> Result<crate::control::Response, String> {
        self.connect()?.call(req)
    }
}

/// Runs lines in order; stops at the first error, which is printed and
/// makes the exit status non-zero. A file (`-f`, one change) is read to
/// the end first, and every bad line is printed with its file and line
/// number; then nothing of it is sent.
fn script<B: Bgpd>(mut s: Session<B>, lines: impl Iterator<Item = String>, file: Option<&str>) -> ExitCode {
    let fail = |at: Option<usize>, e: String| {
        match (file, at) {
            (Some(f), Some(n)) => eprintln!("{f}:{n}: {}", e.trim_end()),
            _ => eprintln!("{}", e.trim_end()),
        }
        ExitCode::FAILURE
    };
    let mut failed = false;
    for (n, line) in lines.enumerate() {
        match s.run(&line) {
            Ok(out) => print!("{out}"),
            Err(e) if file.is_some() => failed = fail(Some(n + 1), e) == ExitCode::FAILURE,
            Err(e) => return fail(Some(n + 1), e),
        }
        if s.quit {
            break;
        }
    }
    if failed {
        eprintln!("(nothing was applied)");
        return ExitCode::FAILURE;
    }
    match s.finish() {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(None, e),
    }
}

/// FRR's prompt name: the configured `hostname`, else the system's. In
/// an image, /etc/hostname holds the profile's hostname, which LXD's
/// kernel hostname (the container's name) would hide.
fn hostname<B: Bgpd>(b: &mut B) -> String {
    let configured = b
        .call(&Request::Exec("show running-config".into()))
        .ok()
        .and_then(|r| r.output.lines().find_map(|l| l.strip_prefix("hostname ").map(|h| h.trim().to_string())));
    let file = |f: &str| std::fs::read_to_string(f).ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    configured
        .or_else(|| file("/etc/hostname"))
        .or_else(|| file("/proc/sys/kernel/hostname"))
        .unwrap_or_else(|| "bgpbox".into())
}
