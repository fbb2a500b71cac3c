//! The text files rendered from a profile: bgpd.conf in FRR's dialect, the
//! LXD profile and image metadata, /etc/hostname and /etc/os-release.

use std::fmt::Write;

use ipnet::IpNet;

use crate::netconf::{LAN_IF, VM_IF};
use crate::profile::{Bgp, Profile};

/// Prefix-list names as the seed's configs spell them.
const LIST_IN: &str = "allowed-in";
const LIST_OUT: &str = "allowed-adv";

/// bgpd.conf for the profile. For the seed's profiles the `router bgp` and
/// prefix-list lines are those of the seed's FRR configs, line for line.
pub fn bgpd_conf(p: &Profile) -> String {
    let (announce, accept, neighbors, listen, gr, bfd_interval) = match &p.bgp {
        Bgp::File { text, .. } => return text.clone(),
        Bgp::Generated { announce, accept, neighbors, listen, graceful_restart, bfd_interval } => {
            (announce, accept, neighbors, listen, graceful_restart, bfd_interval)
        }
    };
    // Who the prefix-lists apply to: each neighbor, and each listen
    // range's peer-group (LISTEN1, LISTEN2, ...).
    let mut peers: Vec<(String, bool)> =
        neighbors.iter().map(|n| (n.address.to_string(), n.address.is_ipv6())).collect();
    peers.extend(listen.iter().enumerate().map(|(i, l)| (format!("LISTEN{}", i + 1), l.range.addr().is_ipv6())));
    let mut s = String::new();
    let _ = writeln!(s, "! {} (profile {}), rendered by bgpbox build", p.router.hostname, p.name);
    let _ = writeln!(s, "!");
    let _ = writeln!(s, "router bgp {}", p.router.asn);
    if let Some(id) = p.router.router_id {
        let _ = writeln!(s, " bgp router-id {id}");
    }
    match gr.as_str() {
        "restart" => s.push_str(" bgp graceful-restart\n"),
        "disable" => s.push_str(" bgp graceful-restart-disable\n"),
        _ => {}
    }
    for n in neighbors {
        let _ = writeln!(s, " neighbor {} remote-as {}", n.address, n.remote_as);
        if let Some(d) = &n.description {
            let _ = writeln!(s, " neighbor {} description {d}", n.address);
        }
        if n.bfd {
            let _ = writeln!(s, " neighbor {} bfd{}", n.address, bfd_profile(*bfd_interval));
        }
    }
    for (i, l) in listen.iter().enumerate() {
        let g = format!("LISTEN{}", i + 1);
        let _ = writeln!(s, " neighbor {g} peer-group\n neighbor {g} remote-as {}", l.remote_as);
        if let Some(d) = &l.description {
            let _ = writeln!(s, " neighbor {g} description {d}");
        }
        if l.bfd {
            let _ = writeln!(s, " neighbor {g} bfd{}", bfd_profile(*bfd_interval));
        }
        let _ = writeln!(s, " bgp listen range {} peer-group {g}", l.range);
    }
    let v6_wanted = announce.iter().any(|a| matches!(a, IpNet::V6(_))) || peers.iter().any(|(_, v6)| *v6);
    for v6 in [false, true] {
        if v6 && !v6_wanted {
            continue;
        }
        let _ = writeln!(s, " !");
        let _ = writeln!(s, " address-family {} unicast", if v6 { "ipv6" } else { "ipv4" });
        for a in announce.iter().filter(|a| matches!(a, IpNet::V6(_)) == v6) {
            let _ = writeln!(s, "  network {a}");
        }
        for (who, _) in &peers {
            if v6 {
                let _ = writeln!(s, "  neighbor {who} activate");
            }
            let _ = writeln!(s, "  neighbor {who} prefix-list {LIST_IN} in");
            let _ = writeln!(s, "  neighbor {who} prefix-list {LIST_OUT} out");
        }
        let _ = writeln!(s, " exit-address-family");
    }
    let _ = writeln!(s, "exit");
    let _ = writeln!(s, "!");
    for v6 in [false, true] {
        if v6 && !v6_wanted {
            continue;
        }
        let kw = if v6 { "ipv6 prefix-list" } else { "ip prefix-list" };
        let mut seq = 5;
        for a in announce.iter().filter(|a| matches!(a, IpNet::V6(_)) == v6) {
            let _ = writeln!(s, "{kw} {LIST_OUT} seq {seq} permit {a}");
            seq += 5;
        }
        let _ = writeln!(s, "{kw} {LIST_OUT} seq {seq} deny any");
        let mut seq = 5;
        for m in accept.iter().filter(|m| m.prefix.is_none_or(|p| matches!(p, IpNet::V6(_)) == v6)) {
            let _ = writeln!(s, "{kw} {LIST_IN} seq {seq} permit {m}");
            seq += 5;
        }
    }
    if let Some(ms) = bfd_interval {
        let _ = writeln!(
            s,
            "!\nbfd\n profile {BFD_PROFILE}\n  receive-interval {ms}\n  transmit-interval {ms}\n exit\n !\nexit"
        );
    }
    s
}

/// The BFD profile a profile's `bfd_interval` makes.
const BFD_PROFILE: &str = "profile-bfd";

fn bfd_profile(interval: Option<u32>) -> String {
    interval.map_or(String::new(), |_| format!(" profile {BFD_PROFILE}"))
}

pub fn hostname(p: &Profile) -> String {
    format!("{}\n", p.router.hostname)
}

pub fn os_release(p: &Profile, version: &str) -> String {
    format!(
        "NAME=\"bgpbox\"\nID=bgpbox\nVERSION_ID={version}\nVERSION=\"{version} ({name})\"\nVARIANT_ID={name}\nPRETTY_NAME=\"bgpbox {version} ({host} on {name})\"\n",
        name = p.name,
        host = p.router.hostname,
    )
}

/// The LXD profile. Root disk and storage stay with the user's default
/// profile; this one carries only what makes the container this router.
pub fn lxd_profile(p: &Profile) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "name: {}", p.name);
    let _ = writeln!(s, "description: {}", yaml_str(&format!("bgpbox router {} ({})", p.router.hostname, p.name)));
    let _ = writeln!(s, "config:");
    let _ = writeln!(s, "  boot.autostart: \"true\"");
    let _ = writeln!(s, "  security.privileged: \"false\"");
    let _ = writeln!(s, "devices:");
    let _ = writeln!(s, "  {LAN_IF}:");
    if let Some(mac) = &p.lan.hwaddr {
        let _ = writeln!(s, "    hwaddr: {}", yaml_str(mac));
    }
    if let Some(mtu) = p.lan.mtu {
        let _ = writeln!(s, "    mtu: \"{mtu}\"");
    }
    let _ =
        writeln!(s, "    name: {LAN_IF}\n    nictype: macvlan\n    parent: {}\n    type: nic", yaml_str(&p.lan.parent));
    // The saved config outlives the image (applets/saved_config.rs).
    let _ = writeln!(
        s,
        "  config:\n    path: /var/lib/bgpbox\n    pool: {}\n    source: {}\n    type: disk",
        yaml_str(&p.router.storage_pool),
        yaml_str(&p.router.config_volume(&p.name))
    );
    if let Some(vm) = &p.vm_network {
        let _ = writeln!(s, "  {VM_IF}:");
        if let Some(mtu) = vm.mtu {
            let _ = writeln!(s, "    mtu: \"{mtu}\"");
        }
        let _ =
            writeln!(s, "    name: {VM_IF}\n    nictype: bridged\n    parent: {}\n    type: nic", yaml_str(&vm.bridge));
    }
    s
}

pub struct ImageMeta<'a> {
    pub version: &'a str,
    pub creation_date: u64,
}

pub fn metadata_yaml(p: &Profile, m: &ImageMeta) -> String {
    let serial = serial(m.creation_date);
    let desc = format!("bgpbox {} {} ({}) {serial}", m.version, p.name, p.router.hostname);
    format!(
        "architecture: x86_64\ncreation_date: {date}\nproperties:\n  architecture: x86_64\n  description: {desc}\n  name: bgpbox-{name}-{version}-{serial}\n  os: bgpbox\n  release: {version}\n  serial: \"{serial}\"\n  variant: {name}\ntemplates: {{}}\n",
        date = m.creation_date,
        desc = yaml_str(&desc),
        name = p.name,
        version = m.version,
    )
}

/// LXD's serial form, `YYYYMMDD_HHMM`, in UTC.
pub fn serial(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let (y, mo, d) = civil_from_days(days);
    format!("{y:04}{mo:02}{d:02}_{:02}{:02}", secs / 3600, secs % 3600 / 60)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's days-to-civil; avoids a date crate for two formats:
/// this and the log's timestamps).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Quotes a YAML scalar when it could be read as anything but a string.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || " -_.()/".contains(c))
        && !s.starts_with([' ', '-'])
        && !s.ends_with(' ')
        && s.parse::<f64>().is_err()
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~");
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The host-side command that lets the host reach its router container
/// (macvlan children cannot talk to their parent).
/// The host's way to its own router container and the VMs behind it: a
/// macvlan shim on the same parent (it lends the parent's address unless
/// the profile gives one), the router via the shim, the VM networks via
/// the router.
pub fn host_shim_command(p: &Profile) -> String {
    let mut cmd = format!("bgpbox netsetup host-shim --parent {}", p.lan.parent);
    if let Some(a) = p.lan.shim_address {
        cmd.push_str(&format!(" --address {a}"));
    }
    if let Some(r) = p.lan.addresses.iter().find(|a| a.addr().is_ipv4()) {
        cmd.push_str(&format!(" --router {}", r.addr()));
        for v in p.vm_network.iter().flat_map(|v| &v.addresses).filter(|a| a.addr().is_ipv4()) {
            cmd.push_str(&format!(" --route {}", v.trunc()));
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_matches_lxd_form() {
        assert_eq!(serial(0), "19700101_0000");
        // 2024-09-08T02:08:54+09:00, the seed's date.
        assert_eq!(serial(1_725_728_934), "20240907_1708");
        assert_eq!(serial(951_782_400), "20000229_0000");
    }

    #[test]
    fn yaml_quoting() {
        assert_eq!(yaml_str("enp7s0"), "enp7s0");
        assert_eq!(yaml_str("00:16:3e:00:00:01"), "\"00:16:3e:00:00:01\"");
        assert_eq!(yaml_str("true"), "\"true\"");
        assert_eq!(yaml_str("1.5"), "\"1.5\"");
    }
}
