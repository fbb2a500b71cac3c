//! `show` output in FRR's text layouts and JSON field names, read from the
//! Speaker's getters and the FIB's state through a `View`: no daemon, no
//! socket, so each show is unit-tested on a Speaker built in the test.
//! Whole-table shows are `Paged`: produced a slice at a time, so that the
//! main task keeps its timers and a client that does not read holds back
//! only its own output.

mod bfd;
mod health;
mod interface;
mod lists;
mod neighbor;
mod peer_group;
mod policy;
mod prefix;
mod route;
mod summary;
mod table;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ipnet::IpNet;

pub use bfd::{bfd_peers, BfdRow};
pub use health::{health, memory};
pub use interface::{interface_brief, interface_detail, nht, read_interfaces, LinkHistory};
pub use lists::{as_path_lists, community_lists};
pub use neighbor::{neighbor_routes, neighbors, Routes};
pub use peer_group::peer_groups;
pub use policy::{prefix_lists, route_maps};
pub use prefix::prefix_detail;
pub use route::{Filter, Proto, RouteShow};
pub use summary::summary;
pub use table::{Rows, TableShow};

use super::fib::Installed;
use crate::bgp::packet::{Afi, Origin};
use crate::bgp::rib::{Path, LOCAL};
use crate::bgp::speaker::Speaker;

/// What a show reads: the protocol core, the FIB's state, and the times
/// it reports ages against.
pub struct View<'a> {
    pub speaker: &'a Speaker,
    pub fib: &'a dyn Installed,
    /// When each non-BGP kernel route was first seen.
    pub kernel_since: &'a HashMap<IpNet, Instant>,
    pub started: Instant,
    pub now: Instant,
}

/// A show produced a slice at a time.
pub trait Paged: Send {
    /// The next part of the output, of about `budget` prefixes; None once
    /// everything was given.
    fn next(&mut self, v: &View, budget: usize) -> Option<String>;
}

/// FRR's uptime form: `01:26:54`, `5d05h08m`, `02w3d04h`.
pub fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    let (w, day, h, m, sec) = (s / 604_800, s / 86_400 % 7, s / 3600 % 24, s / 60 % 60, s % 60);
    if s < 86_400 {
        format!("{h:02}:{m:02}:{sec:02}")
    } else if s < 604_800 {
        format!("{}d{h:02}h{m:02}m", s / 86_400)
    } else {
        format!("{w:02}w{day}d{h:02}h")
    }
}

/// FRR's titles and JSON keys of a family.
fn afi_name(afi: Afi) -> (&'static str, &'static str) {
    match afi {
        Afi::Ipv4 => ("IPv4 Unicast", "ipv4Unicast"),
        Afi::Ipv6 => ("IPv6 Unicast", "ipv6Unicast"),
    }
}

fn afi_word(afi: Afi) -> &'static str {
    match afi {
        Afi::Ipv4 => "ipv4",
        Afi::Ipv6 => "ipv6",
    }
}

fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "IGP",
        Origin::Egp => "EGP",
        Origin::Incomplete => "incomplete",
    }
}

fn next_hop_text(p: &Path, afi: Afi) -> String {
    match (p.peer, p.attrs.next_hop()) {
        (LOCAL, _) | (_, None) => if afi == Afi::Ipv4 { "0.0.0.0" } else { "::" }.into(),
        (_, Some(h)) => h.to_string(),
    }
}

fn pretty(v: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
}
