//! Any byte stream through framing and decoding, with both AS widths.
#![no_main]
use bgpbox::bgp::packet::{decode, frame, Codec, EXTENDED_MAX_LEN, MAX_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(len)) = frame(rest, EXTENDED_MAX_LEN) {
        for four_octet_as in [false, true] {
            for max_len in [MAX_LEN, EXTENDED_MAX_LEN] {
                let _ = decode(&rest[..len], &Codec { four_octet_as, max_len });
            }
        }
        rest = &rest[len..];
    }
});
