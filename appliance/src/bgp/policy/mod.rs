//! Routing policy: prefix-lists, community-lists, as-path access-lists
//! and route-maps, as FRR spells them.

mod lists;
mod prefix_list;
mod route_map;

pub use lists::{
    communities_text, large_text, parse_large, AsPathEntry, AsPathList, CommunityEntry, CommunityList, Members, Pattern,
};
pub use prefix_list::{Action, PrefixList, PrefixListEntry};
pub use route_map::{
    community_text, parse_community, Definitions, Match, NextHop, OnMatch, RouteMap, RouteMapEntry, Set, Subject,
};
