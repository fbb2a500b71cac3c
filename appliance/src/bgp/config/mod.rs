//! bgpd's configuration in FRR's dialect: the model, the parser and the
//! writer (`show running-config`, `write memory`).

mod model;
mod parse;
mod render;

pub use model::{Bgp, Config, Family, Neighbor, NeighborFamily};
pub use parse::{apply_line, parse, Node, ParseError};
pub use render::render;
