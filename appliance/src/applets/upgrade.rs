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
    let info = client.run(&["query", &format!("/1.0/instances/{}", a.container)])?;
    let inst: serde_json::Value = serde_json::from_str(&info).map_err(|e| format!("{}: {e}", a.container))?;
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
    step(&format!("stopping {}", a.container));
    if inst["status"].as_str() != Some("Stopped") {
        client.run(&["stop", &a.container])?;
    }
    if client.ok(&["rebuild", "--help"]) {
        step(&format!("rebuilding {} from {}", a.container, &fp[..12]));
        client.run(&["rebuild", &fp, &a.container])?;
        client.run(&["start", &a.container])?;
    } else {
        // LXD 5.0: no rebuild. The config volume outlives the container.
        step(&format!("replacing {} (no `{} rebuild` here)", a.container, client.0));
        client.run(&["delete", &a.container])?;
        let mut args = vec!["launch".to_string(), fp.clone(), a.container.clone()];
        for p in &profiles {
            args.extend(["--profile".to_string(), p.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        client.run(&args)?;
    }
    step("waiting for healthcheck (60 s at most)");
    let out = Command::new(&client.0)
        .args(["exec", &a.container, "--", "healthcheck", "--wait", "60"])
        .output()
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
