//! The BGP table in FRR's layout (`show bgp ipv4 unicast [PREFIX]`, and a
//! neighbor's received or advertised routes), text and JSON, produced a
//! slice of prefixes at a time. Each slice resumes after the last prefix
//! shown, so the table may change between slices without harm.

use std::fmt::Write;

use ipnet::IpNet;

use super::{afi_word, next_hop_text, origin_name, Paged, View};
use crate::bgp::packet::Afi;
use crate::bgp::rib::{weight, Path, PeerId, LOCAL};
use crate::bgpd::fib::NotInstalled;

/// Which rows of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    All,
    /// The paths learnt from a neighbor.
    From(PeerId),
    /// The best paths of what we advertise to a neighbor.
    AdvertisedTo(PeerId),
    /// What a neighbor sent, before policy (its Adj-RIB-In).
    Received(PeerId),
}

pub struct TableShow {
    afi: Afi,
    rows: Rows,
    json: bool,
    /// FRR's per-neighbor layout: the prefix on every line, the total only.
    per_neighbor: bool,
    after: Option<IpNet>,
    started: bool,
    done: bool,
    prefixes: usize,
    paths: usize,
}

const HEADER: &str = "Status codes:  s suppressed, d damped, h history, * valid, > best, = multipath,
               i internal, r RIB-failure, S Stale, R Removed
Nexthop codes: @NNN nexthop's vrf id, < announce-nh-self
Origin codes:  i - IGP, e - EGP, ? - incomplete
RPKI validation codes: V valid, I invalid, N Not found

   Network          Next Hop            Metric LocPrf Weight Path
";

impl TableShow {
    pub fn new(afi: Afi, rows: Rows, json: bool) -> TableShow {
        let per_neighbor = matches!(rows, Rows::From(_) | Rows::AdvertisedTo(_) | Rows::Received(_));
        TableShow { afi, rows, json, per_neighbor, after: None, started: false, done: false, prefixes: 0, paths: 0 }
    }

    fn keep(&self, v: &View, prefix: &IpNet, paths: &[Path], i: usize) -> bool {
        match self.rows {
            Rows::All | Rows::Received(_) => true,
            Rows::From(id) => paths[i].peer == id,
            Rows::AdvertisedTo(a) => i == 0 && v.speaker.peer_by_id(a).is_some_and(|p| v.speaker.advertises(p, prefix)),
        }
    }

    fn header(&self, v: &View) -> String {
        let sp = v.speaker;
        if self.json {
            return format!(
                "{{\n  \"vrfId\": 0,\n  \"vrfName\": \"default\",\n  \"tableVersion\": {},\n  \"routerId\": \"{}\",\n  \"defaultLocPrf\": 100,\n  \"localAS\": {},\n  \"routes\": {{",
                sp.table_version(self.afi),
                sp.router_id(),
                sp.local_as()
            );
        }
        format!(
            "BGP table version is {}, local router ID is {}, vrf id 0\nDefault local pref 100, local AS {}\n{HEADER}",
            sp.table_version(self.afi),
            sp.router_id(),
            sp.local_as()
        )
    }

    fn footer(&self) -> String {
        match (self.json, self.per_neighbor) {
            (true, _) => format!(
                "\n  }},\n  \"totalRoutes\": {},\n  \"totalPaths\": {},\n  \"totalPrefixCounter\": {}\n}}\n",
                self.prefixes, self.paths, self.prefixes
            ),
            (false, true) => format!("\nTotal number of prefixes {}\n", self.paths),
            (false, false) => format!("\nDisplayed  {} routes and {} total paths\n", self.prefixes, self.paths),
        }
    }

    fn row_text(&self, v: &View, out: &mut String, prefix: &IpNet, paths: &[Path], n: usize) {
        let local_as = v.speaker.local_as();
        for (i, p) in paths.iter().enumerate() {
            if !self.keep(v, prefix, paths, i) {
                continue;
            }
            let internal = v.speaker.peer_by_id(p.peer).is_some_and(|x| !x.ebgp(local_as));
            let fib_fail =
                i == 0 && p.peer != LOCAL && matches!(v.fib.installed(prefix), Err(NotInstalled::Rejected(_)));
            let mark = match (i, i < n) {
                (0, _) => '>',
                (_, true) => '=',
                _ => ' ',
            };
            // FRR's codes: S a stale path (a neighbor restarting), r one the
            // kernel refused.
            let stale = v.speaker.peer_by_id(p.peer).and_then(|x| x.stale()).is_some_and(|s| s.contains(prefix));
            let code = if stale {
                'S'
            } else if fib_fail {
                'r'
            } else {
                '*'
            };
            let status = format!("{code}{mark}{}", if internal { 'i' } else { ' ' });
            let net = if i == 0 || self.per_neighbor { prefix.to_string() } else { String::new() };
            // FRR shows the link-local next hop where one came (it is the
            // one used), and for an interface neighbor's, the interface.
            let unnumbered = v.speaker.peer_by_id(p.peer).and_then(|x| x.name().interface());
            let hop = match (p.attrs.link_local(), unnumbered) {
                (Some(_), Some(ifname)) if p.peer != LOCAL => ifname.to_string(),
                (Some(ll), _) if p.peer != LOCAL => ll.to_string(),
                _ => next_hop_text(p, self.afi),
            };
            let metric = p.attrs.med.get().map(|m| m.to_string()).unwrap_or_default();
            let lp = p.attrs.local_pref.get().map(|m| m.to_string()).unwrap_or_default();
            let weight = weight(p);
            let path = p.attrs.as_path().to_string();
            let path = if path.is_empty() { String::new() } else { format!("{path} ") };
            let net = if net.len() > 16 { format!("{net}\n{:20}", "") } else { format!("{net:<17}") };
            let _ =
                writeln!(out, "{status}{net}{hop:<20}{metric:>6} {lp:>6} {weight:>6} {path}{}", p.attrs.origin.code());
        }
    }

    /// One prefix's paths as FRR's JSON array, written straight into
    /// `out` (a whole table is a million of them: no `Value` per path).
    fn row_json(&self, v: &View, out: &mut String, prefix: &IpNet, paths: &[Path], n: usize) {
        let local_as = v.speaker.local_as();
        out.push('[');
        let mut first = true;
        for (i, p) in paths.iter().enumerate().filter(|(i, _)| self.keep(v, prefix, paths, *i)) {
            let peer = v.speaker.peer_by_id(p.peer);
            let from = if peer.is_some_and(|x| !x.ebgp(local_as)) { "internal" } else { "external" };
            let sep = if std::mem::take(&mut first) { "" } else { "," };
            let _ = write!(
                out,
                "{sep}{{\"valid\":true,\"bestpath\":{},\"multipath\":{},\"pathFrom\":\"{from}\",\"prefix\":\"{}\",\"prefixLen\":{},\"network\":\"{prefix}\"",
                i == 0,
                i < n,
                prefix.network(),
                prefix.prefix_len()
            );
            if let Some(m) = p.attrs.med.get() {
                let _ = write!(out, ",\"metric\":{m}");
            }
            if let Some(l) = p.attrs.local_pref.get() {
                let _ = write!(out, ",\"locPrf\":{l}");
            }
            let peer_id = peer.map_or("(unspec)".to_string(), |x| x.name().to_string());
            let (afi, hop) = (afi_word(self.afi), next_hop_text(p, self.afi));
            // Both next hops of an IPv6 route, the link-local one used.
            let hops = match p.attrs.link_local().filter(|_| p.peer != LOCAL) {
                Some(ll) => format!(
                    "{{\"ip\":\"{hop}\",\"afi\":\"{afi}\",\"scope\":\"global\"}},{{\"ip\":\"{ll}\",\"afi\":\"{afi}\",\"scope\":\"link-local\",\"used\":true}}"
                ),
                None => format!("{{\"ip\":\"{hop}\",\"afi\":\"{afi}\",\"used\":true}}"),
            };
            let _ = write!(
                out,
                ",\"weight\":{},\"peerId\":\"{peer_id}\",\"path\":\"{}\",\"origin\":\"{}\",\"nexthops\":[{hops}]}}",
                weight(p),
                p.attrs.as_path(),
                origin_name(p.attrs.origin),
            );
        }
        out.push(']');
    }
}

impl TableShow {
    /// One prefix's rows, `kept` of its paths shown.
    fn row(&mut self, v: &View, out: &mut String, prefix: &IpNet, paths: &[Path], n: usize, kept: usize) {
        if kept == 0 {
            return;
        }
        if self.json {
            let sep = if self.prefixes == 0 { "" } else { "," };
            let _ = write!(out, "{sep}\n    \"{prefix}\": ");
            self.row_json(v, out, prefix, paths, n);
        } else {
            self.row_text(v, out, prefix, paths, n);
        }
        self.prefixes += 1;
        self.paths += kept;
    }
}

impl Paged for TableShow {
    fn next(&mut self, v: &View, budget: usize) -> Option<String> {
        if self.done {
            return None;
        }
        if v.speaker.config().bgp.is_none() {
            self.done = true;
            return Some("% No BGP instance configured\n".into());
        }
        let mut out = if self.started { String::new() } else { self.header(v) };
        self.started = true;
        let mut seen = 0;
        let mut last = None;
        if let Rows::Received(id) = self.rows {
            let peer = v.speaker.peer_by_id(id)?;
            for (prefix, attrs) in peer.adj_rib_in().iter_after(self.afi, self.after).take(budget) {
                seen += 1;
                last = Some(*prefix);
                let path = [Path { peer: id, attrs: attrs.clone(), since: 0 }];
                self.row(v, &mut out, prefix, &path, 1, 1);
            }
        } else {
            for (prefix, paths, n) in v.speaker.table(self.afi).iter_after(self.after).take(budget) {
                seen += 1;
                last = Some(prefix);
                let kept = (0..paths.len()).filter(|i| self.keep(v, &prefix, paths, *i)).count();
                self.row(v, &mut out, &prefix, paths, n, kept);
            }
        }
        if seen < budget {
            out.push_str(&self.footer());
            self.done = true;
        }
        self.after = last.or(self.after);
        Some(out)
    }
}
