//! The BFD Control packet (RFC 5880 4.1), without authentication.

use std::fmt;

/// Session states (RFC 5880 4.1, `Sta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    fn from_bits(b: u8) -> State {
        match b & 3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    /// FRR's words in `show bfd peers`.
    pub fn name(self) -> &'static str {
        match self {
            State::AdminDown => "shutdown",
            State::Down => "down",
            State::Init => "init",
            State::Up => "up",
        }
    }
}

/// Why the session last left Up (RFC 5880 4.1, `Diag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diag {
    None = 0,
    DetectionTimeExpired = 1,
    EchoFailed = 2,
    NeighborDown = 3,
    ForwardingReset = 4,
    PathDown = 5,
    ConcatenatedPathDown = 6,
    AdminDown = 7,
    ReverseConcatenatedPathDown = 8,
}

impl Diag {
    fn from_bits(b: u8) -> Diag {
        match b & 0x1f {
            1 => Diag::DetectionTimeExpired,
            2 => Diag::EchoFailed,
            3 => Diag::NeighborDown,
            4 => Diag::ForwardingReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdminDown,
            8 => Diag::ReverseConcatenatedPathDown,
            _ => Diag::None,
        }
    }
}

impl fmt::Display for Diag {
    /// FRR's words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Diag::None => "ok",
            Diag::DetectionTimeExpired => "control detection time expired",
            Diag::EchoFailed => "echo function failed",
            Diag::NeighborDown => "neighbor signaled session down",
            Diag::ForwardingReset => "forwarding plane reset",
            Diag::PathDown => "path down",
            Diag::ConcatenatedPathDown => "concatenated path down",
            Diag::AdminDown => "administratively down",
            Diag::ReverseConcatenatedPathDown => "reverse concatenated path down",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub diag: Diag,
    pub state: State,
    pub poll: bool,
    pub fin: bool,
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discr: u32,
    pub your_discr: u32,
    /// Microseconds.
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

pub const LEN: usize = 24;

impl Control {
    pub fn encode(&self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[0] = (1 << 5) | self.diag as u8;
        b[1] = ((self.state as u8) << 6)
            | (u8::from(self.poll) << 5)
            | (u8::from(self.fin) << 4)
            | (u8::from(self.demand) << 1);
        b[2] = self.detect_mult;
        b[3] = LEN as u8;
        b[4..8].copy_from_slice(&self.my_discr.to_be_bytes());
        b[8..12].copy_from_slice(&self.your_discr.to_be_bytes());
        b[12..16].copy_from_slice(&self.desired_min_tx.to_be_bytes());
        b[16..20].copy_from_slice(&self.required_min_rx.to_be_bytes());
        b[20..24].copy_from_slice(&self.required_min_echo_rx.to_be_bytes());
        b
    }

    /// RFC 5880 6.8.6's checks before a packet reaches a session: version
    /// 1, a length that fits, no authentication (bgpbox has none), a
    /// non-zero multiplier and discriminator, no multipoint, and a zero
    /// Your Discriminator only from a peer that is Down or AdminDown.
    pub fn decode(b: &[u8]) -> Result<Control, String> {
        if b.len() < LEN {
            return Err(format!("{} bytes, less than 24", b.len()));
        }
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let c = Control {
            diag: Diag::from_bits(b[0]),
            state: State::from_bits(b[1] >> 6),
            poll: b[1] & 0x20 != 0,
            fin: b[1] & 0x10 != 0,
            demand: b[1] & 0x02 != 0,
            detect_mult: b[2],
            my_discr: u32_at(4),
            your_discr: u32_at(8),
            desired_min_tx: u32_at(12),
            required_min_rx: u32_at(16),
            required_min_echo_rx: u32_at(20),
        };
        let len = b[3] as usize;
        match () {
            _ if b[0] >> 5 != 1 => Err(format!("version {}", b[0] >> 5)),
            _ if len < LEN || len > b.len() => Err(format!("length field {len} for {} bytes", b.len())),
            _ if b[1] & 0x04 != 0 => Err("authentication, which bgpbox does not have".into()),
            _ if b[1] & 0x01 != 0 => Err("the multipoint bit".into()),
            _ if c.detect_mult == 0 => Err("a detect multiplier of 0".into()),
            _ if c.my_discr == 0 => Err("My Discriminator 0".into()),
            _ if c.your_discr == 0 && !matches!(c.state, State::Down | State::AdminDown) => {
                Err(format!("Your Discriminator 0 in state {}", c.state.name()))
            }
            _ => Ok(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Control {
        Control {
            diag: Diag::DetectionTimeExpired,
            state: State::Init,
            poll: true,
            fin: false,
            demand: false,
            detect_mult: 3,
            my_discr: 7,
            your_discr: 9,
            desired_min_tx: 300_000,
            required_min_rx: 300_000,
            required_min_echo_rx: 50_000,
        }
    }

    #[test]
    fn roundtrip_and_refusals() {
        let c = sample();
        let b = c.encode();
        assert_eq!(&b[..4], &[0x21, 0xa0, 3, 24]);
        assert_eq!(Control::decode(&b), Ok(c));
        let bad = |f: &dyn Fn(&mut [u8; 24])| {
            let mut b = sample().encode();
            f(&mut b);
            Control::decode(&b).unwrap_err()
        };
        assert!(bad(&|b| b[0] = 0x41).contains("version 2"));
        assert!(bad(&|b| b[3] = 30).contains("length field 30"));
        assert!(bad(&|b| b[1] |= 0x04).contains("authentication"));
        assert!(bad(&|b| b[2] = 0).contains("multiplier"));
        assert!(bad(&|b| b[4..8].copy_from_slice(&[0; 4])).contains("My Discriminator 0"));
        assert!(bad(&|b| b[8..12].copy_from_slice(&[0; 4])).contains("Your Discriminator 0 in state init"));
        assert!(Control::decode(&[0x20; 10]).is_err());
        // Anything at all is an error or a packet, never a panic.
        for n in 0..=255u8 {
            let _ = Control::decode(&[n; 24]);
        }
    }
}
