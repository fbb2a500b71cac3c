//! Prometheus metrics on an opt-in HTTP listener (`bgpd --metrics
//! ADDR:PORT`): frr_exporter's names and labels where they apply, so that
//! its Grafana dashboards work, and bgpbox's own (FIB, memory). A
//! connection task reads one request (bounded in size and time) and asks
//! the main task, the Speaker's owner, for the text.

use std::fmt::Write;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::event::{Event, Events};
use super::show::View;
use crate::bgp::fsm::State;
use crate::bgp::packet::Afi;

/// How many are served at once; more wait in the listen queue.
const MAX_CLIENTS: usize = 8;

pub async fn serve(l: TcpListener, tx: Events) {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        match l.accept().await {
            Ok((s, _)) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), answer(s, tx)).await;
                    drop(permit);
                });
            }
            Err(e) => {
                crate::warn!("metrics", "accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One request, HTTP/1.x: GET /metrics gets the text, anything else 404.
async fn answer(mut s: TcpStream, tx: Events) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await?;
        if n == 0 || buf.len() > 8192 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf[..buf.iter().position(|b| *b == b'\r').unwrap_or(0)]).into_owned();
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET" | "HEAD", "/metrics") => {
            let (reply, rx) = oneshot::channel();
            if tx.send(Event::Metrics(reply)).is_err() {
                return Ok(());
            }
            match rx.await {
                Ok(text) => ("200 OK", text),
                Err(_) => ("503 Service Unavailable", "bgpd is stopping\n".to_string()),
            }
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "bgpbox serves /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", String::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    if method != "HEAD" {
        s.write_all(body.as_bytes()).await?;
    }
    s.shutdown().await
}

/// Prometheus' text format: HELP, TYPE, then the samples.
struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, String)], v: f64) {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let _ = match l.is_empty() {
            true => writeln!(self.0, "{name} {v}"),
            false => writeln!(self.0, "{name}{{{}}} {v}", l.join(",")),
        };
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// What the counts of the FIB are: (not installed for a better route,
/// held back for an unreachable next hop, refused by the kernel).
pub type FibCounts = (usize, usize, usize);

pub fn render(v: &View, fib: FibCounts) -> String {
    let sp = v.speaker;
    let mut o = Out(String::new());
    let local_as = sp.local_as().to_string();
    let fams: Vec<(Afi, &str)> = vec![(Afi::Ipv4, "ipv4"), (Afi::Ipv6, "ipv6")];
    let base = |afi: &str| {
        vec![
            ("vrf", "default".to_string()),
            ("afi", afi.into()),
            ("safi", "unicast".into()),
            ("local_as", local_as.clone()),
        ]
    };
    o.family("frr_bgp_rib_count_total", "gauge", "Number of routes in the RIB.");
    for (afi, name) in &fams {
        o.sample("frr_bgp_rib_count_total", &base(name), sp.table(*afi).len() as f64);
    }
    o.family("frr_bgp_peers_count_total", "gauge", "Number peers configured.");
    for (afi, name) in &fams {
        let n = sp.configured().filter(|p| p.config().family(*afi, true).activate || p.accepted(*afi) > 0).count();
        o.sample("frr_bgp_peers_count_total", &base(name), n as f64);
    }
    type PeerMetric = (&'static str, &'static str, &'static str);
    let peer_metrics: [PeerMetric; 6] = [
        ("frr_bgp_peer_state", "gauge", "State of the peer (2 = Administratively Down, 1 = Established, 0 = Down)."),
        ("frr_bgp_peer_uptime_seconds", "gauge", "How long has the peer been up."),
        ("frr_bgp_peer_prefixes_received_count_total", "gauge", "Number of prefixes received."),
        ("frr_bgp_peer_prefixes_advertised_count_total", "gauge", "Number of prefixes advertised."),
        ("frr_bgp_peer_message_received_total", "counter", "Number of received messages."),
        ("frr_bgp_peer_message_sent_total", "counter", "Number of sent messages."),
    ];
    for (k, (name, kind, help)) in peer_metrics.iter().enumerate() {
        o.family(name, kind, help);
        for (afi, fam) in &fams {
            for p in sp.configured().filter(|p| p.negotiated().is_none_or(|n| n.families.contains(afi))) {
                let mut labels = base(fam);
                labels.push(("peer", p.name().to_string()));
                labels.push(("peer_as", p.remote_asn().unwrap_or(0).to_string()));
                let s = p.session();
                let up = s.state() == State::Established;
                let (rcvd, sent) = p.messages();
                let value = match k {
                    0 if p.config().shutdown.is_some() => 2.0,
                    0 => f64::from(u8::from(up)),
                    1 if up => v.now.saturating_duration_since(s.since()).as_secs_f64(),
                    1 => 0.0,
                    2 => p.accepted(*afi) as f64,
                    3 => p.advertised(*afi) as f64,
                    4 => rcvd as f64,
                    _ => sent as f64,
                };
                o.sample(name, &labels, value);
            }
        }
    }
    own(&mut o, v, fib);
    o.0
}

/// bgpbox's own: the FIB, the RIB's structures, the process.
fn own(o: &mut Out, v: &View, (shadowed, unreachable, refused): FibCounts) {
    let sp = v.speaker;
    o.family("bgpbox_fib_routes_not_installed", "gauge", "Selected BGP routes not in the kernel, by reason.");
    for (why, n) in [("shadowed", shadowed), ("unreachable", unreachable), ("refused", refused)] {
        o.sample("bgpbox_fib_routes_not_installed", &[("reason", why.into())], n as f64);
    }
    o.family("bgpbox_rib_paths", "gauge", "Paths held in the RIB (every neighbor's, after import policy).");
    for (afi, name) in [(Afi::Ipv4, "ipv4"), (Afi::Ipv6, "ipv6")] {
        let paths: usize = sp.table(afi).iter().map(|(_, p, _)| p.len()).sum();
        o.sample("bgpbox_rib_paths", &[("afi", name.into())], paths as f64);
    }
    o.family("bgpbox_attribute_sets", "gauge", "Distinct attribute sets, shared by the routes that have them.");
    o.sample("bgpbox_attribute_sets", &[], sp.attr_sets() as f64);
    o.family("bgpbox_resident_memory_bytes", "gauge", "bgpd's resident set size.");
    o.sample("bgpbox_resident_memory_bytes", &[], rss_bytes() as f64);
    o.family("bgpbox_uptime_seconds", "gauge", "Seconds since bgpd started.");
    o.sample("bgpbox_uptime_seconds", &[], v.now.saturating_duration_since(v.started).as_secs_f64());
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
