//! What ping and traceroute read from a raw ICMP socket: nothing panics,
//! and an echo reply to a request made from the input's first bytes
//! reads back as that request's identifier and sequence number.
#![no_main]
use bgpbox::diag::icmp::{echo_request, parse_v4, parse_v6, Reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_v4(data);
    let _ = parse_v6(data);
    if let [a, b, c, d, rest @ ..] = data {
        let (id, seq) = (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]));
        let mut r = echo_request(true, id, seq, rest.len().min(64));
        r[0] = 129;
        assert_eq!(parse_v6(&r), Some(Reply::Echo { id, seq }));
    }
});
