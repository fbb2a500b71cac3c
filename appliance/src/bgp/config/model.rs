//! The configuration model: what bgpd.conf says, in FRR's vocabulary.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::logging::Logging;
use super::types::{Bfd, NeighborId, StaticRoute};
use crate::bgp::fsm::RemoteAs;
use crate::bgp::packet::Afi;
use crate::bgp::policy::{AsPathList, CommunityList, Definitions, PrefixList, RouteMap};

/// Copies each field from `$src` into `$dst` unless `$own(key)` says it
/// was set on `$dst` itself (a peer-group member's own settings).
macro_rules! inherit {
    ($dst:expr, $src:expr, $own:expr, { $($field:ident: $key:expr),* $(,)? }) => {
        $(
            if !$own($key) {
                $dst.$field = $src.$field.clone();
            }
        )*
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub frr_version: Option<String>,
    pub frr_defaults: Option<String>,
    pub hostname: Option<String>,
    /// `log ...` and `debug ...` lines.
    pub logging: Logging,
    pub bgp: Option<Bgp>,
    pub prefix_lists: BTreeMap<(Afi, String), PrefixList>,
    pub route_maps: BTreeMap<String, RouteMap>,
    /// `bgp community-list` (and FRR 6's `ip community-list`).
    pub community_lists: BTreeMap<String, CommunityList>,
    pub large_community_lists: BTreeMap<String, CommunityList>,
    pub as_path_lists: BTreeMap<String, AsPathList>,
    /// `ip route` / `ipv6 route`: installed by bgpd as protocol static.
    pub statics: Vec<StaticRoute>,
    /// The `bfd` block (None: none written).
    pub bfd: Option<Bfd>,
}

impl Definitions for Config {
    fn prefix_list(&self, afi: Afi, name: &str) -> Option<&PrefixList> {
        self.prefix_lists.get(&(afi, name.to_string()))
    }

    fn community_list(&self, name: &str) -> Option<&CommunityList> {
        self.community_lists.get(name)
    }

    fn large_community_list(&self, name: &str) -> Option<&CommunityList> {
        self.large_community_lists.get(name)
    }

    fn as_path_list(&self, name: &str) -> Option<&AsPathList> {
        self.as_path_lists.get(name)
    }

    fn route_map(&self, name: &str) -> Option<&RouteMap> {
        self.route_maps.get(name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp {
    pub asn: u32,
    pub router_id: Option<Ipv4Addr>,
    pub ebgp_requires_policy: bool,
    /// `bgp default ipv4-unicast` (on unless `no bgp default ipv4-unicast`).
    pub default_ipv4_unicast: bool,
    /// `bgp network import-check` (on unless turned off).
    pub network_import_check: bool,
    pub log_neighbor_changes: bool,
    /// `bgp bestpath as-path multipath-relax`: multipath over paths of
    /// equal length from different ASes.
    pub multipath_relax: bool,
    /// `bgp bestpath compare-routerid` (bgpbox always compares them).
    pub compare_routerid: bool,
    /// `[no] bgp deterministic-med` as written (bgpbox compares MED
    /// between paths of one neighboring AS whatever their order).
    pub deterministic_med: Option<bool>,
    /// `timers bgp KEEPALIVE HOLD`: for neighbors without their own.
    pub timers: Option<(u16, u16)>,
    /// `bgp cluster-id`: the route reflector's CLUSTER_LIST entry (else
    /// the router-id).
    pub cluster_id: Option<Ipv4Addr>,
    /// `bgp graceful-restart` / `bgp graceful-restart-disable` (FRR's
    /// default: helper only).
    pub graceful_restart: GrMode,
    /// `bgp graceful-restart restart-time N` (120) and `stalepath-time N`
    /// (360).
    pub gr_restart_time: Option<u16>,
    pub gr_stalepath_time: Option<u16>,
    /// The neighbors as configured: their own settings (a peer-group
    /// member's are completed by its group: see `effective`).
    pub neighbors: Vec<Neighbor>,
    /// Peer-groups by name: templates of neighbor settings (`addr` unused).
    pub groups: BTreeMap<String, Neighbor>,
    /// `bgp listen range PREFIX peer-group NAME`: connections from these
    /// become dynamic neighbors of the group.
    pub listen_ranges: Vec<(IpNet, String)>,
    /// `bgp listen limit N`: at most this many dynamic neighbors at once.
    pub listen_limit: Option<u32>,
    pub families: BTreeMap<Afi, Family>,
}

impl Bgp {
    pub fn new(asn: u32) -> Bgp {
        Bgp {
            asn,
            router_id: None,
            ebgp_requires_policy: true,
            default_ipv4_unicast: true,
            network_import_check: true,
            log_neighbor_changes: false,
            multipath_relax: false,
            compare_routerid: false,
            deterministic_med: None,
            timers: None,
            cluster_id: None,
            graceful_restart: GrMode::Helper,
            gr_restart_time: None,
            gr_stalepath_time: None,
            neighbors: Vec::new(),
            groups: BTreeMap::new(),
            listen_ranges: Vec::new(),
            listen_limit: None,
            families: BTreeMap::new(),
        }
    }

    /// The peer-group of the listen range that holds `addr` (the longest).
    pub fn listen_group(&self, addr: IpAddr) -> Option<&str> {
        self.listen_ranges
            .iter()
            .filter(|(r, _)| r.contains(&addr))
            .max_by_key(|(r, _)| r.prefix_len())
            .map(|(_, g)| g.as_str())
    }

    /// What a dynamic neighbor at `addr` applies: its range's group, with
    /// the group's remote-as (None: no range, or a group without one),
    /// passive.
    pub fn dynamic_neighbor(&self, addr: IpAddr) -> Option<Neighbor> {
        let name = self.listen_group(addr)?;
        let g = self.groups.get(name)?;
        if !g.explicit.has(Field::RemoteAs) {
            return None;
        }
        let mut n = Neighbor::new(addr.into(), g.remote_as);
        n.explicit.0.clear();
        n.peer_group = Some(name.to_string());
        let mut n = n.over(g);
        n.passive = true;
        Some(n)
    }

    /// FRR's default of 100.
    pub fn listen_limit(&self) -> u32 {
        self.listen_limit.unwrap_or(100)
    }

    /// A neighbor's own settings (see `effective` for what applies).
    pub fn neighbor(&self, id: &NeighborId) -> Option<&Neighbor> {
        self.neighbors.iter().find(|n| n.id == *id)
    }

    /// What applies to a neighbor: its own settings over its peer-group's.
    pub fn effective(&self, n: &Neighbor) -> Neighbor {
        match n.peer_group.as_ref().and_then(|g| self.groups.get(g)) {
            Some(g) => n.over(g),
            None => n.clone(),
        }
    }

    /// Every neighbor as it applies: those with a remote-as (an interface
    /// neighbor may wait for one on a later line).
    pub fn effective_neighbors(&self) -> Vec<Neighbor> {
        self.neighbors.iter().filter(|n| self.has_remote_as(n)).map(|n| self.effective(n)).collect()
    }

    /// A neighbor as it applies, once it has a remote-as.
    pub fn effective_neighbor(&self, id: &NeighborId) -> Option<Neighbor> {
        self.neighbor(id).filter(|n| self.has_remote_as(n)).map(|n| self.effective(n))
    }

    /// Its own remote-as, or its group's.
    pub fn has_remote_as(&self, n: &Neighbor) -> bool {
        n.explicit.has(Field::RemoteAs)
            || n.peer_group.as_ref().and_then(|g| self.groups.get(g)).is_some_and(|g| g.explicit.has(Field::RemoteAs))
    }

    pub fn neighbor_mut(&mut self, id: &NeighborId) -> Option<&mut Neighbor> {
        self.neighbors.iter_mut().find(|n| n.id == *id)
    }

    pub fn family(&self, afi: Afi) -> &Family {
        static NONE: Family = Family {
            networks: Vec::new(),
            maximum_paths: None,
            maximum_paths_ibgp: None,
            redistribute: BTreeMap::new(),
        };
        self.families.get(&afi).unwrap_or(&NONE)
    }
}

/// Graceful restart (RFC 4724) as FRR names its modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrMode {
    /// Keeps a restarting neighbor's routes; does not restart gracefully.
    #[default]
    Helper,
    /// Helper, and restarts gracefully itself: its peers keep its routes.
    Restart,
    Disable,
}

/// `address-family ... unicast` settings of the BGP instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Family {
    pub networks: Vec<IpNet>,
    /// `maximum-paths N` for eBGP (1: no multipath).
    pub maximum_paths: Option<u16>,
    pub maximum_paths_ibgp: Option<u16>,
    /// `redistribute connected|static|kernel [metric N] [route-map NAME]`.
    pub redistribute: BTreeMap<Source, Redistribute>,
}

/// Where redistributed routes come from: the kernel's main table, as
/// FRR's zebra sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Networks on the interfaces (proto kernel, scope link).
    Connected,
    /// Routes of protocol static (netsetup's, the profile's).
    Static,
    /// Any other route not bgpd's own (`ip route add`, DHCP, ...).
    Kernel,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Connected => "connected",
            Source::Static => "static",
            Source::Kernel => "kernel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redistribute {
    /// MED of the routes (else the kernel route's metric).
    pub metric: Option<u32>,
    pub route_map: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub id: NeighborId,
    /// `neighbor IFNAME interface v6only`: the session only ever over the
    /// IPv6 link-local address (not to the other end of a /30 or /31).
    pub v6only: bool,
    /// `neighbor ADDR interface IFNAME`: the interface of a link-local
    /// neighbor address.
    pub interface: Option<String>,
    pub remote_as: RemoteAs,
    pub description: Option<String>,
    /// `timers KEEPALIVE HOLD`.
    pub timers: Option<(u16, u16)>,
    pub connect_retry: Option<u16>,
    /// `shutdown [message TEXT]`: Some("") without a message.
    pub shutdown: Option<String>,
    pub password: Option<String>,
    pub ttl_security_hops: Option<u8>,
    pub update_source: Option<String>,
    pub passive: bool,
    pub ebgp_multihop: Option<u8>,
    /// `local-as N [no-prepend [replace-as]]`.
    pub local_as: Option<LocalAs>,
    /// `disable-connected-check`, as written: bgpbox does not require a
    /// single-hop eBGP neighbor on a connected network anyway.
    pub disable_connected_check: bool,
    /// `advertisement-interval N`, as written: bgpbox sends changes as
    /// they come, batched per loop turn (FRR 8's default of 0 s).
    pub advertisement_interval: Option<u16>,
    /// `no neighbor X enforce-first-as` turns the first-AS check off.
    pub enforce_first_as: bool,
    /// `capability extended-nexthop`, as written (RFC 8950 comes with
    /// unnumbered neighbors).
    pub extended_nexthop: bool,
    /// `neighbor X graceful-restart[-helper|-disable]`: over the
    /// instance's mode.
    pub graceful_restart: Option<GrMode>,
    /// `neighbor X bfd [profile NAME]`: Some(profile) when on.
    pub bfd: Option<Option<String>>,
    pub families: BTreeMap<Afi, NeighborFamily>,
    /// `neighbor X peer-group NAME`.
    pub peer_group: Option<String>,
    /// Which settings were written for this neighbor (or group) itself:
    /// those override a peer-group's; the others come from it.
    pub explicit: Explicit,
}

/// A neighbor setting a peer-group member can take from its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    RemoteAs,
    Description,
    Timers,
    ConnectRetry,
    Shutdown,
    Password,
    TtlSecurity,
    EbgpMultihop,
    UpdateSource,
    Passive,
    LocalAs,
    DisableConnectedCheck,
    AdvertisementInterval,
    EnforceFirstAs,
    ExtendedNexthop,
    GracefulRestart,
    Bfd,
    Family(Afi, FamilyField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FamilyField {
    Activate,
    PrefixListIn,
    PrefixListOut,
    RouteMapIn,
    RouteMapOut,
    DefaultOriginate,
    NextHopSelf,
    MaximumPrefix,
    AllowasIn,
    AsOverride,
    RemovePrivateAs,
    SoftReconfiguration,
    SendCommunity,
    RouteReflectorClient,
}

/// The settings written for a neighbor itself. Bookkeeping of how a config
/// was written, not part of what it means: two configs compare equal
/// whatever theirs (a neighbor outside a peer-group applies the same
/// whether a default was written or not).
#[derive(Debug, Clone, Default)]
pub struct Explicit(pub BTreeSet<Field>);

impl PartialEq for Explicit {
    fn eq(&self, _: &Explicit) -> bool {
        true
    }
}

impl Eq for Explicit {}

impl Explicit {
    pub fn has(&self, f: Field) -> bool {
        self.0.contains(&f)
    }
}

impl Neighbor {
    pub fn new(id: NeighborId, remote_as: RemoteAs) -> Neighbor {
        Neighbor {
            id,
            v6only: false,
            interface: None,
            remote_as,
            description: None,
            timers: None,
            connect_retry: None,
            shutdown: None,
            password: None,
            ttl_security_hops: None,
            update_source: None,
            passive: false,
            ebgp_multihop: None,
            local_as: None,
            disable_connected_check: false,
            advertisement_interval: None,
            enforce_first_as: true,
            extended_nexthop: false,
            graceful_restart: None,
            bfd: None,
            families: BTreeMap::new(),
            peer_group: None,
            explicit: Explicit([Field::RemoteAs].into()),
        }
    }

    /// This neighbor's own settings over `group`'s.
    pub fn over(&self, group: &Neighbor) -> Neighbor {
        let own = |f: Field| self.explicit.has(f);
        let mut n = self.clone();
        inherit!(n, group, own, {
            remote_as: Field::RemoteAs,
            description: Field::Description,
            timers: Field::Timers,
            connect_retry: Field::ConnectRetry,
            shutdown: Field::Shutdown,
            password: Field::Password,
            ttl_security_hops: Field::TtlSecurity,
            ebgp_multihop: Field::EbgpMultihop,
            update_source: Field::UpdateSource,
            passive: Field::Passive,
            local_as: Field::LocalAs,
            disable_connected_check: Field::DisableConnectedCheck,
            advertisement_interval: Field::AdvertisementInterval,
            enforce_first_as: Field::EnforceFirstAs,
            extended_nexthop: Field::ExtendedNexthop,
            graceful_restart: Field::GracefulRestart,
            bfd: Field::Bfd,
        });
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let (g, mine) = (group.families.get(&afi), self.families.get(&afi));
            if g.is_none() {
                continue;
            }
            let g = g.cloned().unwrap_or_default();
            let mut f = mine.cloned().unwrap_or_else(|| g.clone());
            f.merge(&g, |ff| own(Field::Family(afi, ff)));
            n.families.insert(afi, f);
        }
        n
    }

    /// Whether the neighbor is eBGP for an instance of AS `local`.
    pub fn is_ebgp(&self, local: u32) -> bool {
        match self.remote_as {
            RemoteAs::Asn(a) => a != local,
            RemoteAs::Internal => false,
            RemoteAs::External => true,
        }
    }

    /// The family settings, with FRR's default activation: IPv4 unicast is
    /// on unless turned off (given `bgp default ipv4-unicast`), IPv6 needs
    /// `activate`.
    pub fn family(&self, afi: Afi, default_ipv4: bool) -> &NeighborFamily {
        // Borrowed, not built: this is on the per-route path.
        static ACTIVE: NeighborFamily = NeighborFamily::new(true);
        static INACTIVE: NeighborFamily = NeighborFamily::new(false);
        match self.families.get(&afi) {
            Some(f) => f,
            None if afi == Afi::Ipv4 && default_ipv4 => &ACTIVE,
            None => &INACTIVE,
        }
    }

    /// RFC 8950's extended next hop: IPv4 routes with IPv6 next hops, on
    /// by itself for an interface neighbor (`v6only` too, as in FRR).
    pub fn wants_extended_nexthop(&self) -> bool {
        self.extended_nexthop || matches!(self.id, NeighborId::Interface(_))
    }

    pub fn active_families(&self, default_ipv4: bool) -> Vec<Afi> {
        [Afi::Ipv4, Afi::Ipv6].into_iter().filter(|a| self.family(*a, default_ipv4).activate).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighborFamily {
    pub activate: bool,
    pub prefix_list_in: Option<String>,
    pub prefix_list_out: Option<String>,
    pub route_map_in: Option<String>,
    pub route_map_out: Option<String>,
    pub default_originate: bool,
    pub next_hop_self: bool,
    /// `next-hop-self force`: our address also on reflected routes.
    pub next_hop_self_force: bool,
    pub maximum_prefix: Option<u32>,
    /// `allowas-in [N|origin]`: our AS may stand in a received path N
    /// times (3 when not given); origin: only as the originating AS.
    pub allowas_in: Option<AllowasIn>,
    /// `as-override`: the neighbor's AS in a path sent to it becomes ours.
    pub as_override: bool,
    /// `remove-private-AS [all] [replace-AS]`.
    pub remove_private_as: Option<RemovePrivate>,
    /// `soft-reconfiguration inbound`, as written: bgpbox asks for the
    /// routes again (ROUTE-REFRESH) when inbound policy changes.
    pub soft_reconfiguration: bool,
    /// `no neighbor X send-community [standard|extended|large|both|all]`:
    /// which communities are not sent (FRR sends them all by default).
    pub no_send: NoSend,
    /// `route-reflector-client` (RFC 4456).
    pub route_reflector_client: bool,
}

/// `local-as N [no-prepend [replace-as]]`: the AS this neighbor sees us
/// as; no-prepend: not put in the paths it sends us; replace-as: our real
/// AS left out of the paths we send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAs {
    pub asn: u32,
    pub no_prepend: bool,
    pub replace_as: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoSend {
    pub standard: bool,
    pub extended: bool,
    pub large: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowasIn {
    Times(u8),
    Origin,
}

/// `remove-private-AS`: private ASes leave a path sent to an eBGP
/// neighbor; without `all` only when the path has no other; with
/// `replace-AS` they become our AS instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovePrivate {
    pub all: bool,
    pub replace: bool,
}

impl NeighborFamily {
    pub const fn new(activate: bool) -> NeighborFamily {
        NeighborFamily {
            activate,
            prefix_list_in: None,
            prefix_list_out: None,
            route_map_in: None,
            route_map_out: None,
            default_originate: false,
            next_hop_self: false,
            next_hop_self_force: false,
            maximum_prefix: None,
            allowas_in: None,
            as_override: false,
            remove_private_as: None,
            soft_reconfiguration: false,
            no_send: NoSend { standard: false, extended: false, large: false },
            route_reflector_client: false,
        }
    }

    /// Takes from `group` every setting `own` says was not written here.
    fn merge(&mut self, group: &NeighborFamily, own: impl Fn(FamilyField) -> bool) {
        inherit!(self, group, own, {
            activate: FamilyField::Activate,
            prefix_list_in: FamilyField::PrefixListIn,
            prefix_list_out: FamilyField::PrefixListOut,
            route_map_in: FamilyField::RouteMapIn,
            route_map_out: FamilyField::RouteMapOut,
            default_originate: FamilyField::DefaultOriginate,
            next_hop_self: FamilyField::NextHopSelf,
            next_hop_self_force: FamilyField::NextHopSelf,
            maximum_prefix: FamilyField::MaximumPrefix,
            allowas_in: FamilyField::AllowasIn,
            as_override: FamilyField::AsOverride,
            remove_private_as: FamilyField::RemovePrivateAs,
            soft_reconfiguration: FamilyField::SoftReconfiguration,
            no_send: FamilyField::SendCommunity,
            route_reflector_client: FamilyField::RouteReflectorClient,
        });
    }

    pub fn has_policy_in(&self) -> bool {
        self.prefix_list_in.is_some() || self.route_map_in.is_some()
    }

    pub fn has_policy_out(&self) -> bool {
        self.prefix_list_out.is_some() || self.route_map_out.is_some()
    }
}
