//! `validate` and `build`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use manifold::compile::{self, Compiled};
use manifold::input::load;
use manifold::output;

use super::Format;
use super::report::{exit, plural, report_denying};

pub fn validate(root: &Path, envs: &[String], format: Format, deny: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let project = load::load(root)?;
    let compiled = compile::compile(&project, envs)?;
    let clean = report_denying(&compiled.diagnostics, &project.sources, format, deny)?;
    if clean && format == Format::Human {
        let objects: usize = compiled.environments.iter().map(|e| e.files.len()).sum();
        eprintln!(
            "ok: {} in {}, {objects} files checked in {} ms",
            plural(project.services.len(), "service"),
            plural(compiled.environments.len(), "environment"),
            started.elapsed().as_millis()
        );
    }
    leak(project, compiled);
    Ok(exit(clean))
}

pub fn build(
    root: &Path,
    envs: &[String],
    out: PathBuf,
    format: Format,
    deny: bool,
) -> Result<ExitCode> {
    let started = Instant::now();
    let project = load::load(root)?;
    let compiled = compile::compile(&project, envs)?;
    let clean = report_denying(&compiled.diagnostics, &project.sources, format, deny)?;
    if !clean {
        leak(project, compiled);
        return Ok(exit(false));
    }
    let written = write(&out, &compiled, envs)?;
    if format == Format::Human {
        eprintln!(
            "built {} into {}: {} added, {} changed, {} removed, {} unchanged in {} ms",
            plural(compiled.environments.len(), "environment"),
            out.display(),
            written.added,
            written.changed,
            written.removed,
            written.unchanged,
            started.elapsed().as_millis()
        );
    }
    leak(project, compiled);
    Ok(ExitCode::SUCCESS)
}

fn write(out: &Path, compiled: &Compiled, envs: &[String]) -> Result<output::Written> {
    let scope = (!envs.is_empty()).then_some(envs);
    output::write(out, &compiled.tree(), scope)
}

/// The process is about to exit: freeing a hundred thousand small
/// allocations one by one only delays it (a tenth of a large run).
fn leak(project: load::Project, compiled: Compiled) {
    std::mem::forget(project);
    std::mem::forget(compiled);
}
