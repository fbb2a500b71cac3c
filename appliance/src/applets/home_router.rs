//! The home router's side of what `bgpbox build` makes: for each neighbor
//! of a profile on its LAN (the seed's NEC IX2105), its configuration in
//! FRR's dialect and in NEC IX's, with the default route toward each
//! server. Each build adds its server to the files already in `--out`, so
//! that building every profile into one directory gives the whole home
//! router. FRR's also has a listen range over the LAN, so that a server
//! added later comes up there without an edit; NEC IX has no listen ranges.

use std::fmt::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use bgpbox_image::profile::{Bgp, Profile};

use crate::bgp::config::{self, Config, NeighborId, Node};

/// The peer-group of the listen range.
const GROUP: &str = "BGPBOX";

fn apply(cfg: &mut Config, lines: &[String]) -> Result<(), String> {
    let mut node = Node::Config;
    for l in lines {
        node = config::apply_line(cfg, &node, l).map_err(|e| format!("{}: {e}", l.trim()))?;
    }
    Ok(())
}

/// Writes (or adds this profile's server to) the home routers' files in
/// `out`; returns their paths.
pub fn write(out: &Path, p: &Profile) -> Result<Vec<PathBuf>, String> {
    let Bgp::Generated { neighbors, .. } = &p.bgp else { return Ok(Vec::new()) };
    let mut written = Vec::new();
    for n in neighbors {
        let Some(lan) = p.lan.addresses.iter().find(|a| a.trunc().contains(&n.address)) else { continue };
        let me = lan.addr();
        let frr = out.join(format!("home-router-{}.frr.conf", n.address));
        let mut cfg = match std::fs::read_to_string(&frr) {
            Ok(text) => config::parse(&frr.display().to_string(), &text).map_err(|e| e.to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut c = Config::default();
                apply(&mut c, &base(n.address, n.remote_as, &lan.trunc().to_string()))?;
                c
            }
            Err(e) => return Err(format!("{}: {e}", frr.display())),
        };
        let afi = if me.is_ipv4() { "ipv4" } else { "ipv6" };
        apply(
            &mut cfg,
            &[
                format!("router bgp {}", n.remote_as),
                format!(" neighbor {me} remote-as {}", p.router.asn),
                format!(" neighbor {me} description {}", p.router.hostname),
                format!(" address-family {afi} unicast"),
                format!("  neighbor {me} default-originate"),
            ],
        )
        .map_err(|e| format!("{}: {e} (the home router's AS changed? remove the file)", frr.display()))?;
        let header = format!(
            "! The home router {} (AS {}) for its bgpbox routers, in FRR's dialect: each known\n\
             ! server by name, and any other on the LAN through the listen range.\n",
            n.address, n.remote_as
        );
        write_file(&frr, &(header + &config::render(&cfg)))?;
        let ix = out.join(format!("home-router-{}.ix.conf", n.address));
        write_file(&ix, &nec_ix(&cfg, n.address))?;
        written.extend([frr, ix]);
    }
    Ok(written)
}

/// The files `write` writes for a profile.
pub fn files(out: &Path, p: &Profile) -> Vec<PathBuf> {
    let Bgp::Generated { neighbors, .. } = &p.bgp else { return Vec::new() };
    neighbors
        .iter()
        .filter(|n| p.lan.addresses.iter().any(|a| a.trunc().contains(&n.address)))
        .flat_map(|n| ["frr", "ix"].map(|k| out.join(format!("home-router-{}.{k}.conf", n.address))))
        .collect()
}

fn write_file(p: &Path, text: &str) -> Result<(), String> {
    bgpbox_image::fsutil::write_atomic(p, text.as_bytes(), 0o644).map_err(|e| format!("{}: {e}", p.display()))
}

/// A new home router's FRR config: the instance, the listen range's group
/// sending the default route.
fn base(addr: IpAddr, asn: u32, lan: &str) -> Vec<String> {
    let afi = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
    [
        format!("router bgp {asn}"),
        format!(" bgp router-id {addr}"),
        " no bgp ebgp-requires-policy".into(),
        format!(" neighbor {GROUP} peer-group"),
        format!(" neighbor {GROUP} remote-as external"),
        format!(" bgp listen range {lan} peer-group {GROUP}"),
        format!(" address-family {afi} unicast"),
        format!("  neighbor {GROUP} default-originate"),
    ]
    .into_iter()
    .map(|l| l.to_string())
    .collect()
}

/// The same neighbors in NEC IX's `router bgp` syntax (the seed's
/// IX2105): one line each, and `originate-default` for the default route.
fn nec_ix(cfg: &Config, router_id: IpAddr) -> String {
    let mut s = String::from("! The home router's side of its bgpbox routers, for NEC IX (IX2105 and kin).\n");
    let Some(b) = &cfg.bgp else { return s };
    let _ = writeln!(s, "router bgp {}\n  router-id {router_id}", b.asn);
    for n in &b.neighbors {
        if let (NeighborId::Addr(a), config::Neighbor { remote_as: crate::bgp::fsm::RemoteAs::Asn(asn), .. }) =
            (&n.id, n)
        {
            let _ = writeln!(s, "  neighbor {a} remote-as {asn}");
        }
    }
    s.push_str("  address-family ipv4 unicast\n    originate-default\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        Profile::load(&repo.join("profiles").join(name), &[]).unwrap()
    }

    #[test]
    fn both_servers_in_frr_s_and_nec_ix_s_dialects() {
        let d = std::env::temp_dir().join(format!("bgpbox-home-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        write(&d, &profile("ryzen7-5700x.toml")).unwrap();
        let files = write(&d, &profile("optiplex.toml")).unwrap();
        assert_eq!(files.len(), 2);
        let frr = std::fs::read_to_string(d.join("home-router-192.168.2.254.frr.conf")).unwrap();
        for l in [
            "router bgp 65000",
            " bgp router-id 192.168.2.254",
            " neighbor BGPBOX remote-as external",
            " bgp listen range 192.168.2.0/24 peer-group BGPBOX",
            " neighbor 192.168.2.203 remote-as 65001",
            " neighbor 192.168.2.203 description RyzenRouter",
            " neighbor 192.168.2.204 remote-as 65002",
            "  neighbor BGPBOX default-originate",
            "  neighbor 192.168.2.203 default-originate",
            "  neighbor 192.168.2.204 default-originate",
        ] {
            assert!(frr.lines().any(|x| x == l), "{l:?} not in\n{frr}");
        }
        assert!(config::parse("home", &frr).is_ok());
        let ix = std::fs::read_to_string(d.join("home-router-192.168.2.254.ix.conf")).unwrap();
        assert!(
            ix.ends_with(
                "router bgp 65000\n  router-id 192.168.2.254\n  neighbor 192.168.2.203 remote-as 65001\n  \
             neighbor 192.168.2.204 remote-as 65002\n  address-family ipv4 unicast\n    originate-default\n"
            ),
            "{ix}"
        );
        // Building a profile again changes nothing.
        write(&d, &profile("optiplex.toml")).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("home-router-192.168.2.254.frr.conf")).unwrap(), frr);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
