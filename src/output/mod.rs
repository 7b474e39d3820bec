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
//! it wrote with its git blob id, size and modification time. A file whose
//! new content has the recorded id and whose size and time on disk are the
//! recorded ones is unchanged without being read; anything else is compared
//! byte for byte. A non-empty directory without the marker is never written
//! into, so a mistyped `-o` cannot replace someone's files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::git::ObjectFormat;

const MANIFEST: &str = ".manifold-output";
const JOURNAL: &str = ".manifold-journal";
const TMP_SUFFIX: &str = ".manifold-tmp";
const HEADER: &str =
    "# written by manifold: the files of this directory with their git blob ids; do not edit";

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

/// What the manifest records of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    id: String,
    len: u64,
    modified: (u64, u32),
}

impl Entry {
    fn of(id: String, meta: &fs::Metadata) -> Entry {
        Entry {
            id,
            len: meta.len(),
            modified: stamp(meta),
        }
    }

    /// Whether the file on disk still is what this entry describes.
    fn matches(&self, meta: &fs::Metadata) -> bool {
        meta.len() == self.len && stamp(meta) == self.modified
    }
}

fn stamp(meta: &fs::Metadata) -> (u64, u32) {
    let t = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

type Manifest = BTreeMap<String, Entry>;

fn manifest_text(manifest: &Manifest) -> String {
    let mut text = String::with_capacity(manifest.len() * 100);
    text.push_str(HEADER);
    text.push('\n');
    for (path, e) in manifest {
        text.push_str(&format!(
            "{} {} {}.{:09} {path}\n",
            e.id, e.len, e.modified.0, e.modified.1
        ));
    }
    text
}

/// Reads a manifest; `None` if missing or not in this format (then the
/// directory is walked and every file compared).
fn read_manifest(out: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(out.join(MANIFEST)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let mut manifest = Manifest::new();
    for line in lines {
        let mut parts = line.splitn(4, ' ');
        let (id, len, modified, path) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (secs, nanos) = modified.split_once('.')?;
        let entry = Entry {
            id: id.to_string(),
            len: len.parse().ok()?,
            modified: (secs.parse().ok()?, nanos.parse().ok()?),
        };
        manifest.insert(path.to_string(), entry);
    }
    Some(manifest)
}

/// Writes `tree` under `out`. `scope` limits the update to these top-level
/// directories (the selected environments); `None` means the whole directory
/// is the output and every other file manifold wrote there is removed.
pub fn write(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
    let empty = match fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", out.display())),
    };
    if empty {
        return write_fresh(out, tree);
    }
    if !out.join(MANIFEST).is_file() {
        bail!(
            "refusing to write into `{}`: it is not empty and was not written by manifold (no `{MANIFEST}`); choose another `-o` or empty it",
            out.display()
        );
    }
    recover(out)?;
    update(out, tree, scope)
}

fn write_fresh(out: &Path, tree: &Files<'_>) -> Result<Written> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}{TMP_SUFFIX}-{}", std::process::id()));
    let result = (|| -> Result<()> {
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir(&staging)?;
        let ids: Vec<String> = tree.par_iter().map(|(_, c)| blob_id(c)).collect();
        let files: Vec<(&str, &[u8])> = tree.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        let metas = write_files(&staging, &files, "")?;
        let manifest: Manifest = tree
            .keys()
            .zip(ids.into_iter().zip(&metas))
            .map(|(path, (id, meta))| (path.clone(), Entry::of(id, meta)))
            .collect();
        fs::write(staging.join(MANIFEST), manifest_text(&manifest))?;
        // An empty directory in the way (e.g. just created by the user) goes.
        if out.exists() {
            fs::remove_dir(out)?;
        }
        fs::rename(&staging, out)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e).with_context(|| format!("cannot write `{}`", out.display()));
    }
    Ok(Written {
        added: tree.len(),
        ..Written::default()
    })
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
                let mut file = fs::File::create(&target)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
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

enum State {
    Unchanged(Entry),
    Changed,
    Added,
}

fn update(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
    let old = read_manifest(out);
    let existing: BTreeSet<String> = match &old {
        Some(m) => m.keys().filter(|p| in_scope(p, scope)).cloned().collect(),
        None => walk(out, scope)?,
    };
    let empty = Manifest::new();
    let recorded = old.as_ref().unwrap_or(&empty);

    // Decide every file in parallel: at most a stat, and a read only when the
    // manifest cannot vouch for it.
    let entries: Vec<(&String, &&[u8])> = tree.iter().collect();
    let states: Vec<Result<State>> = entries
        .par_iter()
        .map(|(path, content)| {
            let id = blob_id(content);
            let target = out.join(path);
            let meta = match fs::metadata(&target) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Added),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read `{}`", target.display()));
                }
            };
            if let Some(e) = recorded.get(path.as_str()) {
                if e.id == id && e.matches(&meta) {
                    return Ok(State::Unchanged(e.clone()));
                }
            }
            let current =
                fs::read(&target).with_context(|| format!("cannot read `{}`", target.display()))?;
            Ok(if current == **content {
                State::Unchanged(Entry::of(id, &meta))
            } else {
                State::Changed
            })
        })
        .collect();

    let mut written = Written::default();
    let mut manifest: Manifest = recorded
        .iter()
        .filter(|(p, _)| !in_scope(p, scope))
        .map(|(p, e)| (p.clone(), e.clone()))
        .collect();
    let mut changes: Vec<(&str, &[u8])> = Vec::new();
    for ((path, content), state) in entries.iter().zip(states) {
        match state? {
            State::Unchanged(e) => {
                written.unchanged += 1;
                manifest.insert((*path).clone(), e);
            }
            State::Changed => {
                written.changed += 1;
                changes.push((path.as_str(), content));
            }
            State::Added => {
                written.added += 1;
                changes.push((path.as_str(), content));
            }
        }
    }
    // The manifest may list a file someone already deleted: not a removal.
    let removals: Vec<&String> = existing
        .iter()
        .filter(|p| !tree.contains_key(*p) && out.join(p).exists())
        .collect();
    written.removed = removals.len();
    if changes.is_empty() && removals.is_empty() {
        if old.as_ref() != Some(&manifest) {
            replace_file(out, MANIFEST, manifest_text(&manifest).as_bytes())?;
        }
        return Ok(written);
    }

    // 1. New content beside its target. Failing here leaves the tree as it was.
    let metas = match write_files(out, &changes, TMP_SUFFIX) {
        Ok(m) => m,
        Err(e) => {
            for (path, _) in &changes {
                let _ = fs::remove_file(out.join(format!("{path}{TMP_SUFFIX}")));
            }
            return Err(e);
        }
    };
    for ((path, content), meta) in changes.iter().zip(&metas) {
        // A rename keeps the file's modification time: record it now.
        manifest.insert(path.to_string(), Entry::of(blob_id(content), meta));
    }
    let next = format!("{MANIFEST}{TMP_SUFFIX}");
    fs::write(out.join(&next), manifest_text(&manifest))
        .with_context(|| format!("cannot write `{}`", out.join(&next).display()))?;

    // 2. Commit point: the journal names every step of the switch.
    let mut journal = String::new();
    for (path, _) in &changes {
        journal.push_str("rename ");
        journal.push_str(path);
        journal.push('\n');
    }
    for path in &removals {
        journal.push_str("remove ");
        journal.push_str(path);
        journal.push('\n');
    }
    journal.push_str("rename ");
    journal.push_str(MANIFEST);
    journal.push('\n');
    replace_file(out, JOURNAL, journal.as_bytes())?;
    // 3. Carry it out.
    replay(out)?;
    Ok(written)
}

/// Writes `name` in `out` atomically: a temporary file, synced, renamed.
fn replace_file(out: &Path, name: &str, content: &[u8]) -> Result<()> {
    let tmp = out.join(format!("{name}{TMP_SUFFIX}-write"));
    let mut f =
        fs::File::create(&tmp).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    f.write_all(content)?;
    f.sync_all()?;
    fs::rename(&tmp, out.join(name))
        .with_context(|| format!("cannot write `{}`", out.join(name).display()))?;
    Ok(())
}

/// Finishes an interrupted update: replays a committed journal, or sweeps the
/// temporary files of one that never reached its commit point.
fn recover(out: &Path) -> Result<()> {
    if out.join(JOURNAL).is_file() {
        return replay(out);
    }
    for entry in walkdir::WalkDir::new(out) {
        let entry = entry?;
        if entry.file_type().is_file() && entry.file_name().to_string_lossy().contains(TMP_SUFFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn replay(out: &Path) -> Result<()> {
    let journal_path = out.join(JOURNAL);
    let journal = fs::read_to_string(&journal_path)
        .with_context(|| format!("cannot read `{}`", journal_path.display()))?;
    let mut dirs = BTreeSet::new();
    for line in journal.lines() {
        let (op, path) = line.split_once(' ').unwrap_or(("", line));
        let target = out.join(path);
        match op {
            "rename" => {
                let tmp = out.join(format!("{path}{TMP_SUFFIX}"));
                // Already renamed by an interrupted replay: nothing to do.
                if tmp.exists() {
                    fs::rename(&tmp, &target)
                        .with_context(|| format!("cannot write `{}`", target.display()))?;
                }
            }
            "remove" => {
                match fs::remove_file(&target) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot remove `{}`", target.display()));
                    }
                }
                if let Some(parent) = target.parent() {
                    dirs.insert(parent.to_path_buf());
                }
            }
            _ => bail!(
                "`{}` is damaged: unexpected line `{line}`",
                journal_path.display()
            ),
        }
    }
    // Directories emptied by removals go too (deepest first).
    for dir in dirs.iter().rev() {
        let mut d = dir.as_path();
        while d != out && d.starts_with(out) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
    }
    fs::remove_file(&journal_path)
        .with_context(|| format!("cannot remove `{}`", journal_path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn recorded_ids(out: &Path) -> Option<HashMap<String, String>> {
        read_manifest(out).map(|m| m.into_iter().map(|(p, e)| (p, e.id)).collect())
    }

    fn tree<'a>(files: &[(&str, &'a str)]) -> Files<'a> {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes()))
            .collect()
    }

    fn read_all(out: &Path) -> Vec<(String, String)> {
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

    #[test]
    fn an_update_interrupted_after_its_commit_point_is_finished_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(
            &out,
            &tree(&[("dev/x.yaml", "old"), ("dev/gone.yaml", "g")]),
            None,
        )
        .unwrap();
        // Simulate a crash after the journal was committed, before the switch.
        fs::write(out.join(format!("dev/x.yaml{TMP_SUFFIX}")), "new").unwrap();
        fs::write(
            out.join(JOURNAL),
            "rename dev/x.yaml\nremove dev/gone.yaml\n",
        )
        .unwrap();
        recover(&out).unwrap();
        assert_eq!(read_all(&out), vec![("dev/x.yaml".into(), "new".into())]);
        // The manifest still describes the old tree; the next build verifies.
        let w = write(&out, &tree(&[("dev/x.yaml", "new")]), None).unwrap();
        assert_eq!(
            w,
            Written {
                unchanged: 1,
                ..Written::default()
            }
        );
    }

    #[test]
    fn an_update_interrupted_before_its_commit_point_leaves_the_old_tree() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write(&out, &tree(&[("dev/x.yaml", "old")]), None).unwrap();
        fs::write(out.join(format!("dev/x.yaml{TMP_SUFFIX}")), "half").unwrap();
        recover(&out).unwrap();
        assert_eq!(read_all(&out), vec![("dev/x.yaml".into(), "old".into())]);
    }
}
