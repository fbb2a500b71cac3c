//! The parts of an attribute set that vary in size, in one run of words:
//! a header, then AS_PATH's words (segment headers and ASes), the next
//! hop (1 word for IPv4, 4 for IPv6), the link-local next hop (4 words)
//! and COMMUNITIES. Kept apart, they cost a set three pointers and two
//! or three allocations; together, one.
//!
//! The header: bits 0-28 the AS_PATH's word count, 29-30 the next hop's
//! family (0 none, 1 IPv4, 2 IPv6), 31 a link-local next hop. No words
//! at all when every part is empty, so that equal sets are equal words.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{AsPath, PathAttrs, Rare};

const PATH_LEN: u32 = (1 << 29) - 1;
const NH_SHIFT: u32 = 29;
const NH_V4: u32 = 1;
const NH_V6: u32 = 2;
const LINK_LOCAL: u32 = 1 << 31;

/// The packed parts of a `PathAttrs`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Words(Box<[u32]>);

/// The unpacked view of the words.
struct Parts<'a> {
    as_path: &'a [u32],
    next_hop: Option<IpAddr>,
    link_local: Option<Ipv6Addr>,
    communities: &'a [u32],
}

fn v6_words(a: &Ipv6Addr) -> [u32; 4] {
    let o = a.octets();
    std::array::from_fn(|i| u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]))
}

fn v6_of(w: &[u32]) -> Option<Ipv6Addr> {
    let w: [u32; 4] = w.try_into().ok()?;
    let mut o = [0u8; 16];
    for (i, x) in w.iter().enumerate() {
        o[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    Some(Ipv6Addr::from(o))
}

fn pack(p: &Parts) -> Words {
    if p.as_path.is_empty() && p.next_hop.is_none() && p.link_local.is_none() && p.communities.is_empty() {
        return Words::default();
    }
    // An AS_PATH attribute is at most 65,535 bytes: far below the field,
    // unless policy prepends a path into the millions of ASes.
    let path = &p.as_path[..p.as_path.len().min(PATH_LEN as usize)];
    let nh_words = match p.next_hop {
        None => 0,
        Some(IpAddr::V4(_)) => 1,
        Some(IpAddr::V6(_)) => 4,
    };
    let ll_words = if p.link_local.is_some() { 4 } else { 0 };
    let mut v = Vec::with_capacity(1 + path.len() + nh_words + ll_words + p.communities.len());
    let family = match p.next_hop {
        None => 0,
        Some(IpAddr::V4(_)) => NH_V4,
        Some(IpAddr::V6(_)) => NH_V6,
    };
    let ll = if p.link_local.is_some() { LINK_LOCAL } else { 0 };
    v.push(path.len() as u32 | family << NH_SHIFT | ll);
    v.extend_from_slice(path);
    match p.next_hop {
        Some(IpAddr::V4(a)) => v.push(u32::from(a)),
        Some(IpAddr::V6(a)) => v.extend_from_slice(&v6_words(&a)),
        None => {}
    }
    if let Some(a) = &p.link_local {
        v.extend_from_slice(&v6_words(a));
    }
    v.extend_from_slice(p.communities);
    Words(v.into_boxed_slice())
}

/// Words only `pack` wrote; should they ever be short, what is missing
/// reads as absent rather than panicking.
fn unpack(w: &Words) -> Parts<'_> {
    let w = &w.0[..];
    let Some((&h, rest)) = w.split_first() else {
        return Parts { as_path: &[], next_hop: None, link_local: None, communities: &[] };
    };
    let n = ((h & PATH_LEN) as usize).min(rest.len());
    let (as_path, rest) = rest.split_at(n);
    let (next_hop, rest) = match (h >> NH_SHIFT) & 3 {
        NH_V4 if !rest.is_empty() => (Some(IpAddr::V4(Ipv4Addr::from(rest[0]))), &rest[1..]),
        NH_V6 if rest.len() >= 4 => (v6_of(&rest[..4]).map(IpAddr::V6), &rest[4..]),
        _ => (None, rest),
    };
    let (link_local, communities) =
        if h & LINK_LOCAL != 0 && rest.len() >= 4 { (v6_of(&rest[..4]), &rest[4..]) } else { (None, rest) };
    Parts { as_path, next_hop, link_local, communities }
}

impl PathAttrs {
    pub fn as_path(&self) -> AsPath<&[u32]> {
        AsPath::borrowed(unpack(&self.words).as_path)
    }

    /// NEXT_HOP for IPv4, or MP_REACH's global next hop.
    pub fn next_hop(&self) -> Option<IpAddr> {
        unpack(&self.words).next_hop
    }

    /// MP_REACH's link-local IPv6 next hop, when sent.
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        unpack(&self.words).link_local
    }

    pub fn communities(&self) -> &[u32] {
        unpack(&self.words).communities
    }

    /// All four at once (decoding, a default route sent): one allocation.
    pub fn set_parts<D: AsRef<[u32]>>(
        &mut self,
        as_path: &AsPath<D>,
        next_hop: Option<IpAddr>,
        link_local: Option<Ipv6Addr>,
        communities: &[u32],
    ) {
        self.words = pack(&Parts { as_path: as_path.words(), next_hop, link_local, communities });
    }

    pub fn set_as_path<D: AsRef<[u32]>>(&mut self, p: &AsPath<D>) {
        let w = pack(&Parts { as_path: p.words(), ..unpack(&self.words) });
        self.words = w;
    }

    /// Prepends `asn` `times` times (`set as-path prepend`, `local-as`).
    pub fn prepend_as(&mut self, asn: u32, times: usize) {
        let mut p = self.as_path().owned();
        p.prepend(asn, times);
        self.set_as_path(&p);
    }

    pub fn set_next_hop(&mut self, next_hop: Option<IpAddr>) {
        let w = pack(&Parts { next_hop, ..unpack(&self.words) });
        self.words = w;
    }

    /// The global and the link-local next hop together.
    pub fn set_next_hops(&mut self, next_hop: Option<IpAddr>, link_local: Option<Ipv6Addr>) {
        let w = pack(&Parts { next_hop, link_local, ..unpack(&self.words) });
        self.words = w;
    }

    pub fn set_communities(&mut self, communities: &[u32]) {
        let w = pack(&Parts { communities, ..unpack(&self.words) });
        self.words = w;
    }

    /// What the set holds on the heap: its words and its rare part.
    pub fn heap_bytes(&self) -> usize {
        let rare = self.rare.as_ref().map_or(0, |r| {
            std::mem::size_of::<Rare>()
                + r.large_communities.len() * 12
                + r.other.iter().map(|o| o.data.len() + std::mem::size_of_val(o)).sum::<usize>()
                + r.cluster_list.len() * 4
        });
        self.words.0.len() * 4 + rare
    }

    /// A copy with other next hops, its words packed once (an IPv6
    /// UPDATE's attributes take MP_REACH's next hops for every prefix).
    pub fn with_next_hops(&self, next_hop: Option<IpAddr>, link_local: Option<Ipv6Addr>) -> PathAttrs {
        self.with_path_and_hops(None, next_hop, link_local)
    }

    /// A copy with a new AS_PATH (None: the same) and next hops, what
    /// export rewrites, its words packed once.
    pub fn with_path_and_hops(
        &self,
        as_path: Option<&AsPath>,
        next_hop: Option<IpAddr>,
        link_local: Option<Ipv6Addr>,
    ) -> PathAttrs {
        let old = unpack(&self.words);
        let as_path = as_path.map_or(old.as_path, |p| p.words());
        PathAttrs {
            words: pack(&Parts { as_path, next_hop, link_local, ..old }),
            med: self.med,
            local_pref: self.local_pref,
            origin: self.origin,
            rare: self.rare.clone(),
        }
    }

    pub fn with_as_path<D: AsRef<[u32]>>(mut self, p: &AsPath<D>) -> Self {
        self.set_as_path(p);
        self
    }

    pub fn with_next_hop(mut self, next_hop: IpAddr) -> Self {
        self.set_next_hop(Some(next_hop));
        self
    }

    pub fn with_communities(mut self, communities: &[u32]) -> Self {
        self.set_communities(communities);
        self
    }
}

impl fmt::Debug for PathAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathAttrs")
            .field("origin", &self.origin)
            .field("as_path", &self.as_path().to_string())
            .field("next_hop", &self.next_hop())
            .field("link_local", &self.link_local())
            .field("med", &self.med.get())
            .field("local_pref", &self.local_pref.get())
            .field("communities", &self.communities())
            .field("rare", &self.rare)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::packet::attr::SegmentKind;

    #[test]
    fn every_part_round_trips_alone_and_together() {
        let path =
            AsPath::from_segments([(SegmentKind::Sequence, &[65001, 4_200_000_000][..]), (SegmentKind::Set, &[7])]);
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        for hop in [None, Some(v4), Some(v6)] {
            for link_local in [None, Some(ll)] {
                for communities in [&[][..], &[0xfde8_0001, 7][..]] {
                    for p in [AsPath::default(), path.clone()] {
                        let mut a = PathAttrs::default();
                        a.set_parts(&p, hop, link_local, communities);
                        assert_eq!(a.as_path(), p);
                        assert_eq!((a.next_hop(), a.link_local(), a.communities()), (hop, link_local, communities));
                        // One part changed, the others kept.
                        let mut b = a.clone();
                        b.set_communities(&[1]);
                        assert_eq!((b.as_path(), b.next_hop(), b.link_local()), (p.view(), hop, link_local));
                        b.set_communities(communities);
                        assert_eq!(a, b);
                    }
                }
            }
        }
        // Nothing set is no allocation, and equal to the default.
        let mut a = PathAttrs::default().with_communities(&[1]);
        a.set_communities(&[]);
        assert_eq!(a, PathAttrs::default());
        assert!(a.words.0.is_empty());
    }

    #[test]
    fn a_rewritten_copy_keeps_what_it_does_not_rewrite() {
        let hop: IpAddr = "192.0.2.1".parse().unwrap();
        let mut a = PathAttrs { med: Some(7).into(), origin: super::super::Origin::Egp, ..Default::default() }
            .with_as_path(&AsPath::sequence(&[65001]))
            .with_next_hop(hop)
            .with_communities(&[9]);
        a.rare_mut().weight = Some(5);
        let out: IpAddr = "198.51.100.1".parse().unwrap();
        let b = a.with_path_and_hops(Some(&AsPath::sequence(&[65000, 65001])), Some(out), None);
        assert_eq!(
            (b.as_path().to_string(), b.next_hop(), b.communities()),
            ("65000 65001".into(), Some(out), &[9][..])
        );
        assert_eq!((b.med, b.origin, b.weight()), (a.med, a.origin, Some(5)));
        let c = a.with_path_and_hops(None, Some(out), None);
        assert_eq!(c.as_path(), a.as_path());
        assert_eq!(c.with_next_hops(Some(hop), None), a);
    }

    #[test]
    fn heap_bytes_count_the_words() {
        let hop: IpAddr = "192.0.2.1".parse().unwrap();
        let a = PathAttrs::default().with_as_path(&AsPath::sequence(&[65001, 65002])).with_next_hop(hop);
        // Header, segment header, two ASes, the next hop.
        assert_eq!(a.heap_bytes(), 5 * 4);
        assert_eq!(PathAttrs::default().heap_bytes(), 0);
    }

    #[test]
    fn short_words_read_as_absent() {
        let a = PathAttrs {
            words: Words(vec![5 | NH_V6 << NH_SHIFT | LINK_LOCAL, 1].into_boxed_slice()),
            ..Default::default()
        };
        assert_eq!(a.as_path().words(), &[1]);
        assert_eq!((a.next_hop(), a.link_local(), a.communities()), (None, None, &[][..]));
    }

    #[test]
    fn a_set_and_its_arc_fit_a_64_byte_slot() {
        // musl's slots: 48, 64, 80 ... with 4 bytes of header; an `Arc`
        // adds 16.
        assert!(std::mem::size_of::<PathAttrs>() + 16 + 4 <= 64, "{}", std::mem::size_of::<PathAttrs>());
    }
}
