//! A BFD Control packet: what decodes round-trips; nothing panics.
#![no_main]
use bgpbox::bfd::Control;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Control::decode(data) {
        assert_eq!(Control::decode(&c.encode()), Ok(c));
    }
});
