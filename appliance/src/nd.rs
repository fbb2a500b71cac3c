//! Neighbor discovery's router solicitation and advertisement (RFC 4861
//! 4.1, 4.2), as far as BGP unnumbered needs them: who is on a link. The
//! messages carry no options of ours; received ones are checked for their
//! type, code 0 and fixed length (6.1.1, 6.1.2), their options not read.
//! The socket side is `bgpd/nd_io.rs`.

const ROUTER_SOLICIT: u8 = 133;
const ROUTER_ADVERT: u8 = 134;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Solicit,
    Advert,
}

impl Kind {
    /// The message. An advertisement imposes no hop limit, flags or
    /// timers and has a router lifetime of 0: it names us on the link
    /// without making us anyone's default router. The kernel fills in the
    /// checksum of a raw ICMPv6 socket's messages.
    pub fn encode(self) -> Vec<u8> {
        match self {
            Kind::Solicit => vec![ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0],
            Kind::Advert => {
                let mut b = vec![0u8; 16];
                b[0] = ROUTER_ADVERT;
                b
            }
        }
    }

    pub fn decode(b: &[u8]) -> Option<Kind> {
        match (b.first()?, b.get(1)?, b.len()) {
            (&ROUTER_SOLICIT, 0, 8..) => Some(Kind::Solicit),
            (&ROUTER_ADVERT, 0, 16..) => Some(Kind::Advert),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_decode_back_and_malformed_ones_do_not() {
        for k in [Kind::Solicit, Kind::Advert] {
            assert_eq!(Kind::decode(&k.encode()), Some(k));
        }
        let mut with_options = Kind::Advert.encode();
        with_options.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]);
        assert_eq!(Kind::decode(&with_options), Some(Kind::Advert));
        assert_eq!(Kind::decode(&Kind::Advert.encode()[..15]), None, "too short");
        let mut code = Kind::Advert.encode();
        code[1] = 1;
        assert_eq!(Kind::decode(&code), None, "code must be 0");
        assert_eq!(Kind::decode(&[128, 0, 0, 0, 0, 0, 0, 0]), None, "an echo request");
        assert_eq!(Kind::decode(&[]), None);
    }
}
