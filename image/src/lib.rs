//! bgpbox's image builder: host profile in, LXD unified image and LXD
//! profile out, byte for byte reproducible.

pub mod archive;
mod base;
mod checks;
pub mod elf;
pub mod fsutil;
mod keys;
pub mod netconf;
pub mod profile;
pub mod render;

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use archive::{Node, Tree};
pub use keys::KeyError;
use netconf::NetworkConfig;
pub use profile::{Profile, ProfileError};

pub struct BuildOptions<'a> {
    pub profile: &'a Profile,
    /// A user's overlay (`--rootfs DIR`), over the repo's `rootfs/`.
    pub rootfs: Option<&'a Path>,
    /// The static bgpbox binary.
    pub binary: &'a [u8],
    /// Applet names that get a link to the binary (`init` goes to /sbin).
    pub applets: &'a [&'a str],
    pub version: &'a str,
    pub creation_date: u64,
}

pub struct Built {
    pub image: PathBuf,
    pub lxd_profile: PathBuf,
    pub fingerprint: String,
    pub size: u64,
}

/// The image's whole tree, before it is packed.
pub fn image_tree(o: &BuildOptions) -> io::Result<Tree> {
    let p = o.profile;
    let mut t = Tree::new();
    let meta = render::ImageMeta { version: o.version, creation_date: o.creation_date };
    t.insert("metadata.yaml", file(0o644, render::metadata_yaml(p, &meta)));
    t.insert("templates", Node::Dir { mode: 0o755 });
    for d in ["bin", "sbin", "dev", "etc/bgpbox", "proc", "sys", "run", "var/log"] {
        t.insert(&format!("rootfs/{d}"), Node::Dir { mode: 0o755 });
    }
    t.insert("rootfs/tmp", Node::Dir { mode: 0o1777 });
    t.insert("rootfs/root", Node::Dir { mode: 0o700 });
    // The repo's rootfs/, compiled in; a user's --rootfs overlays it.
    for (path, mode, data) in base::FILES {
        t.insert(&format!("rootfs/{path}"), Node::File { mode: *mode, data: data.to_vec() });
    }
    if let Some(dir) = o.rootfs {
        overlay(&mut t, dir, "rootfs")?;
    }
    t.insert("rootfs/bin/bgpbox", Node::File { mode: 0o755, data: o.binary.to_vec() });
    for a in o.applets {
        let (path, target) = match *a {
            "init" => ("rootfs/sbin/init".to_string(), "../bin/bgpbox"),
            _ => (format!("rootfs/bin/{a}"), "bgpbox"),
        };
        t.insert(&path, Node::Symlink { target: target.into() });
    }
    t.insert("rootfs/etc/hostname", file(0o644, render::hostname(p)));
    t.insert("rootfs/etc/os-release", file(0o644, render::os_release(p, o.version)));
    t.insert("rootfs/etc/bgpbox/bgpd.conf", file(0o640, render::bgpd_conf(p)));
    if let Some(m) = p.router.metrics {
        // init hands it to bgpd as `--metrics ADDR:PORT`.
        t.insert("rootfs/etc/bgpbox/metrics", file(0o644, format!("{m}\n")));
    }
    t.insert(&format!("rootfs{}", netconf::PATH), file(0o644, NetworkConfig::from_profile(p).to_toml()));
    Ok(t)
}

fn file(mode: u32, s: String) -> Node {
    Node::File { mode, data: s.into_bytes() }
}

/// Copies a directory into the tree. Modes are normalised to 0644/0755 (and
/// 0755 for directories) because a git checkout keeps only the x bit, and
/// the umask of whoever cloned must not change the image.
fn overlay(t: &mut Tree, dir: &Path, prefix: &str) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".gitkeep" {
            continue;
        }
        let path = format!("{prefix}/{name}");
        let meta = fs::symlink_metadata(e.path())?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(e.path())?.to_string_lossy().into_owned();
            t.insert(&path, Node::Symlink { target });
        } else if meta.is_dir() {
            t.insert(&path, Node::Dir { mode: 0o755 });
            overlay(t, &e.path(), &path)?;
        } else {
            let mode = if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
            t.insert(&path, Node::File { mode, data: fs::read(e.path())? });
        }
    }
    Ok(())
}

/// Writes `<name>.tar.gz` and `<name>.profile.yaml` into `out`, atomically.
pub fn build(o: &BuildOptions, out: &Path) -> io::Result<Built> {
    let tree = image_tree(o)?;
    let bytes = tree.write_tar_gz(Vec::new(), o.creation_date)?;
    fs::create_dir_all(out)?;
    let image = out.join(format!("{}.tar.gz", o.profile.name));
    let lxd_profile = out.join(format!("{}.profile.yaml", o.profile.name));
    fsutil::write_atomic(&image, &bytes, 0o644)?;
    fsutil::write_atomic(&lxd_profile, render::lxd_profile(o.profile).as_bytes(), 0o644)?;
    Ok(Built { image, lxd_profile, fingerprint: sha256_hex(&bytes), size: bytes.len() as u64 })
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The image's creation date and where it came from: SOURCE_DATE_EPOCH
/// when set (the reproducible-builds convention), else the time of the
/// last commit in `repo`, else (a profile outside a git checkout) the
/// newest modification time of `inputs` (the profile, its config, the
/// binary): a rebuild from the same files is the same image.
pub fn source_date_epoch(repo: &Path, inputs: &[&Path]) -> Result<(u64, String), String> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        let t = v.trim().parse().map_err(|_| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?;
        return Ok((t, "SOURCE_DATE_EPOCH".into()));
    }
    let git = Command::new("git").args(["log", "-1", "--format=%ct"]).current_dir(repo).output();
    if let Some(t) = git.ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()) {
        return Ok((t, format!("the last git commit in {}", repo.display())));
    }
    let mtime = |p: &Path| -> Result<u64, String> {
        let m = fs::metadata(p).and_then(|m| m.modified()).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(m.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    };
    let mut newest = 0;
    for p in inputs {
        newest = newest.max(mtime(p)?);
    }
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    Ok((
        newest,
        format!("the newest modification time of {} (no git commit; SOURCE_DATE_EPOCH sets it)", names.join(", ")),
    ))
}
