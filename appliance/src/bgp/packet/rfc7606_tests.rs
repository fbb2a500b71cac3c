//! Malformed UPDATEs of the kinds RFC 7606 covers: each ends in
//! treat-as-withdraw or attribute discard, and a NOTIFICATION only where
//! the RFC requires one. (FRR 8.4 resets the session on five of these.)

use super::attr::*;
use super::{decode, err, frame, Codec, Message, Notification, Update, MAX_LEN};

const ORIGIN_OK: &[u8] = &[TRANSITIVE, ORIGIN, 1, 0];
const AS_PATH_OK: &[u8] = &[TRANSITIVE, AS_PATH, 6, 2, 1, 0, 0, 0xfd, 0xe8];
const NEXT_HOP_OK: &[u8] = &[TRANSITIVE, NEXT_HOP, 4, 192, 0, 2, 254];
/// 10.1.0.0/24
const NLRI: &[u8] = &[24, 10, 1, 0];

fn update(attrs: &[&[u8]], nlri: &[u8]) -> Vec<u8> {
    let a: Vec<u8> = attrs.concat();
    let mut m = super::MARKER.to_vec();
    m.extend_from_slice(&[0, 0, super::UPDATE, 0, 0]);
    m.extend_from_slice(&(a.len() as u16).to_be_bytes());
    m.extend_from_slice(&a);
    m.extend_from_slice(nlri);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    m
}

fn run(msg: &[u8]) -> Result<Update, Notification> {
    let codec = Codec { four_octet_as: true, max_len: MAX_LEN };
    assert_eq!(frame(msg, MAX_LEN), Ok(Some(msg.len())));
    match decode(msg, &codec)? {
        Message::Update(u) => Ok(*u),
        m => panic!("{m:?}"),
    }
}

#[track_caller]
fn withdrawn(attrs: &[&[u8]], what: &str) {
    let u = run(&update(attrs, NLRI)).unwrap_or_else(|n| panic!("{what}: session reset {n:?}"));
    assert!(u.treat_as_withdraw(), "{what}: {u:?}");
    assert_eq!(u.withdrawn, vec!["10.1.0.0/24".parse().unwrap()], "{what}");
    assert!(u.announced.is_empty() && u.attrs.is_none(), "{what}");
}

#[track_caller]
fn discarded(attrs: &[&[u8]], what: &str) -> Update {
    let u = run(&update(attrs, NLRI)).unwrap_or_else(|n| panic!("{what}: session reset {n:?}"));
    assert!(!u.treat_as_withdraw(), "{what}: {u:?}");
    assert_eq!(u.problems.len(), 1, "{what}: {u:?}");
    assert_eq!(u.announced.len(), 1, "{what}");
    u
}

#[track_caller]
fn reset(msg: &[u8], subcode: u8, what: &str) {
    let n = run(msg).expect_err(what);
    assert_eq!((n.code, n.subcode), (err::UPDATE, subcode), "{what}");
}

#[test]
fn well_formed_baseline() {
    let u = run(&update(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK], NLRI)).unwrap();
    assert!(u.problems.is_empty());
    assert_eq!(u.attrs.unwrap().as_path().to_string(), "65000");
}

#[test]
fn as_zero_is_rfc7607_malformed() {
    // AS_PATH 65000 0: treat-as-withdraw.
    withdrawn(
        &[ORIGIN_OK, &[TRANSITIVE, AS_PATH, 10, 2, 2, 0, 0, 0xfd, 0xe8, 0, 0, 0, 0], NEXT_HOP_OK],
        "AS 0 in AS_PATH",
    );
    // AGGREGATOR AS 0: the attribute is discarded, the route stays.
    let agg0: &[u8] = &[OPTIONAL | TRANSITIVE, AGGREGATOR, 8, 0, 0, 0, 0, 192, 0, 2, 1];
    let u = discarded(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, agg0], "AGGREGATOR AS 0");
    assert_eq!(u.attrs.unwrap().aggregator(), None);
}

#[test]
fn treat_as_withdraw_cases() {
    withdrawn(&[&[TRANSITIVE, ORIGIN, 1, 3], AS_PATH_OK, NEXT_HOP_OK], "undefined ORIGIN");
    withdrawn(&[&[TRANSITIVE, ORIGIN, 2, 0, 0], AS_PATH_OK, NEXT_HOP_OK], "ORIGIN length 2");
    withdrawn(&[ORIGIN_OK, &[TRANSITIVE, AS_PATH, 6, 2, 5, 0, 0, 0xfd, 0xe8], NEXT_HOP_OK], "AS_PATH segment overrun");
    withdrawn(&[ORIGIN_OK, &[TRANSITIVE, AS_PATH, 6, 7, 1, 0, 0, 0xfd, 0xe8], NEXT_HOP_OK], "AS_PATH segment type 7");
    withdrawn(&[ORIGIN_OK, &[TRANSITIVE, AS_PATH, 7, 2, 1, 0, 0, 0xfd, 0xe8, 2], NEXT_HOP_OK], "AS_PATH underrun");
    withdrawn(&[&[OPTIONAL | TRANSITIVE, ORIGIN, 1, 0], AS_PATH_OK, NEXT_HOP_OK], "ORIGIN flags");
    withdrawn(&[ORIGIN_OK, AS_PATH_OK, &[TRANSITIVE, NEXT_HOP, 3, 192, 0, 2]], "NEXT_HOP length 3");
    withdrawn(&[ORIGIN_OK, AS_PATH_OK, &[TRANSITIVE, NEXT_HOP, 4, 0, 0, 0, 0]], "NEXT_HOP 0.0.0.0");
    withdrawn(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL, MED, 3, 0, 0, 1]], "MED length 3");
    withdrawn(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[TRANSITIVE, LOCAL_PREF, 2, 0, 1]], "LOCAL_PREF length 2");
    withdrawn(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL | TRANSITIVE, COMMUNITIES, 3, 0, 0, 1]],
        "COMMUNITIES length 3",
    );
    withdrawn(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL | TRANSITIVE, LARGE_COMMUNITIES, 5, 0, 0, 0, 0, 1]],
        "LARGE_COMMUNITY length 5",
    );
    withdrawn(&[AS_PATH_OK, NEXT_HOP_OK], "ORIGIN missing");
    withdrawn(&[ORIGIN_OK, NEXT_HOP_OK], "AS_PATH missing");
    withdrawn(&[ORIGIN_OK, AS_PATH_OK], "NEXT_HOP missing");
    withdrawn(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL, MED, 9, 0, 0, 0, 1]],
        "attribute length overruns the field",
    );
    withdrawn(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL, CLUSTER_LIST, 3, 0, 0, 1]], "CLUSTER_LIST length 3");
}

#[test]
fn attribute_discard_cases() {
    let u = discarded(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[TRANSITIVE, ATOMIC_AGGREGATE, 1, 0]],
        "ATOMIC_AGGREGATE length 1",
    );
    assert!(!u.attrs.unwrap().atomic_aggregate());
    let u = discarded(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL | TRANSITIVE, AGGREGATOR, 5, 0, 1, 2, 3, 4]],
        "AGGREGATOR length 5",
    );
    assert_eq!(u.attrs.unwrap().aggregator(), None);
    let u = discarded(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL, MED, 4, 0, 0, 0, 7], &[OPTIONAL, MED, 4, 0, 0, 0, 9]],
        "MED twice",
    );
    assert_eq!(u.attrs.unwrap().med.get(), Some(7), "the first copy is kept");
    discarded(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[TRANSITIVE, AGGREGATOR, 8, 0, 0, 0, 1, 1, 2, 3, 4]],
        "AGGREGATOR flags",
    );
    // AS4_PATH means something only on a 2-octet session.
    let mut two = update(
        &[
            ORIGIN_OK,
            &[TRANSITIVE, AS_PATH, 4, 2, 1, 0x5b, 0xa0],
            NEXT_HOP_OK,
            &[OPTIONAL | TRANSITIVE, AS4_PATH, 3, 2, 1, 0],
        ],
        NLRI,
    );
    let codec = Codec::default();
    let Ok(Message::Update(u)) = decode(&two, &codec) else { panic!() };
    assert!(!u.treat_as_withdraw() && u.problems.len() == 1, "AS4_PATH malformed: {u:?}");
    two.clear();
}

#[test]
fn unknown_optional_transitive_is_passed_on_with_partial() {
    let u = run(&update(
        &[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL | TRANSITIVE, 200, 2, 7, 7], &[OPTIONAL, 201, 1, 1]],
        NLRI,
    ))
    .unwrap();
    let a = u.attrs.unwrap();
    assert_eq!(a.other(), vec![RawAttr { flags: OPTIONAL | TRANSITIVE | PARTIAL, code: 200, data: vec![7, 7] }]);
}

#[test]
fn session_reset_only_where_required() {
    // Unrecognized well-known attribute (RFC 4271 6.3).
    reset(
        &update(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[TRANSITIVE, 200, 0]], NLRI),
        err::UNRECOGNIZED_WELL_KNOWN,
        "unknown well-known",
    );
    // MP_REACH_NLRI twice (RFC 7606 3(g)).
    let mp: &[u8] =
        &[OPTIONAL, MP_REACH, 22, 0, 2, 1, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    reset(&update(&[ORIGIN_OK, AS_PATH_OK, mp, mp], &[]), err::MALFORMED_ATTR_LIST, "MP_REACH twice");
    // NLRI that cannot be parsed: nothing to withdraw (RFC 7606 5.3).
    reset(&update(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK], &[33, 10, 1, 0, 0, 0]), err::INVALID_NETWORK, "NLRI /33");
    // Total path attribute length past the message.
    let mut m = update(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK], NLRI);
    m[22] = 0xff;
    reset(&m, err::MALFORMED_ATTR_LIST, "attribute length overrun");
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic scan; the cargo-fuzz target goes further.
    let base =
        update(&[ORIGIN_OK, AS_PATH_OK, NEXT_HOP_OK, &[OPTIONAL | TRANSITIVE, COMMUNITIES, 4, 0, 0, 0, 1]], NLRI);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let mut m = base.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = 19 + (seed as usize % (m.len() - 19));
            m[i] = (seed >> 32) as u8;
        }
        for four in [true, false] {
            let _ = decode(&m, &Codec { four_octet_as: four, max_len: MAX_LEN });
        }
    }
}
