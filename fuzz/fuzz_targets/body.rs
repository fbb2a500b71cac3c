//! Shared by the OPEN and UPDATE targets: a message body behind a valid
//! header, or None when it is too long for one message.
use bgpbox::bgp::packet::{MARKER, MAX_LEN};

pub fn message(typ: u8, body: &[u8]) -> Option<Vec<u8>> {
    if body.len() > MAX_LEN - 19 {
        return None;
    }
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(typ);
    m.extend_from_slice(body);
    Some(m)
}
