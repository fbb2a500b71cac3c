//! A router solicitation or advertisement: what decodes is the kind its
//! encoding decodes to again; nothing panics.
#![no_main]
use bgpbox::nd::Kind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(k) = Kind::decode(data) {
        assert_eq!(Kind::decode(&k.encode()), Some(k));
    }
});
