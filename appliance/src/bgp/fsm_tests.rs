//! The session FSM on a virtual clock.

use super::*;
use crate::bgp::packet::RouteRefresh;

const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 203);
const PEER_ID: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);

fn cfg() -> SessionConfig {
    SessionConfig {
        local_as: 65001,
        remote_as: RemoteAs::Asn(65000),
        router_id: LOCAL_ID,
        families: vec![Afi::Ipv4, Afi::Ipv6],
        ..Default::default()
    }
}

fn peer_open(asn: u32, hold: u16, id: Ipv4Addr) -> Message {
    Message::Open(Open {
        version: 4,
        asn,
        hold_time: hold,
        bgp_id: id,
        capabilities: vec![Capability::Multiprotocol(1, 1), Capability::FourOctetAs(asn), Capability::RouteRefresh],
    })
}

fn sent(actions: &[Action]) -> Vec<&Message> {
    actions.iter().filter_map(|a| if let Action::Send(_, m) = a { Some(m) } else { None }).collect()
}

fn notification(actions: &[Action]) -> Option<(u8, u8)> {
    sent(actions)
        .into_iter()
        .find_map(|m| if let Message::Notification(n) = m { Some((n.code, n.subcode)) } else { None })
}

/// Brings a session to Established on an outbound connection.
fn established(t0: Instant) -> (Session, ConnId) {
    let mut s = Session::new(cfg(), t0);
    let a = s.start(t0);
    let Some(Action::Connect(id)) = a.first() else { panic!("{a:?}") };
    let id = *id;
    assert_eq!(s.state(), State::Connect);
    let a = s.connected(t0, id, true);
    assert!(matches!(sent(&a)[..], [Message::Open(o)] if o.asn == 65001 && o.hold_time == 180));
    assert_eq!(s.state(), State::OpenSent);
    let a = s.received(t0, id, peer_open(65000, 90, PEER_ID));
    assert_eq!(sent(&a), vec![&Message::Keepalive]);
    assert_eq!(s.state(), State::OpenConfirm);
    let a = s.received(t0, id, Message::Keepalive);
    let Some(Action::Up(_, neg)) = a.first() else { panic!("{a:?}") };
    assert_eq!((neg.hold_time, neg.keepalive), (90, 30));
    assert_eq!(neg.families, vec![Afi::Ipv4], "the peer offered IPv4 only");
    assert!(neg.codec.four_octet_as && neg.route_refresh);
    assert_eq!(neg.codec.max_len, MAX_LEN, "no extended messages from the peer");
    assert_eq!(s.state(), State::Established);
    (s, id)
}

#[test]
fn establishes_and_keeps_alive() {
    let t0 = Instant::now();
    let (mut s, id) = established(t0);
    // Keepalives every 30 s; the peer's keep the hold timer (90 s) fed.
    let mut t = t0;
    for _ in 0..10 {
        t += Duration::from_secs(30);
        assert_eq!(s.next_deadline(), Some(t));
        assert_eq!(sent(&s.timeout(t)), vec![&Message::Keepalive]);
        assert!(s.received(t, id, Message::Keepalive).is_empty());
    }
    assert_eq!(s.state(), State::Established);
    let a = s.received(t, id, Message::Update(Box::default()));
    assert!(matches!(a[..], [Action::Update(i, _)] if i == id));
    let a = s.received(t, id, Message::RouteRefresh(RouteRefresh { afi: 1, subtype: 0, safi: 1 }));
    assert_eq!(a, vec![Action::RouteRefresh(Afi::Ipv4)]);
}

#[test]
fn hold_timer_expiry_then_quick_retry() {
    let t0 = Instant::now();
    let (mut s, id) = established(t0);
    // Our keepalives go out, but the peer falls silent.
    while let Some(d) = s.next_deadline().filter(|d| *d < t0 + Duration::from_secs(90)) {
        assert_eq!(sent(&s.timeout(d)), vec![&Message::Keepalive]);
    }
    let t = t0 + Duration::from_secs(90);
    assert_eq!(s.next_deadline(), Some(t));
    let a = s.timeout(t);
    assert_eq!(notification(&a), Some((err::HOLD_TIMER_EXPIRED, 0)));
    assert!(a.contains(&Action::Close(id)));
    assert!(a.contains(&Action::Down("Hold Timer Expired".into(), true)));
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.last_error.as_deref(), Some("Hold Timer Expired"));
    // First retry after a second, not FRR's 120.
    assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(1)));
    assert!(matches!(s.timeout(t + Duration::from_secs(1))[..], [Action::Connect(_)]));
}

#[test]
fn connect_retry_backs_off_to_the_configured_limit() {
    let t0 = Instant::now();
    let mut c = cfg();
    c.connect_retry = Duration::from_secs(10);
    let mut s = Session::new(c, t0);
    let mut t = t0;
    let mut a = s.start(t);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let Some(Action::Connect(id)) = a.first() else { panic!("{a:?}") };
        assert_eq!(s.state(), State::Connect);
        s.closed(t, *id, "Connection refused");
        assert_eq!(s.state(), State::Active);
        let next = s.next_deadline().unwrap();
        waits.push((next - t).as_secs());
        t = next;
        a = s.timeout(t);
    }
    assert_eq!(waits, vec![1, 2, 4, 8, 10, 10]);
    assert_eq!(s.last_error.as_deref(), Some("Connection refused"));
}

#[test]
fn open_validation() {
    let t0 = Instant::now();
    for (open, want) in [
        (peer_open(65099, 90, PEER_ID), (err::OPEN, err::BAD_PEER_AS)),
        (peer_open(65000, 2, PEER_ID), (err::OPEN, err::UNACCEPTABLE_HOLD_TIME)),
        (peer_open(65000, 90, Ipv4Addr::UNSPECIFIED), (err::OPEN, err::BAD_BGP_ID)),
        (Message::Keepalive, (err::FSM, 1)),
        (Message::Update(Box::default()), (err::FSM, 1)),
    ] {
        let mut s = Session::new(cfg(), t0);
        let Some(Action::Connect(id)) = s.start(t0).first().cloned() else { panic!() };
        s.connected(t0, id, true);
        let a = s.received(t0, id, open.clone());
        assert_eq!(notification(&a), Some(want), "{open:?}");
        assert!(a.contains(&Action::Close(id)));
        assert_eq!(s.state(), State::Active);
    }
    // remote-as internal / external.
    let mut c = cfg();
    c.remote_as = RemoteAs::External;
    let mut s = Session::new(c, t0);
    let Some(Action::Connect(id)) = s.start(t0).first().cloned() else { panic!() };
    s.connected(t0, id, true);
    assert_eq!(notification(&s.received(t0, id, peer_open(65001, 90, PEER_ID))), Some((err::OPEN, err::BAD_PEER_AS)));
}

#[test]
fn hold_time_zero_means_no_keepalives() {
    let t0 = Instant::now();
    let mut s = Session::new(cfg(), t0);
    let Some(Action::Connect(id)) = s.start(t0).first().cloned() else { panic!() };
    s.connected(t0, id, true);
    s.received(t0, id, peer_open(65000, 0, PEER_ID));
    s.received(t0, id, Message::Keepalive);
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn collision_keeps_the_higher_identifiers_connection() {
    let t0 = Instant::now();
    // Our id (…203) is lower than the peer's (…254): the peer's connection
    // (inbound to us) survives and ours is closed with Cease/7.
    let mut s = Session::new(cfg(), t0);
    let Some(Action::Connect(out_id)) = s.start(t0).first().cloned() else { panic!() };
    s.connected(t0, out_id, true);
    let in_id = s.new_conn_id();
    let a = s.connected(t0, in_id, false);
    assert!(matches!(sent(&a)[..], [Message::Open(_)]));
    // The peer's id is known from the first OPEN, on either connection.
    let a = s.received(t0, out_id, peer_open(65000, 90, PEER_ID));
    assert_eq!(notification(&a), Some((err::CEASE, err::COLLISION)));
    assert!(a.contains(&Action::Close(out_id)));
    let a = s.received(t0, in_id, peer_open(65000, 90, PEER_ID));
    assert_eq!(sent(&a), vec![&Message::Keepalive]);
    let a = s.received(t0, in_id, Message::Keepalive);
    assert!(matches!(a[..], [Action::Up(i, _)] if i == in_id));

    // With a higher local id, our outbound connection wins.
    let mut c = cfg();
    c.router_id = Ipv4Addr::new(203, 0, 113, 1);
    let mut s = Session::new(c, t0);
    let Some(Action::Connect(out_id)) = s.start(t0).first().cloned() else { panic!() };
    s.connected(t0, out_id, true);
    let in_id = s.new_conn_id();
    s.connected(t0, in_id, false);
    let a = s.received(t0, in_id, peer_open(65000, 90, PEER_ID));
    assert_eq!(notification(&a), Some((err::CEASE, err::COLLISION)));
    assert!(a.contains(&Action::Close(in_id)));
    s.received(t0, out_id, peer_open(65000, 90, PEER_ID));
    assert!(matches!(s.received(t0, out_id, Message::Keepalive)[..], [Action::Up(i, _)] if i == out_id));

    // An inbound connection while Established is refused by collision too.
    let (mut s, _) = established(t0);
    let late = s.new_conn_id();
    s.connected(t0, late, false);
    let a = s.received(t0, late, peer_open(65000, 90, PEER_ID));
    assert_eq!(notification(&a), Some((err::CEASE, err::COLLISION)));
    assert_eq!(s.state(), State::Established);
}

#[test]
fn passive_waits_for_the_peer() {
    let t0 = Instant::now();
    let mut c = cfg();
    c.passive = true;
    let mut s = Session::new(c, t0);
    assert!(s.start(t0).is_empty());
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.next_deadline(), None);
    let id = s.new_conn_id();
    s.connected(t0, id, false);
    s.received(t0, id, peer_open(65000, 90, PEER_ID));
    assert!(matches!(s.received(t0, id, Message::Keepalive)[..], [Action::Up(..)]));
    // After a drop, still no outbound attempt.
    s.closed(t0, id, "Connection reset by peer");
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn stop_sends_cease_with_the_shutdown_message() {
    let t0 = Instant::now();
    let (mut s, id) = established(t0);
    let a = s.stop(t0, Notification::cease(err::ADMIN_SHUTDOWN, "router leaving"));
    let Some(Message::Notification(n)) = sent(&a).first().copied() else { panic!("{a:?}") };
    assert_eq!(n.shutdown_message().as_deref(), Some("router leaving"));
    assert!(a.contains(&Action::Close(id)));
    assert!(matches!(a.last(), Some(Action::Down(..))));
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn notification_from_the_peer_takes_the_session_down() {
    let t0 = Instant::now();
    let (mut s, id) = established(t0);
    let a = s.received(t0, id, Message::Notification(Notification::cease(err::ADMIN_SHUTDOWN, "")));
    assert!(a.contains(&Action::Down("Cease/Administrative Shutdown received".into(), true)));
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.dropped_count, 1);
}

#[test]
fn retry_soon_cuts_the_backoff_short() {
    let t0 = Instant::now();
    let mut s = Session::new(cfg(), t0);
    let mut t = t0;
    let mut a = s.start(t);
    for _ in 0..4 {
        let Some(Action::Connect(id)) = a.first() else { panic!("{a:?}") };
        s.closed(t, *id, "Network is unreachable");
        t = s.next_deadline().unwrap();
        a = s.timeout(t);
    }
    let Some(Action::Connect(id)) = a.first() else { panic!() };
    s.closed(t, *id, "Network is unreachable");
    assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(16)));
    // An address appears: try at once, and back off from 1 s again.
    s.retry_soon(t);
    assert_eq!(s.next_deadline(), Some(t));
    let Some(Action::Connect(id)) = s.timeout(t).first().cloned() else { panic!() };
    s.closed(t, id, "Connection refused");
    assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(1)));
}
