//! The bgpbox appliance: every applet of the multi-call binary.

pub mod applets;
pub mod bgp;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
