//! The `manifold` command: parses arguments, runs the library, prints, and
//! chooses the exit code (0 clean, 1 findings or changes asked about, 2 the
//! tool failed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use manifold::diag::{self, Diagnostic};
use manifold::diff::{self, EnvChanges};
use manifold::emit::Tree;
use manifold::pipeline::{self, Compiled};
use manifold::publish::{self, Baseline, Repo};
use manifold::source::Sources;
use manifold::{load, output};

// Compiling is allocation-heavy work on every core; mimalloc's per-thread
// heaps keep the allocator off the profile that glibc's arenas dominate.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "manifold",
    version,
    about = "Compile TOML service definitions into Kubernetes YAML for GitOps"
)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "jobs", global = true, value_name = "N")]
    jobs: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every file and the rendered output; write nothing.
    Validate {
        /// Only these environments (repeatable).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        envs: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Render every environment into a directory.
    Build {
        /// Only these environments (repeatable).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Output directory.
        #[arg(short = 'o', long = "out", value_name = "DIR", default_value = "out")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show what the working tree changes in the published output.
    Diff {
        /// Only these environments (repeatable).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Compare with a git revision (each environment at its path) or a
        /// directory of `manifold build` output (`<DIR>/<env>/`). Default:
        /// each environment's gitops branch.
        #[arg(long, value_name = "REF|DIR")]
        against: Option<String>,
        /// Gitops branch of environments that do not name one.
        #[arg(long, value_name = "NAME", default_value = publish::DEFAULT_BRANCH)]
        branch: String,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Exit with 1 when there are changes, 0 when there are none.
        #[arg(long)]
        exit_code: bool,
    },
    /// Commit the rendered tree to the gitops branch (the CI pushes it).
    Publish {
        /// Gitops branch of environments that do not name one.
        #[arg(long, value_name = "NAME", default_value = publish::DEFAULT_BRANCH)]
        branch: String,
        /// Subject line of the commit, instead of `publish <sha>: <subject>`.
        #[arg(short = 'm', long, value_name = "TEXT")]
        message: Option<String>,
        /// Show what would be committed; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Publish even when `services/` or `environments/` differ from HEAD.
        #[arg(long)]
        allow_dirty: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(n) = cli.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start worker threads")?;
    }
    let root = cli.dir.unwrap_or_else(|| PathBuf::from("."));
    match cli.command {
        Command::Validate { envs, format } => {
            let started = Instant::now();
            let project = load::load(&root)?;
            let compiled = pipeline::compile(&project, &envs)?;
            let clean = report(&compiled.diagnostics, &project.sources, format)?;
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
        Command::Build { envs, out, format } => {
            let started = Instant::now();
            let project = load::load(&root)?;
            let compiled = pipeline::compile(&project, &envs)?;
            let clean = report(&compiled.diagnostics, &project.sources, format)?;
            if !clean {
                leak(project, compiled);
                return Ok(exit(false));
            }
            let out = if out.is_absolute() {
                out
            } else {
                root.join(out)
            };
            let written = write(&out, &compiled, &envs)?;
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
        Command::Diff {
            envs,
            against,
            branch,
            format,
            exit_code,
        } => diff(&root, &envs, against.as_deref(), &branch, format, exit_code),
        Command::Publish {
            branch,
            message,
            dry_run,
            allow_dirty,
        } => publish(&root, &branch, message.as_deref(), dry_run, allow_dirty),
    }
}

fn diff(
    root: &Path,
    envs: &[String],
    against: Option<&str>,
    branch: &str,
    format: DiffFormat,
    exit_code: bool,
) -> Result<ExitCode> {
    check_branch(branch)?;
    let project = load::load(root)?;
    let compiled = pipeline::compile(&project, envs)?;
    if !report(&compiled.diagnostics, &project.sources, Format::Human)? {
        return Ok(exit(false));
    }
    let dir = against.map(|a| root.join(a)).filter(|d| d.is_dir());
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
            let (published, missing) = publish::read_published(&repo, &compiled, baseline)?;
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

fn check_branch(branch: &str) -> Result<()> {
    if !publish::is_valid_branch_name(branch) {
        anyhow::bail!("`{branch}` is not a valid branch name");
    }
    Ok(())
}

fn publish(
    root: &Path,
    branch: &str,
    message: Option<&str>,
    dry_run: bool,
    allow_dirty: bool,
) -> Result<ExitCode> {
    check_branch(branch)?;
    let repo = Repo::open(root)?;
    let source = repo.head()?;
    let dirty = repo.dirty(&["services", "environments"])?;
    if !dirty.is_empty() && !allow_dirty {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(
            err,
            "error: `services/` or `environments/` differ from HEAD ({}), so the published tree would not be what `Source-Commit` names:",
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
    let compiled = pipeline::compile(&project, &[])?;
    if !report(&compiled.diagnostics, &project.sources, Format::Human)? {
        return Ok(exit(false));
    }
    let targets = publish::targets(&compiled, branch);
    if targets.is_empty() {
        eprintln!("nothing to publish: no environments");
        return Ok(ExitCode::SUCCESS);
    }
    let options = publish::Options {
        message,
        dry_run,
        dirty: !dirty.is_empty(),
    };
    let outcome = publish::publish(&repo, &targets, &source, &options)?;
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

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn exit(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints diagnostics; returns whether there were no errors.
fn report(diags: &[Diagnostic], sources: &Sources, format: Format) -> Result<bool> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match format {
        Format::Json => {
            let value = serde_json::json!({
                "diagnostics": diag::records(diags, sources),
                "errors": errors,
                "warnings": diags.len() - errors,
            });
            let mut stdout = std::io::stdout().lock();
            // A closed pipe is not our failure.
            let _ = writeln!(stdout, "{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Human => {
            if !diags.is_empty() {
                let mut err = anstream::stderr().lock();
                let color = anstream::AutoStream::choice(&std::io::stderr())
                    != anstream::ColorChoice::Never;
                let _ = write!(err, "{}", diag::render_human(diags, sources, color));
                let _ = writeln!(err, "{} found", plural(errors, "error"));
            }
        }
    }
    Ok(errors == 0)
}
