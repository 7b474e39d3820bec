//! Loading a configuration repository: find the files, read them, parse them.
//!
//! `services/**/<name>.toml` are services, `environments/<env>.toml` are
//! environments and `environments/<env>/<service>.toml` are overlays;
//! `crds/**/*.{yaml,yml,json}` hold CustomResourceDefinitions, read as YAML
//! documents (a file above [`CRD_FILE_MAX`] is refused unread);
//! `manifests/**/*.{yaml,yml,json}` and
//! `environments/<env>/manifests/**/*.{yaml,yml,json}` hold Kubernetes
//! objects to publish as they are, read the same way, as Kubernetes' tools
//! read YAML (a kustomization there is an error: manifold does not run
//! kustomize). Files are
//! found in sorted order and read and parsed in parallel; the result is the
//! same whatever the thread count. This stage reports TOML syntax errors and
//! files that are in the wrong place, and file names that are not valid
//! names (a service without `name`, an environment); it does not look inside
//! the tables.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::tree::{Node, parse};
use super::yaml::{self, Document};
use crate::diag::{Code, Diagnostic, FileId, Sources, did_you_mean};
use crate::model::Date;
use crate::model::names::{Grammar, MANIFESTS, grammar_problem, suggest_label};

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

/// A file of `crds/`: its YAML documents, none when it cannot be read.
#[derive(Debug)]
pub struct CrdInput {
    pub file: FileId,
    pub documents: Vec<Document>,
}

/// A file of `manifests/` or `environments/<env>/manifests/`: its YAML
/// documents, none when it cannot be read.
#[derive(Debug)]
pub struct ManifestInput {
    pub file: FileId,
    /// The environment whose folder holds the file; `None` for
    /// `manifests/`, published to every environment.
    pub env: Option<String>,
    /// The file's path below its `manifests/` folder, without the
    /// extension: `cert-manager/release` for
    /// `manifests/cert-manager/release.yaml`.
    pub folder: String,
    pub documents: Vec<Document>,
}

/// The largest file of `crds/` or `manifests/` that is read: far above any
/// real one (the API server stores an object of at most 1.5 MiB).
pub const CRD_FILE_MAX: u64 = 16 << 20;

#[derive(Debug, Default)]
pub struct Project {
    pub sources: Sources,
    /// Sorted by name.
    pub services: Vec<Input>,
    /// Sorted by name.
    pub environments: Vec<EnvInput>,
    /// The files of `crds/`, in path order.
    pub crds: Vec<CrdInput>,
    /// The files of every `manifests/` folder, in path order.
    pub manifests: Vec<ManifestInput>,
    pub diagnostics: Vec<Diagnostic>,
    /// Services and environments whose file name is not a valid name (see
    /// `diagnostics`): compiled no further.
    pub misnamed: BTreeSet<FileId>,
    /// The day in UTC that the expiry of policy exceptions is compared
    /// with: [`today`], when the project was read from disk; `None` (no
    /// expiry checked) for a project read from memory.
    pub today: Option<Date>,
}

/// The variable that sets the day exceptions expire against, for tests
/// and CI runs that must not change with the calendar.
pub const NOW_VAR: &str = "MANIFOLD_NOW";

/// Today in UTC: the date of `MANIFOLD_NOW` (`2026-11-27` or
/// `2026-11-27T00:00:00Z`) when it is set, else the system clock's. The
/// one place manifold reads a clock.
pub fn today() -> Result<Date> {
    match std::env::var(NOW_VAR) {
        Ok(text) => Date::parse(text.trim()).with_context(|| {
            format!(
                "{NOW_VAR}=`{text}` is not a date: write `2026-11-27` or `2026-11-27T00:00:00Z`"
            )
        }),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{NOW_VAR} is not UTF-8 text"),
        Err(std::env::VarError::NotPresent) => {
            let since = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?;
            Ok(Date::from_unix_days((since.as_secs() / 86_400) as i64))
        }
    }
}

enum Role {
    Service,
    Environment,
    Overlay { env: String },
    Crd,
    Manifest { env: Option<String> },
}

struct Found {
    role: Role,
    name: String,
    /// The path relative to the repository, with `/` separators.
    display: String,
}

/// What a file is, from its path relative to the repository:
/// `services/**/<name>.toml` is a service, `environments/<env>.toml` an
/// environment, `environments/<env>/<service>.toml` an overlay; anything else
/// is not an input. `crds/**/*.{yaml,yml,json}` are CRD files, except a
/// kustomization (which lists them for `kubectl apply -k`).
/// `manifests/**/*.{yaml,yml,json}` and
/// `environments/<env>/manifests/**/*.{yaml,yml,json}` are manifest files,
/// and so is a kustomization there (to be refused).
fn classify(display: &str) -> Option<Found> {
    let segments: Vec<&str> = display.split('/').collect();
    let last = Path::new(segments.last()?);
    if segments[0] == "crds" && segments.len() >= 2 && is_crd_file(last) {
        return Some(Found {
            role: Role::Crd,
            name: stem(last),
            display: display.to_string(),
        });
    }
    if is_manifest_file(last) {
        let env = match segments.as_slice() {
            [MANIFESTS, _, ..] => None,
            ["environments", env, MANIFESTS, _, ..] => Some(stem(Path::new(env))),
            _ => return None,
        };
        return Some(Found {
            role: Role::Manifest { env },
            name: stem(last),
            display: display.to_string(),
        });
    }
    if !is_toml(last) {
        return None;
    }
    let role = match (segments[0], segments.len()) {
        ("services", 2..) => Role::Service,
        ("environments", 2) => Role::Environment,
        ("environments", 3) => Role::Overlay {
            env: stem(Path::new(segments[1])),
        },
        _ => return None,
    };
    Some(Found {
        role,
        name: stem(last),
        display: display.to_string(),
    })
}

/// Whether the file at `path` (relative to the repository, with `/`
/// separators) is an input: a service, an environment, an overlay, a CRD
/// or a manifest file.
pub fn is_input(path: &str) -> bool {
    classify(path).is_some()
}

/// The configuration repository a command started in `start` works on: the
/// nearest of `start` and its parents that holds an `environments/`
/// folder, as git looks for `.git`. The result is `start` joined with as
/// many `..` as folders were climbed, so paths shown from it stay relative
/// to where the command runs. `None` when no folder up to the file system's
/// root has one.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let absolute = start.canonicalize().ok()?;
    let mut relative = start.to_path_buf();
    for dir in absolute.ancestors() {
        if dir.join("environments").is_dir() {
            return Some(relative);
        }
        relative = if relative == Path::new(".") {
            PathBuf::from("..")
        } else {
            relative.join("..")
        };
    }
    None
}

/// Reads the repository at `root`. I/O failures are errors; problems with the
/// files' content are diagnostics in the returned project.
pub fn load(root: &Path) -> Result<Project> {
    load_edited(root, &BTreeMap::new())
}

/// Reads the repository at `root` as [`load`] does, with the text of some
/// files (paths relative to the repository, with `/` separators) replaced,
/// or added when they do not exist: what the repository would be after an
/// edit, before anything is written. Paths that are not inputs are ignored.
pub fn load_edited(root: &Path, edits: &BTreeMap<String, String>) -> Result<Project> {
    let mut project = Project {
        today: Some(today()?),
        ..Project::default()
    };
    let services_dir = root.join("services");
    let env_dir = root.join("environments");
    for (dir, what) in [(&services_dir, "services"), (&env_dir, "environments")] {
        if !dir.is_dir() {
            project.diagnostics.push(
                Diagnostic::error(
                    Code::Layout,
                    format!("no `{what}/` directory in `{}`", root.display()),
                )
                .hint("run manifold in a configuration repository (a folder with `services/` and `environments/`, or one below it), pass `-C <dir>`, or create one with `manifold init`"),
            );
        }
    }
    if !project.diagnostics.is_empty() {
        return Ok(project);
    }
    let root_real = root
        .canonicalize()
        .with_context(|| format!("cannot read `{}`", root.display()))?;
    let mut problems = Vec::new();
    let mut paths = walk(
        root,
        &root_real,
        &services_dir,
        usize::MAX,
        is_toml,
        &mut problems,
    );
    paths.extend(walk(root, &root_real, &env_dir, 2, is_toml, &mut problems));
    let crds_dir = root.join("crds");
    if crds_dir.is_dir() {
        paths.extend(walk(
            root,
            &root_real,
            &crds_dir,
            usize::MAX,
            is_crd_file,
            &mut problems,
        ));
    }
    for dir in manifest_dirs(root, &root_real, &mut problems) {
        paths.extend(walk(
            root,
            &root_real,
            &dir,
            usize::MAX,
            is_manifest_file,
            &mut problems,
        ));
    }
    // Every walked path classifies: the walks look exactly where `classify`
    // expects inputs.
    let (found, paths): (Vec<Found>, Vec<PathBuf>) = paths
        .into_iter()
        .filter_map(|path| Some((classify(&display(root, &path))?, path)))
        .unzip();
    for p in problems {
        let file = project.sources.add(p.display, String::new());
        project.diagnostics.push(
            Diagnostic::error(p.code, p.message)
                .in_file(file)
                .hint(p.hint),
        );
    }
    let texts: Vec<std::io::Result<Vec<u8>>> = paths
        .par_iter()
        .zip(&found)
        .map(|(path, f)| match f.role {
            Role::Crd | Role::Manifest { .. } => read_limited(path, CRD_FILE_MAX),
            _ => std::fs::read(path),
        })
        .collect();
    let mut files: Vec<(Found, std::io::Result<Vec<u8>>)> = found.into_iter().zip(texts).collect();
    for (path, text) in edits {
        let bytes = Ok(text.clone().into_bytes());
        match files.iter_mut().find(|(f, _)| f.display == *path) {
            Some(file) => file.1 = bytes,
            None => {
                let Some(new) = classify(path) else { continue };
                let at = files.partition_point(|(f, _)| found_order(f, &new).is_lt());
                files.insert(at, (new, bytes));
            }
        }
    }
    Ok(build(project, files))
}

/// The order `load` finds files in: services, then environments, then
/// CRDs, then manifests (the environments' before `manifests/`), each
/// depth-first in sorted order.
fn found_order(a: &Found, b: &Found) -> std::cmp::Ordering {
    let rank = |f: &Found| match f.role {
        Role::Service => 0,
        Role::Environment | Role::Overlay { .. } => 1,
        Role::Crd => 2,
        Role::Manifest { .. } => 3,
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| a.display.split('/').cmp(b.display.split('/')))
}

/// Loads a repository given as files in memory: (path relative to the
/// repository, with `/` separators, content). Paths that are not inputs are
/// ignored, as `load` ignores other files; content that is not UTF-8 is a
/// diagnostic, as it is on disk. Used by the fuzzer and by tests; from the
/// found files on, it is the same code as [`load`].
pub fn load_files<T: AsRef<[u8]>>(files: &[(String, T)]) -> Project {
    let mut found: Vec<(Found, &[u8])> = files
        .iter()
        .filter_map(|(path, bytes)| Some((classify(path)?, bytes.as_ref())))
        .collect();
    found.sort_by(|(a, _), (b, _)| found_order(a, b));
    let files = found
        .into_iter()
        .map(|(f, bytes)| {
            let yaml = matches!(f.role, Role::Crd | Role::Manifest { .. });
            let too_large = yaml && bytes.len() as u64 > CRD_FILE_MAX;
            let bytes = match too_large {
                true => Err(too_large_error()),
                false => Ok(bytes.to_vec()),
            };
            (f, bytes)
        })
        .collect();
    build(Project::default(), files)
}

/// Parses the found files, in parallel, and files them as services,
/// environments and overlays.
fn build(mut project: Project, files: Vec<(Found, std::io::Result<Vec<u8>>)>) -> Project {
    let (yaml, files): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(f, _)| matches!(f.role, Role::Crd | Role::Manifest { .. }));
    let (crds, manifests): (Vec<_>, Vec<_>) = yaml
        .into_iter()
        .partition(|(f, _)| matches!(f.role, Role::Crd));
    let mut ids = Vec::with_capacity(files.len());
    let mut readable = Vec::with_capacity(files.len());
    let mut found = Vec::with_capacity(files.len());
    for (f, bytes) in files {
        let (id, ok) = add_source(&mut project, &f.display, bytes);
        ids.push(id);
        readable.push(ok);
        found.push(f);
    }
    let sources = &project.sources;
    let parsed: Vec<Result<Node, Vec<Diagnostic>>> = ids
        .par_iter()
        .zip(&readable)
        .map(|(&id, &ok)| match ok {
            true => parse(id, &sources.get(id).text),
            false => Err(Vec::new()),
        })
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
            Role::Crd | Role::Manifest { .. } => unreachable!("YAML files are read apart"),
        }
    }
    read_crds(&mut project, crds);
    read_manifests(&mut project, manifests);
    // Environments first: `dev/` sorts before `dev.toml`.
    for (env, input) in overlays {
        attach_overlay(&mut project, env, input);
    }
    project.services.sort_by(|a, b| a.name.cmp(&b.name));
    for env in &mut project.environments {
        env.overlays.sort_by(|a, b| a.name.cmp(&b.name));
    }
    check_names(&mut project);
    check_stems(&mut project);
    check_manifest_environments(&mut project);
    project
}

/// Services without `name` and environments are named after their file: the
/// stem must be a DNS-1123 label. A service's Service, if it renders one, is
/// held to DNS-1035 by the checks, at `[service]`.
fn check_stems(project: &mut Project) {
    let services = project
        .services
        .iter()
        .filter(|s| s.tree.as_ref().is_some_and(|t| t.get("name").is_none()))
        .map(|s| ("service", s));
    let environments = project
        .environments
        .iter()
        .map(|e| ("environment", &e.input));
    for (what, input) in services.chain(environments) {
        let Some(problem) = grammar_problem(Grammar::Dns1123Label, &input.name) else {
            continue;
        };
        let path = &project.sources.get(input.file).path;
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let rename = match suggest_label(&input.name) {
            Some(better) => format!("rename the file to `{dir}/{better}.toml`"),
            None => "rename the file".to_string(),
        };
        let hint = match what {
            "service" => format!(
                "a service is named after its file unless it sets `name`; names are {}, at most 63 characters; {rename}, or set `name`",
                Grammar::Dns1123Label.describe()
            ),
            _ => format!(
                "an environment is named after its file; names are {}, at most 63 characters; {rename} (and its overlay directory)",
                Grammar::Dns1123Label.describe()
            ),
        };
        project.diagnostics.push(
            Diagnostic::error(
                Code::InvalidName,
                format!(
                    "`{}` is not a valid {what} name: it {problem}",
                    input.name.escape_debug()
                ),
            )
            .in_file(input.file)
            .hint(hint),
        );
        project.misnamed.insert(input.file);
    }
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
                    Code::UnknownEnvironment,
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
                    Code::DuplicateName,
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
                    Code::UnknownService,
                    format!("overlay for unknown service `{}`", overlay.name),
                )
                .in_file(overlay.file)
                .hint(hint),
            );
        }
    }
}

/// Something the walk could not take as a file: a link that leaves the
/// repository, a loop, a broken link, an unreadable directory.
struct Problem {
    display: String,
    code: Code,
    message: String,
    hint: String,
}

/// The files under `dir` that `accept` takes, in sorted order.
/// Symbolic links are followed while they stay inside the repository;
/// anything else the walk meets is a [`Problem`], and the walk goes on.
fn walk(
    root: &Path,
    root_real: &Path,
    dir: &Path,
    max_depth: usize,
    accept: fn(&Path) -> bool,
    problems: &mut Vec<Problem>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut it = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(max_depth)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir);
                problems.push(walk_problem(root, path, &e));
                continue;
            }
        };
        if entry.path_is_symlink() {
            let inside = entry
                .path()
                .canonicalize()
                .is_ok_and(|real| real.starts_with(root_real));
            if !inside {
                problems.push(Problem {
                    display: display(root, entry.path()),
                    code: Code::Layout,
                    message: "symbolic link leaves the repository".into(),
                    hint: "manifold follows links only inside the repository; copy the file in, or point the link at a file inside".into(),
                });
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
        }
        if entry.file_type().is_file() && accept(entry.path()) {
            files.push(entry.into_path());
        }
    }
    files
}

fn walk_problem(root: &Path, path: &Path, e: &walkdir::Error) -> Problem {
    let display = display(root, path);
    if let Some(ancestor) = e.loop_ancestor() {
        return Problem {
            message: format!(
                "symbolic link loop: `{display}` leads back to `{}`",
                self::display(root, ancestor)
            ),
            display,
            code: Code::Layout,
            hint: "remove the link or point it at a file".into(),
        };
    }
    let broken = path.is_symlink() && !path.exists();
    Problem {
        message: match (broken, e.io_error()) {
            (true, _) => "broken symbolic link".to_string(),
            (false, Some(io)) => format!("cannot read: {io}"),
            (false, None) => format!("cannot read: {e}"),
        },
        display,
        code: Code::Unreadable,
        hint: if broken {
            "point the link at an existing file, or remove it".into()
        } else {
            "check the file's permissions".into()
        },
    }
}

/// Adds a file's text to the sources; returns its id and whether it can be
/// parsed. A file that cannot be read, or is not UTF-8, is a diagnostic and
/// is left out, so every other file is still checked.
fn add_source(
    project: &mut Project,
    display: &str,
    bytes: std::io::Result<Vec<u8>>,
) -> (FileId, bool) {
    match bytes.map(String::from_utf8) {
        Ok(Ok(text)) => (project.sources.add(display.to_string(), text), true),
        Ok(Err(e)) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = project.sources.add(display.to_string(), text);
            project.diagnostics.push(
                Diagnostic::error(Code::Encoding, "file is not UTF-8 text")
                    .at(id, at..at + char::REPLACEMENT_CHARACTER.len_utf8())
                    .hint(match display.ends_with(".toml") {
                        true => "save the file as UTF-8: TOML files are UTF-8 by definition",
                        false => "save the file as UTF-8: Kubernetes reads YAML and JSON as UTF-8",
                    }),
            );
            (id, false)
        }
        Err(e) => {
            let id = project.sources.add(display.to_string(), String::new());
            project.diagnostics.push(
                Diagnostic::error(Code::Unreadable, format!("cannot read: {e}"))
                    .in_file(id)
                    .hint("check the file's permissions"),
            );
            (id, false)
        }
    }
}

/// What differs between the YAML folders: how their files are read and
/// what their problems say.
struct YamlFolder {
    /// `crds/`, `manifests/`.
    name: &'static str,
    code: Code,
    read: fn(&str) -> Result<Vec<Document>, yaml::YamlError>,
    /// What the folder holds, for the hint of a file that is not YAML.
    holds: &'static str,
    /// What to do with a file that is too large.
    too_large: &'static str,
}

const CRDS: YamlFolder = YamlFolder {
    name: "crds/",
    code: Code::Crd,
    read: yaml::documents,
    holds: "files in `crds/` are YAML or JSON: CustomResourceDefinitions as `kubectl get crd -o yaml` prints them",
    too_large: "keep only CustomResourceDefinitions in `crds/`, one or a few a file",
};

const MANIFEST_FOLDER: YamlFolder = YamlFolder {
    name: "manifests/",
    code: Code::Manifest,
    read: yaml::kubernetes_documents,
    holds: "files in `manifests/` are YAML or JSON: Kubernetes objects as `kubectl apply -f` reads them",
    too_large: "split the file: manifold publishes each object of it to its own file anyway",
};

/// Reads the files of `crds/` into the project: each file's YAML documents,
/// or a located error (not UTF-8, not YAML, too large, unreadable).
fn read_crds(project: &mut Project, files: Vec<(Found, std::io::Result<Vec<u8>>)>) {
    for (file, documents) in read_yaml(project, files, &CRDS) {
        project.crds.push(CrdInput { file, documents });
    }
}

/// Reads the files of the `manifests/` folders into the project, as
/// `read_crds` does; a kustomization is an error, not read.
fn read_manifests(project: &mut Project, files: Vec<(Found, std::io::Result<Vec<u8>>)>) {
    let (kustomizations, files): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(f, _)| is_kustomization(Path::new(&f.display)));
    for (f, _) in kustomizations {
        let id = project.sources.add(f.display.clone(), String::new());
        project.diagnostics.push(
            Diagnostic::error(
                Code::Manifest,
                "a kustomization in `manifests/` would not be applied: manifold publishes files as they are and does not run kustomize",
            )
            .in_file(id)
            .hint("commit what `kubectl kustomize` prints for that folder instead, and remove the kustomization"),
        );
    }
    let roles: Vec<(Option<String>, String)> = files
        .iter()
        .map(|(f, _)| match &f.role {
            Role::Manifest { env } => (env.clone(), manifest_folder(&f.display)),
            _ => unreachable!("only manifest files are read here"),
        })
        .collect();
    let read = read_yaml(project, files, &MANIFEST_FOLDER);
    for ((env, folder), (file, documents)) in roles.into_iter().zip(read) {
        project.manifests.push(ManifestInput {
            file,
            env,
            folder,
            documents,
        });
    }
}

/// The path of a manifest file below its `manifests/` folder, without the
/// extension.
fn manifest_folder(display: &str) -> String {
    let below = match display.split('/').collect::<Vec<_>>().as_slice() {
        ["environments", _, MANIFESTS, rest @ ..] | [MANIFESTS, rest @ ..] => rest.join("/"),
        _ => display.to_string(),
    };
    match below.rsplit_once('.') {
        Some((stem, _)) if !stem.ends_with('/') && !stem.is_empty() => stem.to_string(),
        _ => below,
    }
}

/// Each file's YAML documents, or a located error (not UTF-8, not YAML, too
/// large, unreadable) and none; in the order given.
fn read_yaml(
    project: &mut Project,
    files: Vec<(Found, std::io::Result<Vec<u8>>)>,
    folder: &YamlFolder,
) -> Vec<(FileId, Vec<Document>)> {
    let mut texts = Vec::with_capacity(files.len());
    for (f, bytes) in files {
        let too_large = bytes
            .as_ref()
            .err()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::FileTooLarge);
        if too_large {
            let id = project.sources.add(f.display.clone(), String::new());
            project.diagnostics.push(
                Diagnostic::error(
                    Code::TooLarge,
                    format!(
                        "file is larger than {} MiB, the most manifold reads from `{}`",
                        CRD_FILE_MAX >> 20,
                        folder.name
                    ),
                )
                .in_file(id)
                .hint(folder.too_large),
            );
            texts.push((id, false));
            continue;
        }
        texts.push(add_source(project, &f.display, bytes));
    }
    let sources = &project.sources;
    let parsed: Vec<Result<Vec<Document>, Diagnostic>> = texts
        .par_iter()
        .map(|&(id, ok)| match ok {
            false => Ok(Vec::new()),
            true => (folder.read)(&sources.get(id).text).map_err(|e| {
                let text = &sources.get(id).text;
                let at = e.at.min(text.len());
                let end = match e.len {
                    0 => text[at..].chars().next().map_or(at, |c| at + c.len_utf8()),
                    len => (at + len).min(text.len()),
                };
                match e.hint {
                    // YAML, but read differently by different readers.
                    Some(hint) => Diagnostic::error(folder.code, e.message)
                        .at(id, at..end)
                        .hint(hint),
                    None => {
                        Diagnostic::error(folder.code, format!("not valid YAML: {}", e.message))
                            .at(id, at..end)
                            .hint(folder.holds)
                    }
                }
            }),
        })
        .collect();
    let mut read = Vec::with_capacity(texts.len());
    for ((id, _), documents) in texts.into_iter().zip(parsed) {
        let documents = documents.unwrap_or_else(|d| {
            project.diagnostics.push(d);
            Vec::new()
        });
        read.push((id, documents));
    }
    read
}

/// Manifest files of an environment that has no file.
fn check_manifest_environments(project: &mut Project) {
    let names: Vec<&str> = project
        .environments
        .iter()
        .map(|e| e.input.name.as_str())
        .collect();
    for m in &project.manifests {
        let Some(env) = m.env.as_deref().filter(|env| !names.contains(env)) else {
            continue;
        };
        let hint = match did_you_mean(env, names.iter().copied()) {
            Some(better) => format!(
                "did you mean `environments/{better}/{MANIFESTS}/`? an environment's manifests need `environments/{env}.toml`"
            ),
            None => format!(
                "create `environments/{env}.toml`, or move the file into an environment's `{MANIFESTS}/` folder"
            ),
        };
        project.diagnostics.push(
            Diagnostic::error(
                Code::UnknownEnvironment,
                format!("manifest file for unknown environment `{env}`"),
            )
            .in_file(m.file)
            .hint(hint),
        );
    }
}

/// The `manifests/` folders to walk, in the order `load_files` sorts their
/// files: each environment's, by name, then the repository's. A folder
/// that is (or is reached through) a link leaving the repository is not
/// walked: the repository's is a problem, an environment's was reported by
/// the walk of `environments/`.
fn manifest_dirs(root: &Path, root_real: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let inside = |dir: &Path| {
        dir.canonicalize()
            .is_ok_and(|real| real.starts_with(root_real))
    };
    let mut envs: Vec<PathBuf> = std::fs::read_dir(root.join("environments"))
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path().join(MANIFESTS)))
        .filter(|dir| dir.is_dir() && inside(dir))
        .collect();
    envs.sort();
    let top = root.join(MANIFESTS);
    if top.is_dir() {
        if inside(&top) {
            envs.push(top);
        } else {
            problems.push(Problem {
                display: display(root, &top),
                code: Code::Layout,
                message: "symbolic link leaves the repository".into(),
                hint: "manifold follows links only inside the repository; copy the files in, or point the link at a folder inside".into(),
            });
        }
    }
    envs
}

/// Reads at most `limit` bytes; a longer file is an error of kind
/// `FileTooLarge`, read no further.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large_error());
    }
    Ok(bytes)
}

fn too_large_error() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::FileTooLarge)
}

/// A file of `crds/`: YAML or JSON, but not a kustomization.
fn is_crd_file(path: &Path) -> bool {
    !is_kustomization(path) && is_yaml(path)
}

/// A file of a `manifests/` folder: YAML or JSON, or a kustomization (an
/// error there, found to be reported).
fn is_manifest_file(path: &Path) -> bool {
    is_kustomization(path) || is_yaml(path)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// A file kustomize reads as the kustomization of its folder.
fn is_kustomization(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
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
    let shown = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    if shown.is_empty() {
        ".".to_string()
    } else {
        shown
    }
}
