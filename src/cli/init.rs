//! `init`, `new` and `schema`: the files a repository starts from, written
//! without replacing any that exist (the schemas excepted: they are
//! generated, and written again after an upgrade).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use manifold::model::WorkloadKind;
use manifold::scaffold::{self, Ci, File, Refused};

use super::Place;
use super::report::{exit, plural};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiArg {
    Gitlab,
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Deployment,
    Statefulset,
    Daemonset,
    Cronjob,
    Job,
}

impl From<KindArg> for WorkloadKind {
    fn from(kind: KindArg) -> WorkloadKind {
        match kind {
            KindArg::Deployment => WorkloadKind::Deployment,
            KindArg::Statefulset => WorkloadKind::StatefulSet,
            KindArg::Daemonset => WorkloadKind::DaemonSet,
            KindArg::Cronjob => WorkloadKind::CronJob,
            KindArg::Job => WorkloadKind::Job,
        }
    }
}

pub fn init(dir: &Path, ci: Option<CiArg>, envs: &[String]) -> Result<ExitCode> {
    let ci = ci.map(|ci| match ci {
        CiArg::Gitlab => Ci::Gitlab,
        CiArg::Github => Ci::Github,
    });
    let files = match scaffold::repository(envs, ci) {
        Ok(files) => files,
        Err(refused) => return Ok(refuse(&refused)),
    };
    let existing = existing(dir, &files);
    if !existing.is_empty() {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(
            err,
            "error: `manifold init` would replace {} in `{}`; nothing was written:",
            plural(existing.len(), "file"),
            shown(dir)
        );
        for path in &existing {
            let _ = writeln!(err, "  {path}");
        }
        let _ = writeln!(
            err,
            "  = help: run it in a new or empty folder (`manifold init <dir>`), or move those files away"
        );
        return Ok(exit(false));
    }
    write_all(dir, &files)?;
    eprintln!(
        "created a configuration repository in `{}`: {}, {}",
        shown(dir),
        plural(envs.len(), "environment"),
        plural(files.len(), "file")
    );
    for file in &files {
        eprintln!("  {}", file.path);
    }
    eprintln!(
        "next: `manifold validate` and `manifold build` in it; in .pre-commit-config.yaml{}, set where manifold's sources are (CHANGE ME), then `pre-commit autoupdate` and `pre-commit install`",
        match ci {
            Some(Ci::Gitlab) => " and ci/manifold.yml",
            Some(Ci::Github) => " and .github/workflows/manifold.yml",
            None => "",
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn new(place: &Place, name: &str, kind: KindArg) -> Result<ExitCode> {
    if !place.root.join("environments").is_dir() {
        return Ok(refuse(&Refused {
            message: match place.searched {
                true => {
                    "no configuration repository: no `environments/` in this folder or above".into()
                }
                false => format!(
                    "no configuration repository: no `environments/` in `{}`",
                    shown(&place.root)
                ),
            },
            hint: "run it inside a repository, pass `-C <dir>`, or create one with `manifold init`"
                .into(),
        }));
    }
    let text = match scaffold::service(name, kind.into()) {
        Ok(text) => text,
        Err(refused) => return Ok(refuse(&refused)),
    };
    let file = File {
        path: format!("services/{name}.toml"),
        text,
    };
    if !existing(&place.root, std::slice::from_ref(&file)).is_empty() {
        return Ok(refuse(&Refused {
            message: format!(
                "`{}` exists; nothing was written",
                shown(&place.root.join(&file.path))
            ),
            hint: "choose another name, or edit that file".into(),
        }));
    }
    write_all(&place.root, std::slice::from_ref(&file))?;
    eprintln!(
        "created `{}`, a {}; `manifold validate` checks it",
        shown(&place.root.join(&file.path)),
        manifold::model::WorkloadKind::from(kind).as_str()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn schema(dir: &Path) -> Result<ExitCode> {
    let files = scaffold::schemas(".");
    for file in &files {
        let path = dir.join(&file.path);
        fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        fs::write(&path, &file.text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    eprintln!(
        "wrote {} into `{}`",
        files
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        shown(dir)
    );
    Ok(ExitCode::SUCCESS)
}

/// `path` as the user would write it: without a leading `./`.
fn shown(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    match path.as_os_str().is_empty() {
        true => ".".into(),
        false => path.display().to_string(),
    }
}

fn refuse(refused: &Refused) -> ExitCode {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "error: {}", refused.message);
    let _ = writeln!(err, "  = help: {}", refused.hint);
    exit(false)
}

/// The files of `files` that something already occupies under `dir` (a
/// file, a folder or a link, broken or not).
fn existing(dir: &Path, files: &[File]) -> Vec<String> {
    files
        .iter()
        .filter(|f| dir.join(&f.path).symlink_metadata().is_ok())
        .map(|f| f.path.clone())
        .collect()
}

/// Writes every file, each only if it does not exist; on a failure, the
/// files written so far are removed again.
fn write_all(dir: &Path, files: &[File]) -> Result<()> {
    let mut written = Vec::new();
    for file in files {
        let path = dir.join(&file.path);
        let result = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| {
                fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
            })
            .and_then(|mut f| f.write_all(file.text.as_bytes()));
        if let Err(e) = result {
            for done in &written {
                let _ = fs::remove_file(done);
            }
            return Err(e).with_context(|| format!("cannot write `{}`", path.display()));
        }
        written.push(path);
    }
    Ok(())
}
