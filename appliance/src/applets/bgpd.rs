//! The bgpd applet: its command line, then the daemon (`crate::bgpd`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The BGP daemon: FRR's config dialect, sessions with any BGP-4 peer,
/// best paths into the kernel's FIB.
#[derive(Parser, Debug)]
#[command(name = "bgpd", version = crate::VERSION)]
struct Args {
    /// Configuration file (FRR's dialect).
    #[arg(
        short = 'f',
        long = "config_file",
        visible_alias = "config",
        default_value = "/etc/bgpbox/bgpd.conf",
        value_name = "FILE"
    )]
    config: PathBuf,
    /// Control socket for vtysh and healthcheck.
    #[arg(long, default_value = crate::control::DEFAULT_SOCKET, value_name = "PATH")]
    socket: PathBuf,
    /// TCP port to listen on and connect to.
    #[arg(short = 'p', long = "bgp_port", visible_alias = "port", default_value_t = 179, value_name = "PORT")]
    port: u16,
    /// Do not program the kernel's FIB (routes are only learnt and shown).
    #[arg(long)]
    no_fib: bool,
    /// Serve Prometheus metrics on this address and port (off unless given).
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<std::net::SocketAddr>,
    /// The image's config, when -f is a saved one: healthcheck says how
    /// they differ (init passes it).
    #[arg(long, value_name = "FILE")]
    image_config: Option<PathBuf>,
    /// Check the configuration file and exit (0: valid).
    #[arg(short = 'C', long = "dryrun")]
    check: bool,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    crate::log::init("bgpd");
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let cfg = match crate::bgpd::read_config(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bgpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if a.check {
        println!("{}: configuration is valid", a.config.display());
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bgpd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = crate::bgpd::daemon::Options {
        config_path: a.config,
        socket: a.socket,
        port: a.port,
        fib: !a.no_fib,
        metrics: a.metrics,
        image_config: a.image_config,
    };
    let result = rt.block_on(crate::bgpd::daemon::run(opts, cfg));
    // The kernel watcher blocks in recv(); do not wait for it on the way out.
    rt.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgpd: {e}");
            ExitCode::FAILURE
        }
    }
}
