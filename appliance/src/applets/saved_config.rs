//! The config that outlives the image: the generated LXD profile mounts a
//! custom storage volume at /var/lib/bgpbox, where bgpd runs from (and
//! `write memory` saves to) `bgpd.conf`, beside `image.conf`, the image's
//! config it began from. At each boot init picks the file bgpd runs from,
//! by one rule: the saved config wins; a new image's changes (against the
//! image it was saved over) are applied on top unless they touch what the
//! operator changed, and then they are only reported (`config::merge`).
//! Every boot says in the log which file is used and what the other would
//! have changed.

use std::path::{Path, PathBuf};

use crate::bgp::config::merge;

/// Where the profile mounts the config volume.
pub const STATE_DIR: &str = "/var/lib/bgpbox";

/// The config bgpd runs from, and the image's when that is another file
/// (bgpd's healthcheck then says how the two differ).
pub fn choose(etc: &Path, state: &Path) -> (PathBuf, Option<PathBuf>) {
    let image = etc.join("bgpd.conf");
    if !state.is_dir() {
        crate::warn!(
            "init",
            "config: {} (the image's); no config volume at {}: `write memory` is lost when the image is replaced",
            image.display(),
            state.display()
        );
        return (image, None);
    }
    let (saved, base) = (state.join("bgpd.conf"), state.join("image.conf"));
    match pick(&image, &saved, &base) {
        Ok(line) => {
            crate::info!("init", "config: {line}");
            (saved, Some(image))
        }
        Err(e) => {
            crate::error!("init", "config: {e}; running the image's {}", image.display());
            (image, None)
        }
    }
}

/// Prepares `saved` and says what was done.
fn pick(image: &Path, saved: &Path, base: &Path) -> Result<String, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let write = |p: &Path, t: &str| {
        bgpbox_image::fsutil::write_atomic(p, t.as_bytes(), 0o640).map_err(|e| format!("{}: {e}", p.display()))
    };
    let new = read(image)?;
    if !saved.exists() {
        write(saved, &new)?;
        write(base, &new)?;
        return Ok(format!("{} (first boot: seeded from the image's {})", saved.display(), image.display()));
    }
    let mine = read(saved)?;
    // Without the record of its image, the saved config is taken as it is,
    // and this image becomes the record.
    let Ok(old) = read(base) else {
        write(base, &new)?;
        return Ok(format!(
            "{} (saved; no record of the image it was saved over, so the new image's changes are not merged)",
            saved.display()
        ));
    };
    let m = merge(&old, &new, &mine)?;
    if m.added.is_empty() && m.removed.is_empty() {
        return Ok(format!("{} (saved; the image's config is the one it was saved over)", saved.display()));
    }
    let changes = describe(&m.added, &m.removed);
    if !m.conflicts.is_empty() {
        // The image's record stays the old one: the next boot says it again.
        return Ok(format!(
            "{} (saved, kept as it is); the new image's config would have changed: {changes}; not applied: {} \
             (apply what you want with vtysh and `write memory`, or remove {} to start over from the image's)",
            saved.display(),
            m.conflicts.join("; "),
            saved.display()
        ));
    }
    // A volume that takes no write runs the saved config as it is: it was
    // read and it parses; the operator's lines must not give way.
    if let Err(e) = write(saved, &m.text).and_then(|()| write(base, &new)) {
        return Ok(format!(
            "{} (saved, as it is: the new image's changes {changes} could not be written: {e})",
            saved.display()
        ));
    }
    Ok(format!("{} (saved) with the new image's changes: {changes}", saved.display()))
}

fn describe(added: &[String], removed: &[String]) -> String {
    let mut parts: Vec<String> = added.iter().map(|a| format!("+ {a}")).collect();
    parts.extend(removed.iter().map(|r| format!("- {r}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "router bgp 65001\n neighbor 192.0.2.254 remote-as 65000\n address-family ipv4 unicast\n  \
                      network 198.51.100.0/24\n exit-address-family\nexit\n";

    #[test]
    fn first_boot_seeds_then_the_saved_config_wins_with_the_image_s_changes() {
        let d = std::env::temp_dir().join(format!("bgpbox-saved-{}", std::process::id()));
        let (etc, state) = (d.join("etc"), d.join("state"));
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("bgpd.conf"), V1).unwrap();
        // No volume: the image's file, and a warning.
        assert_eq!(choose(&etc, &state), (etc.join("bgpd.conf"), None));
        std::fs::create_dir_all(&state).unwrap();
        let (conf, image) = choose(&etc, &state);
        assert_eq!((conf.clone(), image), (state.join("bgpd.conf"), Some(etc.join("bgpd.conf"))));
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), V1);
        // The operator adds a neighbor and saves; a new image adds a network.
        let mine = V1.replace(" neighbor 192.0.2.254", " neighbor 192.0.2.9 remote-as 65009\n neighbor 192.0.2.254");
        std::fs::write(&conf, &mine).unwrap();
        let v2 = V1.replace("  network 198.51.100.0/24\n", "  network 198.51.100.0/24\n  network 203.0.113.0/24\n");
        std::fs::write(etc.join("bgpd.conf"), &v2).unwrap();
        let line = pick(&etc.join("bgpd.conf"), &conf, &state.join("image.conf")).unwrap();
        assert!(line.contains("with the new image's changes: + router bgp 65001 / address-family ipv4 unicast / network 203.0.113.0/24"), "{line}");
        let now = std::fs::read_to_string(&conf).unwrap();
        assert!(now.contains("192.0.2.9 remote-as 65009") && now.contains("network 203.0.113.0/24"), "{now}");
        // Booting the same image again changes nothing.
        let line = pick(&etc.join("bgpd.conf"), &conf, &state.join("image.conf")).unwrap();
        assert!(line.contains("the one it was saved over"), "{line}");
        // A conflict keeps the saved file and says so.
        std::fs::write(etc.join("bgpd.conf"), v2.replace("router bgp 65001", "router bgp 65011")).unwrap();
        let line = pick(&etc.join("bgpd.conf"), &conf, &state.join("image.conf")).unwrap();
        assert!(line.contains("kept as it is") && line.contains("+ router bgp 65011"), "{line}");
        assert_eq!(std::fs::read_to_string(&conf).unwrap(), now);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
