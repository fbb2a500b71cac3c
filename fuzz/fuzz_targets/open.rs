//! An OPEN body behind a valid header; what decodes round-trips.
#![no_main]
use bgpbox::bgp::packet::{decode, encode, Codec, Message, MARKER, MAX_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_LEN - 19 {
        return;
    }
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&((19 + data.len()) as u16).to_be_bytes());
    m.push(1);
    m.extend_from_slice(data);
    if let Ok(Message::Open(o)) = decode(&m, &Codec::default()) {
        let mut again = Vec::new();
        encode(&Message::Open(o.clone()), &Codec::default(), &mut again);
        assert_eq!(decode(&again, &Codec::default()), Ok(Message::Open(o)));
    }
});
