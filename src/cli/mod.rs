//! The command line: arguments, one module a command, and how results are
//! printed. Only this folder and `main.rs` print or choose exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use manifold::model::DEFAULT_BRANCH;

mod build;
mod diff;
mod import;
mod promote;
mod publish;
mod report;
mod set;

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
    /// Set values in a service's overlay, keeping the file's comments and
    /// layout; check and show the change first.
    Set {
        /// The environment whose overlay is edited.
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: String,
        /// The service, by the name of its file in `services/`.
        #[arg(value_name = "SERVICE")]
        service: String,
        /// `KEY=VALUE`, typed by the service schema: `version=1.4.2`,
        /// `replicas=4`, `tracks.canary.weight=50`, `env.LOG_LEVEL=debug`.
        #[arg(value_name = "KEY=VALUE", required = true)]
        assignments: Vec<String>,
        /// Show the change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy services' versions (tracks, config) from one environment's
    /// merged view into another's overlays.
    Promote {
        /// Services, by the name of their file in `services/`.
        #[arg(value_name = "SERVICE")]
        services: Vec<String>,
        /// The environment whose values are copied.
        #[arg(long, value_name = "ENV")]
        from: String,
        /// The environment whose overlays are edited.
        #[arg(long, value_name = "ENV")]
        to: String,
        /// What to copy (comma-separated).
        #[arg(long, value_enum, value_delimiter = ',', default_value = "version")]
        what: Vec<WhatArg>,
        /// Every service enabled in both environments whose values differ.
        #[arg(long)]
        all: bool,
        /// Show the change; write nothing.
        #[arg(long)]
        dry_run: bool,
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

/// What `promote` copies.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhatArg {
    /// `version`, and the versions of side and init containers.
    Version,
    /// Each track's `version` and `weight`.
    Tracks,
    /// The `[config]` and `[env]` values the source's overlay sets.
    Config,
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
        Command::Set {
            env,
            service,
            assignments,
            dry_run,
        } => set::set(&root, &env, &service, &assignments, dry_run),
        Command::Promote {
            services,
            from,
            to,
            what,
            all,
            dry_run,
        } => promote::promote(
            &root,
            &services,
            promote::Options {
                from: &from,
                to: &to,
                what: &what,
                all,
                dry_run,
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
