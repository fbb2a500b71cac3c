//! Whatever the kernel (or anything else) might put in a netlink buffer.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bgpbox::netlink::parse(data);
    let _ = bgpbox::netlink::acks(data).count();
});
