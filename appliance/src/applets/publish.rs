//! `bgpbox publish`: every host's image in a simplestreams tree, the
//! static form of an image server both LXD and Incus read (`lxc remote add
//! NAME https://... --protocol simplestreams`), served by any HTTPS
//! server. One product per profile, aliased `bgpbox/NAME`; each publish adds
//! a version beside the earlier ones, so that hosts that follow the alias
//! (`lxc image copy ... --auto-update`) get it.
//!
//! OUT/streams/v1/index.json, OUT/streams/v1/images.json, and
//! OUT/images/NAME/VERSION/{lxd,incus}_combined.tar.gz (the same unified
//! tarball under the name each client looks for) with NAME.profile.yaml;
//! the home routers' files in OUT.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use serde_json::{json, Map, Value};

/// Builds every host's image into a simplestreams tree for LXD and Incus.
#[derive(Parser, Debug)]
#[command(name = "bgpbox publish", version = crate::VERSION)]
struct Args {
    /// Where the tree is (kept and added to on the next publish).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Host profiles to publish (repeatable; default: every profiles/*.toml).
    #[arg(long = "profile", value_name = "FILE")]
    profiles: Vec<PathBuf>,
    /// Override a profile key of every profile (as `bgpbox build --set`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

const ITEMS: [&str; 2] = ["lxd_combined.tar.gz", "incus_combined.tar.gz"];

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a: Args = match super::parse(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match publish(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bgpbox publish: {e}");
            ExitCode::FAILURE
        }
    }
}

fn profiles(a: &Args) -> Result<Vec<PathBuf>, String> {
    if !a.profiles.is_empty() {
        return Ok(a.profiles.clone());
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir("profiles")
        .map_err(|e| format!("profiles/: {e} (give --profile FILE)"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    Ok(v)
}

fn publish(a: &Args) -> Result<(), String> {
    let streams = a.out.join("streams/v1");
    std::fs::create_dir_all(&streams).map_err(|e| format!("{}: {e}", streams.display()))?;
    let images_json = streams.join("images.json");
    let mut doc: Value = match std::fs::read_to_string(&images_json) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("{}: {e}", images_json.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            json!({"content_id": "images", "datatype": "image-downloads", "format": "products:1.0", "products": {}})
        }
        Err(e) => {
            return Err(format!(
                "{}: {e} (the earlier versions would be lost: nothing published)",
                images_json.display()
            ))
        }
    };
    let stage = a.out.join(".stage");
    for path in profiles(a)? {
        let _ = std::fs::remove_dir_all(&stage);
        let img = super::build::build_image(&path, &a.set, None, &stage)?;
        let version = add_version(&mut doc, &img, &a.out)?;
        println!("{}: bgpbox/{} version {version} ({})", path.display(), img.profile.name, img.built.fingerprint);
        // The home routers' files, gathered across the profiles.
        super::home_router::write(&a.out, &img.profile)?;
    }
    let _ = std::fs::remove_dir_all(&stage);
    doc["updated"] = json!(bgpbox_image::render::serial(now()));
    let products: Vec<String> = doc["products"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let index = json!({
        "format": "index:1.0",
        "index": {"images": {"datatype": "image-downloads", "path": "streams/v1/images.json", "format": "products:1.0", "products": products}}
    });
    write_json(&images_json, &doc)?;
    write_json(&streams.join("index.json"), &index)?;
    println!("simplestreams tree: {} (serve it over HTTPS)", a.out.display());
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn write_json(p: &Path, v: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())? + "\n";
    bgpbox_image::fsutil::write_atomic(p, text.as_bytes(), 0o644).map_err(|e| format!("{}: {e}", p.display()))
}

/// Puts the image under images/NAME/VERSION and its product version into
/// the document; the version is the image's date (LXD reads the first
/// eight characters as one), with a suffix when that date already holds
/// another image. The same image again adds nothing.
fn add_version(doc: &mut Value, img: &super::build::Image, out: &Path) -> Result<String, String> {
    let p = &img.profile;
    let key = format!("bgpbox:{}:amd64:default", p.name);
    let products = doc["products"].as_object_mut().ok_or("images.json: no products")?;
    let product = products.entry(key).or_insert_with(|| {
        json!({
            "aliases": format!("bgpbox/{}", p.name),
            "arch": "amd64",
            "os": "bgpbox",
            "release": p.name,
            "release_title": format!("{} ({})", p.name, p.router.hostname),
            "variant": "default",
            "versions": {}
        })
    });
    let versions = product["versions"].as_object_mut().ok_or("images.json: a product without versions")?;
    let same = |v: &Value| v["items"][ITEMS[0]]["sha256"].as_str() == Some(img.built.fingerprint.as_str());
    if let Some((name, _)) = versions.iter().find(|(_, v)| same(v)) {
        return Ok(name.clone());
    }
    let serial = bgpbox_image::render::serial(img.creation_date);
    let version = (1..)
        // Zero-padded, so that the versions of one day sort as they came.
        .map(|n| if n == 1 { serial.clone() } else { format!("{serial}_{n:02}") })
        .find(|v| !versions.contains_key(v));
    let version = version.unwrap_or(serial);
    let dir = format!("images/{}/{version}", p.name);
    std::fs::create_dir_all(out.join(&dir)).map_err(|e| format!("{dir}: {e}"))?;
    let mut items = Map::new();
    for item in ITEMS {
        let to = out.join(&dir).join(item);
        std::fs::copy(&img.built.image, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        items.insert(
            item.into(),
            json!({"ftype": item, "path": format!("{dir}/{item}"), "sha256": img.built.fingerprint, "size": img.built.size}),
        );
    }
    let yaml = out.join(&dir).join(format!("{}.profile.yaml", p.name));
    std::fs::copy(&img.built.lxd_profile, &yaml).map_err(|e| format!("{}: {e}", yaml.display()))?;
    versions.insert(version.clone(), json!({"items": items}));
    Ok(version)
}
