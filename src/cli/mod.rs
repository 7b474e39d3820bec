//! The command line: arguments, one module a command, and how results are
//! printed. Only this folder and `main.rs` print or choose exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use manifold::input::load;
use manifold::model::DEFAULT_BRANCH;

mod build;
mod diff;
mod docs;
mod explain;
mod import;
mod init;
mod promote;
mod publish;
mod report;
mod set;
mod status;

#[derive(Parser)]
#[command(
    name = "manifold",
    version,
    about = "Compile TOML service definitions into Kubernetes YAML for GitOps",
    long_about = "Compile TOML service definitions into Kubernetes YAML for GitOps.\n\n\
        A configuration repository holds services/<name>.toml, environments/<env>.toml \
        and overlays environments/<env>/<service>.toml. manifold works on the nearest \
        folder holding environments/, from the current folder up (or on -C DIR); paths \
        given on the command line are relative to where it runs, defaults such as out/ \
        to the repository.\n\n\
        Exit codes: 0 clean, 1 problems in the input (or changes, with diff --exit-code), \
        2 manifold itself failed."
)]
pub struct Cli {
    /// Work on the repository in DIR (no search upward); paths given on the
    /// command line are relative to DIR.
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
        /// How diagnostics are printed: for people on stderr, or on stdout
        /// as one JSON document, a SARIF 2.1.0 log (GitHub code scanning)
        /// or a Code Quality report (GitLab merge requests).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Fail (exit 1, write nothing) on warnings too.
        #[arg(long, value_enum, value_name = "WHAT")]
        deny: Option<Deny>,
    },
    /// Render every environment into a directory.
    Build {
        /// Only these environments (repeatable).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Output directory [default: out in the repository].
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: Option<PathBuf>,
        /// How diagnostics are printed: for people on stderr, or on stdout
        /// as one JSON document, a SARIF 2.1.0 log (GitHub code scanning)
        /// or a Code Quality report (GitLab merge requests).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Fail (exit 1, write nothing) on warnings too.
        #[arg(long, value_enum, value_name = "WHAT")]
        deny: Option<Deny>,
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
        /// How the changes are printed: a unified diff per object, Markdown
        /// for a merge-request comment, or JSON.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Exit with 1 when there are changes, 0 when there are none.
        #[arg(long)]
        exit_code: bool,
        /// Write the Markdown into DIR as numbered parts that each fit a
        /// comment (diff-1.md, diff-2.md, ...; the summary table in part
        /// one; nothing left out); needs --format markdown.
        #[arg(long, value_name = "DIR", conflicts_with = "summary_only")]
        output_dir: Option<PathBuf>,
        /// The largest Markdown part (--output-dir), or comment on standard
        /// output, in characters [default: 65536 (GitHub's limit) for
        /// parts; 60000 on standard output, diffs past it left out].
        #[arg(long, value_name = "N")]
        max_chars: Option<usize>,
        /// Print only the counts: the summary table in Markdown, a line
        /// per environment in text, no `objects` in JSON.
        #[arg(long)]
        summary_only: bool,
    },
    /// Show which version runs where: services by environments, in
    /// promotion order, with what differs from the previous environment.
    Status {
        /// Only these environments (repeatable).
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Aligned columns for a terminal, a Markdown table, JSON, or one
        /// self-contained HTML page.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Turn Kubernetes YAML into service files, and check the round trip.
    Import {
        /// Files or folders of YAML or JSON (`.yaml`, `.yml`, `.json`), or
        /// `-` for standard input.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// An environment and its files or folders (`NAME=PATH`, repeated):
        /// what the environments share goes in the service files, the
        /// differences in overlays.
        #[arg(long = "env", value_name = "NAME=PATH")]
        envs: Vec<String>,
        /// Import PATH as one environment per namespace, named like it.
        #[arg(long, conflicts_with = "envs")]
        namespace_as_env: bool,
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
        /// `text`: annotated TOML for people; `json`: the documented shape for
        /// tools.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
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
        /// The commit message from a template file instead: text with
        /// placeholders such as {source_short}, {source_subject},
        /// {environments} and {summary}; manifold's trailers follow it.
        #[arg(long, value_name = "FILE", conflicts_with = "message")]
        message_template: Option<PathBuf>,
        /// A git trailer added after manifold's own, such as
        /// `Pipeline=https://...` (repeatable); manifold's own keys
        /// (Source-Commit, ...) cannot be set.
        #[arg(long = "trailer", value_name = "KEY=VALUE", value_parser = trailer)]
        trailers: Vec<(String, String)>,
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
    /// Create a configuration repository: environments, an example service,
    /// editor schemas, .gitignore, the pre-commit hook and a CI file.
    Init {
        /// Folder of the new repository (created if missing).
        #[arg(value_name = "DIR", default_value = ".")]
        path: PathBuf,
        /// Also write the CI jobs for GitLab (.gitlab-ci.yml and
        /// ci/manifold.yml) or GitHub Actions (.github/workflows/).
        #[arg(long, value_enum, value_name = "CI")]
        ci: Option<init::CiArg>,
        /// The environments, in order, separated by commas.
        #[arg(
            long,
            value_name = "ENV,...",
            value_delimiter = ',',
            default_value = "dev,prod"
        )]
        envs: Vec<String>,
    },
    /// Add a service file, services/SERVICE.toml, with the keys its kind
    /// needs.
    New {
        /// Name of the service: the file's name, and its objects'.
        #[arg(value_name = "SERVICE")]
        name: String,
        /// Workload kind of the service.
        #[arg(long, value_enum, default_value_t = init::KindArg::Deployment)]
        kind: init::KindArg,
    },
    /// Write the JSON schemas of service, environment and overlay files, for
    /// editors (taplo, Even Better TOML).
    Schema {
        /// Folder to write them to [default: schemas in the repository].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the shell completion script for SHELL.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page manifold(1), or write every page into a folder.
    Man {
        /// Write manifold.1 and a page for each command
        /// (manifold-build.1, ...) into DIR instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// A `--trailer KEY=VALUE`, checked as the library says.
fn trailer(arg: &str) -> Result<(String, String), String> {
    manifold::gitops::parse_trailer(arg)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    #[value(name = "codequality")]
    CodeQuality,
}

/// What else than errors fails a run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Every warning.
    Warnings,
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
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Markdown,
    Json,
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// Where a command works: the repository, and the folder that paths given
/// on the command line are relative to.
pub struct Place {
    /// The configuration repository: `-C`, or the nearest folder holding
    /// `environments/` from the current folder up, or the current folder.
    pub root: PathBuf,
    /// Where relative paths of the command line start: `-C`, or the
    /// current folder.
    pub base: PathBuf,
    /// Whether the repository was looked for upward (no `-C`).
    pub searched: bool,
}

impl Place {
    fn new(dir: Option<PathBuf>) -> Place {
        match dir {
            Some(dir) => Place {
                root: dir.clone(),
                base: dir,
                searched: false,
            },
            None => {
                let base = PathBuf::from(".");
                let root = load::find_root(&base).unwrap_or_else(|| base.clone());
                Place {
                    root,
                    base,
                    searched: true,
                }
            }
        }
    }

    /// A path given on the command line.
    pub fn arg(&self, path: &Path) -> PathBuf {
        if path.is_absolute() || self.base == Path::new(".") {
            path.to_path_buf()
        } else if path == Path::new(".") {
            self.base.clone()
        } else {
            self.base.join(path)
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(n) = cli.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start worker threads")?;
    }
    let place = Place::new(cli.dir);
    let root = &place.root;
    match cli.command {
        Command::Validate { envs, format, deny } => {
            build::validate(root, &envs, format, deny.is_some())
        }
        Command::Build {
            envs,
            out,
            format,
            deny,
        } => {
            let out = match out {
                Some(out) => place.arg(&out),
                None => root.join("out"),
            };
            build::build(root, &envs, out, format, deny.is_some())
        }
        Command::Diff {
            envs,
            against,
            branch,
            format,
            exit_code,
            output_dir,
            max_chars,
            summary_only,
        } => diff::diff(
            &place,
            &envs,
            against.as_deref(),
            &branch,
            diff::Output {
                format,
                exit_code,
                output_dir: output_dir.map(|d| place.arg(&d)),
                max_chars,
                summary_only,
            },
        ),
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
            explain::explain(root, &env, &service, query, format)
        }
        Command::Status { envs, format } => status::status(root, &envs, format),
        Command::Import {
            paths,
            envs,
            namespace_as_env,
            dry_run,
            force,
            strict,
        } => import::import(
            root,
            &place.base,
            &paths,
            import::Options {
                envs,
                namespace_as_env,
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
        } => set::set(root, &env, &service, &assignments, dry_run),
        Command::Promote {
            services,
            from,
            to,
            what,
            all,
            dry_run,
        } => promote::promote(
            root,
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
            message_template,
            trailers,
            dry_run,
            allow_dirty,
            take_over,
            allow_older,
        } => publish::publish(
            root,
            &branch,
            publish::Message {
                subject: message.as_deref(),
                template: message_template.map(|t| place.arg(&t)),
                trailers: &trailers,
            },
            dry_run,
            allow_dirty,
            publish::Overrides {
                take_over,
                allow_older,
            },
        ),
        Command::Init { path, ci, envs } => init::init(&place.arg(&path), ci, &envs),
        Command::New { name, kind } => init::new(&place, &name, kind),
        Command::Schema { out } => {
            let out = match out {
                Some(out) => place.arg(&out),
                None => root.join(manifold::scaffold::SCHEMA_DIR),
            };
            init::schema(&out)
        }
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { out } => docs::man(out.map(|o| place.arg(&o)).as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every flag and argument of every command says what it is for, in
    /// `--help`, the man pages and the completions alike.
    #[test]
    fn every_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "manifold", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
