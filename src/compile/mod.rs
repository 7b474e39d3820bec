//! The compile pipeline over a loaded project: validate, merge, check, render,
//! verify against Kubernetes, emit.
//!
//! Every (environment, service) pair is compiled in parallel and the results
//! are collected in a fixed order, so the output is byte-identical for any
//! thread count. All problems of all pairs are collected; a project with any
//! error produces no output at all. No I/O happens here.
//!
//! This file runs the stages in order and assembles each environment from its
//! pairs; `kinds` reads the CRDs of `crds/` (and so which kinds are
//! cluster-scoped), `pair` compiles one (environment, service) pair, `names` checks
//! the names and paths of its rendered objects, and `gitops` checks where
//! each environment would be published.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use rayon::prelude::*;

use crate::check::{capacity, environment_names, requests};
use crate::diag::{Code, Diagnostic, FileId, did_you_mean, normalize};
use crate::emit::{Tree, to_yaml};
use crate::input::load::{EnvInput, Input, Project};
use crate::input::tree::Node;
use crate::model::names::namespace_file;
use crate::model::{Directory, Environment, Peer};
use crate::render;
use crate::schema::{self, Kind};

mod gitops;
mod kinds;
mod names;
mod pair;

use gitops::gitops_targets;
use kinds::Kinds;
use pair::{PairOutput, finish_pair, merge_versions, peer, prepare_pair};

/// One environment's rendered files.
#[derive(Debug)]
pub struct EnvOutput {
    pub name: String,
    pub kube_version: String,
    /// Branch for `publish`, when the environment names one; `None` means
    /// the default branch (`gitops`, or `publish --branch`).
    pub branch: Option<String>,
    /// Directory in the branch: `[gitops] path`, or the environment's name.
    pub path: String,
    /// Paths relative to the environment's directory.
    pub files: Tree,
    /// Which service produced each file (`None` for environment files).
    pub owners: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Default)]
pub struct Compiled {
    pub diagnostics: Vec<Diagnostic>,
    pub environments: Vec<EnvOutput>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The whole output tree, paths prefixed by the environment's name; the
    /// contents are borrowed, not copied.
    pub fn tree(&self) -> BTreeMap<String, &[u8]> {
        let mut tree = BTreeMap::new();
        for env in &self.environments {
            for (path, content) in &env.files {
                tree.insert(format!("{}/{path}", env.name), content.as_slice());
            }
        }
        tree
    }
}

/// Compiles the selected environments (all when `select` is empty).
/// Unknown names in `select` are a usage error.
pub fn compile(project: &Project, select: &[String]) -> Result<Compiled> {
    check_selection(project, select)?;
    let mut diagnostics = project.diagnostics.clone();
    let invalid = validate_files(project, &mut diagnostics);
    let kinds = Kinds::read(&project.crds, &project.sources, &mut diagnostics);
    let environments = selected(project, select, &invalid);
    for (env_input, env, _) in &environments {
        if let Some(tree) = &env_input.input.tree {
            diagnostics.extend(environment_names(tree, env));
        }
    }

    let pairs: Vec<(usize, &Input)> = (0..environments.len())
        .flat_map(|e| project.services.iter().map(move |s| (e, s)))
        .collect();
    let peers: Vec<Option<(String, Peer)>> = pairs
        .par_iter()
        .map(|&(e, svc)| {
            let (env_input, env, defaults) = &environments[e];
            peer(env_input, env, *defaults, svc, &invalid)
        })
        .collect();
    let mut directories: Vec<Directory> = environments.iter().map(|_| Directory::new()).collect();
    for ((e, _), peer) in pairs.iter().zip(peers) {
        if let Some((name, peer)) = peer {
            directories[*e].insert(name, peer);
        }
    }
    let results: Vec<Option<PairOutput>> = pairs
        .par_iter()
        .map(|&(e, svc)| {
            let (env_input, env, defaults) = &environments[e];
            let prepared = prepare_pair(env_input, env, *defaults, svc, &invalid)?;
            Some(match prepared {
                Ok(p) => finish_pair(p, &env_input.input.name, env, &directories[e], &kinds),
                Err(failed) => failed,
            })
        })
        .collect();

    let mut outputs = Vec::new();
    let mut per_env: Vec<Vec<PairOutput>> = environments.iter().map(|_| Vec::new()).collect();
    for ((e, _), result) in pairs.iter().zip(results) {
        if let Some(r) = result {
            per_env[*e].push(r);
        }
    }
    for ((env_input, env, _), pairs) in environments.iter().zip(per_env) {
        let (output, diags) = assemble(env_input, env, pairs);
        diagnostics.extend(diags);
        outputs.push(output);
    }
    merge_versions(&mut diagnostics);
    diagnostics.extend(gitops_targets(&environments, &outputs));
    normalize(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Ok(Compiled {
        diagnostics,
        environments: if has_errors { Vec::new() } else { outputs },
    })
}

/// Fails on a selected environment that does not exist.
fn check_selection(project: &Project, select: &[String]) -> Result<()> {
    let env_names: Vec<&str> = project
        .environments
        .iter()
        .map(|e| e.input.name.as_str())
        .collect();
    for name in select {
        if !env_names.contains(&name.as_str()) {
            match did_you_mean(name, env_names.iter().copied()) {
                Some(better) => bail!("unknown environment `{name}`; did you mean `{better}`?"),
                None => bail!(
                    "unknown environment `{name}`; environments are: {}",
                    env_names.join(", ")
                ),
            }
        }
    }
    Ok(())
}

/// Checks the shape of every file, in parallel; returns the files with
/// problems, which are compiled no further.
fn validate_files(project: &Project, diagnostics: &mut Vec<Diagnostic>) -> BTreeSet<FileId> {
    let mut files: Vec<(Kind, &Input)> = project
        .services
        .iter()
        .map(|s| (Kind::Service, s))
        .collect();
    for env in &project.environments {
        files.push((Kind::Environment, &env.input));
        files.extend(env.overlays.iter().map(|o| (Kind::Overlay, o)));
    }
    let schema_diags: Vec<Vec<Diagnostic>> = files
        .par_iter()
        .map(|(kind, input)| {
            let text = &project.sources.get(input.file).text;
            input
                .tree
                .as_ref()
                .map(|t| schema::validate(*kind, t, text))
                .unwrap_or_default()
        })
        .collect();
    let mut invalid: BTreeSet<FileId> = files
        .iter()
        .zip(&schema_diags)
        .filter(|(_, d)| !d.is_empty())
        .map(|((_, input), _)| input.file)
        .collect();
    diagnostics.extend(schema_diags.into_iter().flatten());
    // Reported by `load`; their names would fail every later check.
    invalid.extend(project.misnamed.iter().copied());
    invalid
}

/// An environment to compile: its input, its settings and its `[defaults]`.
type Selected<'a> = (&'a EnvInput, Environment, Option<&'a Node>);

/// The selected environments whose file is valid, in project order.
fn selected<'a>(
    project: &'a Project,
    select: &[String],
    invalid: &BTreeSet<FileId>,
) -> Vec<Selected<'a>> {
    project
        .environments
        .iter()
        .filter(|e| select.is_empty() || select.contains(&e.input.name))
        .filter_map(|e| {
            let tree = e
                .input
                .tree
                .as_ref()
                .filter(|_| !invalid.contains(&e.input.file))?;
            let mut json = tree.to_json();
            json.as_object_mut()?.remove("defaults");
            let env: Environment = serde_json::from_value(json).ok()?;
            Some((e, env, tree.get("defaults")))
        })
        .collect()
}

/// Service names that more than one namespace of the environment uses:
/// Kubernetes allows it, and their folders become `<name>@<namespace>` so
/// that neither overwrites the other (`@` is in no name or namespace).
fn names_in_several_namespaces(pairs: &[PairOutput]) -> BTreeSet<String> {
    let mut namespaces: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for pair in pairs.iter().filter(|p| !p.objects.is_empty()) {
        namespaces
            .entry(pair.service.as_str())
            .or_default()
            .insert(pair.namespace.as_str());
    }
    namespaces
        .into_iter()
        .filter(|(_, ns)| ns.len() > 1)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Joins an environment's pairs: namespaces, name clashes, capacity, and the
/// kustomization.
fn assemble(
    env_input: &EnvInput,
    env: &Environment,
    pairs: Vec<PairOutput>,
) -> (EnvOutput, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut files = Tree::new();
    let mut owners = BTreeMap::new();
    let mut seen: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    let mut namespaces = BTreeSet::from([env.namespace.clone()]);
    let mut demands = Vec::new();
    let shared = names_in_several_namespaces(&pairs);
    for pair in pairs {
        diagnostics.extend(pair.diagnostics);
        if pair.objects.is_empty() {
            continue;
        }
        match namespace_file(&pair.namespace) {
            Ok(_) => {
                namespaces.insert(pair.namespace.clone());
            }
            Err(problem) => diagnostics.push(
                Diagnostic::error(Code::InvalidName, format!("invalid namespace: {problem}"))
                    .in_file(pair.file)
                    .hint("namespaces are DNS-1123 labels: lowercase letters, digits and `-`"),
            ),
        }
        demands.extend(pair.requests.map(|r| (pair.service.clone(), r)));
        for object in pair.objects {
            // The API identity: the same kind in two groups is two kinds.
            let key = (object.group, object.kind, object.namespace, object.name);
            if let Some(other) = seen.get(&key) {
                let msg = format!(
                    "{} `{}` is rendered by both `{other}` and `{}`",
                    key.1, key.3, pair.service
                );
                diagnostics.push(
                    Diagnostic::error(Code::DuplicateName, msg)
                        .in_file(pair.file)
                        .hint("object names must be unique per API group, kind and namespace; rename a service, track or extra Service"),
                );
                continue;
            }
            seen.insert(key, pair.service.clone());
            let path = match object.file.strip_prefix(&format!("{}/", pair.service)) {
                Some(rest) if shared.contains(&pair.service) => {
                    format!("{}@{}/{rest}", pair.service, pair.namespace)
                }
                _ => object.file,
            };
            if files.contains_key(&path) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("two objects would be written to `{path}`"),
                    )
                    .in_file(pair.file)
                    .hint("rename a service, track or object so that each file is written once"),
                );
                continue;
            }
            owners.insert(path.clone(), Some(pair.service.clone()));
            files.insert(path, object.yaml.into_bytes());
        }
    }
    for ns in &namespaces {
        let value = render::namespace(ns, &env_input.input.name, env).value;
        let file = if *ns == env.namespace {
            "namespace.yaml".to_string()
        } else {
            namespace_file(ns).expect("checked when the pair was joined")
        };
        owners.insert(file.clone(), None);
        files.insert(file, to_yaml(&value).into_bytes());
    }
    capacity(env_input, env, &mut demands, &mut diagnostics);
    let resources: Vec<&str> = files.keys().map(String::as_str).collect();
    let kustomization = to_yaml(&render::kustomization(&resources)).into_bytes();
    owners.insert("kustomization.yaml".into(), None);
    files.insert("kustomization.yaml".into(), kustomization);
    let name = env_input.input.name.clone();
    let output = EnvOutput {
        kube_version: env.kube_version.clone(),
        branch: env.gitops.branch.clone(),
        path: env.gitops.path.clone().unwrap_or_else(|| name.clone()),
        name,
        files,
        owners,
    };
    (output, diagnostics)
}
