//! Peer-groups (`neighbor NAME peer-group`): a template of neighbor
//! settings; a member (`neighbor ADDR peer-group NAME`) takes every setting
//! it does not set itself from its group (`Neighbor::over`). Which ones it
//! set itself is kept in `Neighbor::explicit`, from the words of each line.

use std::net::IpAddr;

use super::model::{Bgp, FamilyField, Field, Neighbor};
use super::types::NeighborId;
use super::words::{invalid, LineError};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;

/// What `neighbor WORD ...` names.
pub(super) enum Target {
    Neighbor(NeighborId),
    Group(String),
}

/// An address, an interface neighbor's name (`neighbor eth0 interface`
/// made it), or a peer-group's.
pub(super) fn target(bgp: &Bgp, word: &str) -> Result<Target, LineError> {
    if let Ok(a) = word.parse::<IpAddr>() {
        return Ok(Target::Neighbor(NeighborId::Addr(a)));
    }
    let iface = NeighborId::Interface(word.to_string());
    if bgp.neighbor(&iface).is_some() {
        return Ok(Target::Neighbor(iface));
    }
    if bgp.groups.contains_key(word) {
        return Ok(Target::Group(word.to_string()));
    }
    invalid(format!(
        "{word} is neither a neighbor address, an interface neighbor nor a peer-group (create the group with \
         `neighbor {word} peer-group`, the interface neighbor with `neighbor {word} interface remote-as ...`)"
    ))
}

/// The neighbor or group a line's options go to.
pub(super) fn settings<'a>(bgp: &'a mut Bgp, t: &Target) -> Result<&'a mut Neighbor, LineError> {
    match t {
        Target::Group(g) => bgp.groups.get_mut(g).ok_or_else(|| LineError::Invalid(format!("no peer-group {g}"))),
        Target::Neighbor(a) => {
            let a = a.clone();
            bgp.neighbor_mut(&a).ok_or_else(|| {
                LineError::Invalid(format!(
                    "neighbor {a}: specify remote-as or peer-group first (`neighbor {a} remote-as ASN`)"
                ))
            })
        }
    }
}

/// `[no] neighbor NAME peer-group`, `[no] neighbor ADDR peer-group [NAME]`.
pub(super) fn command(bgp: &mut Bgp, no: bool, who: &str, group: Option<&str>) -> Result<(), LineError> {
    let neighbor = match target(bgp, who) {
        Ok(Target::Neighbor(id)) => Some(id),
        _ => None,
    };
    match (no, neighbor, group) {
        (false, None, None) => {
            bgp.groups.entry(who.to_string()).or_insert_with(group_template);
        }
        (true, None, None) => {
            let members: Vec<String> = bgp
                .neighbors
                .iter()
                .filter(|n| n.peer_group.as_deref() == Some(who))
                .map(|n| n.id.to_string())
                .collect();
            if !members.is_empty() {
                return invalid(format!("peer-group {who} has members ({}): unbind them first", members.join(", ")));
            }
            bgp.groups.remove(who);
            bgp.listen_ranges.retain(|(_, g)| g != who);
        }
        (false, Some(id), Some(g)) => bind(bgp, id, g)?,
        (true, Some(id), _) => unbind(bgp, &id),
        _ => return invalid("expected `neighbor NAME peer-group` or `neighbor ADDRESS peer-group NAME`"),
    }
    Ok(())
}

/// A new group: no settings of its own yet, not even a remote-as.
fn group_template() -> Neighbor {
    let mut g = Neighbor::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED).into(), RemoteAs::External);
    g.explicit.0.clear();
    g
}

pub(super) fn bind(bgp: &mut Bgp, addr: NeighborId, g: &str) -> Result<(), LineError> {
    let Some(group) = bgp.groups.get(g) else {
        return invalid(format!("no peer-group {g} (create it with `neighbor {g} peer-group`)"));
    };
    let group_as = group.explicit.has(Field::RemoteAs).then_some(group.remote_as);
    match bgp.neighbor_mut(&addr) {
        Some(n) => {
            let own = n.explicit.has(Field::RemoteAs).then_some(n.remote_as);
            if let (Some(a), Some(b)) = (own, group_as) {
                if a != b {
                    return invalid(format!("neighbor {addr} has its own remote-as, and peer-group {g} another"));
                }
            }
            n.peer_group = Some(g.to_string());
        }
        None => {
            let Some(remote) = group_as else {
                return invalid(format!(
                    "peer-group {g} has no remote-as: set `neighbor {g} remote-as ...` or `neighbor {addr} remote-as ...` first"
                ));
            };
            let mut n = Neighbor::new(addr, remote);
            n.explicit.0.remove(&Field::RemoteAs);
            n.peer_group = Some(g.to_string());
            bgp.neighbors.push(n);
        }
    }
    Ok(())
}

/// A member leaves its group; one with no remote-as of its own goes too.
fn unbind(bgp: &mut Bgp, addr: &NeighborId) {
    let keep = bgp.neighbor(addr).is_some_and(|n| n.explicit.has(Field::RemoteAs));
    if keep {
        if let Some(n) = bgp.neighbor_mut(addr) {
            n.peer_group = None;
        }
    } else {
        bgp.neighbors.retain(|n| n.id != *addr);
    }
}

/// The setting a neighbor line writes (`description`, `route-map X in`),
/// for `Neighbor::explicit`; `afi` for the per-family ones.
pub(super) fn field_of(w: &[&str], afi: Afi) -> Option<Field> {
    let fam = |f| Some(Field::Family(afi, f));
    match w {
        ["description", ..] => Some(Field::Description),
        ["timers", "connect", ..] => Some(Field::ConnectRetry),
        ["timers", ..] => Some(Field::Timers),
        ["shutdown", ..] => Some(Field::Shutdown),
        ["password", ..] => Some(Field::Password),
        ["ttl-security", ..] => Some(Field::TtlSecurity),
        ["ebgp-multihop", ..] => Some(Field::EbgpMultihop),
        ["update-source", ..] => Some(Field::UpdateSource),
        ["passive"] => Some(Field::Passive),
        ["local-as", ..] => Some(Field::LocalAs),
        ["disable-connected-check"] => Some(Field::DisableConnectedCheck),
        ["advertisement-interval", ..] => Some(Field::AdvertisementInterval),
        ["enforce-first-as"] => Some(Field::EnforceFirstAs),
        ["capability", "extended-nexthop"] => Some(Field::ExtendedNexthop),
        ["graceful-restart" | "graceful-restart-helper" | "graceful-restart-disable"] => Some(Field::GracefulRestart),
        ["bfd", ..] => Some(Field::Bfd),
        ["route-reflector-client"] => fam(FamilyField::RouteReflectorClient),
        ["activate"] => fam(FamilyField::Activate),
        ["prefix-list", _, "in"] => fam(FamilyField::PrefixListIn),
        ["prefix-list", _, "out"] => fam(FamilyField::PrefixListOut),
        ["route-map", _, "in"] => fam(FamilyField::RouteMapIn),
        ["route-map", _, "out"] => fam(FamilyField::RouteMapOut),
        ["default-originate"] => fam(FamilyField::DefaultOriginate),
        ["next-hop-self", ..] => fam(FamilyField::NextHopSelf),
        ["maximum-prefix", ..] => fam(FamilyField::MaximumPrefix),
        ["allowas-in", ..] => fam(FamilyField::AllowasIn),
        ["as-override"] => fam(FamilyField::AsOverride),
        ["soft-reconfiguration", ..] => fam(FamilyField::SoftReconfiguration),
        ["send-community", ..] => fam(FamilyField::SendCommunity),
        ["remove-private-AS" | "remove-private-as", ..] => fam(FamilyField::RemovePrivateAs),
        _ => None,
    }
}

/// Records that a line set (or, with `no`, unset) a setting of `n`.
pub(super) fn note(n: &mut Neighbor, no: bool, w: &[&str], afi: Afi) {
    if let Some(f) = field_of(w, afi) {
        // For these the `no` form is the setting: off what is on by default.
        let no_sets = matches!(f, Field::EnforceFirstAs | Field::Family(_, FamilyField::SendCommunity));
        if no && !no_sets {
            n.explicit.0.remove(&f);
        } else {
            n.explicit.0.insert(f);
        }
    }
}
