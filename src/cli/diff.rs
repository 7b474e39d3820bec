//! `diff`: the working tree's rendering against what is published.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use manifold::compile;
use manifold::diff::{self, EnvChanges};
use manifold::emit::Tree;
use manifold::git::Repo;
use manifold::gitops::{self, Baseline};
use manifold::input::load;

use super::report::{check_branch, exit, report};
use super::{DiffFormat, Format, Place};

/// How the changes are printed or written.
pub struct Output {
    pub format: DiffFormat,
    pub exit_code: bool,
    /// Markdown parts go here instead of standard output.
    pub output_dir: Option<PathBuf>,
    pub max_chars: Option<usize>,
    pub summary_only: bool,
}

pub fn diff(
    place: &Place,
    envs: &[String],
    against: Option<&str>,
    branch: &str,
    output: Output,
) -> Result<ExitCode> {
    check_branch(branch)?;
    check_output(&output)?;
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
    let changed = diff::total(&changes).total() > 0;
    match &output.output_dir {
        Some(dir) => write_parts(dir, &changes, output.max_chars)?,
        None => {
            let text = render(&changes, &output)?;
            // A closed pipe (`| head`) is not our failure.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(if output.exit_code && changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Flags that only make sense together.
fn check_output(output: &Output) -> Result<()> {
    let markdown = output.format == DiffFormat::Markdown;
    if output.output_dir.is_some() && !markdown {
        bail!("--output-dir writes Markdown parts: add `--format markdown`");
    }
    if output.max_chars.is_some() && !markdown {
        bail!("--max-chars sizes Markdown comments: add `--format markdown`");
    }
    if let Some(n) = output.max_chars.filter(|n| *n < diff::MIN_PART) {
        bail!(
            "--max-chars {n} is too small: a part needs at least {} characters",
            diff::MIN_PART
        );
    }
    Ok(())
}

/// The text for standard output.
fn render(changes: &[EnvChanges], output: &Output) -> Result<String> {
    let color = || anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    Ok(match (output.format, output.summary_only) {
        (DiffFormat::Text, false) => diff::render_text(changes, color()),
        (DiffFormat::Text, true) => diff::render_text_summary(changes, color()),
        (DiffFormat::Markdown, false) => {
            diff::render_markdown_within(changes, output.max_chars.unwrap_or(diff::MARKDOWN_LIMIT))
        }
        (DiffFormat::Markdown, true) => diff::render_summary(changes),
        (DiffFormat::Json, summary_only) => {
            let mut json = diff::render_json(changes);
            if summary_only {
                for env in json["environments"].as_array_mut().into_iter().flatten() {
                    if let Some(env) = env.as_object_mut() {
                        env.remove("objects");
                    }
                }
            }
            format!("{}\n", serde_json::to_string_pretty(&json)?)
        }
    })
}

/// Writes the Markdown parts `diff-1.md`, `diff-2.md`, ... into `dir`, and
/// removes the parts of an earlier run past the new count.
fn write_parts(dir: &Path, changes: &[EnvChanges], max_chars: Option<usize>) -> Result<()> {
    let limit = max_chars.unwrap_or(diff::PART_LIMIT);
    let parts = diff::render_markdown_parts(changes, limit).map_err(|e| {
        anyhow::anyhow!(
            "--max-chars {} leaves no room for the summary table and a diff: give at least {}",
            e.limit,
            e.needed
        )
    })?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    for (i, part) in parts.iter().enumerate() {
        let path = dir.join(format!("diff-{}.md", i + 1));
        std::fs::write(&path, part)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read `{}`", dir.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        let stale = name
            .to_str()
            .and_then(|n| {
                n.strip_prefix("diff-")?
                    .strip_suffix(".md")?
                    .parse::<usize>()
                    .ok()
            })
            .is_some_and(|n| n > parts.len() && entry.path().is_file());
        if stale {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove `{}`", entry.path().display()))?;
        }
    }
    let s = if parts.len() == 1 { "" } else { "s" };
    eprintln!(
        "wrote {} part{s} of at most {limit} characters to {}",
        parts.len(),
        dir.display()
    );
    Ok(())
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
