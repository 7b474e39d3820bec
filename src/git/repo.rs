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

/// A file of `services/` or `environments/` that differs from `HEAD`.
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

    /// The trailers of a commit's message, as git parses them (the last
    /// paragraph, continuation lines unfolded): (key, value) in order.
    pub fn trailers(&self, commit: &str) -> Result<Vec<(String, String)>> {
        let out = self.check(
            &[
                "log",
                "-1",
                "--format=%(trailers:only,unfold)",
                "--end-of-options",
                commit,
                "--",
            ],
            None,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect())
    }

    /// Whether the repository has the commit `id` (a shallow clone or a
    /// fetch of one branch may not).
    pub fn has_commit(&self, id: &str) -> Result<bool> {
        let spec = format!("{id}^{{commit}}");
        Ok(self.run(&["cat-file", "-e", &spec], None)?.ok)
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors, as far as
    /// the history in the repository shows (a shallow clone may cut it).
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let out = self.run(&["merge-base", "--is-ancestor", ancestor, descendant], None)?;
        if out.ok {
            return Ok(true);
        }
        if out.stderr.trim().is_empty() {
            return Ok(false);
        }
        bail!("`git merge-base` failed: {}", out.stderr.trim());
    }

    /// Whether the repository is a shallow clone, its history cut short.
    pub fn is_shallow(&self) -> Result<bool> {
        let out = self.check(&["rev-parse", "--is-shallow-repository"], None)?;
        Ok(String::from_utf8_lossy(&out).trim() == "true")
    }

    /// The refs under `prefix` (`refs/manifold/`) and their values.
    pub fn refs(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let out = self.check(
            &[
                "for-each-ref",
                "--format=%(refname)%00%(objectname)",
                prefix,
            ],
            None,
        )?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.split_once('\0'))
            .map(|(name, id)| (name.to_string(), id.to_string()))
            .collect())
    }

    /// Deletes `name` if it still points at `id`; false when it did not.
    pub fn delete_ref(&self, name: &str, id: &str) -> Result<bool> {
        Ok(self.run(&["update-ref", "-d", name, id], None)?.ok)
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

/// Seconds since the epoch of a date in git's strict ISO 8601 format
/// (`2024-05-01T12:00:00+02:00`, or `Z`), as `%cI` prints it.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset = match b.get(19..)? {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = num(20, 2)? * 60 + num(23, 2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 to the civil date (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_read_as_git_writes_them() {
        assert_eq!(parse_iso_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_date("1970-01-01T00:00:00+00:00"), Some(0));
        // `git log --format=%ct%n%cI` of a commit made at this time.
        assert_eq!(
            parse_iso_date("2024-02-29T13:14:15+02:00"),
            Some(1_709_205_255)
        );
        assert_eq!(
            parse_iso_date("2023-12-31T23:59:59-05:30"),
            Some(1_704_086_999)
        );
        for bad in [
            "",
            "1700000000",
            "2024-13-01T00:00:00Z",
            "2024-02-29 13:14:15 +0200",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}
