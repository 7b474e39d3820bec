//! `.manifold-output`: the marker of a directory manifold writes, listing
//! every file it wrote with its git blob id and size. It depends on the
//! content only, so the same input gives the same marker; the modification
//! times that let a rebuild skip reading unchanged files live outside the
//! tree (`stamps`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::Result;

use super::confine::{damaged, relative};

/// The manifest's file name, at the top of the output directory.
pub(super) const MANIFEST: &str = ".manifold-output";
pub(super) const HEADER: &str = "# written by manifold: the files of this directory with their git blob ids and sizes; do not edit";

/// What the manifest records of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) id: String,
    pub(super) len: u64,
    /// The file's modification time when manifold wrote or last verified
    /// it; from the stamp cache, so `None` when the cache has no word on it.
    pub(super) modified: Option<(u64, u32)>,
}

impl Entry {
    pub(super) fn of(id: String, meta: &fs::Metadata) -> Entry {
        Entry {
            id,
            len: meta.len(),
            modified: Some(stamp(meta)),
        }
    }

    /// Whether the file on disk still is what this entry describes, as far
    /// as its size and time tell without reading it.
    pub(super) fn matches(&self, meta: &fs::Metadata) -> bool {
        meta.len() == self.len && Some(stamp(meta)) == self.modified
    }
}

fn stamp(meta: &fs::Metadata) -> (u64, u32) {
    let t = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

pub(super) type Manifest = BTreeMap<String, Entry>;

pub(super) fn manifest_text(manifest: &Manifest) -> String {
    let mut text = String::with_capacity(manifest.len() * 100);
    text.push_str(HEADER);
    text.push('\n');
    for (path, e) in manifest {
        text.push_str(&format!("{} {} {path}\n", e.id, e.len));
    }
    text
}

/// Reads a manifest; `None` if missing or not in this format (then the
/// directory is walked and every file compared). A line naming a path that is
/// not plain and relative is an error: acting on it would write or remove
/// outside the directory.
pub(super) fn read_manifest(out: &Path) -> Result<Option<Manifest>> {
    let Ok(text) = fs::read_to_string(out.join(MANIFEST)) else {
        return Ok(None);
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(None);
    }
    let mut manifest = Manifest::new();
    for line in lines {
        let Some((path, entry)) = parse(line) else {
            return Ok(None);
        };
        if let Some(why) = relative(path) {
            return Err(damaged(out, MANIFEST, path, why));
        }
        let Some(entry) = entry else {
            return Ok(None);
        };
        manifest.insert(path.to_string(), entry);
    }
    Ok(Some(manifest))
}

/// One line of the manifest: its path, and its entry if the rest parses.
fn parse(line: &str) -> Option<(&str, Option<Entry>)> {
    let mut parts = line.splitn(3, ' ');
    let (id, len, path) = (parts.next()?, parts.next()?, parts.next()?);
    let entry = (|| {
        if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Entry {
            id: id.to_string(),
            len: len.parse().ok()?,
            modified: None,
        })
    })();
    Some((path, entry))
}
