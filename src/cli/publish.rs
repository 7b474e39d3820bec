//! `publish`: the rendered tree committed to the gitops branches.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use manifold::compile;
use manifold::diag::{Code, Diagnostic, Sources};
use manifold::git::Repo;
use manifold::gitops;
use manifold::input::load;
use manifold::model::names::MANIFESTS;

use super::Format;
use super::report::{check_branch, exit, report};

/// `-m`, `--message-template` and `--trailer`: what the commit says.
pub struct Message<'a> {
    pub subject: Option<&'a str>,
    /// The template file, as given on the command line.
    pub template: Option<PathBuf>,
    pub trailers: &'a [(String, String)],
}

/// `--take-over` and `--allow-older`: what publish may replace.
pub struct Overrides {
    pub take_over: bool,
    pub allow_older: bool,
}

pub fn publish(
    root: &Path,
    branch: &str,
    message: Message,
    dry_run: bool,
    allow_dirty: bool,
    overrides: Overrides,
) -> Result<ExitCode> {
    check_branch(branch)?;
    let template = match &message.template {
        Some(path) => match read_template(path)? {
            Some(template) => Some(template),
            None => return Ok(exit(false)),
        },
        None => None,
    };
    let repo = Repo::open(root)?;
    let source = repo.head()?;
    let mut dirty = repo.dirty(&["services", "environments", MANIFESTS])?;
    dirty.retain(|d| load::is_input(&d.path));
    if !dirty.is_empty() && !allow_dirty {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(
            err,
            "error: `services/`, `environments/` or `manifests/` differ from HEAD ({}), so the published tree would not be what `Source-Commit` names:",
            &source.commit[..source.commit.len().min(12)]
        );
        for d in &dirty {
            let _ = writeln!(err, "  {} ({})", d.path, d.state);
        }
        let _ = writeln!(
            err,
            "  = help: commit or stash them, or pass `--allow-dirty` to publish the working tree anyway"
        );
        return Ok(exit(false));
    }
    let project = load::load(root)?;
    let compiled = compile::compile(&project, &[])?;
    if !report(&compiled.diagnostics, &project.sources, Format::Human)? {
        return Ok(exit(false));
    }
    let targets = gitops::targets(&compiled, branch);
    if targets.is_empty() {
        eprintln!("nothing to publish: no environments");
        return Ok(ExitCode::SUCCESS);
    }
    let options = gitops::Options {
        message: message.subject,
        template: template.as_ref(),
        trailers: message.trailers,
        dry_run,
        dirty: !dirty.is_empty(),
        take_over: overrides.take_over,
        allow_older: overrides.allow_older,
    };
    let outcome = match gitops::publish(&repo, &targets, &source, &options) {
        Ok(outcome) => outcome,
        Err(e) => match e.downcast::<gitops::Refused>() {
            Ok(refused) => {
                eprintln!("error: {refused}");
                return Ok(exit(false));
            }
            Err(e) => return Err(e),
        },
    };
    print_outcome(&outcome);
    Ok(ExitCode::SUCCESS)
}

/// What happened: notes on stderr, each branch's result, and on a dry run
/// the message that would be written, on stdout.
fn print_outcome(outcome: &gitops::Outcome) {
    for note in &outcome.notes {
        eprintln!("note: {note}");
    }
    if outcome.retries > 0 {
        eprintln!(
            "note: another publish moved the branch meanwhile; rebuilt on top of it (attempt {})",
            outcome.retries + 1
        );
    }
    let mut stdout = std::io::stdout().lock();
    for b in &outcome.branches {
        let summary = b
            .sections
            .iter()
            .map(|s| {
                let c = s.counts();
                format!("{} +{} ~{} -{}", s.name, c.added, c.changed, c.removed)
            })
            .collect::<Vec<_>>()
            .join(", ");
        match (&b.commit, b.changed()) {
            (_, false) => eprintln!("{} is up to date (nothing to publish)", b.branch),
            (Some(commit), true) => {
                eprintln!(
                    "published {} to {}: {summary}",
                    &commit[..12.min(commit.len())],
                    b.branch
                )
            }
            (None, true) => {
                eprintln!(
                    "would publish to {}: {summary} (dry run: nothing written)",
                    b.branch
                );
                let _ = writeln!(stdout, "{}", b.message);
            }
        }
    }
}

/// Reads `--message-template FILE`; `None` when it has problems, which are
/// printed at their place in the file.
fn read_template(path: &Path) -> Result<Option<gitops::Template>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the message template `{}`", path.display()))?;
    match gitops::Template::parse(&text) {
        Ok(template) => Ok(Some(template)),
        Err(errors) => {
            let mut sources = Sources::default();
            let file = sources.add(path.display().to_string(), text);
            let diags: Vec<Diagnostic> = errors
                .into_iter()
                .map(|e| {
                    Diagnostic::error(Code::MessageTemplate, e.message)
                        .at(file, e.span)
                        .hint(e.hint)
                })
                .collect();
            report(&diags, &sources, Format::Human)?;
            Ok(None)
        }
    }
}
