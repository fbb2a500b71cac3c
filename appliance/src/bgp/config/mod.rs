//! bgpd's configuration in FRR's dialect: the model, the parser and the
//! writer (`show running-config`, `write memory`).

mod bfd;
mod foreign;
mod lists;
mod logging;
mod merge;
mod model;
mod parse;
mod peer_group;
mod render;
mod route_map;
mod router_bgp;
mod types;
mod words;

pub use bfd::BfdSession;
pub use logging::{debug_lines, switches, Logging};
pub use merge::{canonical, diff, merge, Merged};
pub use model::{
    AllowasIn, Bgp, Config, Explicit, Family, FamilyField, Field, GrMode, LocalAs, Neighbor, NeighborFamily, NoSend,
    Redistribute, RemovePrivate, Source,
};
pub use parse::{apply_line, apply_line_noted, parse, parse_noted, Node, ParseError, ParseErrors, Parsed};
pub use render::render;
pub use types::{Bfd, BfdPeer, BfdTimers, NeighborId, StaticRoute, StaticVia};
