//! Publishing: the rendered tree as one commit on the gitops branch, and the
//! git reads that `diff` compares against.
//!
//! Everything goes through the `git` command line, a fixed handful of
//! processes per run whatever the number of files: object ids and whole tree
//! ids are computed in-process, so an unchanged tree is recognised without
//! writing anything; new blobs and the commit are written by one
//! `git fast-import` into a ref private to this process, and the branch is
//! then moved by one `git update-ref --stdin` transaction that names the value
//! it started from. That compare-and-swap is what makes racing publishes safe:
//! the loser recomputes on top of the winner and tries again.
//!
//! This module never touches the working tree, the index, `HEAD` or the
//! stash, and never pushes: the branch is a plain ref the CI pushes. It does
//! not read the configuration files either; it gets the rendered tree from the
//! pipeline.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use sha1::Digest;

use crate::diff::{Counts, Status, statuses};
use crate::emit::Tree;
use crate::pipeline::{Compiled, EnvOutput};

/// The branch environments are published to unless they name their own.
pub const DEFAULT_BRANCH: &str = "gitops";

/// Files manifold writes at the root of every gitops branch.
pub const ROOT_FILES: [&str; 2] = [".gitattributes", "README.md"];

/// How often a publish that lost a race recomputes and tries again.
const MAX_ATTEMPTS: usize = 5;

/// Paths listed per environment in a commit message before "... and N more".
const MAX_LISTED: usize = 20;

/// Regular, non-executable file: the only mode manifold writes.
const FILE_MODE: &str = "100644";

/// Whether `git check-ref-format --branch` would accept `name`.
pub fn is_valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name != "@"
        && !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.chars().any(|c| {
            c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        })
        && name
            .split('/')
            .all(|part| !part.starts_with('.') && !part.ends_with(".lock"))
}

// ---------------------------------------------------------------------------
// Object ids

/// The hash function of a repository (`git rev-parse --show-object-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFormat {
    Sha1,
    Sha256,
}

impl ObjectFormat {
    /// The id git gives an object of `kind` (`blob`, `tree`) with `data`.
    pub fn hash(self, kind: &str, data: &[u8]) -> String {
        let header = format!("{kind} {}\0", data.len());
        match self {
            ObjectFormat::Sha1 => {
                let mut h = sha1::Sha1::new();
                h.update(header.as_bytes());
                h.update(data);
                hex(&h.finalize())
            }
            ObjectFormat::Sha256 => {
                let mut h = sha2::Sha256::new();
                h.update(header.as_bytes());
                h.update(data);
                hex(&h.finalize())
            }
        }
    }

    /// The all-zero id, which `update-ref` reads as "must not exist".
    fn zero(self) -> String {
        match self {
            ObjectFormat::Sha1 => "0".repeat(40),
            ObjectFormat::Sha256 => "0".repeat(64),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// The id of the tree git would build from `files` (path -> blob id, every
/// file a regular file), without asking git.
pub fn tree_id(format: ObjectFormat, files: &BTreeMap<String, String>) -> String {
    #[derive(Default)]
    struct Dir<'a> {
        files: BTreeMap<&'a str, &'a str>,
        dirs: BTreeMap<&'a str, Dir<'a>>,
    }
    fn id(format: ObjectFormat, dir: &Dir) -> String {
        // Git sorts a subtree as if its name ended in `/`.
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, oid) in &dir.files {
            let mut e = format!("{FILE_MODE} {name}\0").into_bytes();
            e.extend(unhex(oid));
            entries.push((name.to_string(), e));
        }
        for (name, sub) in &dir.dirs {
            let mut e = format!("40000 {name}\0").into_bytes();
            e.extend(unhex(&id(format, sub)));
            entries.push((format!("{name}/"), e));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let body: Vec<u8> = entries.into_iter().flat_map(|(_, e)| e).collect();
        format.hash("tree", &body)
    }
    let mut root = Dir::default();
    for (path, oid) in files {
        let mut dir = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                dir.files.insert(part, oid);
            } else {
                dir = dir.dirs.entry(part).or_default();
            }
        }
    }
    id(format, &root)
}

// ---------------------------------------------------------------------------
// Running git

/// A git repository, driven through the `git` command.
pub struct Repo {
    dir: PathBuf,
    pub format: ObjectFormat,
}

/// A branch's current commit and tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tip {
    pub commit: String,
    pub tree: String,
    /// The worktree that has the branch checked out, if any.
    pub worktree: Option<String>,
}

/// The commit being published from.
#[derive(Clone, Debug)]
pub struct Source {
    pub commit: String,
    pub subject: String,
}

/// A file of `services/` or `environments/` that differs from `HEAD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirty {
    pub path: String,
    /// `modified`, `staged`, `untracked`, `deleted`, `ignored` ...
    pub state: &'static str,
}

struct Output {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
}

impl Repo {
    /// Opens the repository that contains `dir`.
    pub fn open(dir: &Path) -> Result<Repo> {
        let mut repo = Repo {
            dir: dir.to_path_buf(),
            format: ObjectFormat::Sha1,
        };
        let out = repo.run(&["rev-parse", "--show-object-format"], None)?;
        if !out.ok && out.stderr.contains("not a git repository") {
            bail!("`{}` is not in a git repository", dir.display());
        }
        if !out.ok {
            bail!("`git rev-parse` failed: {}", out.stderr.trim());
        }
        repo.format = match String::from_utf8_lossy(&out.stdout).trim() {
            "sha1" => ObjectFormat::Sha1,
            "sha256" => ObjectFormat::Sha256,
            other => bail!("unsupported git object format `{other}`"),
        };
        Ok(repo)
    }

    fn run(&self, args: &[&str], input: Option<Vec<u8>>) -> Result<Output> {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .args(args)
            // Messages are read for lock failures; keep them in English.
            .env("LC_ALL", "C")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .context("cannot run `git`; is it installed and on PATH?")?;
        // Feed stdin from another thread so a chatty git cannot deadlock us.
        let writer = match (input, child.stdin.take()) {
            (Some(data), Some(mut stdin)) => {
                Some(std::thread::spawn(move || stdin.write_all(&data)))
            }
            _ => None,
        };
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        if let Some(mut s) = child.stderr.take() {
            let reader = std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                buf
            });
            if let Some(mut o) = child.stdout.take() {
                o.read_to_end(&mut stdout)?;
            }
            stderr = reader.join().unwrap_or_default();
        }
        let status = child.wait()?;
        if let Some(w) = writer {
            // A git that stopped reading early reports why on stderr.
            let _ = w.join();
        }
        Ok(Output {
            ok: status.success(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// Runs git and fails with its stderr unless it succeeds.
    fn check(&self, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>> {
        let out = self.run(args, input)?;
        if !out.ok {
            bail!("`git {}` failed: {}", args[0], out.stderr.trim());
        }
        Ok(out.stdout)
    }

    /// The commit `HEAD` points at, with its subject.
    pub fn head(&self) -> Result<Source> {
        let out = self.run(&["log", "-1", "--format=%H%x00%s", "HEAD", "--"], None)?;
        if !out.ok {
            bail!(
                "cannot read `HEAD` (publish names the commit it renders; commit first): {}",
                out.stderr.trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let (commit, subject) = text.trim_end().split_once('\0').unwrap_or((&text, ""));
        Ok(Source {
            commit: commit.to_string(),
            subject: subject.to_string(),
        })
    }

    /// TOML files under `dirs` that differ from `HEAD`: modified, staged,
    /// untracked or ignored. Reads without taking the index lock.
    pub fn dirty(&self, dirs: &[&str]) -> Result<Vec<Dirty>> {
        let mut args = vec![
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            "--",
        ];
        args.extend(dirs);
        let out = self.check(&args, None)?;
        let text = String::from_utf8_lossy(&out);
        let mut entries = text.split('\0');
        let mut dirty = Vec::new();
        while let Some(entry) = entries.next() {
            if entry.len() < 4 {
                continue;
            }
            let (xy, path) = entry.split_at(3);
            let xy = xy.as_bytes();
            // Renames and copies carry the old path as the next entry.
            if matches!(xy[0], b'R' | b'C') {
                entries.next();
            }
            let state = match (xy[0], xy[1]) {
                (b'?', _) => "untracked",
                (b'!', _) => "ignored",
                (_, b'D') | (b'D', _) => "deleted",
                (_, b'M') | (_, b'T') => "modified",
                (b'A', _) => "added",
                (b'R', _) => "renamed",
                _ => "staged",
            };
            if path.ends_with(".toml") {
                dirty.push(Dirty {
                    path: path.to_string(),
                    state,
                });
            }
        }
        Ok(dirty)
    }

    /// The current tips of `branches`; missing branches are left out.
    pub fn tips(&self, branches: &[String]) -> Result<BTreeMap<String, Tip>> {
        let refs: Vec<String> = branches.iter().map(|b| format!("refs/heads/{b}")).collect();
        let mut args = vec![
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(tree)%00%(worktreepath)",
        ];
        args.extend(refs.iter().map(String::as_str));
        let out = self.check(&args, None)?;
        let mut tips = BTreeMap::new();
        for line in String::from_utf8_lossy(&out).lines() {
            let fields: Vec<&str> = line.split('\0').collect();
            let [refname, commit, tree, worktree] = fields[..] else {
                continue;
            };
            // for-each-ref also matches refs below the name (`gitops/x`).
            let Some(branch) = refname.strip_prefix("refs/heads/") else {
                continue;
            };
            if !branches.iter().any(|b| b == branch) {
                continue;
            }
            if tree.is_empty() {
                bail!("`{branch}` does not point at a commit");
            }
            tips.insert(
                branch.to_string(),
                Tip {
                    commit: commit.to_string(),
                    tree: tree.to_string(),
                    worktree: (!worktree.is_empty()).then(|| worktree.to_string()),
                },
            );
        }
        Ok(tips)
    }

    /// The tree `rev` names, or `None` if it names nothing.
    pub fn resolve_tree(&self, rev: &str) -> Result<Option<String>> {
        let spec = format!("{rev}^{{tree}}");
        let out = self.run(
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
            None,
        )?;
        Ok(out
            .ok
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    }

    /// Every entry of a tree-ish but its directories: path -> (mode, id).
    /// Submodules (mode 160000) are listed too, so a publish removes them.
    pub fn list(&self, treeish: &str) -> Result<BTreeMap<String, (String, String)>> {
        let out = self.check(&["ls-tree", "-r", "-z", "--full-tree", treeish], None)?;
        let mut files = BTreeMap::new();
        for entry in out.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut meta = meta.split(' ');
            let (Some(mode), Some(kind), Some(oid)) = (meta.next(), meta.next(), meta.next())
            else {
                continue;
            };
            if kind != "tree" {
                files.insert(path.to_string(), (mode.to_string(), oid.to_string()));
            }
        }
        Ok(files)
    }

    /// The contents of blobs, in order, with one `git cat-file --batch`.
    pub fn blobs(&self, ids: &[String]) -> Result<Vec<Vec<u8>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let input: Vec<u8> = ids
            .iter()
            .flat_map(|id| format!("{id}\n").into_bytes())
            .collect();
        let out = self.check(&["cat-file", "--batch"], Some(input))?;
        let mut blobs = Vec::with_capacity(ids.len());
        let mut rest = out.as_slice();
        for id in ids {
            let newline = rest
                .iter()
                .position(|&b| b == b'\n')
                .with_context(|| format!("`git cat-file` ended early at `{id}`"))?;
            let header = String::from_utf8_lossy(&rest[..newline]).into_owned();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .with_context(|| format!("`git cat-file` answered `{header}` for `{id}`"))?;
            let start = newline + 1;
            if rest.len() < start + size {
                bail!("`git cat-file` ended early in `{id}`");
            }
            blobs.push(rest[start..start + size].to_vec());
            rest = &rest[(start + size + 1).min(rest.len())..];
        }
        Ok(blobs)
    }

    /// `Name <email> <time> <zone>` for the commit: the repository's
    /// committer, or manifold's own when none is configured.
    fn ident(&self) -> Result<String> {
        let out = self.run(&["var", "GIT_COMMITTER_IDENT"], None)?;
        if out.ok {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(format!("manifold <manifold@localhost> {now} +0000"))
    }
}

// ---------------------------------------------------------------------------
// What goes where

/// The environments published to one branch.
pub struct Target<'a> {
    pub branch: String,
    /// Sorted by name.
    pub envs: Vec<&'a EnvOutput>,
}

/// Groups the compiled environments by branch; `default_branch` takes those
/// that do not name one. Sorted by branch name.
pub fn targets<'a>(compiled: &'a Compiled, default_branch: &str) -> Vec<Target<'a>> {
    let mut by_branch: BTreeMap<String, Vec<&EnvOutput>> = BTreeMap::new();
    for env in &compiled.environments {
        let branch = env.branch.as_deref().unwrap_or(default_branch);
        by_branch.entry(branch.to_string()).or_default().push(env);
    }
    by_branch
        .into_iter()
        .map(|(branch, envs)| Target { branch, envs })
        .collect()
}

/// The whole tree of a gitops branch: each environment at its path, and the
/// branch's README and `.gitattributes`. Fails when two environments would
/// share a directory (possible only through `--branch`, which the pipeline
/// cannot see).
pub fn branch_tree(target: &Target) -> Result<Tree> {
    let mut tree = Tree::new();
    for (i, env) in target.envs.iter().enumerate() {
        for other in &target.envs[..i] {
            let nested = |a: &str, b: &str| a == b || b.starts_with(&format!("{a}/"));
            if nested(&env.path, &other.path) || nested(&other.path, &env.path) {
                bail!(
                    "environments `{}` and `{}` would both be published to `{}:{}`; give one its own `[gitops] path` or `branch`",
                    other.name,
                    env.name,
                    target.branch,
                    env.path
                );
            }
        }
        for (path, content) in &env.files {
            tree.insert(format!("{}/{path}", env.path), content.clone());
        }
    }
    tree.insert(
        ".gitattributes".into(),
        "# Generated by manifold: hide this tree from code review statistics.\n* linguist-generated=true\n"
            .as_bytes()
            .to_vec(),
    );
    tree.insert("README.md".into(), readme(target).into_bytes());
    Ok(tree)
}

/// The branch's README. It holds no commit id or date, so an unchanged
/// rendering gives an unchanged tree.
fn readme(target: &Target) -> String {
    let mut s = String::from(
        "# Generated by manifold: do not edit\n\n\
         This branch holds the Kubernetes manifests that `manifold publish` renders\n\
         from `services/` and `environments/` of the configuration repository. Each\n\
         commit names its source in a `Source-Commit:` trailer\n\
         (`git log -1 --format=%B`). Changes made here are overwritten by the next\n\
         publish; change the configuration repository instead.\n\n\
         | directory | environment | Kubernetes |\n|---|---|---|\n",
    );
    for env in &target.envs {
        s.push_str(&format!(
            "| `{}/` | `{}` | {} |\n",
            env.path, env.name, env.kube_version
        ));
    }
    s.push_str(
        "\nEach directory has a `kustomization.yaml` listing its files: point Flux or\n\
         Argo CD at the directory, with pruning on, so removed objects are deleted.\n",
    );
    s
}

// ---------------------------------------------------------------------------
// Publishing

pub struct Options<'a> {
    /// Replaces the generated subject line.
    pub message: Option<&'a str>,
    /// Compute and describe, write nothing.
    pub dry_run: bool,
    /// `services/` or `environments/` had uncommitted changes (allowed).
    pub dirty: bool,
}

/// The changed files of one part of a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The environment's name, or `(branch root)` / `(no longer published)`.
    pub name: String,
    /// Paths relative to the section's directory.
    pub changes: Vec<(String, Status)>,
}

impl Section {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (_, s) in &self.changes {
            c.add(*s);
        }
        c
    }
}

/// What happened to one branch.
#[derive(Clone, Debug)]
pub struct Published {
    pub branch: String,
    /// The new commit; `None` when the branch already had this tree (or on a
    /// dry run).
    pub commit: Option<String>,
    /// The commit it replaced; `None` when the branch was created.
    pub parent: Option<String>,
    /// One section per environment of the branch, then the branch's own
    /// files and files of environments no longer published, if they changed.
    pub sections: Vec<Section>,
    /// The commit message (written, or that would be written).
    pub message: String,
}

impl Published {
    pub fn changed(&self) -> bool {
        self.sections.iter().any(|s| !s.changes.is_empty())
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub branches: Vec<Published>,
    /// Attempts that lost a race to another publish and were redone.
    pub retries: usize,
}

struct Prepared {
    branch: String,
    files: Tree,
    ids: BTreeMap<String, String>,
    tree: String,
    /// (environment name, path) of the branch's environments.
    envs: Vec<(String, String)>,
}

/// Commits each target's tree on its branch, one commit per changed branch,
/// all branches moved in one atomic ref transaction.
pub fn publish(
    repo: &Repo,
    targets: &[Target],
    source: &Source,
    options: &Options,
) -> Result<Outcome> {
    let mut prepared = Vec::new();
    for target in targets {
        let files = branch_tree(target)?;
        let ids: BTreeMap<String, String> = files
            .iter()
            .map(|(p, c)| (p.clone(), repo.format.hash("blob", c)))
            .collect();
        prepared.push(Prepared {
            branch: target.branch.clone(),
            tree: tree_id(repo.format, &ids),
            files,
            ids,
            envs: target
                .envs
                .iter()
                .map(|e| (e.name.clone(), e.path.clone()))
                .collect(),
        });
    }
    let branches: Vec<String> = prepared.iter().map(|p| p.branch.clone()).collect();
    let mut retries = 0;
    loop {
        let tips = repo.tips(&branches)?;
        // Moving a checked-out branch would change that checkout under it.
        if let Some((branch, worktree)) = tips
            .iter()
            .find_map(|(b, t)| t.worktree.as_ref().map(|w| (b, w)))
        {
            bail!(
                "`{branch}` is checked out in `{worktree}`; publish moves the branch, so switch that worktree to another branch first"
            );
        }
        let mut results = Vec::new();
        for p in &prepared {
            let tip = tips.get(&p.branch);
            if tip.is_some_and(|t| t.tree == p.tree) {
                results.push(Published {
                    branch: p.branch.clone(),
                    commit: None,
                    parent: tip.map(|t| t.commit.clone()),
                    sections: p
                        .envs
                        .iter()
                        .map(|(name, _)| Section {
                            name: name.clone(),
                            changes: Vec::new(),
                        })
                        .collect(),
                    message: String::new(),
                });
                continue;
            }
            let old: BTreeMap<String, (String, String)> = match tip {
                Some(t) => repo.list(&t.commit)?,
                None => BTreeMap::new(),
            };
            let new: BTreeMap<String, (String, String)> = p
                .ids
                .iter()
                .map(|(path, id)| (path.clone(), (FILE_MODE.to_string(), id.clone())))
                .collect();
            let changes = statuses(&old, &new);
            let sections = sections(&p.envs, &changes);
            let message = message(source, &sections, options);
            results.push(Published {
                branch: p.branch.clone(),
                commit: None,
                parent: tip.map(|t| t.commit.clone()),
                sections,
                message,
            });
        }
        if options.dry_run || results.iter().all(|r| !r.changed()) {
            return Ok(Outcome {
                branches: results,
                retries,
            });
        }
        let changed: Vec<(usize, &Prepared)> = results
            .iter()
            .zip(&prepared)
            .enumerate()
            .filter(|(_, (r, _))| r.changed())
            .map(|(i, (_, p))| (i, p))
            .collect();
        let scratch: Vec<String> = changed
            .iter()
            .map(|(i, _)| format!("refs/manifold/publish-{}-{i}", std::process::id()))
            .collect();
        let ident = repo.ident()?;
        let mut stream = b"feature done\n".to_vec();
        for (n, (i, p)) in changed.iter().enumerate() {
            write_commit(&mut stream, &scratch[n], n + 1, &ident, &results[*i], p);
        }
        for n in 0..changed.len() {
            stream.extend(format!("get-mark :{}\n", n + 1).into_bytes());
        }
        stream.extend(b"done\n");
        let out = repo.check(&["fast-import", "--quiet", "--force"], Some(stream))?;
        let commits: Vec<String> = String::from_utf8_lossy(&out)
            .lines()
            .map(str::to_string)
            .collect();
        if commits.len() != changed.len() {
            bail!("`git fast-import` did not report the new commits");
        }

        // The compare-and-swap: every branch moves from the tip it was built
        // on, or none does; the private refs go in the same transaction.
        let mut tx = String::new();
        for (n, (i, _)) in changed.iter().enumerate() {
            let r = &results[*i];
            let old = r.parent.clone().unwrap_or_else(|| repo.format.zero());
            tx.push_str(&format!(
                "update refs/heads/{} {} {old}\n",
                r.branch, commits[n]
            ));
        }
        for s in &scratch {
            tx.push_str(&format!("delete {s}\n"));
        }
        let out = repo.run(
            &[
                "-c",
                "core.filesRefLockTimeout=2000",
                "update-ref",
                "-m",
                "manifold publish",
                "--stdin",
            ],
            Some(tx.into_bytes()),
        )?;
        if out.ok {
            for (n, (i, _)) in changed.iter().enumerate() {
                results[*i].commit = Some(commits[n].clone());
            }
            return Ok(Outcome {
                branches: results,
                retries,
            });
        }
        let cleanup: String = scratch.iter().map(|s| format!("delete {s}\n")).collect();
        let _ = repo.run(&["update-ref", "--stdin"], Some(cleanup.into_bytes()));
        let moved = repo.tips(&branches)? != tips;
        let locked = out.stderr.contains("cannot lock ref") || out.stderr.contains(".lock");
        if !moved && !locked {
            bail!("`git update-ref` failed: {}", out.stderr.trim());
        }
        retries += 1;
        if retries >= MAX_ATTEMPTS {
            bail!(
                "gave up after {MAX_ATTEMPTS} attempts: other publishes kept moving {} ({})",
                branches.join(", "),
                out.stderr.trim()
            );
        }
        // Let the winner finish before looking again.
        std::thread::sleep(std::time::Duration::from_millis(20 * retries as u64));
    }
}

/// Splits a branch's changed paths into its environments, its own files, and
/// files of environments no longer published there.
fn sections(envs: &[(String, String)], changes: &[(String, Status)]) -> Vec<Section> {
    let mut out: Vec<Section> = envs
        .iter()
        .map(|(name, _)| Section {
            name: name.clone(),
            changes: Vec::new(),
        })
        .collect();
    let mut root = Vec::new();
    let mut other = Vec::new();
    for (path, status) in changes {
        let owner = envs.iter().position(|(_, dir)| {
            path.len() > dir.len()
                && path.starts_with(dir.as_str())
                && path.as_bytes()[dir.len()] == b'/'
        });
        match owner {
            Some(i) => out[i]
                .changes
                .push((path[envs[i].1.len() + 1..].to_string(), *status)),
            None if ROOT_FILES.contains(&path.as_str()) => root.push((path.clone(), *status)),
            None => other.push((path.clone(), *status)),
        }
    }
    for (name, changes) in [("(branch root)", root), ("(no longer published)", other)] {
        if !changes.is_empty() {
            out.push(Section {
                name: name.into(),
                changes,
            });
        }
    }
    out
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The commit message: subject, source, what changed per environment, and the
/// `Source-Commit` and `Manifold-Version` trailers.
pub fn message(source: &Source, sections: &[Section], options: &Options) -> String {
    let subject = match options.message {
        Some(m) => m.trim().to_string(),
        None => format!("publish {}: {}", short(&source.commit), source.subject),
    };
    let mut s = format!(
        "{subject}\n\nRendered from {}{}:\n    {}\n",
        source.commit,
        if options.dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        source.subject
    );
    for section in sections {
        let c = section.counts();
        if c.total() == 0 {
            s.push_str(&format!("\n{}: no changes\n", section.name));
            continue;
        }
        s.push_str(&format!(
            "\n{}: {} added, {} changed, {} removed\n",
            section.name, c.added, c.changed, c.removed
        ));
        for (path, status) in section.changes.iter().take(MAX_LISTED) {
            s.push_str(&format!("  {} {path}\n", status.mark()));
        }
        if section.changes.len() > MAX_LISTED {
            s.push_str(&format!(
                "  ... and {} more\n",
                section.changes.len() - MAX_LISTED
            ));
        }
    }
    s.push_str(&format!("\nSource-Commit: {}\n", source.commit));
    if options.dirty {
        s.push_str("Source-Dirty: true\n");
    }
    s.push_str(&format!(
        "Manifold-Version: {}\n",
        env!("CARGO_PKG_VERSION")
    ));
    s
}

/// Appends one fast-import `commit`: only new and changed files are sent, on
/// top of the branch's tip.
fn write_commit(
    stream: &mut Vec<u8>,
    scratch: &str,
    mark: usize,
    ident: &str,
    result: &Published,
    p: &Prepared,
) {
    let msg = result.message.as_bytes();
    stream.extend(
        format!(
            "commit {scratch}\nmark :{mark}\nauthor {ident}\ncommitter {ident}\ndata {}\n",
            msg.len()
        )
        .into_bytes(),
    );
    stream.extend(msg);
    stream.push(b'\n');
    if let Some(parent) = &result.parent {
        stream.extend(format!("from {parent}\n").into_bytes());
    }
    let envs = &p.envs;
    for section in &result.sections {
        let dir = envs
            .iter()
            .find(|(name, _)| *name == section.name)
            .map(|(_, dir)| dir.as_str());
        for (path, status) in &section.changes {
            let full = match dir {
                Some(d) => format!("{d}/{path}"),
                None => path.clone(),
            };
            match status {
                Status::Removed => stream.extend(format!("D {}\n", quote(&full)).into_bytes()),
                Status::Added | Status::Changed => {
                    let content = &p.files[&full];
                    stream.extend(
                        format!(
                            "M {FILE_MODE} inline {}\ndata {}\n",
                            quote(&full),
                            content.len()
                        )
                        .into_bytes(),
                    );
                    stream.extend(content);
                    stream.push(b'\n');
                }
            }
        }
    }
}

/// A path as fast-import reads it: C-quoted when it could be misread.
fn quote(path: &str) -> String {
    if !path.starts_with('"') && !path.contains(['\n', '\\', '"']) {
        return path.to_string();
    }
    let mut s = String::from("\"");
    for c in path.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

// ---------------------------------------------------------------------------
// Reading what is published, for `diff`

/// What `diff` compares the rendered environments with.
#[derive(Clone, Copy, Debug)]
pub enum Baseline<'a> {
    /// Each environment's directory on its gitops branch; `default` is the
    /// branch of environments that name none.
    Branches { default: &'a str },
    /// Every environment at its path in one revision.
    Revision(&'a str),
}

/// What is published for one environment.
pub struct PublishedEnv {
    /// Where it was read from, as `<rev>:<path>`.
    pub label: String,
    /// Relative to the environment's directory.
    pub files: Tree,
}

/// Reads what is published for each compiled environment, in order, and
/// names the gitops branches that do not exist yet (whose environments are
/// read as empty).
pub fn read_published(
    repo: &Repo,
    compiled: &Compiled,
    baseline: Baseline,
) -> Result<(Vec<PublishedEnv>, Vec<String>)> {
    let mut wanted = Vec::new();
    let mut labels = Vec::new();
    let mut missing = Vec::new();
    match baseline {
        Baseline::Revision(rev) => {
            let tree = repo
                .resolve_tree(rev)?
                .with_context(|| format!("`{rev}` is neither a directory nor a git revision"))?;
            for env in &compiled.environments {
                labels.push(format!("{rev}:{}", env.path));
                wanted.push(Wanted {
                    tree: Some(tree.clone()),
                    path: &env.path,
                    rendered: &env.files,
                });
            }
        }
        Baseline::Branches { default } => {
            let names: Vec<String> = targets(compiled, default)
                .into_iter()
                .map(|t| t.branch)
                .collect();
            let tips = repo.tips(&names)?;
            missing.extend(names.into_iter().filter(|n| !tips.contains_key(n)));
            for env in &compiled.environments {
                let branch = env.branch.as_deref().unwrap_or(default);
                labels.push(format!("{branch}:{}", env.path));
                wanted.push(Wanted {
                    tree: tips.get(branch).map(|t| t.tree.clone()),
                    path: &env.path,
                    rendered: &env.files,
                });
            }
        }
    }
    let trees = published(repo, &wanted)?;
    let envs = labels
        .into_iter()
        .zip(trees)
        .map(|(label, files)| PublishedEnv { label, files })
        .collect();
    Ok((envs, missing))
}

/// Where one environment's published files are read from.
struct Wanted<'a> {
    /// A tree id, `None` when the branch does not exist yet.
    tree: Option<String>,
    /// The environment's directory in that tree.
    path: &'a str,
    /// What the working tree renders, to skip reading identical files.
    rendered: &'a Tree,
}

fn published(repo: &Repo, wanted: &[Wanted]) -> Result<Vec<Tree>> {
    let mut listings: BTreeMap<&str, BTreeMap<String, (String, String)>> = BTreeMap::new();
    for w in wanted {
        if let Some(tree) = &w.tree {
            if !listings.contains_key(tree.as_str()) {
                listings.insert(tree, repo.list(tree)?);
            }
        }
    }
    let mut trees: Vec<Tree> = Vec::with_capacity(wanted.len());
    let mut fetch: Vec<(usize, String, String)> = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        let mut tree = Tree::new();
        if let Some(listing) = w.tree.as_deref().and_then(|t| listings.get(t)) {
            let prefix = format!("{}/", w.path);
            for (path, (mode, id)) in listing.range(prefix.clone()..) {
                let Some(rel) = path.strip_prefix(&prefix) else {
                    break;
                };
                // A submodule has no content here to compare.
                if mode == "160000" {
                    continue;
                }
                let same = mode == FILE_MODE
                    && w.rendered
                        .get(rel)
                        .is_some_and(|c| repo.format.hash("blob", c) == *id);
                if same {
                    tree.insert(rel.to_string(), w.rendered[rel].clone());
                } else {
                    fetch.push((i, rel.to_string(), id.clone()));
                }
            }
        }
        trees.push(tree);
    }
    let ids: Vec<String> = fetch.iter().map(|(_, _, id)| id.clone()).collect();
    for ((i, rel, _), content) in fetch.into_iter().zip(repo.blobs(&ids)?) {
        trees[i].insert(rel, content);
    }
    Ok(trees)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_follow_git_rules() {
        for ok in ["gitops", "gitops-us", "deploy/prod", "v1.2"] {
            assert!(is_valid_branch_name(ok), "{ok}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "a:b", "a/", "/a", ".hidden", "a/.b", "x.lock", "a~1", "@",
            "a@{1}", "end.",
        ] {
            assert!(!is_valid_branch_name(bad), "{bad}");
        }
    }

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            ObjectFormat::Sha1.hash("blob", b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty tree, well known to git.
        assert_eq!(
            tree_id(ObjectFormat::Sha1, &BTreeMap::new()),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(
            tree_id(ObjectFormat::Sha256, &BTreeMap::new()),
            "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
        );
    }

    #[test]
    fn tree_ids_match_git_mktree() {
        // Names chosen so that git's "a directory sorts as name/" rule
        // matters: `a-b` < `a/` < `a0` but `a` (dir) sorts after `a-b`.
        let files: BTreeMap<String, String> = [
            ("a-b", "1\n"),
            ("a/x.yaml", "2\n"),
            ("a0", "3\n"),
            ("README.md", "4\n"),
            ("dev/web/deployment-web.yaml", "5\n"),
        ]
        .iter()
        .map(|(p, c)| (p.to_string(), ObjectFormat::Sha1.hash("blob", c.as_bytes())))
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str], input: Option<&str>| {
            let mut child = Command::new("git")
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "git {args:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        git(&["init", "-q", "repo"], None);
        let repo = dir.path().join("repo");
        let git_in = |args: &[&str], input: &str| {
            let mut full = vec!["-C", repo.to_str().unwrap()];
            full.extend(args);
            git(&full, Some(input))
        };
        for (path, content) in [
            ("a-b", "1\n"),
            ("a/x.yaml", "2\n"),
            ("a0", "3\n"),
            ("README.md", "4\n"),
            ("dev/web/deployment-web.yaml", "5\n"),
        ] {
            let id = git_in(&["hash-object", "-w", "--stdin"], content);
            assert_eq!(id, files[path]);
            git_in(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{id},{path}"),
                ],
                "",
            );
        }
        let expected = git_in(&["write-tree"], "");
        assert_eq!(tree_id(ObjectFormat::Sha1, &files), expected);
    }

    fn env(name: &str, path: &str) -> EnvOutput {
        EnvOutput {
            name: name.into(),
            kube_version: "1.35".into(),
            branch: None,
            path: path.into(),
            files: [("kustomization.yaml".to_string(), b"k\n".to_vec())].into(),
            owners: BTreeMap::new(),
        }
    }

    #[test]
    fn a_branch_holds_its_environments_and_its_own_files() {
        let (dev, prod) = (env("dev", "dev"), env("prod", "clusters/prod"));
        let target = Target {
            branch: "gitops".into(),
            envs: vec![&dev, &prod],
        };
        let tree = branch_tree(&target).unwrap();
        let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            vec![
                ".gitattributes",
                "README.md",
                "clusters/prod/kustomization.yaml",
                "dev/kustomization.yaml"
            ]
        );
        let readme = String::from_utf8_lossy(&tree["README.md"]).into_owned();
        assert!(
            readme.contains("| `clusters/prod/` | `prod` | 1.35 |"),
            "{readme}"
        );
        let clash = env("prod2", "clusters");
        let target = Target {
            branch: "gitops".into(),
            envs: vec![&dev, &prod, &clash],
        };
        let err = branch_tree(&target).unwrap_err().to_string();
        assert!(err.contains("`prod` and `prod2`"), "{err}");
    }

    #[test]
    fn changes_are_split_by_environment() {
        let envs = vec![
            ("dev".to_string(), "dev".to_string()),
            ("prod".to_string(), "clusters/prod".to_string()),
        ];
        let changes = vec![
            ("README.md".to_string(), Status::Changed),
            ("clusters/prod/web/d.yaml".to_string(), Status::Added),
            ("dev/kustomization.yaml".to_string(), Status::Changed),
            ("test/kustomization.yaml".to_string(), Status::Removed),
        ];
        let s = sections(&envs, &changes);
        let summary: Vec<(&str, Vec<&str>)> = s
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.changes.iter().map(|(p, _)| p.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("dev", vec!["kustomization.yaml"]),
                ("prod", vec!["web/d.yaml"]),
                ("(branch root)", vec!["README.md"]),
                ("(no longer published)", vec!["test/kustomization.yaml"]),
            ]
        );
    }

    #[test]
    fn the_message_names_the_source_and_lists_changes() {
        let source = Source {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            subject: "bump web to 1.2".into(),
        };
        let mut many: Vec<(String, Status)> = (0..23)
            .map(|i| (format!("s{i:02}/d.yaml"), Status::Added))
            .collect();
        many.push(("web/d.yaml".into(), Status::Removed));
        let sections = vec![
            Section {
                name: "dev".into(),
                changes: many,
            },
            Section {
                name: "prod".into(),
                changes: Vec::new(),
            },
        ];
        let options = Options {
            message: None,
            dry_run: false,
            dirty: false,
        };
        let msg = message(&source, &sections, &options);
        let mut expected = String::from(
            "publish 0123456789ab: bump web to 1.2\n\nRendered from 0123456789abcdef0123456789abcdef01234567:\n    bump web to 1.2\n\ndev: 23 added, 0 changed, 1 removed\n",
        );
        for i in 0..20 {
            expected.push_str(&format!("  + s{i:02}/d.yaml\n"));
        }
        expected.push_str(&format!(
            "  ... and 4 more\n\nprod: no changes\n\nSource-Commit: 0123456789abcdef0123456789abcdef01234567\nManifold-Version: {}\n",
            env!("CARGO_PKG_VERSION")
        ));
        assert_eq!(msg, expected);
        let custom = message(
            &source,
            &sections[1..],
            &Options {
                message: Some("release 7"),
                dry_run: false,
                dirty: true,
            },
        );
        assert!(custom.starts_with("release 7\n\nRendered from 0123456789abcdef0123456789abcdef01234567 with uncommitted changes:\n"), "{custom}");
        assert!(custom.contains("\nSource-Dirty: true\n"), "{custom}");
    }

    #[test]
    fn paths_are_quoted_only_when_needed() {
        assert_eq!(quote("dev/web/d.yaml"), "dev/web/d.yaml");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
