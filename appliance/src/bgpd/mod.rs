//! bgpd, the BGP daemon: the I/O edge around the sans-IO core
//! (`crate::bgp`). `daemon.rs` is the main task; `connection.rs` and
//! `control.rs` its TCP and control-socket tasks; `fib.rs` and
//! `fib_writer.rs` what goes into the kernel and the thread that writes
//! it; `kernel_watch.rs` and `kernel_view.rs` what the kernel has;
//! `nd_io.rs` the router advertisements that find interface neighbors;
//! `commands.rs` and `show/` the control requests. The applet's command
//! line is `applets/bgpd.rs`.

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
