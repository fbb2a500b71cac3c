//! BFD (RFC 5880), single hop (RFC 5881), asynchronous mode: the sans-IO
//! core. `packet.rs` is the Control packet, `session.rs` one session's
//! state machine; bgpd's `bfd_io.rs` carries their packets over UDP 3784.

pub mod packet;
pub mod session;

pub use packet::{Control, Diag, State};
pub use session::{Out, Session, Timers};
