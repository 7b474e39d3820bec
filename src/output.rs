//! Writing the output tree to disk: all of it or none of it.
//!
//! A build into a missing or empty directory writes a staging directory beside
//! it and renames it into place. A build over a previous output changes only
//! what differs: new content goes to temporary files next to their targets,
//! then a journal listing every rename and removal is committed, then the
//! journal is carried out. An interrupted update is therefore either not
//! visible at all (no journal yet: the temporary files are swept by the next
//! run) or completed by the next run (the journal is replayed). Unchanged files
//! are not touched, so their modification times survive.
//!
//! The directory is marked with `.manifold-output`; a non-empty directory
//! without the marker is never written into, so a mistyped `-o` cannot replace
//! someone's files.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use std::collections::BTreeMap;

const MARKER: &str = ".manifold-output";
const JOURNAL: &str = ".manifold-journal";
const TMP_SUFFIX: &str = ".manifold-tmp";

/// What a write changed, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// Writes `tree` under `out`. `scope` limits the update to these top-level
/// directories (the selected environments); `None` means the whole directory
/// is the output and anything else in it is removed.
/// The files to write: path relative to the output directory -> content.
pub type Files<'a> = BTreeMap<String, &'a [u8]>;

pub fn write(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
    let empty = match fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", out.display())),
    };
    if empty {
        return write_fresh(out, tree);
    }
    if !out.join(MARKER).is_file() {
        bail!(
            "refusing to write into `{}`: it is not empty and was not written by manifold (no `{MARKER}`); choose another `-o` or empty it",
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
        write_files(&staging, tree.iter().map(|(p, c)| (p.as_str(), *c)), "")?;
        fs::write(staging.join(MARKER), marker_text())?;
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

fn marker_text() -> &'static str {
    "This directory is written by manifold; files here are replaced on every build.\n"
}

/// Creates directories as needed and writes each file.
fn write_files<'a>(
    root: &Path,
    files: impl Iterator<Item = (&'a str, &'a [u8])>,
    suffix: &str,
) -> Result<()> {
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, content) in files {
        let target = root.join(format!("{path}{suffix}"));
        if let Some(dir) = target.parent() {
            if !made.contains(dir) {
                fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
                made.insert(dir.to_path_buf());
            }
        }
        fs::write(&target, content)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
    }
    Ok(())
}

/// Every file under `out` (relative, `/`-separated), except manifold's own.
fn existing(out: &Path, scope: Option<&[String]>) -> Result<BTreeSet<String>> {
    let mut files = BTreeSet::new();
    let roots: Vec<PathBuf> = match scope {
        Some(dirs) => dirs.iter().map(|d| out.join(d)).collect(),
        None => vec![out.to_path_buf()],
    };
    for root in roots {
        if !root.exists() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot read `{}`", root.display()))?;
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(out).unwrap_or(entry.path());
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel == MARKER || rel == JOURNAL {
                continue;
            }
            files.insert(rel);
        }
    }
    Ok(files)
}

fn update(out: &Path, tree: &Files<'_>, scope: Option<&[String]>) -> Result<Written> {
    let old = existing(out, scope)?;
    let mut written = Written::default();
    let mut changes: Vec<(&str, &[u8])> = Vec::new();
    for (path, content) in tree {
        if old.contains(path) {
            let current = fs::read(out.join(path))
                .with_context(|| format!("cannot read `{}`", out.join(path).display()))?;
            if current == **content {
                written.unchanged += 1;
                continue;
            }
            written.changed += 1;
        } else {
            written.added += 1;
        }
        changes.push((path.as_str(), *content));
    }
    let removals: Vec<&String> = old.iter().filter(|p| !tree.contains_key(*p)).collect();
    written.removed = removals.len();
    if changes.is_empty() && removals.is_empty() {
        return Ok(written);
    }

    // 1. New content beside its target. Failing here leaves the tree as it was.
    if let Err(e) = write_files(out, changes.iter().copied(), TMP_SUFFIX) {
        for (path, _) in &changes {
            let _ = fs::remove_file(out.join(format!("{path}{TMP_SUFFIX}")));
        }
        return Err(e);
    }
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
    let tmp = out.join(format!("{JOURNAL}{TMP_SUFFIX}"));
    let mut f =
        fs::File::create(&tmp).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    f.write_all(journal.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, out.join(JOURNAL))?;
    // 3. Carry it out.
    replay(out)?;
    Ok(written)
}

/// Finishes an interrupted update: replays a committed journal, or sweeps the
/// temporary files of one that never reached its commit point.
fn recover(out: &Path) -> Result<()> {
    if out.join(JOURNAL).is_file() {
        return replay(out);
    }
    for entry in walkdir::WalkDir::new(out) {
        let entry = entry?;
        if entry.file_type().is_file() && entry.file_name().to_string_lossy().ends_with(TMP_SUFFIX)
        {
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
    use super::*;

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
            .filter(|(p, _)| p != MARKER)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_fresh_build_writes_everything_and_marks_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let w = write(
            &out,
            &tree(&[("dev/a/x.yaml", "1"), ("dev/kustomization.yaml", "k")]),
            None,
        )
        .unwrap();
        assert_eq!(w.added, 2);
        assert!(out.join(MARKER).is_file());
        assert_eq!(
            read_all(&out),
            vec![
                ("dev/a/x.yaml".into(), "1".into()),
                ("dev/kustomization.yaml".into(), "k".into())
            ]
        );
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
        write(&out, &tree(&[("dev/x.yaml", "new")]), None).unwrap();
        assert_eq!(read_all(&out), vec![("dev/x.yaml".into(), "new".into())]);
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
