//! A repository driven through the `git` command line.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::ObjectFormat;

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
    /// The committer date, as git's strict ISO 8601 (`%cI`).
    pub date: String,
}

/// A file that differs from `HEAD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirty {
    pub path: String,
    /// `modified`, `staged`, `untracked`, `deleted`, `ignored` ...
    pub state: &'static str,
}

pub struct Output {
    pub ok: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
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

    pub fn run(&self, args: &[&str], input: Option<Vec<u8>>) -> Result<Output> {
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
    pub fn check(&self, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>> {
        let out = self.run(args, input)?;
        if !out.ok {
            bail!("`git {}` failed: {}", args[0], out.stderr.trim());
        }
        Ok(out.stdout)
    }

    /// The commit `HEAD` points at, with its subject.
    pub fn head(&self) -> Result<Source> {
        let out = self.run(
            &["log", "-1", "--format=%H%x00%cI%x00%s", "HEAD", "--"],
            None,
        )?;
        if !out.ok {
            bail!(
                "cannot read `HEAD` (publish names the commit it renders; commit first): {}",
                out.stderr.trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.trim_end().splitn(3, '\0');
        let commit = fields.next().unwrap_or_default();
        let date = fields.next().unwrap_or_default();
        let subject = fields.next().unwrap_or_default();
        Ok(Source {
            commit: commit.to_string(),
            subject: subject.to_string(),
            date: date.to_string(),
        })
    }

    /// The files under `dirs` that differ from `HEAD`: modified, staged,
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
            dirty.push(Dirty {
                path: path.to_string(),
                state,
            });
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
    pub fn ident(&self) -> Result<String> {
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
