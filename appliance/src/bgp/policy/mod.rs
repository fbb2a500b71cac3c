//! Routing policy: prefix-lists and route-maps, as FRR spells them.

mod prefix_list;
mod route_map;

pub use prefix_list::{Action, PrefixList, PrefixListEntry};
pub use route_map::{community_text, parse_community, Match, RouteMap, RouteMapEntry, Set};
