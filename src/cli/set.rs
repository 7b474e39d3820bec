//! `set`: values of one service's overlay in one environment, from the
//! command line; and how `set` and `promote` print their outcome and write
//! the overlays.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use manifold::diag::{self, Diagnostic, normalize};
use manifold::diff;
use manifold::edit::{self, Outcome};

use super::report::plural;

pub fn set(
    root: &Path,
    env: &str,
    service: &str,
    assignments: &[String],
    dry_run: bool,
) -> Result<ExitCode> {
    let outcome = edit::set(root, env, service, assignments)?;
    finish(root, outcome, dry_run, "nothing to change")
}

/// Prints the diagnostics, the changed values and the diff, then writes the
/// overlays unless the edit is blocked or a dry run.
pub fn finish(root: &Path, outcome: Outcome, dry_run: bool, idle: &str) -> Result<ExitCode> {
    let mut all: Vec<Diagnostic> = outcome
        .others
        .iter()
        .chain(&outcome.blocking)
        .cloned()
        .collect();
    normalize(&mut all);
    let mut err = anstream::stderr().lock();
    if !all.is_empty() {
        let color =
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
        let _ = write!(err, "{}", diag::render_human(&all, &outcome.sources, color));
    }
    if !outcome.blocking.is_empty() {
        let n = plural(outcome.blocking.len(), "error");
        let _ = writeln!(err, "{n} found: nothing written");
        return Ok(ExitCode::from(1));
    }
    let elsewhere = outcome.others.iter().filter(|d| d.is_error()).count();
    if elsewhere > 0 {
        let n = plural(elsewhere, "error");
        let _ = writeln!(
            err,
            "note: {n} elsewhere in the repository; they do not block this change"
        );
    }
    drop(err);
    // The report of the change goes to stdout, problems to stderr. A
    // closed pipe (`| head`) is not our failure.
    let mut out = std::io::stdout().lock();
    for note in &outcome.notes {
        let _ = writeln!(out, "{note}");
    }
    let Some(changes) = &outcome.changes else {
        let _ = writeln!(out, "{idle}");
        return Ok(ExitCode::SUCCESS);
    };
    let color = anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    let diff = diff::render_text(std::slice::from_ref(changes), color);
    let _ = writeln!(out, "\n{diff}");
    if dry_run {
        let created: Vec<&str> = outcome
            .edits
            .iter()
            .filter(|e| e.created)
            .map(|e| e.path.as_str())
            .collect();
        let _ = match created.as_slice() {
            [] => writeln!(out, "dry run: nothing written"),
            paths => writeln!(
                out,
                "dry run: nothing written (would create {})",
                paths.join(", ")
            ),
        };
        return Ok(ExitCode::SUCCESS);
    }
    for e in &outcome.edits {
        write_atomically(&root.join(&e.path), &e.text)?;
        let verb = if e.created { "created" } else { "wrote" };
        let _ = writeln!(out, "{verb} {}", e.path);
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `path` through a temporary file beside it and a rename, so a
/// killed run leaves the old file or the new one, never half of one.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().context("an overlay has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.manifold-tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write `{}`", path.display()))
}
