//! What BFD says of a neighbor's path (`neighbor X bfd`): the BFD
//! sessions themselves run in bgpd (`bgpd/bfd_io.rs`, `crate::bfd`).

use std::net::IpAddr;
use std::time::Instant;

use super::Speaker;
use crate::bgp::packet::{err, Notification};
use crate::log::Level;

impl Speaker {
    /// BFD's verdict on a neighbor's path (`neighbor X bfd`): Down ends
    /// its session at once (Cease/BFD Down, RFC 9384) and holds it down;
    /// Up lets it start again.
    pub fn bfd_changed(&mut self, now: Instant, addr: IpAddr, up: bool, why: &str) {
        let Some(i) = self.peers.iter().position(|p| p.remote == Some(addr) && !p.removed) else { return };
        if self.peers[i].cfg.bfd.is_none() {
            return;
        }
        match (up, self.peers[i].bfd_held) {
            (true, true) => {
                self.peers[i].bfd_held = false;
                self.log(Level::Info, format!("neighbor {addr}: BFD up: the session starts again"));
                let a = self.peers[i].session.start(now);
                self.run(now, i, a);
            }
            (false, false) => {
                self.peers[i].bfd_held = true;
                self.log(
                    Level::Warn,
                    format!("neighbor {addr}: BFD down ({why}): the session goes down until BFD is up"),
                );
                let n = Notification::new(err::CEASE, err::BFD_DOWN, []);
                self.stop_peer(now, i, n);
            }
            _ => {}
        }
    }
}
