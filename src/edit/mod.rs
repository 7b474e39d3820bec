//! Editing overlays in place: `manifold set` and `manifold promote`.
//!
//! Both change values in `environments/<env>/<service>.toml` with minimal
//! edits (comments, order and layout stay byte for byte; `document`),
//! creating the overlay when it is missing, with the `#:schema` line the
//! other overlays have. `set` reads `KEY=VALUE` arguments typed by the
//! service schema (`assign`); `promote` copies chosen values from one
//! environment's merged view to another (`promote`).
//!
//! Before anything is written, the target environment is compiled twice,
//! as the files are and as they would be: the errors of the edited pairs
//! (in their service file, their overlay, the environment's file, or their
//! rendered objects) block the edit; problems elsewhere are reported and
//! do not. The result is the text of the files to write and the diff of
//! the environment's rendered objects. Reading the repository is the only
//! I/O here: the caller writes the files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value as Json;

use crate::compile::{self, merged_service};
use crate::diag::{Diagnostic, FileId, Sources, did_you_mean, normalize};
use crate::diff::{self, EnvChanges};
use crate::input::load::{self, Project};
use crate::input::tree::{Node, Value};
use crate::schema::SERVICE_SCHEMA;

mod assign;
mod document;
mod promote;

use assign::Assignment;
use document::{Outcome as Set, Overlay, dotted};
pub use promote::What;

/// What `against` says in the diff of an edit.
pub const BEFORE: &str = "the files as they were";

/// One overlay to write.
#[derive(Debug)]
pub struct Edit {
    /// Relative to the repository, with `/` separators.
    pub path: String,
    /// Whether the file is new.
    pub created: bool,
    pub text: String,
}

/// The result of `set` or `promote`, before anything is written.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The files of the diagnostics (those of the edited repository).
    pub sources: Sources,
    /// Errors that forbid the edit: nothing may be written.
    pub blocking: Vec<Diagnostic>,
    /// Everything else found: problems elsewhere, warnings.
    pub others: Vec<Diagnostic>,
    /// What was changed, one line a value:
    /// `environments/dev/web.toml: version = "1.4.2" (was "1.4.1")`.
    pub notes: Vec<String>,
    /// The files to write; empty when nothing changes.
    pub edits: Vec<Edit>,
    /// The rendered objects of the environment, before and after.
    pub changes: Option<EnvChanges>,
}

/// `manifold set -e ENV SERVICE KEY=VALUE...`.
pub fn set(root: &Path, env: &str, service: &str, args: &[String]) -> Result<Outcome> {
    let mut project = load::load(root)?;
    let env_input = environment(&project, env)?;
    known_service(&project, service)?;
    let schema: Json = serde_json::from_str(SERVICE_SCHEMA)?;
    let line = args.join(" ");
    let mut assignments = Vec::new();
    let mut problems = Vec::new();
    let mut offset = 0;
    for arg in args {
        match assign::assignment(&schema, arg, offset) {
            Ok(a) => assignments.push(a),
            Err(p) => problems.push(p),
        }
        offset += arg.len() + 1;
    }
    let path = overlay_path(env, service);
    let (mut overlay, created) = match open(&project, env_input, service) {
        Ok(opened) => opened,
        Err(file) => return Ok(unreadable(project, &BTreeSet::from([file]))),
    };
    let mut notes = Vec::new();
    for a in &assignments {
        match overlay.set(&a.path, a.value.clone()) {
            Ok(outcome) => notes.push(note(&path, &a.key, &a.value, outcome)),
            Err(conflict) => problems.push(in_the_way(a, &path, conflict)),
        }
    }
    if !problems.is_empty() {
        let file = project.sources.add("command line".into(), line);
        let blocking = problems
            .into_iter()
            .map(|p| p.into_diagnostic(file))
            .collect();
        return Ok(Outcome {
            sources: project.sources,
            blocking,
            ..Outcome::default()
        });
    }
    let text = overlay.to_string();
    let unchanged = !created && project_text(&project, env_input, service) == Some(&text);
    let edits = match unchanged {
        true => Vec::new(),
        false => vec![Edit {
            path,
            created,
            text,
        }],
    };
    check(root, project, env, &[service], edits, notes)
}

/// A key whose path runs into a value of the overlay: `resources.cpu.limit`
/// where the overlay has `resources.cpu = "1"`.
fn in_the_way(a: &Assignment, path: &str, conflict: document::Conflict) -> assign::ArgProblem {
    let above = dotted(&a.path[..conflict.at.min(a.path.len())]);
    assign::ArgProblem {
        code: crate::diag::Code::Type,
        message: format!(
            "`{}` cannot be set: `{above}` is not a table in `{path}`",
            a.key
        ),
        span: a.span.clone(),
        label: None,
        hint: format!("set `{above}` itself, or edit `{path}`"),
    }
}

/// What `promote` was asked for.
pub struct Promotion<'a> {
    /// The services, by file name; empty with `all`.
    pub services: &'a [String],
    /// Every service enabled in both environments.
    pub all: bool,
    pub from: &'a str,
    pub to: &'a str,
    pub what: What,
}

/// `manifold promote SERVICE... --from ENV --to ENV`.
pub fn promote(root: &Path, p: &Promotion<'_>) -> Result<Outcome> {
    let project = load::load(root)?;
    environment(&project, p.from)?;
    let target = environment(&project, p.to)?;
    if p.from == p.to {
        bail!("`--from` and `--to` are both `{}`", p.to);
    }
    let services: Vec<String> = match p.all {
        true => project.services.iter().map(|s| s.name.clone()).collect(),
        false => p.services.to_vec(),
    };
    for s in &services {
        known_service(&project, s)?;
    }
    let mut edits = Vec::new();
    let mut notes = Vec::new();
    let mut promoted = Vec::new();
    for service in &services {
        let service = service.as_str();
        let (Some(source), Some(dest)) = (
            merged_service(&project, p.from, service),
            merged_service(&project, p.to, service),
        ) else {
            if p.all {
                continue;
            }
            let mut files = pair_files(&project, p.from, &[service]);
            files.extend(pair_files(&project, p.to, &[service]));
            return Ok(unreadable(project, &files));
        };
        if !enabled(&source) || !enabled(&dest) {
            match p.all {
                true => continue,
                false => {
                    let env = if enabled(&source) { p.to } else { p.from };
                    bail!("`{service}` is disabled in `{env}`: there is nothing to promote")
                }
            }
        }
        let source_overlay = overlay_tree(&project, p.from, service);
        let copies = promote::chosen(&source, source_overlay, &dest, p.what);
        if copies.is_empty() {
            continue;
        }
        let path = overlay_path(p.to, service);
        let (mut overlay, created) = match open(&project, target, service) {
            Ok(opened) => opened,
            Err(file) => return Ok(unreadable(project, &BTreeSet::from([file]))),
        };
        for c in copies {
            if let Err(conflict) = overlay.set(&c.path, c.value.clone()) {
                bail!(
                    "cannot promote `{}` of `{service}`: `{}` is not a table in `{path}`",
                    dotted(&c.path),
                    dotted(&c.path[..conflict.at.min(c.path.len())])
                );
            }
            let was = c.was.map_or("none".to_string(), |w| w.to_string());
            notes.push(format!(
                "{path}: {} = {} ({} had {was})",
                dotted(&c.path),
                document::shown(&c.value),
                p.to
            ));
        }
        edits.push(Edit {
            path,
            created,
            text: overlay.to_string(),
        });
        promoted.push(service);
    }
    check(root, project, p.to, &promoted, edits, notes)
}

fn enabled(merged: &Node) -> bool {
    !matches!(
        merged.get("enabled").map(|n| &n.value),
        Some(Value::Boolean(false))
    )
}

fn overlay_path(env: &str, service: &str) -> String {
    format!("environments/{env}/{service}.toml")
}

fn environment<'a>(project: &'a Project, name: &str) -> Result<&'a load::EnvInput> {
    if let Some(env) = project.environments.iter().find(|e| e.input.name == name) {
        return Ok(env);
    }
    let names: Vec<&str> = project
        .environments
        .iter()
        .map(|e| e.input.name.as_str())
        .collect();
    match did_you_mean(name, names.iter().copied()) {
        Some(better) => bail!("unknown environment `{name}`; did you mean `{better}`?"),
        None => bail!(
            "unknown environment `{name}`; environments are: {}",
            names.join(", ")
        ),
    }
}

fn known_service(project: &Project, name: &str) -> Result<()> {
    if project.services.iter().any(|s| s.name == name) {
        return Ok(());
    }
    let names: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
    match did_you_mean(name, names.iter().copied()) {
        Some(better) => bail!("unknown service `{name}`; did you mean `{better}`?"),
        None => bail!(
            "unknown service `{name}`: there is no `services/{name}.toml` (services are named after their file)"
        ),
    }
}

fn overlay_tree<'a>(project: &'a Project, env: &str, service: &str) -> Option<&'a Node> {
    let env = project.environments.iter().find(|e| e.input.name == env)?;
    env.overlays
        .iter()
        .find(|o| o.name == service)?
        .tree
        .as_ref()
}

fn project_text<'a>(
    project: &'a Project,
    env: &load::EnvInput,
    service: &str,
) -> Option<&'a String> {
    let o = env.overlays.iter().find(|o| o.name == service)?;
    Some(&project.sources.get(o.file).text)
}

/// The service's overlay to edit, and whether it is new; `Err` with the
/// overlay's file when it exists but is not TOML.
fn open(project: &Project, env: &load::EnvInput, service: &str) -> Result<(Overlay, bool), FileId> {
    let Some(o) = env.overlays.iter().find(|o| o.name == service) else {
        return Ok((Overlay::new(schema_line(project).as_deref()), true));
    };
    let text = &project.sources.get(o.file).text;
    match (&o.tree, Overlay::parse(text)) {
        (Some(_), Some(overlay)) => Ok((overlay, false)),
        _ => Err(o.file),
    }
}

/// The `#:schema` line the repository's overlays start with, if they do.
fn schema_line(project: &Project) -> Option<String> {
    project
        .environments
        .iter()
        .flat_map(|e| &e.overlays)
        .filter_map(|o| project.sources.get(o.file).text.lines().next())
        .find(|l| l.starts_with("#:schema "))
        .map(str::to_string)
}

/// An outcome that stops at the load's errors in `files`: a file to edit
/// or to read a merged view from cannot be read.
fn unreadable(project: Project, files: &BTreeSet<FileId>) -> Outcome {
    let mut blocking: Vec<Diagnostic> = project
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.file.is_some_and(|f| files.contains(&f)))
        .cloned()
        .collect();
    if blocking.is_empty() {
        blocking.push(
            Diagnostic::error(
                crate::diag::Code::Unreadable,
                "cannot read the files to edit",
            )
            .hint("run `manifold validate` to see why"),
        );
    }
    Outcome {
        sources: project.sources,
        blocking,
        ..Outcome::default()
    }
}

/// `environments/dev/web.toml: version = "1.4.2" (was "1.4.1")`
fn note(path: &str, key: &str, value: &toml_edit::Value, outcome: Set) -> String {
    let value = document::shown(value);
    match outcome {
        Set::Unchanged => format!("{path}: {key} = {value} (unchanged)"),
        Set::Replaced { was, now } => format!("{path}: {key} = {now} (was {was})"),
        Set::Added => format!("{path}: {key} = {value} (added)"),
    }
}

/// Compiles `env` as the files are and as `edits` would make them; the
/// errors of `services` block the edit.
fn check(
    root: &Path,
    before: Project,
    env: &str,
    services: &[&str],
    edits: Vec<Edit>,
    notes: Vec<String>,
) -> Result<Outcome> {
    if edits.is_empty() {
        return Ok(Outcome {
            sources: before.sources,
            notes,
            ..Outcome::default()
        });
    }
    let old = compile::compile_environment(&before, env)?;
    let texts: BTreeMap<String, String> = edits
        .iter()
        .map(|e| (e.path.clone(), e.text.clone()))
        .collect();
    let after = load::load_edited(root, &texts)?;
    let new = compile::compile_environment(&after, env)?;
    let mut notes = notes;
    for s in services {
        if merged_service(&after, env, s).is_some_and(|m| !enabled(&m)) {
            notes.push(format!(
                "note: `{s}` is disabled in `{env}` (`enabled = false`): it renders nothing there"
            ));
        }
    }
    let ours = pair_files(&after, env, services);
    let (mut blocking, mut others): (Vec<Diagnostic>, Vec<Diagnostic>) = new
        .diagnostics
        .into_iter()
        .partition(|d| d.is_error() && d.file.is_none_or(|f| ours.contains(&f)));
    normalize(&mut blocking);
    normalize(&mut others);
    let files = |e: Option<compile::EnvOutput>| e.map(|e| e.files).unwrap_or_default();
    let changes = diff::compare(
        env,
        BEFORE,
        &files(old.environment),
        &files(new.environment),
    );
    Ok(Outcome {
        sources: after.sources,
        blocking,
        others,
        notes,
        edits,
        changes: Some(changes),
    })
}

/// The files of the edited pairs: the environment's, and each service's
/// file and overlay.
fn pair_files(project: &Project, env: &str, services: &[&str]) -> BTreeSet<FileId> {
    let mut files = BTreeSet::new();
    for s in &project.services {
        if services.contains(&s.name.as_str()) {
            files.insert(s.file);
        }
    }
    if let Some(e) = project.environments.iter().find(|e| e.input.name == env) {
        files.insert(e.input.file);
        for o in &e.overlays {
            if services.contains(&o.name.as_str()) {
                files.insert(o.file);
            }
        }
    }
    files
}
