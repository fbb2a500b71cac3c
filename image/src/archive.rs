//! A deterministic tar.gz writer for LXD's unified image format.
//!
//! Reproducibility rules: entries sorted by path (after `metadata.yaml`,
//! which LXD wants first), numeric owner 0:0 with no user or group names, one
//! fixed mtime, modes kept, and a gzip header without a timestamp or OS.

use std::collections::BTreeMap;
use std::io::{self, Write};

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
}

/// The image's tree, keyed by path without a leading slash (`rootfs/bin/x`).
#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    pub fn new() -> Self {
        Tree::default()
    }

    /// Adds a node and any missing parent directories (mode 0755). A later
    /// node at the same path replaces the earlier one, which is how the
    /// repo's rootfs/ and the rendered files overlay the base layout.
    pub fn insert(&mut self, path: &str, node: Node) {
        let path = path.trim_matches('/').to_string();
        let mut parent = String::new();
        for part in path.split('/').take(path.split('/').count() - 1) {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.nodes.entry(parent.clone()).or_insert(Node::Dir { mode: 0o755 });
        }
        self.nodes.insert(path, node);
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_matches('/'))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.ordered().map(|(p, _)| p)
    }

    fn ordered(&self) -> impl Iterator<Item = (&str, &Node)> {
        let first = self.nodes.get_key_value("metadata.yaml");
        first
            .into_iter()
            .chain(self.nodes.iter().filter(|(p, _)| p.as_str() != "metadata.yaml"))
            .map(|(p, n)| (p.as_str(), n))
    }

    /// Writes the tree as a gzip-compressed tar with every entry's mtime
    /// set to `mtime`.
    pub fn write_tar_gz<W: Write>(&self, out: W, mtime: u64) -> io::Result<W> {
        let gz = GzBuilder::new().mtime(0).operating_system(255).write(out, Compression::best());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        for (path, node) in self.ordered() {
            let mut h = Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(mtime);
            match node {
                Node::Dir { mode } => {
                    h.set_entry_type(EntryType::Directory);
                    h.set_mode(*mode);
                    h.set_size(0);
                    tar.append_data(&mut h, format!("{path}/"), io::empty())?;
                }
                Node::File { mode, data } => {
                    h.set_entry_type(EntryType::Regular);
                    h.set_mode(*mode);
                    h.set_size(data.len() as u64);
                    tar.append_data(&mut h, path, data.as_slice())?;
                }
                Node::Symlink { target } => {
                    h.set_entry_type(EntryType::Symlink);
                    h.set_mode(0o777);
                    h.set_size(0);
                    tar.append_link(&mut h, path, target)?;
                }
            }
        }
        tar.into_inner()?.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Tree {
        let mut t = Tree::new();
        t.insert("rootfs/etc/hostname", Node::File { mode: 0o644, data: b"r1\n".to_vec() });
        t.insert("templates", Node::Dir { mode: 0o755 });
        t.insert("rootfs/sbin/init", Node::Symlink { target: "../bin/bgpbox".into() });
        t.insert("metadata.yaml", Node::File { mode: 0o644, data: b"architecture: x86_64\n".to_vec() });
        t.insert("rootfs/bin/bgpbox", Node::File { mode: 0o755, data: vec![0x7f, b'E', b'L', b'F'] });
        t
    }

    fn bytes(t: &Tree, mtime: u64) -> Vec<u8> {
        t.write_tar_gz(Vec::new(), mtime).unwrap()
    }

    #[test]
    fn deterministic_and_ordered() {
        let a = bytes(&sample(), 1_700_000_000);
        let b = bytes(&sample(), 1_700_000_000);
        assert_eq!(a, b);
        assert_ne!(a, bytes(&sample(), 1_700_000_001));
        // gzip header: no timestamp, OS unknown.
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        assert_eq!(a[9], 255);

        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(a.as_slice()).read_to_end(&mut raw).unwrap();
        let mut ar = tar::Archive::new(raw.as_slice());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert_eq!(h.username().unwrap(), Some(""));
            let name = e.path().unwrap().to_string_lossy().into_owned();
            if name == "rootfs/bin/bgpbox" {
                assert_eq!(h.mode().unwrap(), 0o755);
            }
            if name == "rootfs/sbin/init" {
                assert_eq!(e.link_name().unwrap().unwrap().to_str(), Some("../bin/bgpbox"));
            }
            names.push(name);
        }
        assert_eq!(
            names,
            [
                "metadata.yaml",
                "rootfs/",
                "rootfs/bin/",
                "rootfs/bin/bgpbox",
                "rootfs/etc/",
                "rootfs/etc/hostname",
                "rootfs/sbin/",
                "rootfs/sbin/init",
                "templates/"
            ]
        );
    }
}
