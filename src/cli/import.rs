//! `import`: read Kubernetes YAML (files, folders, `-` for standard input),
//! let the library turn it into service files and check the round trip,
//! print the summary, and write the files (or print them with `--dry-run`).
//! Existing files are kept unless `--force`; with `--strict`, a difference
//! that is not manifold's own is an error and nothing is written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use manifold::import::{self, EnvInput, Failure, File, Imported, MultiRequest, Request};

use super::Format;
use super::report::{plural, report};

/// The command's switches.
pub struct Options {
    /// `--env NAME=PATH`, as given.
    pub envs: Vec<String>,
    pub namespace_as_env: bool,
    pub dry_run: bool,
    pub force: bool,
    pub strict: bool,
}

/// Imports `paths` (relative to `base`, where the command runs) into the
/// repository at `root`.
pub fn import(root: &Path, base: &Path, paths: &[PathBuf], options: Options) -> Result<ExitCode> {
    if !options.envs.is_empty() || options.namespace_as_env {
        return import_environments(root, base, paths, &options);
    }
    if paths.is_empty() {
        anyhow::bail!("name the files or folders to import, or `-` for standard input");
    }
    let request = Request {
        inputs: inputs(base, paths)?,
        environments: environments(root)?,
    };
    let imported = match import::import(&request) {
        Ok(i) => i,
        Err(failure) => return failed(failure),
    };
    summary(&imported);
    let material = imported.differences.iter().filter(|d| !d.allowed).count();
    finish(root, &imported.files, material, &options)
}

/// `--env NAME=PATH`... or `--namespace-as-env`: several environments.
fn import_environments(
    root: &Path,
    base: &Path,
    paths: &[PathBuf],
    options: &Options,
) -> Result<ExitCode> {
    let request = if options.namespace_as_env {
        if paths.is_empty() {
            anyhow::bail!("name the files or folders to import, or `-` for standard input");
        }
        MultiRequest::ByNamespace(inputs(base, paths)?)
    } else {
        if !paths.is_empty() {
            anyhow::bail!(
                "with --env, give every path as `--env NAME=PATH` (not `{}`)",
                paths[0].display()
            );
        }
        let mut envs: Vec<EnvInput> = Vec::new();
        for given in &options.envs {
            let Some((name, path)) = given.split_once('=') else {
                anyhow::bail!(
                    "--env takes NAME=PATH (an environment and its files), not `{given}`"
                );
            };
            let texts = inputs(base, &[PathBuf::from(path)])?;
            match envs.iter_mut().find(|e| e.name == name) {
                Some(e) => e.inputs.extend(texts),
                None => envs.push(EnvInput {
                    name: name.to_string(),
                    inputs: texts,
                }),
            }
        }
        MultiRequest::Given(envs)
    };
    let imports = match import::import_environments(request, &environments(root)?) {
        Ok(i) => i,
        Err(failure) => return failed(failure),
    };
    let mut material = 0;
    for imported in &imports.environments {
        summary(imported);
        material += imported.differences.iter().filter(|d| !d.allowed).count();
    }
    finish(root, &imports.files, material, options)
}

/// Why nothing was imported, on standard error.
fn failed(failure: Failure) -> Result<ExitCode> {
    match failure {
        Failure::Input(problems) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            eprintln!("nothing imported");
        }
        Failure::Compile(failed) => {
            report(
                &failed.compiled.diagnostics,
                &failed.project.sources,
                Format::Human,
            )?;
            eprintln!("error: the imported services do not compile; nothing written");
        }
    }
    Ok(ExitCode::from(1))
}

/// `--strict`, `--dry-run` and `--force`, then the files written.
fn finish(root: &Path, files: &[File], material: usize, options: &Options) -> Result<ExitCode> {
    if options.strict && material > 0 {
        eprintln!(
            "error: {} that manifold does not reproduce (--strict); nothing written",
            plural(material, "difference")
        );
        return Ok(ExitCode::from(1));
    }
    if options.dry_run {
        let mut out = std::io::stdout().lock();
        for f in files {
            let _ = write!(out, "==> {} <==\n{}\n", f.path, f.text);
        }
        eprintln!("dry run: nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let existing: Vec<&str> = files
        .iter()
        .filter(|f| root.join(&f.path).exists())
        .map(|f| f.path.as_str())
        .collect();
    if !existing.is_empty() && !options.force {
        eprintln!(
            "error: {} already exist: {}; nothing written (--force overwrites)",
            plural(existing.len(), "file"),
            existing.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    for f in files {
        let path = root.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, &f.text)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let written: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    eprintln!("wrote {}", written.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// Each path's texts: a file, every `.yaml`, `.yml` and `.json` file under
/// a folder (sorted), or standard input for `-`. Relative paths are
/// relative to `base` (`-C`'s folder, or where the command runs), and shown
/// as given.
fn inputs(base: &Path, paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for given in paths {
        let p = &base.join(given);
        if given.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            out.push(("-".to_string(), bytes));
        } else if p.is_dir() {
            let walk = walkdir::WalkDir::new(p).sort_by_file_name();
            for entry in walk {
                let entry = entry.with_context(|| format!("cannot read {}", p.display()))?;
                let ext = entry.path().extension().and_then(|e| e.to_str());
                if entry.file_type().is_file() && matches!(ext, Some("yaml" | "yml" | "json")) {
                    let shown = given.join(entry.path().strip_prefix(p).unwrap_or(entry.path()));
                    out.push((shown.display().to_string(), read(entry.path())?));
                }
            }
        } else {
            out.push((given.display().to_string(), read(p)?));
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The repository's `environments/<env>.toml`, sorted by name.
fn environments(root: &Path) -> Result<Vec<(String, String)>> {
    let dir = root.join("environments");
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}

/// What went where, on standard error.
fn summary(i: &Imported) {
    let objects: usize = i.services.iter().map(|s| s.objects.len()).sum();
    let env = if i.new_environment {
        "new environment"
    } else {
        "environment"
    };
    eprintln!(
        "imported {} from {} into {env} `{}` (namespace `{}`):",
        plural(i.services.len(), "service"),
        plural(objects, "object"),
        i.environment,
        i.namespace
    );
    for s in &i.services {
        eprintln!(
            "  {}: {}; {} typed, {} in patches, {} in objects",
            s.path,
            s.objects.join(", "),
            plural(s.typed, "value"),
            s.patched,
            s.raw
        );
    }
    if !i.left_out.is_empty() {
        eprintln!("left out:");
        for (id, why) in &i.left_out {
            eprintln!("  {id}: {why}");
        }
    }
    if !i.notes.is_empty() {
        eprintln!("notes:");
        for (id, why) in &i.notes {
            eprintln!("  {id}: {why}");
        }
    }
    if !i.secrets.is_empty() {
        let names: Vec<String> = i
            .secrets
            .iter()
            .map(|(ns, n)| format!("{ns}/{n}"))
            .collect();
        eprintln!(
            "Secrets to provide (the pods use them; values are never imported): {}",
            names.join(", ")
        );
    }
    if !i.dropped.is_empty() {
        let fields: Vec<String> = i
            .dropped
            .iter()
            .map(|(f, n)| format!("{f} ({n})"))
            .collect();
        eprintln!("dropped server-populated fields: {}", fields.join(", "));
    }
    let allowed = i.differences.iter().filter(|d| d.allowed).count();
    let material: Vec<String> = i
        .differences
        .iter()
        .filter(|d| !d.allowed)
        .map(|d| match &d.cause {
            Some(cause) => format!("{}\n    {cause}", d.describe()),
            None => d.describe(),
        })
        .collect();
    eprintln!(
        "round trip: {} manifold does not reproduce, {allowed} allowed (manifold's own, README lists them)",
        plural(material.len(), "difference"),
    );
    for d in material {
        eprintln!("  {d}");
    }
}
