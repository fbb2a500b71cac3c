//! An UPDATE body behind a valid header: the RFC 7606 paths. What decodes
//! must encode and decode to the same routes.
#![no_main]
use bgpbox::bgp::packet::{decode, Codec, Message, MARKER, MAX_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_LEN - 19 {
        return;
    }
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&((19 + data.len()) as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(data);
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
