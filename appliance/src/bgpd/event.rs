//! What the tasks and threads around the main task report to it: the
//! connections, the control socket and the kernel watcher all send these
//! into one channel, so the main task is the only one that touches the
//! Speaker.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use crate::bgp::fsm::ConnId;
use crate::bgp::packet::Notification;
use crate::bgp::speaker::Host;
use crate::control::{Request, Response};

pub enum Event {
    Accepted(TcpStream, SocketAddr, SocketAddr),
    Connected(ConnId, std::io::Result<TcpStream>),
    /// Whole messages from a connection, one after the other (framed by
    /// its reader); the permit goes back to the reader once they are
    /// handled.
    Messages(ConnId, Vec<u8>, OwnedSemaphorePermit),
    FramingError(ConnId, Notification),
    Closed(ConnId, String),
    /// A connection's send queue went below its low mark again.
    Drained(ConnId),
    /// A control request, and where its answer (one or more parts) goes.
    Control(Request, mpsc::Sender<Response>),
    Host(Host),
    /// A nexthop object of ours was deleted (by id).
    NexthopGone(u32),
    /// Our nexthop objects in the kernel, after a link changed.
    Nexthops(Vec<u32>),
    /// A BFD packet that arrived with TTL 255, and its sender.
    Bfd(SocketAddr, Vec<u8>),
    /// A router advertisement from a link-local address, on the
    /// interface with that index.
    RouterAdvert(u32, std::net::Ipv6Addr),
    /// A router solicitation arrived on the interface with that index.
    RouterSolicit(u32),
    /// A scrape of the metrics listener: the text goes back.
    Metrics(tokio::sync::oneshot::Sender<String>),
}

pub type Events = mpsc::UnboundedSender<Event>;
