//! An OPEN body behind a valid header; what decodes round-trips.
#![no_main]
use bgpbox::bgp::packet::{decode, encode, Codec, Message};
use libfuzzer_sys::fuzz_target;

mod body;

fuzz_target!(|data: &[u8]| {
    let Some(m) = body::message(1, data) else { return };
    if let Ok(Message::Open(o)) = decode(&m, &Codec::default()) {
        let mut again = Vec::new();
        encode(&Message::Open(o.clone()), &Codec::default(), &mut again);
        assert_eq!(decode(&again, &Codec::default()), Ok(Message::Open(o)));
    }
});
