//! Config text: parse, and what parses renders to text that parses to the
//! same configuration.
#![no_main]
use bgpbox::bgp::config::{parse, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = parse("fuzz", text) {
        let again = parse("rendered", &render(&c)).expect("rendered config parses");
        assert_eq!(again, c);
    }
});
