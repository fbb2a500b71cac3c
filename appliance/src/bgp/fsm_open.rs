//! The OPEN exchange of a session (RFC 4271 6.2, 8.2.2): what we offer,
//! the checks of the peer's, and what the two settle.

use std::time::{Duration, Instant};

use super::*;

impl Session {
    pub(super) fn our_open(&self) -> Open {
        let mut capabilities: Vec<Capability> =
            self.cfg.families.iter().map(|a| Capability::Multiprotocol(a.code(), Afi::SAFI_UNICAST)).collect();
        capabilities.extend([
            Capability::RouteRefresh,
            Capability::FourOctetAs(self.cfg.local_as),
            Capability::ExtendedMessage,
        ]);
        capabilities.extend(self.cfg.graceful_restart.clone().map(Capability::GracefulRestart));
        if self.cfg.extended_nexthop {
            capabilities.push(Capability::ExtendedNextHop(vec![crate::bgp::packet::IPV4_OVER_IPV6]));
        }
        Open {
            version: 4,
            asn: self.cfg.local_as,
            hold_time: self.cfg.hold_time,
            bgp_id: self.cfg.router_id,
            capabilities,
        }
    }

    pub(super) fn on_open(&mut self, now: Instant, i: usize, open: Open, out: &mut Vec<Action>) {
        let id = self.conns[i].id;
        if let Err((n, why)) = self.check_open(&open) {
            self.fail(now, id, n, why, out);
            return;
        }
        let ours = self.our_open();
        let hold_time = self.cfg.hold_time.min(open.hold_time);
        let keepalive = if hold_time == 0 { 0 } else { self.cfg.keepalive.min(hold_time / 3).max(1) };
        let extended = open.has(&Capability::ExtendedMessage);
        let peer_families = open.families();
        let neg = Negotiated {
            codec: Codec {
                four_octet_as: open.four_octet_as().is_some(),
                max_len: if extended { EXTENDED_MAX_LEN } else { MAX_LEN },
            },
            hold_time,
            keepalive,
            families: ours.families().into_iter().filter(|f| peer_families.contains(f)).collect(),
            route_refresh: open.has(&Capability::RouteRefresh),
            extended_nexthop: self.cfg.extended_nexthop && open.extended_nexthop_v4(),
            peer: open,
        };
        let peer_id = neg.peer.bgp_id;
        let c = &mut self.conns[i];
        c.state = State::OpenConfirm;
        c.hold_deadline = hold_deadline(now, Some(&neg));
        c.keepalive_at = (keepalive > 0).then(|| now + Duration::from_secs(keepalive as u64));
        c.negotiated = Some(neg);
        out.push(Action::Send(id, Message::Keepalive));

        // Connection collision (RFC 4271 6.8).
        let others: Vec<(ConnId, State)> = self.conns.iter().filter(|c| c.id != id).map(|c| (c.id, c.state)).collect();
        for (other, state) in others {
            let loser = if state == State::Established {
                id
            } else if state == State::OpenConfirm || state == State::OpenSent {
                // The connection opened by the side with the higher BGP
                // Identifier survives.
                let local_wins = u32::from(self.cfg.router_id) > u32::from(peer_id);
                let this_outbound = self.conns[i].outbound;
                if local_wins == this_outbound {
                    other
                } else {
                    id
                }
            } else {
                continue;
            };
            let n = Notification::new(err::CEASE, err::COLLISION, []);
            out.push(Action::Send(loser, Message::Notification(n)));
            out.push(Action::Close(loser));
            self.conns.retain(|c| c.id != loser);
            if loser == id {
                return;
            }
            break;
        }
    }

    fn check_open(&self, open: &Open) -> Result<(), (Notification, String)> {
        // The AS it sent goes back in the data, as FRR does, so that its
        // operator sees which one we refused.
        let sent = match u16::try_from(open.asn) {
            Ok(a) => a.to_be_bytes().to_vec(),
            Err(_) => open.asn.to_be_bytes().to_vec(),
        };
        let bad_as = |why: String| (Notification::new(err::OPEN, err::BAD_PEER_AS, sent.clone()), why);
        let ok_as = match self.cfg.remote_as {
            RemoteAs::Asn(a) => open.asn == a,
            RemoteAs::Internal => open.asn == self.cfg.local_as,
            RemoteAs::External => open.asn != self.cfg.local_as,
        };
        if !ok_as {
            let want = match self.cfg.remote_as {
                RemoteAs::Asn(a) => a.to_string(),
                RemoteAs::Internal => format!("internal ({})", self.cfg.local_as),
                RemoteAs::External => format!("external (not {})", self.cfg.local_as),
            };
            return Err(bad_as(format!("Bad Peer AS: peer says AS {}, configured remote-as {want}", open.asn)));
        }
        let id = open.bgp_id;
        let ibgp = open.asn == self.cfg.local_as;
        if id.is_unspecified() || id.is_multicast() || id.is_broadcast() || (ibgp && id == self.cfg.router_id) {
            return Err((
                Notification::new(err::OPEN, err::BAD_BGP_ID, id.octets()),
                format!("Bad BGP Identifier {id}"),
            ));
        }
        if open.hold_time == 1 || open.hold_time == 2 {
            return Err((
                Notification::new(err::OPEN, err::UNACCEPTABLE_HOLD_TIME, []),
                format!("Unacceptable Hold Time {}", open.hold_time),
            ));
        }
        Ok(())
    }
}
