//! `show bgp [ipv4|ipv6 [unicast]] summary [json]`.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::{afi_name, pretty, uptime, View};
use crate::bgp::config::NeighborId;
use crate::bgp::fsm::State;
use crate::bgp::packet::Afi;
use crate::bgp::speaker::Peer;

fn families(v: &View, p: &Peer) -> Vec<Afi> {
    let def = v.speaker.config().bgp.as_ref().is_none_or(|b| b.default_ipv4_unicast);
    p.config().active_families(def)
}

/// The State/PfxRcd and PfxSnt columns: counts when Established, else the
/// state.
fn state_or_count(v: &View, p: &Peer, afi: Afi) -> (String, String) {
    let st = p.session().state();
    if p.config().shutdown.is_some() {
        return ("Idle (Admin)".into(), "0".into());
    }
    if p.overflow() {
        return ("Idle (PfxCt)".into(), "0".into());
    }
    if st != State::Established {
        return (st.name().into(), "0".into());
    }
    let sp = v.speaker;
    let rcvd = if sp.policy_blocked(p, afi, true) { "(Policy)".into() } else { p.accepted(afi).to_string() };
    let sent = if sp.policy_blocked(p, afi, false) { "(Policy)".into() } else { p.advertised(afi).to_string() };
    (rcvd, sent)
}

/// `headed`: each family's block starts with its title, as FRR does unless
/// the family was named.
pub fn summary(v: &View, only: Option<Afi>, headed: bool, json: bool) -> String {
    let sp = v.speaker;
    if sp.config().bgp.is_none() {
        return if json { "{}\n".into() } else { "% No BGP instance configured\n".into() };
    }
    let afis: Vec<Afi> = match only {
        Some(a) => vec![a],
        None => {
            [Afi::Ipv4, Afi::Ipv6].into_iter().filter(|a| sp.configured().any(|p| families(v, p).contains(a))).collect()
        }
    };
    if json {
        let js: Map<String, Value> =
            afis.iter().map(|afi| (afi_name(*afi).1.to_string(), family_json(v, *afi))).collect();
        return pretty(&Value::Object(js));
    }
    if afis.is_empty() {
        return "% No BGP neighbors found in VRF default\n".into();
    }
    afis.iter().map(|afi| family_text(v, *afi, headed)).collect()
}

fn peer_json(v: &View, p: &Peer, afi: Afi, local_as: u32) -> Value {
    let (rcvd, sent) = state_or_count(v, p, afi);
    let s = p.session();
    let up = v.now.saturating_duration_since(s.since());
    let blocked = v.speaker.policy_blocked(p, afi, true) || v.speaker.policy_blocked(p, afi, false);
    let (msg_in, msg_out) = p.messages();
    json!({
        "remoteAs": p.remote_asn().unwrap_or(0),
        "localAs": local_as,
        "version": 4,
        "msgRcvd": msg_in,
        "msgSent": msg_out,
        "tableVersion": v.speaker.peer_table_version(p, afi),
        "outq": 0,
        "inq": 0,
        "peerUptime": uptime(up),
        "peerUptimeMsec": up.as_millis() as u64,
        "pfxRcd": p.accepted(afi),
        "pfxSnt": p.advertised(afi),
        "state": s.state().name(),
        "peerState": if p.config().shutdown.is_some() { "Admin" } else if blocked { "Policy" } else { "OK" },
        "connectionsEstablished": s.established_count,
        "connectionsDropped": s.dropped_count,
        "lastResetDueTo": s.last_error.clone().unwrap_or_default(),
        "desc": p.config().description.clone().unwrap_or_default(),
        "idType": match p.name() {
            NeighborId::Interface(_) => "interface",
            NeighborId::Addr(a) if a.is_ipv4() => "ipv4",
            NeighborId::Addr(_) => "ipv6",
        },
        "rcvdDisplay": rcvd,
        "sentDisplay": sent,
        "dynamicPeer": p.is_dynamic(),
    })
}

fn family_json(v: &View, afi: Afi) -> Value {
    let sp = v.speaker;
    let local_as = sp.local_as();
    let peers: Vec<&Peer> = sp.configured().filter(|p| families(v, p).contains(&afi)).collect();
    let table = sp.table(afi);
    let paths: usize = table.iter().map(|(_, p, _)| p.len()).sum();
    let pj: Map<String, Value> = peers.iter().map(|p| (p.name().to_string(), peer_json(v, p, afi, local_as))).collect();
    json!({
        "routerId": sp.router_id().to_string(),
        "as": local_as,
        "vrfId": 0,
        "vrfName": "default",
        "tableVersion": sp.table_version(afi),
        "ribCount": table.len(),
        "ribMemory": paths * 56,
        "peerCount": peers.len(),
        "peers": Value::Object(pj),
        "failedPeers": peers.iter().filter(|p| p.session().state() != State::Established).count(),
        "displayedPeers": peers.len(),
        "totalPeers": peers.len(),
        "dynamicPeers": peers.iter().filter(|p| p.is_dynamic()).count(),
    })
}

fn family_text(v: &View, afi: Afi, headed: bool) -> String {
    let sp = v.speaker;
    let peers: Vec<&Peer> = sp.configured().filter(|p| families(v, p).contains(&afi)).collect();
    let table = sp.table(afi);
    let paths: usize = table.iter().map(|(_, p, _)| p.len()).sum();
    let mut text = String::new();
    if headed {
        let _ = writeln!(text, "\n{} Summary (VRF default):", afi_name(afi).0);
    }
    let _ = writeln!(text, "BGP router identifier {}, local AS number {} vrf-id 0", sp.router_id(), sp.local_as());
    let _ = writeln!(text, "BGP table version {}", sp.table_version(afi));
    let _ = writeln!(text, "RIB entries {}, using {} bytes of memory", table.len(), paths * 56);
    let _ = writeln!(text, "Peers {}, using {} KiB of memory", peers.len(), peers.len() * 4);
    text.push('\n');
    text.push_str(
        "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc\n",
    );
    let mut notes = Vec::new();
    for p in &peers {
        text.push_str(&peer_row(v, p, afi));
        let addr = p.name();
        for (inbound, dir) in [(true, "in"), (false, "out")] {
            if sp.policy_blocked(p, afi, inbound) {
                notes.push(format!(
                    "% {addr}: (Policy) means RFC 8212 blocks it: add `neighbor {addr} prefix-list NAME {dir}` (or route-map), or `no bgp ebgp-requires-policy`"
                ));
            }
        }
    }
    let _ = writeln!(text, "\nTotal number of neighbors {}", peers.len());
    let dynamic = peers.iter().filter(|p| p.is_dynamic()).count();
    if dynamic > 0 {
        let limit = sp.config().bgp.as_ref().map_or(100, |b| b.listen_limit());
        let _ = writeln!(text, "* - dynamic neighbor\n{dynamic} dynamic neighbor(s), limit {limit}");
    }
    for n in notes {
        let _ = writeln!(text, "{n}");
    }
    text
}

fn peer_row(v: &View, p: &Peer, afi: Afi) -> String {
    let (rcvd, sent) = state_or_count(v, p, afi);
    let s = p.session();
    let up = if s.state() == State::Established || s.established_count > 0 {
        uptime(v.now.saturating_duration_since(s.since()))
    } else {
        "never".into()
    };
    // FRR marks a dynamic neighbor with `*` in front of its address.
    let addr = format!("{}{}", if p.is_dynamic() { "*" } else { "" }, p.name());
    let name = if addr.len() > 15 { format!("{addr}\n{:16}", "") } else { format!("{addr:<16}") };
    let (msg_in, msg_out) = p.messages();
    format!(
        "{name}4 {:>10} {:>9} {:>9} {:>8} {:>4} {:>4} {:>8} {:>12} {:>8} {}\n",
        p.remote_asn().unwrap_or(0),
        msg_in,
        msg_out,
        v.speaker.peer_table_version(p, afi),
        0,
        0,
        up,
        rcvd,
        sent,
        p.config().description.as_deref().unwrap_or("N/A")
    )
}
