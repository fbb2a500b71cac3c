//! The bgpbox appliance: every applet of the multi-call binary.

pub mod applets;
pub mod bgp;
pub mod bgpd;
pub mod cli;
pub mod control;
pub mod netlink;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
