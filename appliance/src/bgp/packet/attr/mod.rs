//! Path attributes (RFC 4271 4.3 and 5), with RFC 7606 error handling:
//! the types here, the AS_PATH in `as_path.rs`, decoding with each
//! fault's outcome in `decode.rs`, encoding in `encode.rs`.

mod as_path;
mod decode;
mod encode;
mod words;

pub use words::Words;

use std::net::{IpAddr, Ipv4Addr};

pub use as_path::{AsPath, SegmentKind};
pub(super) use decode::decode;
pub(in crate::bgp::packet) use encode::put_attr;

pub const OPTIONAL: u8 = 0x80;
pub const TRANSITIVE: u8 = 0x40;
pub const PARTIAL: u8 = 0x20;
pub const EXTENDED: u8 = 0x10;

pub const ORIGIN: u8 = 1;
pub const AS_PATH: u8 = 2;
pub const NEXT_HOP: u8 = 3;
pub const MED: u8 = 4;
pub const LOCAL_PREF: u8 = 5;
pub const ATOMIC_AGGREGATE: u8 = 6;
pub const AGGREGATOR: u8 = 7;
pub const COMMUNITIES: u8 = 8;
pub const ORIGINATOR_ID: u8 = 9;
pub const CLUSTER_LIST: u8 = 10;
pub const MP_REACH: u8 = 14;
pub const MP_UNREACH: u8 = 15;
pub const AS4_PATH: u8 = 17;
pub const AS4_AGGREGATOR: u8 = 18;
pub const LARGE_COMMUNITIES: u8 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Origin {
    #[default]
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

impl Origin {
    /// FRR's one-letter code in `show bgp` tables.
    pub fn code(self) -> char {
        match self {
            Origin::Igp => 'i',
            Origin::Egp => 'e',
            Origin::Incomplete => '?',
        }
    }
}

/// An attribute we do not interpret but pass on (optional transitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawAttr {
    pub flags: u8,
    pub code: u8,
    pub data: Vec<u8>,
}

/// The attributes of a route. Interned by the RIB: many prefixes share one.
/// AS_PATH, the next hops and COMMUNITIES lie in one allocation of words
/// (`words.rs`, which has their accessors): a full table has a few
/// hundred thousand sets, and at 40 bytes a set with its `Arc` takes
/// musl's 64-byte slot, where the parts apart took 88 bytes (a 112-byte
/// slot) and an allocation of their own for communities.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PathAttrs {
    /// Opaque: read and set through the accessors. Public so that sets
    /// can be written as literals (`..Default::default()`).
    pub words: Words,
    pub med: Opt32,
    pub local_pref: Opt32,
    pub origin: Origin,
    /// What few routes carry, behind one pointer that is None for most.
    pub rare: Option<Box<Rare>>,
}

/// An optional u32 in 5 bytes (an `Option<u32>` takes 8): MED and
/// LOCAL_PREF so, a set is 40 bytes, not 48, and its `Arc` fits musl's
/// 64-byte slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Opt32 {
    set: bool,
    value: [u8; 4],
}

impl Opt32 {
    pub fn get(self) -> Option<u32> {
        self.set.then(|| u32::from_ne_bytes(self.value))
    }
}

impl From<Option<u32>> for Opt32 {
    fn from(v: Option<u32>) -> Opt32 {
        // Unset is all zeros, so that equal sets hash alike.
        Opt32 { set: v.is_some(), value: v.unwrap_or(0).to_ne_bytes() }
    }
}

/// The attributes most routes do not have.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Rare {
    pub atomic_aggregate: bool,
    pub aggregator: Option<(u32, Ipv4Addr)>,
    pub large_communities: Vec<[u32; 3]>,
    /// Unknown optional transitive attributes, passed on (partial set).
    pub other: Vec<RawAttr>,
    /// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456), of reflected routes.
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
    /// Local to this router, never sent: a route-map's `set weight`
    /// (FRR's first best-path step) and `set tag`.
    pub weight: Option<u32>,
    pub tag: Option<u32>,
}

impl PathAttrs {
    pub fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Default::default)
    }

    pub fn atomic_aggregate(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.atomic_aggregate)
    }

    pub fn aggregator(&self) -> Option<(u32, Ipv4Addr)> {
        self.rare.as_ref().and_then(|r| r.aggregator)
    }

    pub fn large_communities(&self) -> &[[u32; 3]] {
        self.rare.as_ref().map_or(&[], |r| &r.large_communities)
    }

    pub fn other(&self) -> &[RawAttr] {
        self.rare.as_ref().map_or(&[], |r| &r.other)
    }

    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        self.rare.as_ref().and_then(|r| r.originator_id)
    }

    pub fn cluster_list(&self) -> &[Ipv4Addr] {
        self.rare.as_ref().map_or(&[], |r| &r.cluster_list)
    }

    pub fn weight(&self) -> Option<u32> {
        self.rare.as_ref().and_then(|r| r.weight)
    }

    /// Drops what is local to this router (weight, tag), before the
    /// route goes to a neighbor: equal sets stay shared.
    pub fn clear_local(&mut self) {
        if let Some(r) = self.rare.as_mut() {
            r.weight = None;
            r.tag = None;
        }
        self.tidy_rare();
    }

    /// No `Rare` when it holds nothing: most routes share the common form.
    pub fn tidy_rare(&mut self) {
        if self.rare.as_deref().is_some_and(|r| *r == Rare::default()) {
            self.rare = None;
        }
    }
}

/// How one attribute's fault is handled (RFC 7606 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    TreatAsWithdraw,
    Discard,
}

/// One malformed attribute and its outcome, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrFault {
    pub code: u8,
    pub fault: Fault,
    pub detail: String,
}

/// MP_REACH_NLRI (RFC 4760 3), its fields not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpReach {
    pub afi: u16,
    pub safi: u8,
    pub next_hop: Vec<u8>,
    pub nlri: Vec<u8>,
}

/// MP_UNREACH_NLRI (RFC 4760 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpUnreach {
    pub afi: u16,
    pub safi: u8,
    pub withdrawn: Vec<u8>,
}

/// What decoding an UPDATE's attributes produced besides `PathAttrs`.
#[derive(Debug)]
pub(in crate::bgp::packet) struct Decoded {
    pub attrs: PathAttrs,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub seen: [bool; 256],
    pub faults: Vec<AttrFault>,
    /// The parts `attrs` keeps in its words, gathered while decoding.
    as_path: AsPath,
    next_hop: Option<IpAddr>,
    communities: Vec<u32>,
    /// RFC 6793: the 4-octet forms a 2-octet session carries.
    as4_path: Option<AsPath>,
    as4_aggregator: Option<(u32, Ipv4Addr)>,
}

impl Default for Decoded {
    fn default() -> Self {
        Decoded {
            attrs: PathAttrs::default(),
            mp_reach: None,
            mp_unreach: None,
            seen: [false; 256],
            faults: Vec::new(),
            as_path: AsPath::default(),
            next_hop: None,
            communities: Vec::new(),
            as4_path: None,
            as4_aggregator: None,
        }
    }
}

fn expected_flags(code: u8) -> Option<u8> {
    Some(match code {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => TRANSITIVE,
        MED | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH | MP_UNREACH => OPTIONAL,
        AGGREGATOR | COMMUNITIES | AS4_PATH | AS4_AGGREGATOR | LARGE_COMMUNITIES => OPTIONAL | TRANSITIVE,
        _ => return None,
    })
}

pub fn name(code: u8) -> String {
    match code {
        ORIGIN => "ORIGIN".into(),
        AS_PATH => "AS_PATH".into(),
        NEXT_HOP => "NEXT_HOP".into(),
        MED => "MULTI_EXIT_DISC".into(),
        LOCAL_PREF => "LOCAL_PREF".into(),
        ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE".into(),
        AGGREGATOR => "AGGREGATOR".into(),
        COMMUNITIES => "COMMUNITIES".into(),
        ORIGINATOR_ID => "ORIGINATOR_ID".into(),
        CLUSTER_LIST => "CLUSTER_LIST".into(),
        MP_REACH => "MP_REACH_NLRI".into(),
        MP_UNREACH => "MP_UNREACH_NLRI".into(),
        AS4_PATH => "AS4_PATH".into(),
        AS4_AGGREGATOR => "AS4_AGGREGATOR".into(),
        LARGE_COMMUNITIES => "LARGE_COMMUNITY".into(),
        c => format!("attribute {c}"),
    }
}
