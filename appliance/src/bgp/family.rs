//! One value per address family, indexed by `Afi`: what the core keeps
//! for IPv4 and IPv6 unicast alike (tables, counters, End-of-RIB marks).

use std::ops::{Index, IndexMut};

use super::packet::Afi;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerFamily<T> {
    pub ipv4: T,
    pub ipv6: T,
}

impl<T> PerFamily<T> {
    pub const AFIS: [Afi; 2] = [Afi::Ipv4, Afi::Ipv6];

    pub fn iter(&self) -> impl Iterator<Item = (Afi, &T)> {
        [(Afi::Ipv4, &self.ipv4), (Afi::Ipv6, &self.ipv6)].into_iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        [&self.ipv4, &self.ipv6].into_iter()
    }
}

impl<T> Index<Afi> for PerFamily<T> {
    type Output = T;
    fn index(&self, afi: Afi) -> &T {
        match afi {
            Afi::Ipv4 => &self.ipv4,
            Afi::Ipv6 => &self.ipv6,
        }
    }
}

impl<T> IndexMut<Afi> for PerFamily<T> {
    fn index_mut(&mut self, afi: Afi) -> &mut T {
        match afi {
            Afi::Ipv4 => &mut self.ipv4,
            Afi::Ipv6 => &mut self.ipv6,
        }
    }
}
