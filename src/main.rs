//! The `manifold` command: parses arguments, runs the library, prints, and
//! chooses the exit code (0 clean, 1 findings, 2 the tool failed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use manifold::diag::{self, Diagnostic};
use manifold::pipeline::{self, Compiled};
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
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
    }
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
