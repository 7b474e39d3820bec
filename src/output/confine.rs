//! Keeping every write and removal inside the output directory.
//!
//! Paths reach the file system from three places: the tree being written, and
//! `.manifold-output` and `.manifold-journal` read back from disk. Each is
//! checked by `relative` before anything is written or removed: an absolute
//! path, `..`, `.`, an empty segment, a backslash or a NUL is refused. A line
//! of the manifest or the journal that fails is an error, never acted on.
//!
//! Symbolic links inside the output directory are never followed: `scan`
//! walks the directory without following them and records each one, and
//! `Links::check` refuses a path that is a link or goes through one. The
//! output directory itself may be a link (that is the user's `-o`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::TMP_SUFFIX;

/// Why `path` is not a plain relative path inside the output directory, or
/// `None` if it is one.
pub(super) fn relative(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("is empty");
    }
    if path.contains('\0') {
        return Some("contains a NUL byte");
    }
    if path.contains('\\') {
        return Some("contains a backslash");
    }
    if path.starts_with('/') || Path::new(path).is_absolute() {
        return Some("is absolute");
    }
    for segment in path.split('/') {
        match segment {
            "" => return Some("has an empty segment"),
            "." => return Some("has a `.` segment"),
            ".." => return Some("leaves the output directory (`..`)"),
            _ => {}
        }
    }
    None
}

/// Refuses a path of the tree being written that is not plain and relative.
pub(super) fn tree_path(path: &str) -> Result<()> {
    match relative(path) {
        None => Ok(()),
        Some(why) => bail!("refusing to write `{path}`: the path {why}"),
    }
}

/// The refusal of a line of `file` (the manifest or the journal) that names
/// an unsafe path: a tool error that says how to get out of it.
pub(super) fn damaged(out: &Path, file: &str, line: &str, why: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`{}` is damaged: the entry `{}` {why}; nothing was written or removed. It was not written by manifold: remove `{}` and build again",
        out.join(file).display(),
        line.escape_debug(),
        out.display()
    )
}

/// What `scan` found in the output directory.
#[derive(Default)]
pub(super) struct Scan {
    /// The symbolic links, relative and `/`-separated, but for leftovers.
    pub(super) links: Links,
    /// The temporary files of an update that never finished (links too).
    pub(super) leftovers: Vec<PathBuf>,
}

/// The symbolic links inside the output directory.
#[derive(Default)]
pub(super) struct Links(BTreeSet<String>);

impl Links {
    /// Refuses `path` if it, or a directory on the way to it, is a symbolic
    /// link: writing or removing there would act outside the directory.
    pub(super) fn check(&self, out: &Path, path: &str) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut end = 0;
        loop {
            let next = path[end..].find('/').map(|i| end + i);
            let prefix = &path[..next.unwrap_or(path.len())];
            if self.0.contains(prefix) {
                bail!(
                    "refusing to write `{}`: `{}` is a symbolic link, and manifold never writes through links inside its output; replace the link with a directory, or remove `{}` and build again",
                    out.join(path).display(),
                    out.join(prefix).display(),
                    out.display()
                );
            }
            match next {
                Some(i) => end = i + 1,
                None => return Ok(()),
            }
        }
    }
}

/// Whether `name` is one of the temporary files an update writes: the new
/// content of a file (`<path>.manifold-tmp`) or of the manifest or journal
/// (`<name>.manifold-tmp-write`).
fn is_leftover(name: &str) -> bool {
    name.ends_with(TMP_SUFFIX)
        || name
            .strip_suffix("-write")
            .is_some_and(|n| n.ends_with(TMP_SUFFIX))
}

/// Walks `out` without following links: every link it holds, and the
/// temporary files an interrupted update left.
pub(super) fn scan(out: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    for entry in walkdir::WalkDir::new(out).follow_links(false) {
        let entry = entry.with_context(|| format!("cannot read `{}`", out.display()))?;
        if entry.depth() == 0 {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if is_leftover(&name) && (entry.file_type().is_file() || entry.path_is_symlink()) {
            // Removing a link never touches what it points to.
            scan.leftovers.push(entry.path().to_path_buf());
        } else if entry.path_is_symlink() {
            let rel = entry.path().strip_prefix(out).unwrap_or(entry.path());
            scan.links
                .0
                .insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_pass() {
        for ok in ["dev/web/deployment-web.yaml", ".manifold-output", "a..b/c"] {
            assert_eq!(relative(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../victim",
            "dev/../../victim",
            "dev/./x",
            "dev//x",
            "dev/",
            "dev\\..\\x",
            "dev/x\0",
        ] {
            assert!(relative(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn leftovers_are_only_manifolds_temporary_files() {
        assert!(is_leftover("x.yaml.manifold-tmp"));
        assert!(is_leftover(".manifold-output.manifold-tmp-write"));
        assert!(!is_leftover("x.manifold-tmp.yaml"));
        assert!(!is_leftover("x.yaml"));
    }

    #[cfg(unix)]
    #[test]
    fn a_path_through_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("dev/web")).unwrap();
        std::os::unix::fs::symlink(dir.path(), out.join("prod")).unwrap();
        let scan = scan(&out).unwrap();
        assert!(scan.links.check(&out, "dev/web/x.yaml").is_ok());
        let err = scan.links.check(&out, "prod/web/x.yaml").unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(scan.links.check(&out, "prod").is_err());
        assert!(scan.links.check(&out, "production/x.yaml").is_ok());
    }
}
