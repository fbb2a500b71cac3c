//! Best-path selection in FRR's order, and eBGP/iBGP multipath.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};

use super::{Path, PeerId, Selection, LOCAL};

/// What selection needs to know about the peer a path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerInfo {
    pub ebgp: bool,
    pub router_id: Ipv4Addr,
    pub addr: IpAddr,
}

impl PeerInfo {
    pub const LOCAL: PeerInfo =
        PeerInfo { ebgp: false, router_id: Ipv4Addr::UNSPECIFIED, addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED) };
}

/// FRR gives locally originated routes weight 32768, which is why they
/// win before anything else is compared.
pub fn weight(p: &Path) -> u32 {
    p.attrs.weight().unwrap_or(if p.peer == LOCAL { 32768 } else { 0 })
}

/// Orders two candidates, better first. Up to `Tie::Multipath` the steps
/// are those under which paths are equal for multipath.
pub fn compare(a: &Path, b: &Path, peers: &dyn Fn(PeerId) -> PeerInfo) -> Ordering {
    match compare_until_multipath(a, b, peers) {
        Ordering::Equal => {}
        o => return o,
    }
    // A reflected route counts as from its originator (RFC 4456 9), and
    // the shorter CLUSTER_LIST wins before the neighbor address.
    let (pa, pb) = (info(a, peers), info(b, peers));
    let id = |p: &Path, i: PeerInfo| p.attrs.originator_id().unwrap_or(i.router_id);
    id(a, pa)
        .cmp(&id(b, pb))
        .then_with(|| a.attrs.cluster_list().len().cmp(&b.attrs.cluster_list().len()))
        .then_with(|| ip_key(pa.addr).cmp(&ip_key(pb.addr)))
}

fn info(p: &Path, peers: &dyn Fn(PeerId) -> PeerInfo) -> PeerInfo {
    if p.peer == LOCAL {
        PeerInfo::LOCAL
    } else {
        peers(p.peer)
    }
}

fn ip_key(a: IpAddr) -> (u8, u128) {
    match a {
        IpAddr::V4(v) => (4, u32::from(v) as u128),
        IpAddr::V6(v) => (6, u128::from(v)),
    }
}

fn compare_until_multipath(a: &Path, b: &Path, peers: &dyn Fn(PeerId) -> PeerInfo) -> Ordering {
    let (x, y) = (&*a.attrs, &*b.attrs);
    weight(b)
        .cmp(&weight(a))
        .then_with(|| y.local_pref.get().unwrap_or(100).cmp(&x.local_pref.get().unwrap_or(100)))
        .then_with(|| x.as_path().len().cmp(&y.as_path().len()))
        .then_with(|| x.origin.cmp(&y.origin))
        .then_with(|| {
            // MED only between routes from the same neighbouring AS.
            if x.as_path().first_as() == y.as_path().first_as() {
                x.med.get().unwrap_or(0).cmp(&y.med.get().unwrap_or(0))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| {
            let (ea, eb) = (info(a, peers).ebgp, info(b, peers).ebgp);
            eb.cmp(&ea)
        })
}

/// Sorts candidates best first and returns how many are selected: the best
/// and, up to maximum-paths, those equal to it for multipath (the same
/// AS_PATH; with `as-path multipath-relax`, one as long, as in FRR).
pub(super) fn select(list: &mut [Path], peers: &dyn Fn(PeerId) -> PeerInfo, sel: Selection) -> usize {
    list.sort_by(|a, b| compare(a, b, peers));
    let best = &list[0];
    let max = if best.peer != LOCAL && info(best, peers).ebgp { sel.maximum_paths } else { sel.maximum_paths_ibgp };
    let mut n = 1;
    while n < list.len() && n < max as usize {
        let c = &list[n];
        if c.peer == LOCAL
            || compare_until_multipath(best, c, peers) != Ordering::Equal
            || (!sel.multipath_relax && c.attrs.as_path() != best.attrs.as_path())
        {
            break;
        }
        n += 1;
    }
    n
}
