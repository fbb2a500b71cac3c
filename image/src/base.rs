//! The files every image carries whatever its profile: the repo's
//! `rootfs/`, compiled into the binary so that `bgpbox build` run from
//! anywhere packs them. A test keeps this list and the folder in step.

/// (path under the image's rootfs, mode, contents).
pub const FILES: &[(&str, u32, &[u8])] = &[
    ("etc/bgpbox/README", 0o644, include_bytes!("../../rootfs/etc/bgpbox/README")),
    ("etc/group", 0o644, include_bytes!("../../rootfs/etc/group")),
    ("etc/hosts", 0o644, include_bytes!("../../rootfs/etc/hosts")),
    ("etc/passwd", 0o644, include_bytes!("../../rootfs/etc/passwd")),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }

    #[test]
    fn every_file_of_the_rootfs_folder_is_compiled_in() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rootfs");
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found.sort();
        let listed: Vec<String> = super::FILES.iter().map(|(p, _, _)| p.to_string()).collect();
        assert_eq!(found, listed, "rootfs/ and base::FILES differ: list every file of rootfs/ in base.rs");
    }
}
