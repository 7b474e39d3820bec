//! Reading what is published, for `diff`: each environment's directory on
//! its gitops branch, or in one given revision. Files whose blob id matches
//! the rendered content are taken from the rendering instead of being read.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::compile::Compiled;
use crate::emit::Tree;
use crate::git::Repo;
use crate::git::fast_import::FILE_MODE;

use super::targets;

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
