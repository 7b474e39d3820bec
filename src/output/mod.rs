//! Writing the output tree to disk: all of it or none of it, and no more than
//! what changed.
//!
//! A build into a missing or empty directory writes a staging directory beside
//! it and renames it into place. A build over a previous output changes only
//! what differs: new content goes to temporary files next to their targets,
//! then a journal listing every rename and removal is committed, then the
//! journal is carried out. An interrupted update is therefore either not
//! visible at all (no journal yet: the temporary files are swept by the next
//! run) or completed by the next run (the journal is replayed).
//!
//! `.manifold-output` marks the directory as manifold's and lists every file
//! it wrote with its git blob id and size; the stamp cache outside the tree
//! (`stamps`) has the time of each. A file whose new content has the recorded
//! id and whose size and time on disk are the recorded ones is unchanged
//! without being read; anything else is compared byte for byte. A non-empty directory without the marker is never written
//! into, so a mistyped `-o` cannot replace someone's files.
//!
//! Every path written or removed stays inside the output directory, and no
//! symbolic link inside it is followed (`confine`). Staging directories of
//! killed fresh builds are swept by the next build (`staging`), and so are
//! the temporary files of an update killed before its commit point.
//!
//! This file writes a fresh output and the files of an update; `manifest`
//! reads and writes `.manifold-output`; `stamps` the file times; `journal` updates a previous output
//! and finishes an interrupted update.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::git::ObjectFormat;

mod confine;
mod journal;
mod manifest;
mod staging;
mod stamps;

use journal::{JOURNAL, recover, update};
use manifest::{Entry, MANIFEST, Manifest, manifest_text};

const TMP_SUFFIX: &str = ".manifold-tmp";

/// The files to write: path relative to the output directory -> content.
pub type Files<'a> = BTreeMap<String, &'a [u8]>;

/// What a write changed, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// The git blob id of a file's content, as git would compute it.
fn blob_id(content: &[u8]) -> String {
    ObjectFormat::Sha1.hash("blob", content)
}

/// Writes `tree` under `out`. `scope` limits the update to these top-level
/// directories (the selected environments); `None` means the whole directory
/// is the output and every other file manifold wrote there is removed.
pub fn write(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
    write_with(out, tree, scope, stamps::locate)
}

/// Where the stamp cache of an output directory is, if anywhere.
type Locate = fn(&Path) -> Option<std::path::PathBuf>;

fn write_with(
    out: &Path,
    tree: &Files<'_>,
    scope: Option<&[String]>,
    locate: Locate,
) -> Result<Written> {
    for path in tree.keys() {
        confine::tree_path(path)?;
    }
    staging::sweep(out)?;
    let empty = match fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", out.display())),
    };
    if empty {
        let (written, manifest) = write_fresh(out, tree)?;
        if let Some(cache) = locate(out) {
            stamps::save(&cache, out, &manifest);
        }
        return Ok(written);
    }
    if !out.join(MANIFEST).is_file() {
        bail!(
            "refusing to write into `{}`: it is not empty and was not written by manifold (no `{MANIFEST}`); choose another `-o` or empty it",
            out.display()
        );
    }
    let links = recover(out)?;
    update(out, tree, scope, &links, locate(out).as_deref())
}

/// Writes `tree` into a new directory; returns what it recorded.
fn write_fresh(out: &Path, tree: &Files<'_>) -> Result<(Written, Manifest)> {
    let (parent, staging) = staging::paths(out);
    fs::create_dir_all(&parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let result = (|| -> Result<Manifest> {
        // Left by an earlier run that had this process's pid.
        if fs::symlink_metadata(&staging).is_ok() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir(&staging)?;
        staging::mark(&staging)?;
        let ids: Vec<String> = tree.par_iter().map(|(_, c)| blob_id(c)).collect();
        let files: Vec<(&str, &[u8])> = tree.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        let metas = write_files(&staging, &files, "")?;
        let manifest: Manifest = tree
            .keys()
            .zip(ids.into_iter().zip(&metas))
            .map(|(path, (id, meta))| (path.clone(), Entry::of(id, meta)))
            .collect();
        fs::write(staging.join(MANIFEST), manifest_text(&manifest))?;
        fs::remove_file(staging.join(staging::MARKER))?;
        // An empty directory in the way (e.g. just created by the user) goes.
        if out.exists() {
            fs::remove_dir(out)?;
        }
        fs::rename(&staging, out)?;
        Ok(manifest)
    })();
    match result {
        Ok(manifest) => Ok((
            Written {
                added: tree.len(),
                ..Written::default()
            },
            manifest,
        )),
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e).with_context(|| format!("cannot write `{}`", out.display()))
        }
    }
}

/// Creates directories as needed and writes each file; returns each file's
/// metadata as written, in order. Files are written by all worker threads:
/// creating many small files is bound by the file system's per-file work,
/// which overlaps across threads.
fn write_files(root: &Path, files: &[(&str, &[u8])], suffix: &str) -> Result<Vec<fs::Metadata>> {
    let chunks: Vec<Result<Vec<fs::Metadata>>> = files
        .par_chunks(256)
        .map(|chunk| {
            let mut made: BTreeSet<&Path> = BTreeSet::new();
            let mut metas = Vec::with_capacity(chunk.len());
            for (path, content) in chunk {
                let target = root.join(format!("{path}{suffix}"));
                if let Some(dir) = Path::new(path).parent() {
                    if !made.contains(dir) {
                        // Another thread may create it too; that is fine.
                        let full = root.join(dir);
                        fs::create_dir_all(&full)
                            .with_context(|| format!("cannot create `{}`", full.display()))?;
                        made.insert(dir);
                    }
                }
                let mut file = create_new(&target)?;
                file.write_all(content)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
                metas.push(file.metadata()?);
            }
            Ok(metas)
        })
        .collect();
    let mut metas = Vec::with_capacity(files.len());
    for chunk in chunks {
        metas.extend(chunk?);
    }
    Ok(metas)
}

/// Creates `path`, which must not exist: never opens a file or a link that is
/// already there.
fn create_new(path: &Path) -> Result<fs::File> {
    fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn in_scope(path: &str, scope: Option<&[String]>) -> bool {
    match scope {
        None => true,
        Some(dirs) => dirs.iter().any(|d| {
            path.strip_prefix(d.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        }),
    }
}

/// Every file under `out` (relative, `/`-separated), except manifold's own;
/// for a directory written by an older manifold without a manifest.
fn walk(out: &Path, scope: Option<&[String]>) -> Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read `{}`", out.display()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(out).unwrap_or(entry.path());
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel != MANIFEST && rel != JOURNAL && in_scope(&rel, scope) {
            files.insert(rel);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::manifest::read_manifest;
    use super::*;

    fn recorded_ids(out: &Path) -> Option<HashMap<String, String>> {
        read_manifest(out)
            .unwrap()
            .map(|m| m.into_iter().map(|(p, e)| (p, e.id)).collect())
    }

    /// `write`, with the stamp cache beside the output directory instead of
    /// in the user's cache folder.
    pub(super) fn write(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
        write_with(out, tree, scope, beside)
    }

    fn beside(out: &Path) -> Option<std::path::PathBuf> {
        Some(out.with_extension("stamps"))
    }

    pub(super) fn tree<'a>(files: &[(&str, &'a str)]) -> Files<'a> {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes()))
            .collect()
    }

    pub(super) fn read_all(out: &Path) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = walkdir::WalkDir::new(out)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(out)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (rel, fs::read_to_string(e.path()).unwrap())
            })
            .filter(|(p, _)| p != MANIFEST)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn a_fresh_build_writes_everything_and_records_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let w = write(
            &out,
            &tree(&[("dev/a/x.yaml", "1"), ("dev/kustomization.yaml", "k")]),
            None,
        )
        .unwrap();
        assert_eq!(w.added, 2);
        assert_eq!(
            read_all(&out),
            vec![
                ("dev/a/x.yaml".into(), "1".into()),
                ("dev/kustomization.yaml".into(), "k".into())
            ]
        );
        let ids = recorded_ids(&out).unwrap();
        assert_eq!(ids["dev/a/x.yaml"], blob_id(b"1"));
    }

    #[test]
    fn an_update_changes_only_what_differs_and_removes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(
            &out,
            &tree(&[
                ("dev/a/x.yaml", "1"),
                ("dev/b/y.yaml", "2"),
                ("dev/c/z.yaml", "3"),
            ]),
            None,
        )
        .unwrap();
        let before = fs::metadata(out.join("dev/a/x.yaml"))
            .unwrap()
            .modified()
            .unwrap();
        let w = write(
            &out,
            &tree(&[
                ("dev/a/x.yaml", "1"),
                ("dev/b/y.yaml", "22"),
                ("dev/d/w.yaml", "4"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            w,
            Written {
                added: 1,
                changed: 1,
                removed: 1,
                unchanged: 1
            }
        );
        assert_eq!(
            read_all(&out),
            vec![
                ("dev/a/x.yaml".into(), "1".into()),
                ("dev/b/y.yaml".into(), "22".into()),
                ("dev/d/w.yaml".into(), "4".into())
            ]
        );
        assert!(
            !out.join("dev/c").exists(),
            "emptied directories are removed"
        );
        assert_eq!(
            fs::metadata(out.join("dev/a/x.yaml"))
                .unwrap()
                .modified()
                .unwrap(),
            before
        );
        let ids = recorded_ids(&out).unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids["dev/b/y.yaml"], blob_id(b"22"));
    }

    #[test]
    fn the_marker_is_the_same_for_the_same_content_and_the_times_live_outside() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let files = tree(&[("dev/x.yaml", "1"), ("dev/y.yaml", "22")]);
        write(&a, &files, None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(&b, &files, None).unwrap();
        let marker = fs::read_to_string(a.join(MANIFEST)).unwrap();
        assert_eq!(marker, fs::read_to_string(b.join(MANIFEST)).unwrap());
        assert_eq!(
            marker,
            format!(
                "{}\n{} 1 dev/x.yaml\n{} 2 dev/y.yaml\n",
                manifest::HEADER,
                blob_id(b"1"),
                blob_id(b"22")
            )
        );
        let stamps = fs::read_to_string(a.with_extension("stamps")).unwrap();
        for (content, path) in [("1", "dev/x.yaml"), ("22", "dev/y.yaml")] {
            let recorded = format!("{} {} ", blob_id(content.as_bytes()), content.len());
            assert!(
                stamps
                    .lines()
                    .any(|l| l.starts_with(&recorded) && l.ends_with(&format!(" {path}"))),
                "{stamps}"
            );
        }
    }

    #[test]
    fn the_stamp_cache_spares_reading_unchanged_files_and_is_only_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let files = tree(&[("dev/x.yaml", "same")]);
        write(&out, &files, None).unwrap();
        // Same size and time, other content: only a read would tell, and the
        // cache vouches for the file, so it is not read.
        let target = out.join("dev/x.yaml");
        let time = fs::metadata(&target).unwrap().modified().unwrap();
        fs::write(&target, "edit").unwrap();
        fs::File::options()
            .write(true)
            .open(&target)
            .unwrap()
            .set_modified(time)
            .unwrap();
        assert_eq!(write(&out, &files, None).unwrap().unchanged, 1);
        assert_eq!(fs::read_to_string(&target).unwrap(), "edit");
        // Without the cache every file is read, and the edit is undone.
        fs::remove_file(out.with_extension("stamps")).unwrap();
        assert_eq!(write(&out, &files, None).unwrap().changed, 1);
        assert_eq!(fs::read_to_string(&target).unwrap(), "same");
    }

    #[test]
    fn a_file_edited_by_hand_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("dev/x.yaml", "mine")]), None).unwrap();
        fs::write(out.join("dev/x.yaml"), "edited").unwrap();
        let w = write(&out, &tree(&[("dev/x.yaml", "mine")]), None).unwrap();
        assert_eq!(w.changed, 1);
        assert_eq!(read_all(&out), vec![("dev/x.yaml".into(), "mine".into())]);
    }

    #[test]
    fn a_scoped_update_leaves_other_environments_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(
            &out,
            &tree(&[("dev/x.yaml", "1"), ("prod/x.yaml", "2")]),
            None,
        )
        .unwrap();
        write(
            &out,
            &tree(&[("dev/y.yaml", "3")]),
            Some(&["dev".to_string()]),
        )
        .unwrap();
        assert_eq!(
            read_all(&out),
            vec![
                ("dev/y.yaml".into(), "3".into()),
                ("prod/x.yaml".into(), "2".into())
            ]
        );
        assert_eq!(recorded_ids(&out).unwrap().len(), 2);
    }

    #[test]
    fn a_foreign_directory_is_never_written_into() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), "keep").unwrap();
        let err = write(dir.path(), &tree(&[("dev/x.yaml", "1")]), None).unwrap_err();
        assert!(err.to_string().contains("refusing to write into"), "{err}");
        assert_eq!(
            fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
            "keep"
        );
    }
}
