//! Loading a configuration repository: find the files, read them, parse them.
//!
//! `services/**/<name>.toml` are services, `environments/<env>.toml` are
//! environments and `environments/<env>/<service>.toml` are overlays. Files are
//! found in sorted order and read and parsed in parallel; the result is the
//! same whatever the thread count. This stage reports TOML syntax errors and
//! files that are in the wrong place; it does not look inside the tables.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::tree::{Node, parse};
use crate::diag::{Diagnostic, FileId, Sources, did_you_mean};

/// A parsed file. `tree` is `None` when the file has syntax errors.
#[derive(Debug)]
pub struct Input {
    /// The service or environment name: the file stem.
    pub name: String,
    pub file: FileId,
    pub tree: Option<Node>,
}

#[derive(Debug)]
pub struct EnvInput {
    pub input: Input,
    /// Overlays of this environment, sorted by service name.
    pub overlays: Vec<Input>,
}

#[derive(Debug, Default)]
pub struct Project {
    pub sources: Sources,
    /// Sorted by name.
    pub services: Vec<Input>,
    /// Sorted by name.
    pub environments: Vec<EnvInput>,
    pub diagnostics: Vec<Diagnostic>,
}

enum Role {
    Service,
    Environment,
    Overlay { env: String },
}

struct Found {
    role: Role,
    name: String,
    path: PathBuf,
    display: String,
}

/// Reads the repository at `root`. I/O failures are errors; problems with the
/// files' content are diagnostics in the returned project.
pub fn load(root: &Path) -> Result<Project> {
    let mut project = Project::default();
    let mut found = Vec::new();
    let services_dir = root.join("services");
    let env_dir = root.join("environments");
    for (dir, what) in [(&services_dir, "services"), (&env_dir, "environments")] {
        if !dir.is_dir() {
            project.diagnostics.push(
                Diagnostic::error(
                    "layout",
                    format!("no `{what}/` directory in `{}`", root.display()),
                )
                .hint("run manifold at the top of a configuration repository, or pass `-C <dir>`"),
            );
        }
    }
    if !project.diagnostics.is_empty() {
        return Ok(project);
    }
    for entry in walkdir::WalkDir::new(&services_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read `{}`", services_dir.display()))?;
        if entry.file_type().is_file() && is_toml(entry.path()) {
            found.push(Found {
                role: Role::Service,
                name: stem(entry.path()),
                display: display(root, entry.path()),
                path: entry.into_path(),
            });
        }
    }
    for entry in walkdir::WalkDir::new(&env_dir)
        .min_depth(1)
        .max_depth(2)
        .sort_by_file_name()
    {
        let entry = entry.with_context(|| format!("cannot read `{}`", env_dir.display()))?;
        if !entry.file_type().is_file() || !is_toml(entry.path()) {
            continue;
        }
        let role = if entry.depth() == 1 {
            Role::Environment
        } else {
            let env = entry.path().parent().map(stem).unwrap_or_default();
            Role::Overlay { env }
        };
        found.push(Found {
            role,
            name: stem(entry.path()),
            display: display(root, entry.path()),
            path: entry.into_path(),
        });
    }

    let texts: Vec<Result<String>> = found
        .par_iter()
        .map(|f| {
            std::fs::read_to_string(&f.path).with_context(|| format!("cannot read `{}`", f.display))
        })
        .collect();
    let mut ids = Vec::with_capacity(found.len());
    for (f, text) in found.iter().zip(texts) {
        ids.push(project.sources.add(f.display.clone(), text?));
    }
    let sources = &project.sources;
    let parsed: Vec<Result<Node, Vec<Diagnostic>>> = ids
        .par_iter()
        .map(|&id| parse(id, &sources.get(id).text))
        .collect();

    let mut overlays = Vec::new();
    for ((f, id), result) in found.into_iter().zip(ids).zip(parsed) {
        let tree = match result {
            Ok(tree) => Some(tree),
            Err(diags) => {
                project.diagnostics.extend(diags);
                None
            }
        };
        let input = Input {
            name: f.name,
            file: id,
            tree,
        };
        match f.role {
            Role::Service => project.services.push(input),
            Role::Environment => project.environments.push(EnvInput {
                input,
                overlays: Vec::new(),
            }),
            Role::Overlay { env } => overlays.push((env, input)),
        }
    }
    // Environments first: `dev/` sorts before `dev.toml`.
    for (env, input) in overlays {
        attach_overlay(&mut project, env, input);
    }
    project.services.sort_by(|a, b| a.name.cmp(&b.name));
    for env in &mut project.environments {
        env.overlays.sort_by(|a, b| a.name.cmp(&b.name));
    }
    check_names(&mut project);
    Ok(project)
}

fn attach_overlay(project: &mut Project, env: String, input: Input) {
    match project
        .environments
        .iter_mut()
        .find(|e| e.input.name == env)
    {
        Some(e) => e.overlays.push(input),
        None => {
            let names: Vec<&str> = project
                .environments
                .iter()
                .map(|e| e.input.name.as_str())
                .collect();
            let hint = match did_you_mean(&env, names.iter().copied()) {
                Some(better) => format!(
                    "did you mean `environments/{better}/`? an overlay directory needs `environments/{env}.toml`"
                ),
                None => format!(
                    "create `environments/{env}.toml`, or move this file into an environment's directory"
                ),
            };
            project.diagnostics.push(
                Diagnostic::error(
                    "unknown-environment",
                    format!("overlay for unknown environment `{env}`"),
                )
                .in_file(input.file)
                .hint(hint),
            );
        }
    }
}

/// Duplicate service names, and overlays naming no service.
fn check_names(project: &mut Project) {
    for pair in project.services.windows(2) {
        if pair[0].name == pair[1].name {
            let first = project.sources.get(pair[0].file).path.clone();
            project.diagnostics.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("service `{}` is defined twice", pair[1].name),
                )
                .in_file(pair[1].file)
                .hint(format!(
                    "it is also defined in `{first}`; rename one of the files"
                )),
            );
        }
    }
    let names: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
    for env in &project.environments {
        for overlay in &env.overlays {
            if names.binary_search(&overlay.name.as_str()).is_ok() {
                continue;
            }
            let hint = match did_you_mean(&overlay.name, names.iter().copied()) {
                Some(better) => format!(
                    "did you mean `{better}`? rename the file to `environments/{}/{better}.toml`",
                    env.input.name
                ),
                None => format!(
                    "an overlay is named after a file in `services/`; there is no `services/{}.toml`",
                    overlay.name
                ),
            };
            project.diagnostics.push(
                Diagnostic::error(
                    "unknown-service",
                    format!("overlay for unknown service `{}`", overlay.name),
                )
                .in_file(overlay.file)
                .hint(hint),
            );
        }
    }
}

fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
