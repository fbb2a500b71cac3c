//! vtysh: bgpd's shell. `-c` runs commands in order, like FRR's vtysh.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::control::{Client, Request};

/// The configuration shell, FRR-compatible.
#[derive(Parser, Debug)]
#[command(name = "vtysh", version = crate::VERSION)]
struct Args {
    /// bgpd's control socket.
    #[arg(long, default_value = crate::control::DEFAULT_SOCKET, value_name = "PATH")]
    socket: PathBuf,
    /// A command to run; repeat for several. `configure terminal` starts a
    /// batch of config lines applied together at `end` or at the last -c.
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    commands: Vec<String>,
    /// Apply a file of config lines as one change.
    #[arg(short = 'f', long = "inputfile", value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let mut client = match Client::connect(&a.socket) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut reqs = Vec::new();
    if let Some(f) = &a.file {
        match std::fs::read_to_string(f) {
            Ok(t) => reqs.push(Request::Config(t.lines().map(str::to_string).collect())),
            Err(e) => {
                eprintln!("vtysh: {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let mut batch: Option<Vec<String>> = None;
    for c in &a.commands {
        let words: Vec<&str> = c.split_whitespace().collect();
        let is = |kw: &str, i: usize| words.get(i).is_some_and(|w| kw.starts_with(w));
        match &mut batch {
            None if is("configure", 0) && (words.len() == 1 || is("terminal", 1)) => batch = Some(Vec::new()),
            None => reqs.push(Request::Exec(c.clone())),
            Some(lines) if words.len() == 1 && is("end", 0) => {
                reqs.push(Request::Config(std::mem::take(lines)));
                batch = None;
            }
            Some(lines) => lines.push(c.clone()),
        }
    }
    if let Some(lines) = batch {
        reqs.push(Request::Config(lines));
    }
    for r in reqs {
        match client.call(&r) {
            Ok(resp) if resp.ok => print!("{}", resp.output),
            Ok(resp) => {
                eprint!("{}", resp.output);
                if !resp.output.ends_with('\n') {
                    eprintln!();
                }
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("vtysh: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
