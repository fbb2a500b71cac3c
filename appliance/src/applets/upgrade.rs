//! `bgpbox upgrade`, on the host: a router container onto a new image,
//! keeping its saved config. The config lives on the custom volume the
//! profile attaches (`saved_config.rs`), so the container itself may be
//! replaced: `lxc rebuild` where the client has it (LXD 5.19 and later,
//! Incus), else stop, delete and launch again with the same profiles
//! (Debian 12's LXD 5.0). Then healthcheck says how the running config
//! differs from the new image's.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use clap::Parser;

/// Moves a router container to a new image, keeping its saved config.
#[derive(Parser, Debug)]
#[command(name = "upgrade", version = crate::VERSION)]
struct Args {
    /// The container (`lxc list`).
    container: String,
    /// The new image (`bgpbox build`'s NAME.tar.gz).
    #[arg(long, value_name = "TARBALL")]
    image: PathBuf,
    /// The new LXD profile (`bgpbox build`'s NAME.profile.yaml), applied to the profile it names.
    #[arg(long, value_name = "YAML")]
    profile_yaml: Option<PathBuf>,
    /// The LXD profile to apply --profile-yaml to, if not the one it names.
    #[arg(long, value_name = "NAME")]
    lxd_profile: Option<String>,
    /// The client: lxc or incus (the first one found).
    #[arg(long, value_name = "CLIENT")]
    client: Option<String>,
    /// Go on where replacing the container deletes its snapshots.
    #[arg(long)]
    force: bool,
}

struct Client(String);

impl Client {
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out =
            Command::new(&self.0).args(args).stdin(Stdio::null()).output().map_err(|e| format!("{}: {e}", self.0))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        match out.status.success() {
            true => Ok(text),
            false => Err(format!("`{} {}` failed: {}", self.0, args.join(" "), text.trim())),
        }
    }

    fn ok(&self, args: &[&str]) -> bool {
        self.run(args).is_ok()
    }
}

fn step(what: &str) {
    println!("==> {what}");
}

fn upgrade(a: &Args) -> Result<String, String> {
    let client = Client(match &a.client {
        Some(c) => c.clone(),
        None => ["lxc", "incus"]
            .into_iter()
            .find(|c| Command::new(c).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
            .ok_or("neither lxc nor incus is installed")?
            .to_string(),
    });
    let bytes = std::fs::read(&a.image).map_err(|e| format!("{}: {e}", a.image.display()))?;
    let fp = bgpbox_image::sha256_hex(&bytes);
    if !client.ok(&["image", "info", &fp]) {
        step(&format!("importing {} ({})", a.image.display(), &fp[..12]));
        client.run(&["image", "import", &a.image.display().to_string()])?;
    }
    let inst = query(&client, &a.container)?;
    let profiles: Vec<String> = inst["profiles"]
        .as_array()
        .map(|v| v.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(y) = &a.profile_yaml {
        let text = std::fs::read_to_string(y).map_err(|e| format!("{}: {e}", y.display()))?;
        let named = text.lines().find_map(|l| l.strip_prefix("name: ")).map(|n| n.trim().to_string());
        let name = a.lxd_profile.clone().or(named).ok_or(format!("{}: no `name:`", y.display()))?;
        if !profiles.contains(&name) {
            return Err(format!("{} does not use profile {name} (it uses {})", a.container, profiles.join(", ")));
        }
        step(&format!("updating profile {name}"));
        let f = std::fs::File::open(y).map_err(|e| e.to_string())?;
        let st =
            Command::new(&client.0).args(["profile", "edit", &name]).stdin(f).status().map_err(|e| e.to_string())?;
        if !st.success() {
            return Err(format!("{} profile edit {name} failed", client.0));
        }
    }
    let inst = query(&client, &a.container)?;
    keep_config(&client, &a.container, &inst)?;
    step(&format!("stopping {}", a.container));
    client.run(&["stop", &a.container])?;
    if client.ok(&["rebuild", "--help"]) {
        step(&format!("rebuilding {} from {}", a.container, &fp[..12]));
        client.run(&["rebuild", &fp, &a.container])?;
        client.run(&["start", &a.container])?;
    } else {
        replace(&client, a, &fp, &profiles, &inst)?;
    }
    step("waiting for healthcheck (60 s at most)");
    let out = Command::new(&client.0)
        .args(["exec", &a.container, "--", "healthcheck", "--wait", "60"])
        .output()
        .map_err(|e| e.to_string())?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok(if said.trim().is_empty() { format!("healthcheck said nothing ({})\n", out.status) } else { said })
}

fn query(client: &Client, name: &str) -> Result<serde_json::Value, String> {
    let info = client.run(&["query", &format!("/1.0/instances/{name}?recursion=1")])?;
    serde_json::from_str(&info).map_err(|e| format!("{name}: {e}"))
}

/// The saved config must outlive the container: its profile attaches the
/// config volume, and the volume holds the config (a container from
/// before the volume saved into its own files: that config is put there).
fn keep_config(client: &Client, name: &str, inst: &serde_json::Value) -> Result<(), String> {
    let devices = inst["expanded_devices"].as_object().cloned().unwrap_or_default();
    if !devices.values().any(|d| d["type"] == "disk" && d["path"] == "/var/lib/bgpbox") {
        return Err(format!(
            "{name} has no config volume at /var/lib/bgpbox, so its saved config would be lost: update its profile with \
             --profile-yaml from a current `bgpbox build` (after `{} storage volume create POOL bgpbox-PROFILE`); \
             the container is untouched",
            client.0
        ));
    }
    let status = inst["status"].as_str().unwrap_or("unknown");
    // Incus (and LXD since 5.x) say Ready once init reported so.
    if !matches!(status, "Running" | "Ready") {
        step(&format!("starting {name}, {status} (its config is read while it runs)"));
        client.run(&["start", name])?;
    }
    let saved = format!("{name}/var/lib/bgpbox/bgpd.conf");
    // Pulled into a folder of our own: `file pull` gives its target the
    // file's owner and mode, so never a shared path like /dev/null.
    let tmp = std::env::temp_dir().join(format!("bgpbox-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let here = tmp.join("bgpd.conf").display().to_string();
    let result = if client.ok(&["file", "pull", &saved, &here]) {
        Ok(())
    } else {
        step("saving the running config onto the config volume (its first upgrade with one)");
        client
            .run(&["exec", name, "--", "vtysh", "-c", "show running-config"])
            .and_then(|running| std::fs::write(&here, running).map_err(|e| format!("{here}: {e}")))
            .and_then(|()| client.run(&["file", "push", "--mode", "0640", &here, &saved]).map(|_| ()))
    };
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// LXD 5.0 has no rebuild: the container is renamed, a new one launched
/// with the same profiles, and the old one deleted once bgpd answers in
/// the new (or brought back if it does not come up).
fn replace(client: &Client, a: &Args, fp: &str, profiles: &[String], inst: &serde_json::Value) -> Result<(), String> {
    let name = &a.container;
    let snapshots = inst["snapshots"].as_array().map_or(0, |s| s.len());
    if snapshots > 0 && !a.force {
        client.run(&["start", name])?;
        return Err(format!(
            "{name} has {snapshots} snapshot(s), which replacing it (no `{} rebuild` here) would delete: --force to go on",
            client.0
        ));
    }
    step(&format!("replacing {name} (no `{} rebuild` here)", client.0));
    let old = format!("{name}-pre-upgrade");
    client.run(&["move", name, &old])?;
    let mut args = vec!["launch".to_string(), fp.to_string(), name.clone()];
    for p in profiles {
        args.extend(["--profile".to_string(), p.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let up = client.run(&args).and_then(|_| {
        let answered = (0..60).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(500));
            client.ok(&["exec", name, "--", "vtysh", "-c", "show version"])
        });
        if answered {
            Ok(())
        } else {
            Err(format!("bgpd in the new {name} did not answer within 30 s"))
        }
    });
    match up {
        Ok(()) => client.run(&["delete", &old]).map(|_| ()),
        Err(e) => {
            let _ = client.run(&["delete", "--force", name]);
            client.run(&["move", &old, name])?;
            client.run(&["start", name])?;
            Err(format!("{e}; {name} is back on its old image"))
        }
    }
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match upgrade(&a) {
        Ok(health) => {
            print!("{health}");
            if health.starts_with("healthy") {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("upgrade: {e}");
            ExitCode::FAILURE
        }
    }
}
