//! The stamp cache: the modification time of every file manifold wrote into
//! an output directory, kept outside that directory so the output depends on
//! the input alone. With it, a rebuild recognises an unchanged file by its
//! size and time without reading it.
//!
//! The cache lives in the git directory of the repository that holds the
//! output (`.git/manifold/`), or else in the user's cache folder
//! (`$XDG_CACHE_HOME/manifold`, `~/.cache/manifold`), one file per output
//! directory. It is only a cache: a missing, stale, damaged or unwritable one
//! makes a rebuild read and compare every file, never trust one it should not.
//! A time is trusted only for the blob id and size `.manifold-output` records.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::manifest::Manifest;

const HEADER: &str = "# manifold stamp cache: modification times of the files of one output directory; safe to delete";

/// Where the stamps of `out` are kept: a file named after the output
/// directory's canonical path, or `None` when there is nowhere to keep them.
pub(super) fn locate(out: &Path) -> Option<PathBuf> {
    let out = fs::canonicalize(out).ok()?;
    let folder = git_dir(&out)
        .map(|git| git.join("manifold"))
        .or_else(user_cache)?;
    let key = crate::git::ObjectFormat::Sha1.hash("blob", out.to_string_lossy().as_bytes());
    Some(folder.join(format!("stamps-{}", &key[..16])))
}

/// The git directory of the repository whose work tree holds `dir`: a
/// `.git` folder, or the folder a `.git` file (a linked work tree) names.
fn git_dir(dir: &Path) -> Option<PathBuf> {
    for ancestor in dir.ancestors() {
        let dot_git = ancestor.join(".git");
        let Ok(meta) = fs::metadata(&dot_git) else {
            continue;
        };
        if meta.is_dir() {
            return Some(dot_git);
        }
        let text = fs::read_to_string(&dot_git).ok()?;
        let target = text.strip_prefix("gitdir:")?.trim();
        return Some(ancestor.join(target)).filter(|p| p.is_dir());
    }
    None
}

fn user_cache() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    base.is_absolute().then(|| base.join("manifold"))
}

/// Fills in the recorded time of every entry of `manifest` whose id and size
/// are the ones the cache saw.
pub(super) fn load(cache: &Path, out: &Path, manifest: &mut Manifest) {
    let Ok(text) = fs::read_to_string(cache) else {
        return;
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) || lines.next() != Some(&owner(out)) {
        return;
    }
    let mut seen: BTreeMap<&str, Seen<'_>> = BTreeMap::new();
    for line in lines {
        let Some((path, stamp)) = parse(line) else {
            return;
        };
        seen.insert(path, stamp);
    }
    for (path, entry) in manifest.iter_mut() {
        if let Some((id, len, modified)) = seen.get(path.as_str()) {
            if *id == entry.id && *len == entry.len {
                entry.modified = Some(*modified);
            }
        }
    }
}

fn owner(out: &Path) -> String {
    let out = fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    format!("out {}", out.display())
}

/// What the cache saw of one file: blob id, size, modification time.
type Seen<'a> = (&'a str, u64, (u64, u32));

fn parse(line: &str) -> Option<(&str, Seen<'_>)> {
    let mut parts = line.splitn(4, ' ');
    let (id, len, modified, path) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (secs, nanos) = modified.split_once('.')?;
    let stamp = (secs.parse().ok()?, nanos.parse().ok()?);
    Some((path, (id, len.parse().ok()?, stamp)))
}

/// Records the times of `manifest`; best effort, as a cache is.
pub(super) fn save(cache: &Path, out: &Path, manifest: &Manifest) {
    let mut text = String::with_capacity(manifest.len() * 110);
    text.push_str(HEADER);
    text.push('\n');
    text.push_str(&owner(out));
    text.push('\n');
    for (path, e) in manifest {
        if let Some((secs, nanos)) = e.modified {
            text.push_str(&format!("{} {} {secs}.{nanos:09} {path}\n", e.id, e.len));
        }
    }
    let Some(folder) = cache.parent() else {
        return;
    };
    let tmp = cache.with_extension(format!("tmp-{}", std::process::id()));
    let written = fs::create_dir_all(folder)
        .and_then(|()| fs::File::create(&tmp))
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|()| fs::rename(&tmp, cache));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamps_of_an_output_in_a_repository_are_kept_in_its_git_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::create_dir_all(root.join("out")).unwrap();
        let cache = locate(&root.join("out")).unwrap();
        assert_eq!(cache.parent().unwrap(), root.join(".git/manifold"));
        assert!(
            cache
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("stamps-")
        );
    }

    #[test]
    fn a_linked_work_tree_keeps_them_in_the_git_directory_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join("main.git/worktrees/wt")).unwrap();
        fs::create_dir_all(root.join("wt/out")).unwrap();
        fs::write(
            root.join("wt/.git"),
            format!("gitdir: {}\n", root.join("main.git/worktrees/wt").display()),
        )
        .unwrap();
        let cache = locate(&root.join("wt/out")).unwrap();
        assert_eq!(
            cache.parent().unwrap(),
            root.join("main.git/worktrees/wt/manifold")
        );
    }

    #[test]
    fn a_time_is_trusted_only_for_the_recorded_content() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        let cache = dir.path().join("cache/stamps");
        let entry = |id: &str, modified| super::super::manifest::Entry {
            id: id.repeat(40),
            len: 1,
            modified,
        };
        let written: Manifest = [
            ("a".to_string(), entry("a", Some((1, 2)))),
            ("b".to_string(), entry("b", Some((3, 4)))),
        ]
        .into();
        save(&cache, &out, &written);
        let mut read: Manifest = [
            ("a".to_string(), entry("a", None)),
            ("b".to_string(), entry("c", None)),
            ("c".to_string(), entry("c", None)),
        ]
        .into();
        load(&cache, &out, &mut read);
        assert_eq!(read["a"].modified, Some((1, 2)));
        assert_eq!(read["b"].modified, None, "another blob id");
        assert_eq!(read["c"].modified, None, "not in the cache");

        // The stamps of another directory are not used.
        let other = dir.path().join("other");
        fs::create_dir(&other).unwrap();
        let mut read: Manifest = [("a".to_string(), entry("a", None))].into();
        load(&cache, &other, &mut read);
        assert_eq!(read["a"].modified, None);
    }
}
