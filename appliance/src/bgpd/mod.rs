//! bgpd, the BGP daemon: the I/O edge around the sans-IO core
//! (`crate::bgp`). `daemon.rs` is the main task; `connection.rs` and
//! `control.rs` its TCP and control-socket tasks; `fib.rs` and
//! `fib_writer.rs` what goes into the kernel and the thread that writes
//! it (`fib_hold.rs`: what it holds back while a table arrives);
//! `kernel_watch.rs` and `kernel_view.rs` what the kernel has;
//! `nd_io.rs` the router advertisements that find interface neighbors;
//! `commands.rs` and `show/` the control requests. The applet's command
//! line is `applets/bgpd.rs`.

use crate::bgp::config::{self, Config};

mod bfd_io;
mod commands;
mod connection;
mod control;
pub mod daemon;
mod event;
pub mod fib;
mod fib_hold;
mod fib_queue;
pub use fib_queue::ipv4_write_order;
mod fib_writer;
mod kernel_view;
mod kernel_watch;
mod logging;
mod metrics;
mod nd_io;
pub mod show;
pub(crate) mod sockopt;
mod statics;

/// The config file, or every bad line of it; the lines it holds that mean
/// nothing in bgpbox are logged, one warning each.
pub fn read_config(path: &std::path::Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = config::parse_noted(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    for n in &parsed.notes {
        crate::warn!("config", "{n}");
    }
    Ok(parsed.config)
}
