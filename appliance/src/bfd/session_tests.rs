use super::*;

/// Two sessions wired back to back: what one sends, the other receives.
fn exchange(a: &mut Session, b: &mut Session, now: Instant, out: Vec<Out>) -> Vec<(State, Diag)> {
    let mut changes = Vec::new();
    let mut queue: Vec<(bool, Control)> = Vec::new();
    let push = |to_b: bool, out: Vec<Out>, changes: &mut Vec<(State, Diag)>, q: &mut Vec<(bool, Control)>| {
        for o in out {
            match o {
                Out::Send(c) => q.push((to_b, c)),
                Out::Changed(s, d) => changes.push((s, d)),
            }
        }
    };
    push(true, out, &mut changes, &mut queue);
    while let Some((to_b, c)) = queue.pop() {
        let out = if to_b { b.received(now, &c) } else { a.received(now, &c) };
        push(!to_b, out, &mut changes, &mut queue);
    }
    changes
}

fn tick(a: &mut Session, b: &mut Session, now: Instant) {
    let out = a.timeout(now);
    exchange(a, b, now, out);
    let out = b.timeout(now);
    exchange(b, a, now, out);
}

/// Two sessions of default timers, five seconds of their packets later.
fn pair_up() -> (Session, Session, Instant, Instant) {
    let t0 = Instant::now();
    let mut a = Session::new(1, Timers::default(), t0);
    let mut b = Session::new(2, Timers::default(), t0);
    let mut now = t0;
    for _ in 0..10 {
        now += Duration::from_millis(500);
        tick(&mut a, &mut b, now);
    }
    (a, b, t0, now)
}

#[test]
fn three_way_handshake_then_detection() {
    let (mut a, b, t0, mut now) = pair_up();
    assert_eq!((a.state(), b.state()), (State::Up, State::Up));
    assert_eq!((a.remote_discr(), b.remote_discr()), (2, 1));
    // Up, they go at 300 ms (less jitter), never slower.
    let gap = a.next_deadline().unwrap().duration_since(now);
    assert!(gap <= Duration::from_millis(300), "{gap:?}");
    // b goes silent: a sees it after 3 x 300 ms.
    let mut changes = Vec::new();
    for _ in 0..10 {
        now += Duration::from_millis(100);
        for o in a.timeout(now) {
            if let Out::Changed(s, d) = o {
                changes.push((s, d, now.duration_since(t0)));
            }
        }
    }
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].0, changes[0].1), (State::Down, Diag::DetectionTimeExpired));
    assert_eq!(a.remote_discr(), 0);
}

#[test]
fn admin_down_and_neighbor_down() {
    let (mut a, mut b, _, mut now) = pair_up();
    assert_eq!(a.state(), State::Up);
    // b shut down: a hears AdminDown and goes Down (neighbor signaled).
    let out = b.set_timers(now, Timers { shutdown: true, ..Timers::default() });
    let changes = exchange(&mut b, &mut a, now, out);
    assert!(changes.contains(&(State::Down, Diag::NeighborDown)), "{changes:?}");
    assert_eq!(b.state(), State::AdminDown);
    // And back.
    let out = b.set_timers(now, Timers::default());
    exchange(&mut b, &mut a, now, out);
    for _ in 0..10 {
        now += Duration::from_millis(500);
        tick(&mut a, &mut b, now);
    }
    assert_eq!((a.state(), b.state()), (State::Up, State::Up));
}

#[test]
fn a_passive_session_waits_and_a_poll_gets_its_final() {
    let t0 = Instant::now();
    let mut p = Session::new(1, Timers { passive: true, ..Timers::default() }, t0);
    assert_eq!(p.next_deadline(), None, "passive: silent until the peer speaks");
    let mut poll = Session::new(9, Timers::default(), t0).packet(false);
    poll.state = State::Down;
    poll.poll = true;
    let out = p.received(t0, &poll);
    assert!(matches!(&out[0], Out::Send(c) if c.fin && !c.poll), "{out:?}");
    assert!(p.next_deadline().is_some());
}
