//! `diff`: the working tree's rendering against what is published.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use manifold::compile;
use manifold::diff::{self, EnvChanges};
use manifold::emit::Tree;
use manifold::git::Repo;
use manifold::gitops::{self, Baseline};
use manifold::input::load;

use super::report::{check_branch, exit, report};
use super::{DiffFormat, Format, Place};

pub fn diff(
    place: &Place,
    envs: &[String],
    against: Option<&str>,
    branch: &str,
    format: DiffFormat,
    exit_code: bool,
) -> Result<ExitCode> {
    check_branch(branch)?;
    let root = &place.root;
    let project = load::load(root)?;
    let compiled = compile::compile(&project, envs)?;
    if !report(&compiled.diagnostics, &project.sources, Format::Human)? {
        return Ok(exit(false));
    }
    let dir = against
        .map(|a| place.arg(Path::new(a)))
        .filter(|d| d.is_dir());
    let changes: Vec<EnvChanges> = match (against, dir) {
        (Some(name), Some(dir)) => compiled
            .environments
            .iter()
            .map(|env| {
                let old = read_dir_tree(&dir.join(&env.name))?;
                let label = format!("{}/{}", name.trim_end_matches('/'), env.name);
                Ok(diff::compare(&env.name, &label, &old, &env.files))
            })
            .collect::<Result<_>>()?,
        (rev, _) => {
            let repo = match (Repo::open(root), rev) {
                (Ok(repo), _) => repo,
                (Err(e), Some(rev)) => {
                    return Err(
                        e.context(format!("`{rev}` is neither a directory nor a git revision"))
                    );
                }
                (Err(e), None) => return Err(e),
            };
            let baseline = match rev {
                Some(rev) => Baseline::Revision(rev),
                None => Baseline::Branches { default: branch },
            };
            let (published, missing) = gitops::read_published(&repo, &compiled, baseline)?;
            for name in missing {
                eprintln!("note: branch `{name}` does not exist yet; everything is new");
            }
            compiled
                .environments
                .iter()
                .zip(published)
                .map(|(env, old)| diff::compare(&env.name, &old.label, &old.files, &env.files))
                .collect()
        }
    };
    let text = match format {
        DiffFormat::Text => {
            let color =
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
            diff::render_text(&changes, color)
        }
        DiffFormat::Markdown => diff::render_markdown(&changes),
        DiffFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&diff::render_json(&changes))?
        ),
    };
    // A closed pipe (`| head`) is not our failure.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    let changed = diff::total(&changes).total() > 0;
    Ok(if exit_code && changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every file under `dir`, relative to it; empty when it does not exist.
fn read_dir_tree(dir: &Path) -> Result<Tree> {
    let mut tree = Tree::new();
    if !dir.is_dir() {
        return Ok(tree);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read `{}`", dir.display()))?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let content = std::fs::read(entry.path())
                .with_context(|| format!("cannot read `{}`", entry.path().display()))?;
            tree.insert(rel.to_string_lossy().replace('\\', "/"), content);
        }
    }
    Ok(tree)
}
