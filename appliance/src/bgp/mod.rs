//! The BGP speaker's sans-IO core: wire codec, session FSM, RIB, policy
//! and configuration. Nothing here touches a socket or the clock; the
//! daemon (`crate::bgpd`) feeds it events and carries out its actions.

pub mod config;
pub mod family;
pub mod fsm;
pub mod hash;
pub mod packet;
pub mod policy;
pub mod rib;
pub mod speaker;
