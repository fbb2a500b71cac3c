//! The bgpbox appliance: every applet of the multi-call binary.
//!
//! `unsafe` lives in one module only, `bgpd/sockopt.rs` (TCP-MD5, GTSM,
//! the watcher's socket filter), where each use says why it is sound.
#![deny(unsafe_code)]

pub mod applets;
pub mod bfd;
pub mod bgp;
pub mod bgpd;
pub mod cli;
pub mod control;
pub mod diag;
pub mod log;
pub mod nd;
pub mod netlink;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
