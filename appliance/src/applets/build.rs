//! `bgpbox build`: the image builder's front end.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bgpbox_image::{elf, BuildOptions, Profile};
use clap::Parser;

/// Packs this binary, the repo's rootfs/ and a host profile into a
/// reproducible LXD image (DIR/NAME.tar.gz) and LXD profile
/// (DIR/NAME.profile.yaml).
#[derive(Parser, Debug)]
#[command(name = "bgpbox build", version = crate::VERSION)]
struct Args {
    /// Host profile to build.
    #[arg(long, default_value = "profiles/ryzen7-5700x.toml", value_name = "FILE")]
    profile: PathBuf,
    /// Where the image and the LXD profile are written.
    #[arg(long, default_value = "dist", value_name = "DIR")]
    out: PathBuf,
    /// Override a profile key before validation, e.g. lan.parent=eth9 or
    /// 'neighbor[0].address=192.0.2.254'. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Files overlaid on the image's root; only when given (a rootfs/
    /// that happens to sit near the profile is not packed).
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match build(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgpbox build: {e}");
            ExitCode::FAILURE
        }
    }
}

const STATIC_HINT: &str = "build the static binary with scripts/build-image, or \
`cargo build --release --target x86_64-unknown-linux-musl` and run target/x86_64-unknown-linux-musl/release/bgpbox build";

/// bgpd's config as the image will have it, read by bgpd's own parser: an
/// image whose bgpd would refuse its config is not built, and every bad
/// line is named; lines without effect are said as warnings.
fn check_bgpd_conf(profile: &Profile) -> Result<(), String> {
    let name = match &profile.bgp {
        bgpbox_image::profile::Bgp::File { path, .. } => path.display().to_string(),
        bgpbox_image::profile::Bgp::Generated { .. } => format!("bgpd.conf (rendered from profile {})", profile.name),
    };
    let text = bgpbox_image::render::bgpd_conf(profile);
    match crate::bgp::config::parse_noted(&name, &text) {
        Ok(parsed) => {
            for n in parsed.notes {
                eprintln!("bgpbox build: warning: {n}");
            }
            Ok(())
        }
        Err(e) => Err(format!("bgpd would refuse this config, so no image was built:\n{e}")),
    }
}

/// An image built, and what went into it.
pub(super) struct Image {
    pub profile: Profile,
    pub built: bgpbox_image::Built,
    pub creation_date: u64,
    pub dated_by: String,
}

/// Builds `profile_path`'s image into `out` (the home router's files too).
pub(super) fn build_image(
    profile_path: &Path,
    sets: &[String],
    rootfs: Option<&Path>,
    out: &Path,
) -> Result<Image, String> {
    let profile = Profile::load(profile_path, sets).map_err(|e| e.to_string())?;
    check_bgpd_conf(&profile)?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
    let binary = std::fs::read(&exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
    match elf::linkage(&binary).map_err(|e| format!("{}: {e}", exe.display()))? {
        elf::Linkage::Static => {}
        elf::Linkage::Dynamic { interpreter } => {
            return Err(format!(
                "{} is dynamically linked (it needs {interpreter}), and the image has no libc to run it: {STATIC_HINT}",
                exe.display()
            ))
        }
    }
    let profile_dir = profile_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Some(dir) = rootfs.filter(|d| !d.is_dir()) {
        return Err(format!("--rootfs {}: not a directory", dir.display()));
    }
    let mut inputs: Vec<&Path> = vec![profile_path, exe.as_path()];
    if let bgpbox_image::profile::Bgp::File { path, .. } = &profile.bgp {
        inputs.push(path);
    }
    let (creation_date, dated_by) = bgpbox_image::source_date_epoch(profile_dir, &inputs)?;
    let applets = super::linked();
    let opts = BuildOptions {
        profile: &profile,
        rootfs,
        binary: &binary,
        applets: &applets,
        version: crate::VERSION,
        creation_date,
    };
    let built = bgpbox_image::build(&opts, out).map_err(|e| format!("writing to {}: {e}", out.display()))?;
    super::home_router::write(out, &profile)?;
    Ok(Image { profile, built, creation_date, dated_by: dated_by.to_string() })
}

fn build(a: &Args) -> Result<(), String> {
    let Image { profile, built, creation_date, dated_by } =
        build_image(&a.profile, &a.set, a.rootfs.as_deref(), &a.out)?;
    let name = &profile.name;
    let alias = format!("bgpbox-{name}");
    for w in &profile.warnings {
        println!("warning: {w}");
    }
    println!("image:       {} ({:.2} MB)", built.image.display(), built.size as f64 / 1e6);
    println!("lxd profile: {}", built.lxd_profile.display());
    for f in super::home_router::files(&a.out, &profile) {
        println!("home router: {}", f.display());
    }
    println!("fingerprint: {}", built.fingerprint);
    println!("dated:       {} ({dated_by})", bgpbox_image::render::serial(creation_date));
    println!();
    println!("To run {} on the {name} host:", profile.router.hostname);
    println!("  lxc image import {} --alias {alias}", built.image.display());
    println!("  lxc profile create {name}");
    println!("  lxc profile edit {name} < {}", built.lxd_profile.display());
    println!(
        "  lxc storage volume create {} {}    # once: keeps `write memory` across images",
        profile.router.storage_pool,
        profile.router.config_volume(name)
    );
    println!("  lxc launch {alias} {} --profile default --profile {name}", profile.router.hostname);
    println!();
    println!("The host itself cannot reach a macvlan child of its own NIC; to let it, run on the host:");
    println!("  {}", bgpbox_image::render::host_shim_command(&profile));
    println!("  (bgpbox on the host: lxc file pull {}/bin/bgpbox /usr/local/bin/bgpbox)", profile.router.hostname);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped profile renders a config bgpd takes.
    #[test]
    fn the_shipped_profiles_render_configs_bgpd_takes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "toml") {
                let p = Profile::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                check_bgpd_conf(&p).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 3, "{n} profiles");
    }
}
