//! healthcheck: is this router doing its job? Exit 0 when bgpd answers,
//! every neighbor that is not shut down is Established, every selected
//! route is in the FIB and every `network` is advertised; else exit 1 with
//! one line per failure.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

use crate::control::{Client, Request};

/// Is this router doing its job? (exit code, and JSON with --json)
#[derive(Parser, Debug)]
#[command(name = "healthcheck", version = crate::VERSION)]
struct Args {
    /// bgpd's control socket.
    #[arg(long, default_value = crate::control::DEFAULT_SOCKET, value_name = "PATH")]
    socket: PathBuf,
    /// The report as JSON.
    #[arg(long)]
    json: bool,
    /// Poll until healthy, for at most this many seconds.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<f64>,
}

fn check(socket: &std::path::Path) -> Value {
    let answer = Client::connect(socket).and_then(|mut c| c.call(&Request::Exec("show health".into())));
    match answer {
        Ok(r) if r.ok => serde_json::from_str(&r.output).unwrap_or_else(
            |e| json!({"healthy": false, "failures": [format!("bgpd answered something unreadable: {e}")]}),
        ),
        Ok(r) => json!({"healthy": false, "failures": [r.output.trim()]}),
        Err(e) => json!({"healthy": false, "failures": [e]}),
    }
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let deadline = a.wait.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let report = loop {
        let r = check(&a.socket);
        let healthy = r["healthy"].as_bool() == Some(true);
        match deadline {
            Some(t) if !healthy && Instant::now() < t => std::thread::sleep(Duration::from_millis(200)),
            _ => break r,
        }
    };
    let healthy = report["healthy"].as_bool() == Some(true);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        if healthy {
            println!("healthy");
        }
        for f in report["failures"].as_array().into_iter().flatten() {
            println!("{}", f.as_str().unwrap_or_default());
        }
        for n in report["notes"].as_array().into_iter().flatten() {
            println!("note: {}", n.as_str().unwrap_or_default());
        }
    }
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
