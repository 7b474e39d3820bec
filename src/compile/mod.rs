//! The compile pipeline over a loaded project: validate, merge, check, render,
//! verify against Kubernetes, emit.
//!
//! Every (environment, service) pair is compiled in parallel and the results
//! are collected in a fixed order, so the output is byte-identical for any
//! thread count. All problems of all pairs are collected; a project with any
//! error produces no output at all. No I/O happens here.
//!
//! This file runs the stages in order and assembles each environment from its
//! pairs and its manifests; `kinds` reads the CRDs of `crds/` (and so which kinds are
//! cluster-scoped), `pair` compiles one (environment, service) pair, `names` checks
//! the names and paths of its rendered objects, `manifests` checks the
//! objects of the `manifests/` folders, `rendered` runs the policy checks
//! on a pair's rendered objects and `policy` settles each policy finding
//! (severity, exceptions), `gitops` checks where each environment would be
//! published, `trace` merges and renders one pair for `explain`, and
//! `merged` stops after the merge, for views of the configuration
//! (`manifold status`).

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
mod manifests;
mod merged;
mod names;
mod pair;
mod trace;

pub use merged::{Merged, MergedEnv, MergedService, merged};
mod policy;
mod rendered;

use gitops::gitops_targets;
use kinds::Kinds;
use manifests::{Placed, manifests};
use pair::{PairOutput, finish_pair, merge_versions, peer, prepare_pair};
pub use trace::{Traced, trace};

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
    let (diagnostics, outputs) = compile_all(project, select)?;
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Ok(Compiled {
        diagnostics,
        environments: if has_errors { Vec::new() } else { outputs },
    })
}

/// One environment compiled for a command that edits some of its
/// services (`set`, `promote`): its files even when some of its pairs
/// fail (a failed pair renders nothing), and every diagnostic, for the
/// caller to tell those of its pairs from the others.
#[derive(Debug)]
pub struct Partial {
    pub diagnostics: Vec<Diagnostic>,
    /// `None` when the environment's own file is invalid.
    pub environment: Option<EnvOutput>,
}

/// Compiles one environment; see [`Partial`].
pub fn compile_environment(project: &Project, env: &str) -> Result<Partial> {
    let (diagnostics, mut outputs) = compile_all(project, &[env.to_string()])?;
    Ok(Partial {
        diagnostics,
        environment: outputs.pop(),
    })
}

/// A service's merged view in an environment, before variables: the
/// environment's `[defaults]`, the service file and its overlay, merged;
/// `None` when one of them is missing or cannot be parsed (the compile
/// says why). `service` is the name of the service's file.
pub fn merged_service(project: &Project, env: &str, service: &str) -> Option<Node> {
    let env_input = project.environments.iter().find(|e| e.input.name == env)?;
    let svc = project.services.iter().find(|s| s.name == service)?;
    let overlay = match env_input.overlays.iter().find(|o| o.name == service) {
        Some(o) => Some(o.tree.as_ref()?),
        None => None,
    };
    let defaults = env_input.input.tree.as_ref()?.get("defaults");
    Some(pair::merged(defaults, svc.tree.as_ref()?, overlay))
}

/// The pipeline: every diagnostic, and the output of every selected
/// environment whose file is valid, errors or not.
fn compile_all(project: &Project, select: &[String]) -> Result<(Vec<Diagnostic>, Vec<EnvOutput>)> {
    check_selection(project, select)?;
    let mut diagnostics = project.diagnostics.clone();
    let invalid = validate_files(project, &mut diagnostics);
    diagnostics.extend(merged::promotion_of(project, &invalid).1);
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
                Ok(p) => finish_pair(
                    p,
                    &env_input.input.name,
                    env,
                    &directories[e],
                    &kinds,
                    project.today,
                ),
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
        let (placed, diags) = manifests(project, &env_input.input.name, env, &kinds);
        diagnostics.extend(diags);
        let (output, diags) = assemble(env_input, env, pairs, placed);
        diagnostics.extend(diags);
        outputs.push(output);
    }
    merge_versions(&mut diagnostics);
    diagnostics.extend(gitops_targets(&environments, &outputs));
    normalize(&mut diagnostics);
    Ok((diagnostics, outputs))
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

/// Who wrote an object first, for the message about a second one.
enum Owner {
    Service(String),
    /// `manifests/a.yaml:3:9`
    Manifest(String),
}

/// An object's API identity: group, kind, namespace and name (the same
/// kind in two groups is two kinds).
type Identity = (String, String, String, String);

/// An environment being joined.
#[derive(Default)]
struct Assembly {
    files: Tree,
    owners: BTreeMap<String, Option<String>>,
    seen: BTreeMap<Identity, Owner>,
    /// The namespaces manifold writes a Namespace for.
    namespaces: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// Joins an environment's pairs and manifests: namespaces, name clashes,
/// capacity, and the kustomization.
fn assemble(
    env_input: &EnvInput,
    env: &Environment,
    pairs: Vec<PairOutput>,
    manifests: Vec<Placed>,
) -> (EnvOutput, Vec<Diagnostic>) {
    let mut a = Assembly {
        namespaces: BTreeSet::from([env.namespace.clone()]),
        ..Assembly::default()
    };
    let mut demands = Vec::new();
    let shared = names_in_several_namespaces(&pairs);
    for pair in pairs {
        a.diagnostics.extend(pair.diagnostics);
        if pair.objects.is_empty() {
            continue;
        }
        match namespace_file(&pair.namespace) {
            Ok(_) => {
                a.namespaces.insert(pair.namespace.clone());
            }
            Err(problem) => a.diagnostics.push(
                Diagnostic::error(Code::InvalidName, format!("invalid namespace: {problem}"))
                    .in_file(pair.file)
                    .hint("namespaces are DNS-1123 labels: lowercase letters, digits and `-`"),
            ),
        }
        demands.extend(pair.requests.map(|r| (pair.service.clone(), r)));
        for object in pair.objects {
            let key = (object.group, object.kind, object.namespace, object.name);
            if let Some(other) = a.seen.get(&key) {
                let other = match other {
                    Owner::Service(name) | Owner::Manifest(name) => name,
                };
                let msg = format!(
                    "{} `{}` is rendered by both `{other}` and `{}`",
                    key.1, key.3, pair.service
                );
                a.diagnostics.push(
                    Diagnostic::error(Code::DuplicateName, msg)
                        .in_file(pair.file)
                        .hint("object names must be unique per API group, kind and namespace; rename a service, track or extra Service"),
                );
                continue;
            }
            a.seen.insert(key, Owner::Service(pair.service.clone()));
            let path = match object.file.strip_prefix(&format!("{}/", pair.service)) {
                Some(rest) if shared.contains(&pair.service) => {
                    format!("{}@{}/{rest}", pair.service, pair.namespace)
                }
                _ => object.file,
            };
            if a.files.contains_key(&path) {
                a.diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("two objects would be written to `{path}`"),
                    )
                    .in_file(pair.file)
                    .hint("rename a service, track or object so that each file is written once"),
                );
                continue;
            }
            a.owners.insert(path.clone(), Some(pair.service.clone()));
            a.files.insert(path, object.yaml.into_bytes());
        }
    }
    join_manifests(&mut a, manifests);
    let Assembly {
        mut files,
        mut owners,
        namespaces,
        mut diagnostics,
        ..
    } = a;
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

/// The namespaces every cluster has: a manifest's object in one of them
/// (third-party YAML often targets `kube-system`) gets no Namespace.
const EVERY_CLUSTER: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// Adds the objects of the environment's manifest files, after its
/// services': an identity or a file taken twice is an error at the manifest;
/// their namespaces get a Namespace unless a manifest defines it or every
/// cluster has it, and a manifest may not define one that manifold writes
/// anyway.
fn join_manifests(a: &mut Assembly, manifests: Vec<Placed>) {
    let is_namespace = |p: &Placed| p.object.kind == "Namespace" && p.object.group.is_empty();
    let defined: BTreeSet<String> = manifests
        .iter()
        .filter(|p| is_namespace(p))
        .map(|p| p.object.name.clone())
        .collect();
    let rendered = a.namespaces.clone();
    for placed in manifests {
        let Placed {
            object,
            file,
            span,
            location,
        } = placed;
        let error = |message: String, hint: &str| {
            Diagnostic::error(Code::DuplicateName, message)
                .at(file, span.clone())
                .hint(hint)
        };
        if object.kind == "Namespace" && object.group.is_empty() && rendered.contains(&object.name)
        {
            a.diagnostics.push(error(
                format!("Namespace `{}` is one manifold writes for this environment", object.name),
                "manifold writes the environment's namespace and those its services use, with the environment's `labels` and `annotations`; remove this one from the manifest file",
            ));
            continue;
        }
        let key = (
            object.group.clone(),
            object.kind.clone(),
            object.namespace.clone(),
            object.name.clone(),
        );
        if let Some(other) = a.seen.get(&key) {
            let message = match other {
                Owner::Service(s) => format!(
                    "{} `{}` is also rendered by service `{s}`",
                    object.kind, object.name
                ),
                Owner::Manifest(at) => {
                    format!(
                        "{} `{}` is also defined at `{at}`",
                        object.kind, object.name
                    )
                }
            };
            a.diagnostics.push(error(message, "an object's API group, kind, namespace and name must be unique in an environment: remove one of the two, or rename it"));
            continue;
        }
        a.seen.insert(key, Owner::Manifest(location));
        if a.files.contains_key(&object.file) {
            a.diagnostics.push(error(
                format!("two objects would be written to `{}`", object.file),
                "the objects of a manifest file are written to a folder named after the file: move one of them to another file",
            ));
            continue;
        }
        let ns = &object.namespace;
        let known = defined.contains(ns) || EVERY_CLUSTER.contains(&ns.as_str());
        if !ns.is_empty() && !known && namespace_file(ns).is_ok() {
            a.namespaces.insert(ns.clone());
        }
        a.owners.insert(object.file.clone(), None);
        a.files.insert(object.file, object.yaml.into_bytes());
    }
}
