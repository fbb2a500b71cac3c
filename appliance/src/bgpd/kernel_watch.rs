//! What the kernel has, for the Speaker's `Host`: its addresses and its
//! non-BGP routes, read once and then kept from notifications by a thread
//! of its own (`kernel_view.rs` holds the view).

use std::time::Duration;

use ipnet::IpNet;

use super::event::{Event, Events};
use super::fib_writer::our_nexthops;
use super::kernel_view::View;
use crate::bgp::speaker::Host;
use crate::netlink::{self, Socket};

/// The kernel's addresses and its non-BGP routes, read in one go; with
/// `bgp`, also the prefixes of the BGP routes in the main table (ours, or
/// an earlier run's). Route by route: a full table is never held decoded.
pub fn read(bgp: bool) -> std::io::Result<(Host, Vec<IpNet>)> {
    let mut s = Socket::open(0)?;
    let mut ours = Vec::new();
    let v = View::read(&mut s, bgp.then_some(&mut ours))?;
    Ok((v.host(), ours))
}

pub async fn snapshot() -> Host {
    match tokio::task::spawn_blocking(|| read(false)).await {
        Ok(Ok((k, _))) => k,
        Ok(Err(e)) => {
            crate::error!("kernel", "cannot read the kernel's addresses and routes: {e}");
            Host::default()
        }
        Err(_) => Host::default(),
    }
}

/// Watches the kernel's address, link and (non-BGP) route changes and
/// sends a fresh `Host` when something changed. A thread of its own: it
/// blocks in recv() and must not hold up the runtime's shutdown.
pub fn watch(tx: Events) {
    let groups = netlink::GROUP_LINK
        | netlink::GROUP_IPV4_IFADDR
        | netlink::GROUP_IPV6_IFADDR
        | netlink::GROUP_IPV4_ROUTE
        | netlink::GROUP_IPV6_ROUTE
        | netlink::GROUP_NEXTHOP;
    let _ = std::thread::Builder::new().name("kernel-watch".into()).spawn(move || {
        let s = match Socket::open(groups) {
            Ok(s) => s,
            Err(e) => {
                crate::error!("kernel", "cannot watch the kernel: {e}");
                return;
            }
        };
        // Without it the watcher still works: it skips our routes itself.
        if let Err(e) = super::sockopt::drop_bgp_route_notifications(s.raw_fd()) {
            crate::warn!("kernel", "no socket filter ({e}); skipping BGP route changes by hand");
        }
        Watcher { s, tx, view: View::default(), last: None }.run();
    });
}

struct Watcher {
    s: Socket,
    tx: Events,
    view: View,
    last: Option<Host>,
}

impl Watcher {
    /// Sends the view as of now, after subscribing: whatever changed
    /// between bgpd's first snapshot and this point (netsetup still at
    /// work at boot) would otherwise never be seen. From then on the
    /// notifications keep the view; only a lost one (ENOBUFS) or a link
    /// change costs a re-read.
    fn run(mut self) {
        let mut fresh = true;
        loop {
            if fresh {
                if !self.reread() {
                    return;
                }
                fresh = false;
            }
            let k = self.view.host();
            if self.last.as_ref() != Some(&k) {
                self.last = Some(k.clone());
                if self.tx.send(Event::Host(k)).is_err() {
                    return;
                }
            }
            fresh = match self.s.recv() {
                Ok(msgs) => match self.apply(msgs) {
                    None => return,
                    Some(false) => continue,
                    Some(true) => {
                        // Let a burst (an interface coming up with its
                        // routes) settle into one view.
                        std::thread::sleep(Duration::from_millis(20));
                        self.view.stale
                    }
                },
                Err(_) => true,
            };
        }
    }

    /// Reads the kernel again; false when bgpd is gone.
    fn reread(&mut self) -> bool {
        match View::read(&mut self.s, None) {
            Ok(v) => self.view = v,
            Err(e) => crate::warn!("kernel", "cannot read the kernel: {e}"),
        }
        // A link that went down or lost its carrier took its nexthop
        // objects, and their routes, without a word: only a look at what
        // is left tells.
        match our_nexthops() {
            Ok(ids) => self.tx.send(Event::Nexthops(ids)).is_ok(),
            Err(e) => {
                crate::warn!("kernel", "cannot read the nexthop objects: {e}");
                true
            }
        }
    }

    /// Applies notifications; whether the view changed (None: bgpd is
    /// gone).
    fn apply(&mut self, msgs: Vec<netlink::Msg>) -> Option<bool> {
        let mut changed = false;
        for m in msgs {
            match m {
                // Someone deleted one of our nexthop objects, and with it
                // its routes.
                netlink::Msg::Nexthop(false, n) if n.protocol == netlink::RTPROT_BGP => {
                    self.tx.send(Event::NexthopGone(n.id)).ok()?;
                }
                m => changed |= self.view.apply(m),
            }
        }
        Some(changed || self.view.stale)
    }
}
