//! The command line: arguments, one module a command, and how results are
//! printed. Only this folder and `main.rs` print or choose exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use manifold::model::DEFAULT_BRANCH;

mod build;
mod diff;
mod explain;
mod import;
mod publish;
mod report;

#[derive(Parser)]
#[command(
    name = "manifold",
    version,
    about = "Compile TOML service definitions into Kubernetes YAML for GitOps"
)]
pub struct Cli {
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
        #[arg(long, value_name = "NAME", default_value = DEFAULT_BRANCH)]
        branch: String,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Exit with 1 when there are changes, 0 when there are none.
        #[arg(long)]
        exit_code: bool,
    },
    /// Turn Kubernetes YAML into service files, and check the round trip.
    Import {
        /// Files or folders of YAML or JSON (`.yaml`, `.yml`, `.json`), or
        /// `-` for standard input.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Print the files instead of writing them.
        #[arg(long)]
        dry_run: bool,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
        /// Fail (and write nothing) when the round trip finds a difference
        /// that is not manifold's own.
        #[arg(long)]
        strict: bool,
    },
    /// Show where the values of a merged service come from: the layer and
    /// line that set each, and the values it overrode.
    Explain {
        /// The environment.
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: String,
        /// The service: its file name without `.toml`.
        #[arg(value_name = "SERVICE")]
        service: String,
        /// One key and its chain of layers: `resources.cpu.limit`,
        /// `env.LOG_LEVEL`, `tracks.canary.weight`.
        #[arg(value_name = "KEY.PATH", conflicts_with = "object")]
        key: Option<String>,
        /// A rendered object, as patches name it: `deployment/web`.
        #[arg(long, value_name = "KIND/NAME", requires = "field")]
        object: Option<String>,
        /// The field of `--object` to trace back to the input:
        /// `spec.template.spec.containers[0].resources.limits.cpu`.
        #[arg(long, value_name = "FIELD.PATH", requires = "object")]
        field: Option<String>,
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
    },
    /// Commit the rendered tree to the gitops branch (the CI pushes it).
    Publish {
        /// Gitops branch of environments that do not name one.
        #[arg(long, value_name = "NAME", default_value = DEFAULT_BRANCH)]
        branch: String,
        /// Subject line of the commit, instead of `publish <sha>: <subject>`.
        #[arg(short = 'm', long, value_name = "TEXT")]
        message: Option<String>,
        /// Show what would be committed; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Publish even when `services/`, `environments/` or `manifests/`
        /// differ from HEAD.
        #[arg(long)]
        allow_dirty: bool,
        /// Publish on top of a branch tip manifold did not make (no
        /// `Source-Commit` trailer); its other files are removed.
        #[arg(long)]
        take_over: bool,
        /// Publish a source commit older than the one the branch was
        /// published from.
        #[arg(long)]
        allow_older: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(n) = cli.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start worker threads")?;
    }
    let root = cli.dir.unwrap_or_else(|| PathBuf::from("."));
    match cli.command {
        Command::Validate { envs, format } => build::validate(&root, &envs, format),
        Command::Build { envs, out, format } => build::build(&root, &envs, out, format),
        Command::Diff {
            envs,
            against,
            branch,
            format,
            exit_code,
        } => diff::diff(&root, &envs, against.as_deref(), &branch, format, exit_code),
        Command::Explain {
            env,
            service,
            key,
            object,
            field,
            format,
        } => {
            let query = match (key, object, field) {
                (_, Some(object), Some(field)) => explain::Query::Field { object, field },
                (Some(key), _, _) => explain::Query::Key(key),
                _ => explain::Query::Service,
            };
            explain::explain(&root, &env, &service, query, format)
        }
        Command::Import {
            paths,
            dry_run,
            force,
            strict,
        } => import::import(
            &root,
            &paths,
            import::Options {
                dry_run,
                force,
                strict,
            },
        ),
        Command::Publish {
            branch,
            message,
            dry_run,
            allow_dirty,
            take_over,
            allow_older,
        } => publish::publish(
            &root,
            &branch,
            message.as_deref(),
            dry_run,
            allow_dirty,
            publish::Overrides {
                take_over,
                allow_older,
            },
        ),
    }
}
