//! `ip prefix-list` / `ipv6 prefix-list`.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixListEntry {
    pub action: Action,
    /// None: `any`.
    pub prefix: Option<IpNet>,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixListEntry {
    pub fn matches(&self, p: &IpNet) -> bool {
        let Some(net) = self.prefix else { return true };
        if !net.contains(p) || std::mem::discriminant(&net) != std::mem::discriminant(p) {
            return false;
        }
        let len = p.prefix_len();
        match (self.ge, self.le) {
            (None, None) => len == net.prefix_len(),
            (Some(ge), None) => len >= ge,
            (None, Some(le)) => len >= net.prefix_len() && len <= le,
            (Some(ge), Some(le)) => len >= ge && len <= le,
        }
    }
}

impl fmt::Display for PrefixListEntry {
    /// `permit 10.0.0.0/8 le 24` / `deny any`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.action)?;
        match self.prefix {
            None => f.write_str("any")?,
            Some(p) => write!(f, "{p}")?,
        }
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrefixList {
    pub entries: BTreeMap<u32, PrefixListEntry>,
}

impl PrefixList {
    /// The first entry that matches decides; none: deny (FRR's implicit
    /// `deny any`).
    pub fn permits(&self, p: &IpNet) -> bool {
        self.entries.values().find(|e| e.matches(p)).is_some_and(|e| e.action == Action::Permit)
    }

    /// The sequence number FRR gives an entry written without one.
    pub fn next_seq(&self) -> u32 {
        self.entries.keys().next_back().map_or(5, |s| (s / 5 + 1) * 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(action: Action, p: Option<&str>, ge: Option<u8>, le: Option<u8>) -> PrefixListEntry {
        PrefixListEntry { action, prefix: p.map(|s| s.parse().unwrap()), ge, le }
    }

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn seed_lists() {
        let mut adv = PrefixList::default();
        adv.entries.insert(5, e(Action::Permit, Some("10.1.0.0/24"), None, None));
        adv.entries.insert(10, e(Action::Deny, None, None, None));
        assert!(adv.permits(&n("10.1.0.0/24")));
        assert!(!adv.permits(&n("10.1.0.0/25")));
        assert!(!adv.permits(&n("10.2.0.0/24")));
        assert!(!adv.permits(&n("0.0.0.0/0")));
        let mut any = PrefixList::default();
        any.entries.insert(5, e(Action::Permit, None, None, None));
        assert!(any.permits(&n("0.0.0.0/0")) && any.permits(&n("2001:db8::/32")));
        assert!(!PrefixList::default().permits(&n("10.0.0.0/8")));
        assert_eq!(adv.next_seq(), 15);
        assert_eq!(PrefixList::default().next_seq(), 5);
    }

    #[test]
    fn ge_le() {
        let le = e(Action::Permit, Some("10.0.0.0/8"), None, Some(24));
        assert!(le.matches(&n("10.0.0.0/8")) && le.matches(&n("10.9.0.0/24")));
        assert!(!le.matches(&n("10.9.0.0/25")) && !le.matches(&n("11.0.0.0/8")));
        let ge = e(Action::Permit, Some("10.0.0.0/8"), Some(16), None);
        assert!(!ge.matches(&n("10.0.0.0/8")) && ge.matches(&n("10.1.0.0/16")) && ge.matches(&n("10.1.1.1/32")));
        let both = e(Action::Permit, Some("10.0.0.0/8"), Some(16), Some(24));
        assert!(both.matches(&n("10.1.0.0/20")) && !both.matches(&n("10.1.0.0/25")));
        assert!(!e(Action::Permit, Some("0.0.0.0/0"), None, Some(32)).matches(&n("::/0")));
        assert_eq!(both.to_string(), "permit 10.0.0.0/8 ge 16 le 24");
    }
}
