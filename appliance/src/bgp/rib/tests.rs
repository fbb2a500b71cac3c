//! Best path in FRR's order, multipath, and the table's change reports.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::bgp::packet::{AsPath, Origin};

fn peers(id: PeerId) -> PeerInfo {
    // Peers 1-9 are eBGP, 10+ iBGP; router-id and address follow the id.
    PeerInfo {
        ebgp: id < 10,
        router_id: Ipv4Addr::new(192, 0, 2, id as u8),
        addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, id as u8)),
    }
}

fn path(peer: PeerId, f: impl FnOnce(&mut PathAttrs)) -> Path {
    let mut a = PathAttrs::default().with_as_path(&AsPath::sequence(&[65000 + peer])).with_next_hop(peers(peer).addr);
    f(&mut a);
    Path { peer, attrs: Arc::new(a), since: 0 }
}

fn winner(mut cands: Vec<Path>) -> PeerId {
    select(&mut cands, &peers, Selection::default());
    cands[0].peer
}

use super::best::select;

#[test]
fn order_of_the_steps() {
    // Weight: local origination beats a higher local-pref.
    assert_eq!(winner(vec![path(1, |a| a.local_pref = Some(500).into()), path(LOCAL, |_| {})]), LOCAL);
    // Local preference.
    assert_eq!(winner(vec![path(1, |_| {}), path(2, |a| a.local_pref = Some(200).into())]), 2);
    // AS path length.
    assert_eq!(winner(vec![path(1, |a| a.prepend_as(65001, 1)), path(2, |_| {})]), 2);
    // Origin.
    assert_eq!(winner(vec![path(1, |a| a.origin = Origin::Incomplete), path(2, |a| a.origin = Origin::Egp)]), 2);
    // MED, within the same neighbour AS only.
    let same_as = |peer, med| {
        path(peer, move |a| {
            a.set_as_path(&AsPath::sequence(&[65000]));
            a.med = Some(med).into()
        })
    };
    assert_eq!(winner(vec![same_as(1, 10), same_as(2, 5)]), 2);
    assert_eq!(
        winner(vec![path(1, |a| a.med = Some(10).into()), path(2, |a| a.med = Some(5).into())]),
        1,
        "router-id decides"
    );
    // eBGP over iBGP.
    assert_eq!(winner(vec![path(10, |a| a.set_as_path(&AsPath::sequence(&[65009]))), path(9, |_| {})]), 9);
    // Router-id, then peer address.
    assert_eq!(
        winner(vec![
            path(3, |a| a.set_as_path(&AsPath::sequence(&[1]))),
            path(2, |a| a.set_as_path(&AsPath::sequence(&[2])))
        ]),
        2
    );
}

#[test]
fn multipath_needs_equal_paths_and_maximum_paths() {
    let mut t = Table::default();
    let prefix: IpNet = "203.0.113.0/24".parse().unwrap();
    let same = |peer| path(peer, |a| a.set_as_path(&AsPath::sequence(&[65100, 65200])));
    let sel = Selection { maximum_paths: 4, maximum_paths_ibgp: 1, multipath_relax: false };
    t.update(prefix, Some(same(1)), 1, &peers, sel);
    let c = t.update(prefix, Some(same(2)), 2, &peers, sel).0.unwrap();
    assert_eq!(c.selected.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![1, 2]);
    // A different AS path is no multipath partner.
    assert!(t
        .update(prefix, Some(path(3, |a| a.set_as_path(&AsPath::sequence(&[65300, 65200])))), 3, &peers, sel)
        .0
        .is_none());
    assert_eq!(t.selected(&prefix).len(), 2);
    assert_eq!(t.paths(&prefix).len(), 3);
    // `bgp bestpath as-path multipath-relax`: as long is enough.
    let relaxed = Selection { multipath_relax: true, ..sel };
    assert_eq!(t.reselect(&peers, relaxed).len(), 1);
    assert_eq!(t.selected(&prefix).len(), 3);
    // With maximum-paths 1 again, only the best stays.
    let changes = t.reselect(&peers, Selection::default());
    assert_eq!(changes.len(), 1);
    assert_eq!(t.selected(&prefix).len(), 1);
}

/// An empty table, the prefix its tests use, the default selection.
fn one_prefix() -> (Table, IpNet, Selection) {
    (Table::default(), "10.2.0.0/24".parse().unwrap(), Selection::default())
}

#[test]
fn with_two_paths_the_selection_moves_with_the_set_not_its_content() {
    let (mut t, p, sel) = one_prefix();
    let best = path(1, |_| {});
    t.update(p, Some(best.clone()), 1, &peers, sel);
    assert_eq!(t.update(p, Some(path(2, |a| a.prepend_as(1, 3))), 2, &peers, sel), (None, false));
    // The same set again from the best's neighbor, a new worse one from
    // the other: nothing moved.
    assert_eq!(t.update(p, Some(best.clone()), 1, &peers, sel), (None, true));
    assert_eq!(t.update(p, Some(path(2, |a| a.prepend_as(1, 2))), 2, &peers, sel), (None, true));
    // An equal set in another allocation (sets are interned, so it is
    // another set) is a new selection, and the old set may go meanwhile.
    let again = Path { attrs: Arc::new((*best.attrs).clone()), ..best.clone() };
    drop(best);
    let c = t.update(p, Some(again.clone()), 1, &peers, sel).0.expect("a change");
    assert!(Arc::ptr_eq(&c.selected[0].attrs, &again.attrs));
    assert_eq!(t.paths(&p).iter().map(|p| p.peer).collect::<Vec<_>>(), vec![1, 2]);
    // A better set from the other neighbor takes over.
    let c = t.update(p, Some(path(2, |a| a.local_pref = Some(200).into())), 2, &peers, sel).0.expect("a change");
    assert_eq!(c.selected.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![2]);
}

#[test]
fn changes_are_reported_only_when_the_selection_moves() {
    let (mut t, p, sel) = one_prefix();
    let a = path(1, |_| {});
    assert_eq!(
        t.update(p, Some(a.clone()), 1, &peers, sel),
        (Some(Change { prefix: p, selected: Selected::One(a.clone()), sent: 0 }), false)
    );
    // The same path again: nothing to tell, but it replaced one.
    assert_eq!(t.update(p, Some(a.clone()), 1, &peers, sel), (None, true));
    // A worse alternative: still nothing.
    assert_eq!(t.update(p, Some(path(2, |a| a.prepend_as(1, 3))), 2, &peers, sel), (None, false));
    // The best goes: the alternative takes over.
    let (c, had) = t.update(p, None, 1, &peers, sel);
    assert!(had);
    assert_eq!(c.unwrap().selected[0].peer, 2);
    assert_eq!(t.prefixes_of(2), vec![p]);
    let c = t.update(p, None, 2, &peers, sel).0.unwrap();
    assert!(c.selected.is_empty());
    assert!(t.is_empty());
    assert_eq!(t.update(p, None, 2, &peers, sel), (None, false));
}

#[test]
fn interning_shares_equal_attributes() {
    let mut i = Interner::default();
    let a = i.intern(PathAttrs { med: Some(1).into(), ..Default::default() });
    let b = i.intern(PathAttrs { med: Some(1).into(), ..Default::default() });
    assert!(Arc::ptr_eq(&a, &b));
    let c = i.intern(PathAttrs { med: Some(2).into(), ..Default::default() });
    assert_eq!(i.len(), 2);
    drop(c);
    i.sweep();
    assert_eq!(i.len(), 1);
    drop((a, b));
    i.sweep();
    assert!(i.is_empty());
}

#[test]
fn buckets_keep_prefixes_whole_and_in_order() {
    let mut want: Vec<IpNet> = [
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.0.0.0/24",
        "10.0.1.0/24",
        "10.255.255.255/32",
        "192.0.2.0/24",
        "255.255.255.255/32",
        "198.51.100.128/25",
        "198.51.100.0/24",
        "10.0.0.0/16",
    ]
    .iter()
    .map(|p| p.parse().unwrap())
    .collect();
    let mut t4 = Table::default();
    for p in &want {
        let (b, k) = V4::split(p).unwrap();
        assert_eq!(V4::join(b, k), *p);
        t4.update(*p, Some(path(1, |_| {})), 1, &peers, Selection::default());
    }
    want.sort();
    let got: Vec<IpNet> = t4.iter().map(|(p, _, _)| p).collect();
    assert_eq!(got, want);
    let v6: Vec<IpNet> =
        ["::/0", "2001:db8::/32", "2001:db8::/48", "2001:db8:0:0:1::/80", "2001:db8::1/128", "ff00::/8"]
            .iter()
            .chain(&["2001:db8:ffff:ffff:ffff:ffff:ffff:ff00/120", "2001:db8::/127", "2001:db8:1::/48"])
            .map(|p| p.parse().unwrap())
            .collect();
    let mut t6 = Table::default();
    for p in v6.iter().rev() {
        let (b, k) = V6::split(p).unwrap();
        assert_eq!(V6::join(b, k), *p);
        t6.update(*p, Some(path(1, |_| {})), 1, &peers, Selection::default());
    }
    let got: Vec<IpNet> = t6.iter().map(|(p, _, _)| p).collect();
    let mut sorted = v6.clone();
    sorted.sort();
    assert_eq!(got, sorted);
    assert_eq!(t6.len(), 9);
    for p in &v6 {
        t6.update(*p, None, 1, &peers, Selection::default());
    }
    assert!(t6.is_empty() && t6.v6.map.is_empty());
}

/// An IPv4 entry has a sent bit for 32 export slots, an IPv6 one for 24:
/// past them the table has no bit (the Adj-RIB-Out keeps the prefix).
#[test]
fn sent_bits_of_both_families() {
    let mut t = Table::default();
    let (v4, v6): (IpNet, IpNet) = ("192.0.2.0/24".parse().unwrap(), "2001:db8::/48".parse().unwrap());
    for p in [v4, v6] {
        t.update(p, Some(path(1, |_| {})), 1, &peers, Selection::default());
    }
    for (slot, on4, on6) in [
        (0, Some(false), Some(false)),
        (23, Some(false), Some(false)),
        (24, Some(false), None),
        (31, Some(false), None),
    ] {
        assert_eq!(t.swap_sent(&v4, slot, true), on4, "slot {slot}");
        assert_eq!(t.swap_sent(&v6, slot, true), on6, "slot {slot}");
        assert_eq!(t.sent(&v4, slot), Some(true));
        assert_eq!(t.sent(&v6, slot), on6.map(|_| true));
        assert_eq!(t.best_marking(&v6, Some(slot)).1, on6.map(|_| true));
    }
    t.clear_slot(23);
    assert_eq!((t.sent(&v4, 23), t.sent(&v6, 23), t.sent(&v6, 0)), (Some(false), Some(false), Some(true)));
    // The bits of the slots go with a removed entry, for the withdrawals.
    let (c, _) = t.update(v6, None, 1, &peers, Selection::default());
    assert_eq!(c.unwrap().sent, 1);
}

/// What a prefix costs: its entry (one path inline) and, from a second
/// path on, 32 bytes for two in the table's spare store.
#[test]
fn entries_and_second_paths_stay_small() {
    assert_eq!(std::mem::size_of::<Path>(), 16);
    assert_eq!(std::mem::size_of::<Paths>(), 16);
    assert_eq!(std::mem::size_of::<Entry<u32, u32>>(), 24);
    assert_eq!(std::mem::size_of::<Entry<[u8; 13], Sent24>>(), 32);
    // An attribute set's Arc (16 + 40, and musl's 4-byte header) fits
    // a 64-byte slot.
    assert_eq!(std::mem::size_of::<crate::bgp::packet::PathAttrs>(), 40);
}

#[test]
fn second_paths_live_in_the_spare_store_and_leave_it() {
    let mut t = Table::default();
    let sel = Selection::default();
    // More than a chunk's worth of pairs.
    let prefixes: Vec<IpNet> = (0..5000u32)
        .map(|i| IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)), 24).unwrap()))
        .collect();
    for p in &prefixes {
        t.update(*p, Some(path(1, |_| {})), 1, &peers, sel);
        t.update(*p, Some(path(2, |a| a.prepend_as(1, 2))), 2, &peers, sel);
    }
    assert!(prefixes.iter().all(|p| t.paths(p).len() == 2 && t.selected(p)[0].peer == 1));
    // A third path on one of them: a list.
    t.update(prefixes[0], Some(path(3, |a| a.prepend_as(1, 3))), 3, &peers, sel);
    assert_eq!(t.paths(&prefixes[0]).iter().map(|p| p.peer).collect::<Vec<_>>(), [1, 2, 3]);
    // The best goes everywhere: the second takes over, alone.
    for p in &prefixes {
        let (c, had) = t.update(*p, None, 1, &peers, sel);
        assert!(had && c.unwrap().selected[0].peer == 2);
    }
    assert!(prefixes[1..].iter().all(|p| t.paths(p).len() == 1 && t.selected(p)[0].peer == 2));
    assert_eq!(t.paths(&prefixes[0]).iter().map(|p| p.peer).collect::<Vec<_>>(), [2, 3]);
    assert!(!t.v4.spare.is_empty());
    t.update(prefixes[0], None, 3, &peers, sel);
    assert!(t.v4.spare.is_empty(), "every pair and list taken out, the chunks gone");
    assert_eq!(t.len(), 5000);
}

#[test]
fn seek_finds_what_binary_search_does_from_any_finger() {
    let keys = [3u32, 5, 6, 9, 12, 13, 14, 20, 31];
    let v: Vec<Entry<u32, u32>> =
        keys.iter().map(|&key| Entry { key, sent: 0, paths: Paths::One(path(1, |_| {})) }).collect();
    for k in 0..34 {
        let want = v.binary_search_by_key(&k, |e| e.key);
        for from in 0..=v.len() + 2 {
            assert_eq!(seek(&v, k, from), want, "key {k} from {from}");
        }
    }
}

#[test]
fn best_marking_follows_a_walk_and_a_jump_back() {
    let mut t = Table::default();
    let nets: Vec<IpNet> = (0..40u8).map(|i| format!("192.0.2.{}/32", i * 6).parse().unwrap()).collect();
    for n in &nets {
        t.update(*n, Some(path(1, |_| {})), 1, &peers, Selection::default());
    }
    // In order, then backwards, then every third: each found, each once.
    let order = nets.iter().chain(nets.iter().rev()).chain(nets.iter().step_by(3));
    for (i, n) in order.enumerate() {
        let (best, sent) = t.best_marking(n, Some(0));
        assert!(best.is_some(), "{n}");
        assert_eq!(sent, Some(i >= nets.len()), "{n} at step {i}");
    }
    assert_eq!(t.best_marking(&"192.0.2.1/32".parse().unwrap(), Some(0)).0, None);
}
