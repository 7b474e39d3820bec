//! Updating a previous output in place through a journal: new content beside
//! its target, then the journal (the commit point), then the renames and
//! removals it lists. `recover` finishes or sweeps an interrupted update.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use super::confine::{Links, damaged, relative, scan};
use super::manifest::{Entry, MANIFEST, Manifest, manifest_text, read_manifest};
use super::stamps;
use super::{Files, TMP_SUFFIX, Written, blob_id, create_new, in_scope, walk, write_files};

/// The journal's file name, at the top of the output directory.
pub(super) const JOURNAL: &str = ".manifold-journal";

/// What becomes of one file of the new tree.
enum State {
    Unchanged(Entry),
    Changed,
    Added,
}

/// Brings a previous output up to date with `tree`, writing only what differs
/// and removing what `tree` no longer has (within `scope`). Nothing is
/// written if a path to write or remove is, or goes through, one of `links`.
pub(super) fn update(
    out: &Path,
    tree: &Files<'_>,
    scope: Option<&[String]>,
    links: &Links,
    cache: Option<&Path>,
) -> Result<Written> {
    let mut old = read_manifest(out)?;
    if let (Some(old), Some(cache)) = (&mut old, cache) {
        stamps::load(cache, out, old);
    }
    let existing: BTreeSet<String> = match &old {
        Some(m) => m.keys().filter(|p| in_scope(p, scope)).cloned().collect(),
        None => walk(out, scope)?,
    };
    for path in tree.keys().chain(&existing) {
        links.check(out, path)?;
    }
    let empty = Manifest::new();
    let recorded = old.as_ref().unwrap_or(&empty);
    let entries: Vec<(&String, &&[u8])> = tree.iter().collect();
    let states = decide(out, &entries, recorded);

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
        .filter(|p| !tree.contains_key(*p) && fs::symlink_metadata(out.join(p)).is_ok())
        .collect();
    written.removed = removals.len();
    if changes.is_empty() && removals.is_empty() {
        let text = manifest_text(&manifest);
        if old.as_ref().map(manifest_text).as_ref() != Some(&text) {
            replace_file(out, MANIFEST, text.as_bytes())?;
        }
    } else {
        stage(out, &changes, &mut manifest)?;
        commit(out, &changes, &removals, links)?;
    }
    if let Some(cache) = cache {
        if old.as_ref() != Some(&manifest) {
            stamps::save(cache, out, &manifest);
        }
    }
    Ok(written)
}

/// Decides every file in parallel: at most a stat, and a read only when the
/// manifest cannot vouch for it.
fn decide(out: &Path, entries: &[(&String, &&[u8])], recorded: &Manifest) -> Vec<Result<State>> {
    entries
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
        .collect()
}

/// Step 1: new content beside its target, and the next manifest beside the
/// current one. Failing here leaves the tree as it was.
fn stage(out: &Path, changes: &[(&str, &[u8])], manifest: &mut Manifest) -> Result<()> {
    let metas = match write_files(out, changes, TMP_SUFFIX) {
        Ok(m) => m,
        Err(e) => {
            for (path, _) in changes {
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
    create_new(&out.join(&next))?
        .write_all(manifest_text(manifest).as_bytes())
        .with_context(|| format!("cannot write `{}`", out.join(&next).display()))?;
    Ok(())
}

/// Step 2, the commit point: the journal names every step of the switch.
/// Step 3: carry it out.
fn commit(
    out: &Path,
    changes: &[(&str, &[u8])],
    removals: &[&String],
    links: &Links,
) -> Result<()> {
    let mut journal = String::new();
    for (path, _) in changes {
        journal.push_str("rename ");
        journal.push_str(path);
        journal.push('\n');
    }
    for path in removals {
        journal.push_str("remove ");
        journal.push_str(path);
        journal.push('\n');
    }
    journal.push_str("rename ");
    journal.push_str(MANIFEST);
    journal.push('\n');
    replace_file(out, JOURNAL, journal.as_bytes())?;
    replay(out, links)
}

/// Writes `name` in `out` atomically: a temporary file, synced, renamed.
fn replace_file(out: &Path, name: &str, content: &[u8]) -> Result<()> {
    let tmp = out.join(format!("{name}{TMP_SUFFIX}-write"));
    let mut f = create_new(&tmp)?;
    f.write_all(content)?;
    f.sync_all()?;
    fs::rename(&tmp, out.join(name))
        .with_context(|| format!("cannot write `{}`", out.join(name).display()))?;
    Ok(())
}

/// Finishes an interrupted update: replays a committed journal, then sweeps
/// the temporary files left by one that never reached its commit point.
/// Returns the symbolic links found in `out`, which nothing may go through.
pub(super) fn recover(out: &Path) -> Result<Links> {
    let scan = scan(out)?;
    for name in [MANIFEST, JOURNAL] {
        scan.links.check(out, name)?;
    }
    if out.join(JOURNAL).is_file() {
        replay(out, &scan.links)?;
    }
    for leftover in &scan.leftovers {
        match fs::remove_file(leftover) {
            Ok(()) => {}
            // Renamed into place by the replay.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove `{}`", leftover.display()));
            }
        }
    }
    Ok(scan.links)
}

/// What one line of the journal does.
enum Step<'a> {
    Rename(&'a str),
    Remove(&'a str),
}

/// Reads every line of the journal before acting on any: a line that is not
/// a step, or names a path that is not plain and relative or goes through a
/// link, stops the replay with nothing done.
fn steps<'a>(out: &Path, journal: &'a str, links: &Links) -> Result<Vec<Step<'a>>> {
    journal
        .lines()
        .map(|line| {
            let (op, path) = line.split_once(' ').unwrap_or(("", line));
            let step = match op {
                "rename" => Step::Rename(path),
                "remove" => Step::Remove(path),
                _ => return Err(damaged(out, JOURNAL, line, "is not a step")),
            };
            if let Some(why) = relative(path) {
                return Err(damaged(out, JOURNAL, line, why));
            }
            links.check(out, path)?;
            if let Step::Rename(_) = step {
                let tmp = out.join(format!("{path}{TMP_SUFFIX}"));
                if fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_symlink()) {
                    bail!(
                        "refusing to finish the update `{}` describes: `{}` is a symbolic link, not content manifold wrote; nothing was written or removed: remove `{}` and build again",
                        out.join(JOURNAL).display(),
                        tmp.display(),
                        out.display()
                    );
                }
            }
            Ok(step)
        })
        .collect()
}

fn replay(out: &Path, links: &Links) -> Result<()> {
    let journal_path = out.join(JOURNAL);
    let journal = fs::read_to_string(&journal_path)
        .with_context(|| format!("cannot read `{}`", journal_path.display()))?;
    let mut dirs = BTreeSet::new();
    for step in steps(out, &journal, links)? {
        match step {
            Step::Rename(path) => {
                let target = out.join(path);
                let tmp = out.join(format!("{path}{TMP_SUFFIX}"));
                // Already renamed by an interrupted replay: nothing to do.
                if fs::symlink_metadata(&tmp).is_ok() {
                    fs::rename(&tmp, &target)
                        .with_context(|| format!("cannot write `{}`", target.display()))?;
                }
            }
            Step::Remove(path) => {
                let target = out.join(path);
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
    use super::super::tests::{read_all, tree, write};
    use super::*;

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
