//! `ping` and `traceroute` as applets (busybox style, linked in the
//! image), so that `lxc exec ROUTER -- ping 192.0.2.254` works without a
//! distribution; the work is `crate::diag`'s.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::diag::{self, PingOpts};

/// Sends ICMP echo requests (5 by default) and says what came back.
#[derive(Parser, Debug)]
#[command(name = "ping", version = crate::VERSION)]
struct PingArgs {
    /// How many requests.
    #[arg(short = 'c', default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: u32,
    /// Seconds between requests (at least 0.2).
    #[arg(short = 'i', default_value_t = 1.0)]
    interval: f64,
    /// Source address.
    #[arg(short = 'I', value_name = "ADDRESS")]
    source: Option<std::net::IpAddr>,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "v6")]
    v4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    v6: bool,
    host: String,
}

/// The routers on the way to a host: ICMP echo with growing TTL.
#[derive(Parser, Debug)]
#[command(name = "traceroute", version = crate::VERSION)]
struct TraceArgs {
    /// The most hops to try.
    #[arg(short = 'm', default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..=64))]
    max_hops: u8,
    #[arg(short = '4', conflicts_with = "v6")]
    v4: bool,
    #[arg(short = '6')]
    v6: bool,
    host: String,
}

fn family(v4: bool, v6: bool) -> Option<bool> {
    (v4 || v6).then_some(v6)
}

fn exit(r: Result<bool, String>, name: &str) -> ExitCode {
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(2)
        }
    }
}

pub fn ping(args: Vec<OsString>) -> ExitCode {
    let a: PingArgs = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let o = PingOpts {
        count: a.count,
        source: a.source,
        v6: family(a.v4, a.v6),
        interval: Duration::from_secs_f64(a.interval.max(0.2)),
    };
    exit(diag::ping(&a.host, &o, &mut std::io::stdout()), "ping")
}

pub fn traceroute(args: Vec<OsString>) -> ExitCode {
    let a: TraceArgs = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    exit(diag::traceroute(&a.host, family(a.v4, a.v6), a.max_hops, &mut std::io::stdout()), "traceroute")
}
