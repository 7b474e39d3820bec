//! Publishing: each branch's tree as one commit, all branches moved in one
//! compare-and-swap ref transaction, redone on top of a publish that won a
//! race. Before anything is written, every path is checked to be one git
//! accepts in a tree, each branch tip is checked to be one this publish may
//! replace (`guard`), and the private refs of killed publishes are swept.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use crate::diff::{Status, statuses};
use crate::emit::Tree;
use crate::git::fast_import::{FILE_MODE, quote};
use crate::git::{Repo, Source, Tip, bad_tree_path, tree_id};

use super::branch::{Target, branch_tree};
use super::guard;
use super::message::{Section, Template, message, sections};
use super::sweep::{scratch_ref, sweep};

/// How often a publish that lost a race recomputes and tries again.
const MAX_ATTEMPTS: usize = 5;

/// How to publish.
pub struct Options<'a> {
    /// Replaces the generated subject line.
    pub message: Option<&'a str>,
    /// Compute and describe, write nothing.
    pub dry_run: bool,
    /// `services/`, `environments/` or `manifests/` had uncommitted changes
    /// (allowed).
    pub dirty: bool,
    /// Publish on top of a branch tip manifold did not make.
    pub take_over: bool,
    /// Publish a source older than the one the branch was published from.
    pub allow_older: bool,
    /// The commit message's text before the trailers, instead of manifold's.
    pub template: Option<&'a Template>,
    /// Trailers of the user's, after manifold's own (`--trailer`), checked
    /// by [`parse_trailer`](super::parse_trailer).
    pub trailers: &'a [(String, String)],
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
    /// What is worth telling besides: a branch taken over, a decision made
    /// by committer dates, private refs of killed publishes removed.
    pub notes: Vec<String>,
}

/// A target's tree, ready to compare with its branch and commit.
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
    let prepared = targets
        .iter()
        .map(|target| prepare(repo, target))
        .collect::<Result<Vec<Prepared>>>()?;
    let branches: Vec<String> = prepared.iter().map(|p| p.branch.clone()).collect();
    let mut swept = Vec::new();
    if !options.dry_run {
        for name in sweep(repo)? {
            swept.push(format!(
                "removed `{name}`, left by a publish that was killed"
            ));
        }
    }
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
        let mut results = prepared
            .iter()
            .map(|p| describe(repo, p, tips.get(&p.branch), source, options))
            .collect::<Result<Vec<Published>>>()?;
        // A branch that changes must be one this publish may replace; the
        // same rule holds against the tip of a publish that won a race.
        let mut notes = swept.clone();
        for r in results.iter().filter(|r| r.changed()) {
            if let Some(tip) = tips.get(&r.branch) {
                notes.extend(guard::check(
                    repo,
                    &r.branch,
                    tip,
                    source,
                    options,
                    retries > 0,
                )?);
            }
        }
        if options.dry_run || results.iter().all(|r| !r.changed()) {
            return Ok(Outcome {
                branches: results,
                retries,
                notes,
            });
        }
        let changed: Vec<(usize, &Prepared)> = results
            .iter()
            .zip(&prepared)
            .enumerate()
            .filter(|(_, (r, _))| r.changed())
            .map(|(i, (_, p))| (i, p))
            .collect();
        let scratch: Vec<String> = changed.iter().map(|(i, _)| scratch_ref(*i)).collect();
        let commits = write_commits(repo, &results, &changed, &scratch)?;
        let Some(stderr) = move_refs(repo, &results, &changed, &commits, &scratch)? else {
            for (n, (i, _)) in changed.iter().enumerate() {
                results[*i].commit = Some(commits[n].clone());
            }
            return Ok(Outcome {
                branches: results,
                retries,
                notes,
            });
        };
        let cleanup: String = scratch.iter().map(|s| format!("delete {s}\n")).collect();
        let _ = repo.run(&["update-ref", "--stdin"], Some(cleanup.into_bytes()));
        let moved = repo.tips(&branches)? != tips;
        let locked = stderr.contains("cannot lock ref") || stderr.contains(".lock");
        if !moved && !locked {
            bail!("`git update-ref` failed: {}", stderr.trim());
        }
        retries += 1;
        if retries >= MAX_ATTEMPTS {
            bail!(
                "gave up after {MAX_ATTEMPTS} attempts: other publishes kept moving {} ({})",
                branches.join(", "),
                stderr.trim()
            );
        }
        // Let the winner finish before looking again.
        std::thread::sleep(std::time::Duration::from_millis(20 * retries as u64));
    }
}

/// A target's tree with the blob id of every file and the tree's own id,
/// computed once for all attempts.
fn prepare(repo: &Repo, target: &Target) -> Result<Prepared> {
    let files = branch_tree(target)?;
    check_paths(&target.branch, &files)?;
    let ids: BTreeMap<String, String> = files
        .iter()
        .map(|(p, c)| (p.clone(), repo.format.hash("blob", c)))
        .collect();
    Ok(Prepared {
        branch: target.branch.clone(),
        tree: tree_id(repo.format, &ids),
        files,
        ids,
        envs: target
            .envs
            .iter()
            .map(|e| (e.name.clone(), e.path.clone()))
            .collect(),
    })
}

/// The last line of defence before `git fast-import`, which writes whatever
/// path it is given: every path must be one git accepts in a tree, and no
/// path may be both a file and a directory. Fails on the first that is not.
fn check_paths(branch: &str, files: &Tree) -> Result<()> {
    for path in files.keys() {
        if let Some(problem) = bad_tree_path(path) {
            bail!(
                "refusing to publish {path:?} to `{branch}`: the path {problem}, which git rejects in a tree; nothing was written"
            );
        }
        let mut dirs = path.match_indices('/').map(|(at, _)| &path[..at]);
        if let Some(dir) = dirs.find(|d| files.contains_key(*d)) {
            bail!(
                "refusing to publish `{path}` to `{branch}`: `{dir}` is a file too, and a tree cannot hold both; nothing was written"
            );
        }
    }
    Ok(())
}

/// What publishing `p` on top of `tip` changes, and its commit message; no
/// changes when the branch already has this tree.
fn describe(
    repo: &Repo,
    p: &Prepared,
    tip: Option<&Tip>,
    source: &Source,
    options: &Options,
) -> Result<Published> {
    if tip.is_some_and(|t| t.tree == p.tree) {
        return Ok(Published {
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
    let message = message(source, &p.branch, &sections, options);
    Ok(Published {
        branch: p.branch.clone(),
        commit: None,
        parent: tip.map(|t| t.commit.clone()),
        sections,
        message,
    })
}

/// Writes the commits of the changed branches with one `git fast-import`,
/// each to its private `scratch` ref; returns their ids, in order.
fn write_commits(
    repo: &Repo,
    results: &[Published],
    changed: &[(usize, &Prepared)],
    scratch: &[String],
) -> Result<Vec<String>> {
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
    Ok(commits)
}

/// The compare-and-swap: every branch moves from the tip it was built on, or
/// none does; the private refs go in the same transaction. Returns git's
/// message when the transaction fails, for the caller to tell a lost race
/// from an error.
fn move_refs(
    repo: &Repo,
    results: &[Published],
    changed: &[(usize, &Prepared)],
    commits: &[String],
    scratch: &[String],
) -> Result<Option<String>> {
    let mut tx = String::new();
    for (n, (i, _)) in changed.iter().enumerate() {
        let r = &results[*i];
        let old = r.parent.clone().unwrap_or_else(|| repo.format.zero());
        tx.push_str(&format!(
            "update refs/heads/{} {} {old}\n",
            r.branch, commits[n]
        ));
    }
    for s in scratch {
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
    Ok((!out.ok).then_some(out.stderr))
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
