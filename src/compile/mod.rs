//! The compile pipeline over a loaded project: validate, merge, check, render,
//! verify against Kubernetes, emit.
//!
//! Every (environment, service) pair is compiled in parallel and the results
//! are collected in a fixed order, so the output is byte-identical for any
//! thread count. All problems of all pairs are collected; a project with any
//! error produces no output at all. No I/O happens here.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use rayon::prelude::*;
use serde_json::Value as Json;

use crate::check::{ServiceCheck, capacity, requests};
use crate::diag::{Diagnostic, FileId, did_you_mean, normalize};
use crate::emit::{self, Tree, to_yaml};
use crate::input::load::{EnvInput, Input, Project};
use crate::input::merge::{interpolate, merge};
use crate::input::tree::{Node, Step};
use crate::kube;
use crate::model::{Environment, Service};
use crate::render::{self, Context, Object};
use crate::schema::{self, Kind};

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
    let mut diagnostics = project.diagnostics.clone();

    // Shape of every file, in parallel.
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
    let invalid: BTreeSet<FileId> = files
        .iter()
        .zip(&schema_diags)
        .filter(|(_, d)| !d.is_empty())
        .map(|((_, input), _)| input.file)
        .collect();
    diagnostics.extend(schema_diags.into_iter().flatten());

    let environments: Vec<(&EnvInput, Environment, Option<&Node>)> = project
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
        .collect();

    let pairs: Vec<(usize, &Input)> = (0..environments.len())
        .flat_map(|e| project.services.iter().map(move |s| (e, s)))
        .collect();
    let results: Vec<Option<PairOutput>> = pairs
        .par_iter()
        .map(|&(e, svc)| {
            let (env_input, env, defaults) = &environments[e];
            compile_pair(env_input, env, *defaults, svc, &invalid)
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

/// One rendered object, as text.
struct Emitted {
    file: String,
    kind: String,
    name: String,
    namespace: String,
    yaml: String,
}

/// The same schema problem found for several Kubernetes versions is one
/// problem: "invalid for Kubernetes 1.35 and 1.37".
fn merge_versions(diagnostics: &mut Vec<Diagnostic>) {
    const MARK: &str = " for Kubernetes ";
    // (file, span, message with the version left out) -> (first, versions)
    type Key = (Option<FileId>, Option<(usize, usize)>, String);
    let mut seen: BTreeMap<Key, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut keep = vec![true; diagnostics.len()];
    for (i, d) in diagnostics.iter().enumerate() {
        if d.code != "kubernetes-schema" {
            continue;
        }
        let Some(at) = d.message.find(MARK) else {
            continue;
        };
        let rest = &d.message[at + MARK.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let version = rest[..end].to_string();
        let template = format!("{}{MARK}\u{0}{}", &d.message[..at], &rest[end..]);
        let span = d.span.as_ref().map(|s| (s.start, s.end));
        match seen.get_mut(&(d.file, span, template.clone())) {
            Some((_, versions)) => {
                versions.insert(version);
                keep[i] = false;
            }
            None => {
                seen.insert((d.file, span, template), (i, BTreeSet::from([version])));
            }
        }
    }
    for ((_, _, template), (i, versions)) in seen {
        let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
        let list = match versions.as_slice() {
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => continue,
        };
        diagnostics[i].message = template.replace('\u{0}', &list);
    }
    let mut index = 0;
    diagnostics.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// What one (environment, service) pair produced.
struct PairOutput {
    service: String,
    file: FileId,
    objects: Vec<Emitted>,
    diagnostics: Vec<Diagnostic>,
    /// cpu cores and memory bytes requested at full scale.
    requests: (f64, f64),
    namespace: String,
}

fn compile_pair(
    env_input: &EnvInput,
    env: &Environment,
    defaults: Option<&Node>,
    svc_input: &Input,
    invalid: &BTreeSet<FileId>,
) -> Option<PairOutput> {
    let service_tree = svc_input.tree.as_ref()?;
    if invalid.contains(&svc_input.file) {
        return None;
    }
    // Overlays are sorted by name (see `load`): a search, not a scan, or the
    // whole compile is quadratic in the number of services.
    let overlay = env_input
        .overlays
        .binary_search_by(|o| o.name.as_str().cmp(&svc_input.name))
        .ok()
        .map(|i| &env_input.overlays[i]);
    if let Some(o) = overlay {
        if o.tree.is_none() || invalid.contains(&o.file) {
            return None;
        }
    }
    let env_name = env_input.input.name.as_str();

    // defaults < service < overlay
    let mut tree = match defaults {
        Some(d) => {
            let mut base = d.clone();
            base.key = None;
            merge(&mut base, service_tree);
            base
        }
        None => service_tree.clone(),
    };
    if let Some(o) = overlay.and_then(|o| o.tree.as_ref()) {
        merge(&mut tree, o);
    }
    if let Some(crate::input::tree::Value::Boolean(false)) = tree.get("enabled").map(|n| &n.value) {
        return None;
    }
    let own_name = service_tree
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or(&svc_input.name);
    let name = tree
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or(&svc_input.name)
        .to_string();
    let mut diagnostics = Vec::new();
    if let Some(o) = overlay.and_then(|o| o.tree.as_ref()) {
        if let Some(n) = o.get("name").and_then(Node::as_str) {
            if n != own_name {
                diagnostics.push(
                    Diagnostic::error("invalid-value", "an overlay cannot rename its service")
                        .at(o.origin.file, n_span(o, "name"))
                        .hint("remove `name` from the overlay; rename the service in `services/`"),
                );
            }
        }
    }
    let namespace = tree
        .get("namespace")
        .and_then(Node::as_str)
        .unwrap_or(&env.namespace)
        .to_string();
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    vars.insert("name", name.clone());
    vars.insert("env", env_name.to_string());
    vars.insert("namespace", namespace.clone());
    for key in ["group", "version"] {
        if let Some(v) = tree.get(key).and_then(Node::as_str) {
            vars.insert(key, v.to_string());
        }
    }
    interpolate(&mut tree, &vars, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Some(PairOutput::failed(name, svc_input.file, diagnostics));
    }

    let svc: Service = match crate::input::tree::deserialize(&tree) {
        Ok(s) => s,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error("internal", format!("cannot read the merged service: {e}"))
                    .in_file(svc_input.file)
                    .hint(
                        "this is a bug in manifold: the schema accepted what the model cannot read",
                    ),
            );
            return Some(PairOutput::failed(name, svc_input.file, diagnostics));
        }
    };
    let overlay_file = overlay.map(|o| o.file);
    diagnostics
        .extend(ServiceCheck::new(&svc, &tree, svc_input.file, overlay_file, env_name).run());
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Some(PairOutput::failed(name, svc_input.file, diagnostics));
    }

    let rendered = render::render(
        &svc,
        &Context {
            env_name,
            env,
            name: &name,
        },
    );
    for key in &rendered.unmatched_patches {
        let known: Vec<String> = rendered.objects.iter().map(Object::patch_key).collect();
        let d = Diagnostic::error(
            "unmatched-patch",
            format!("patch `{key}` matches no object of this service"),
        );
        let d = match did_you_mean(key, known.iter().map(String::as_str)) {
            Some(better) => d.hint(format!("did you mean `{better}`?")),
            None => d.hint(format!(
                "patch targets are `<kind>/<name>`, one of: {}",
                known.join(", ")
            )),
        };
        let node = tree.nearest(&[Step::Key("patches".into()), Step::Key(key.clone())]);
        diagnostics.push(d.at(node.origin.file, node.span(true)));
    }

    let mut objects = Vec::with_capacity(rendered.objects.len());
    for object in rendered.objects {
        for problem in kube::validate(&env.kube_version, &object.value) {
            diagnostics.push(object_diagnostic(
                &object,
                &problem,
                &tree,
                svc_input.file,
                env,
            ));
        }
        // The JSON is dropped here: only the text is kept for the whole run.
        objects.push(Emitted {
            file: format!("{}-{}.yaml", object.kind.to_lowercase(), object.name),
            yaml: to_yaml(&object.value),
            kind: object.kind,
            name: object.name,
            namespace: object.namespace.unwrap_or_default(),
        });
    }
    Some(PairOutput {
        requests: requests(&svc),
        service: name,
        file: svc_input.file,
        objects,
        diagnostics,
        namespace,
    })
}

fn n_span(node: &Node, key: &str) -> std::ops::Range<usize> {
    node.get(key).map_or(0..0, |n| n.span(true))
}

impl PairOutput {
    fn failed(service: String, file: FileId, diagnostics: Vec<Diagnostic>) -> Self {
        PairOutput {
            service,
            file,
            objects: Vec::new(),
            diagnostics,
            requests: (0.0, 0.0),
            namespace: String::new(),
        }
    }
}

/// A rendered object the Kubernetes schema rejects: point at the raw object
/// or patch that wrote it, else at the service.
fn object_diagnostic(
    object: &Object,
    problem: &kube::Problem,
    tree: &Node,
    file: FileId,
    env: &Environment,
) -> Diagnostic {
    let at = match &object.raw_key {
        Some(key) => vec![Step::Key("objects".into()), Step::Key(key.clone())],
        None => vec![Step::Key("patches".into()), Step::Key(object.patch_key())],
    };
    let node = tree.at(&at);
    let field = if problem.path.is_empty() {
        String::new()
    } else {
        format!(" at `{}`", problem.path)
    };
    let d = Diagnostic::error(
        "kubernetes-schema",
        format!(
            "{} `{}` is invalid for Kubernetes {}{field}: {}",
            object.kind, object.name, env.kube_version, problem.message
        ),
    );
    match node {
        Some(n) => d
            .at(n.origin.file, n.span(true))
            .hint("fix the field in this table"),
        None => d
            .in_file(file)
            .hint("this object is rendered by manifold; please report it as a bug"),
    }
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
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut namespaces = BTreeSet::from([env.namespace.clone()]);
    let (mut cpu, mut memory) = (0.0, 0.0);
    let mut biggest: Vec<(f64, f64, String)> = Vec::new();
    for pair in pairs {
        diagnostics.extend(pair.diagnostics);
        if pair.objects.is_empty() {
            continue;
        }
        namespaces.insert(pair.namespace.clone());
        cpu += pair.requests.0;
        memory += pair.requests.1;
        biggest.push((pair.requests.0, pair.requests.1, pair.service.clone()));
        for object in pair.objects {
            let key = (object.kind, object.namespace, object.name);
            if let Some(other) = seen.get(&key) {
                let msg = format!(
                    "{} `{}` is rendered by both `{other}` and `{}`",
                    key.0, key.2, pair.service
                );
                diagnostics.push(
                    Diagnostic::error("duplicate-name", msg)
                        .in_file(pair.file)
                        .hint("object names must be unique per kind and namespace; rename a service, track or extra Service"),
                );
                continue;
            }
            seen.insert(key, pair.service.clone());
            let path = format!("{}/{}", pair.service, object.file);
            owners.insert(path.clone(), Some(pair.service.clone()));
            files.insert(path, object.yaml.into_bytes());
        }
    }
    for ns in &namespaces {
        let mut labels = env.labels.clone();
        labels.insert("app.kubernetes.io/managed-by".into(), "manifold".into());
        labels.insert("env".into(), env_input.input.name.clone());
        let mut value = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": ns, "labels": labels },
        });
        if !env.annotations.is_empty() {
            value["metadata"]["annotations"] =
                serde_json::to_value(&env.annotations).unwrap_or(Json::Null);
        }
        let file = if *ns == env.namespace {
            "namespace.yaml".to_string()
        } else {
            format!("namespace-{ns}.yaml")
        };
        owners.insert(file.clone(), None);
        files.insert(file, to_yaml(&value).into_bytes());
    }
    capacity(env_input, env, cpu, memory, &mut biggest, &mut diagnostics);
    let resources: Vec<&str> = files.keys().map(String::as_str).collect();
    let kustomization = emit::kustomization(&resources).into_bytes();
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

/// Where `publish` puts each environment: valid branch names, and paths that
/// neither clash with another environment of the same branch nor with the
/// branch's own files.
fn gitops_targets(
    environments: &[(&EnvInput, Environment, Option<&Node>)],
    outputs: &[EnvOutput],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let at = |env_input: &EnvInput, key: &str, d: Diagnostic| match env_input
        .input
        .tree
        .as_ref()
        .and_then(|t| t.at(&[Step::Key("gitops".into()), Step::Key(key.into())]))
    {
        Some(node) => d.at(node.origin.file, node.span(false)),
        None => d.in_file(env_input.input.file),
    };
    let mut taken: Vec<(&str, &str, &str)> = Vec::new();
    for ((env_input, _, _), out) in environments.iter().zip(outputs) {
        let branch = out
            .branch
            .as_deref()
            .unwrap_or(crate::model::DEFAULT_BRANCH);
        if !crate::git::is_valid_branch_name(branch) {
            diagnostics.push(at(
                env_input,
                "branch",
                Diagnostic::error("invalid-value", format!("`{branch}` is not a valid branch name"))
                    .hint("use letters, digits, `-`, `_`, `.` and `/`, as `git check-ref-format --branch` allows"),
            ));
        }
        let bad_segment = out
            .path
            .split('/')
            .find(|s| *s == "." || *s == ".." || s.eq_ignore_ascii_case(".git"));
        if let Some(segment) = bad_segment {
            diagnostics.push(at(
                env_input,
                "path",
                Diagnostic::error(
                    "invalid-value",
                    format!("`{segment}` cannot be part of a gitops path"),
                )
                .hint("name a directory inside the branch, like `clusters/prod`"),
            ));
            continue;
        }
        if crate::model::ROOT_FILES.contains(&out.path.as_str()) {
            diagnostics.push(at(
                env_input,
                "path",
                Diagnostic::error(
                    "invalid-value",
                    format!(
                        "`{}` is a file manifold writes at the root of the branch",
                        out.path
                    ),
                )
                .hint("choose another directory name"),
            ));
            continue;
        }
        let nested = |a: &str, b: &str| a == b || b.starts_with(&format!("{a}/"));
        if let Some((other, other_path, _)) = taken
            .iter()
            .find(|(_, p, b)| *b == branch && (nested(p, &out.path) || nested(&out.path, p)))
        {
            diagnostics.push(at(
                env_input,
                "path",
                Diagnostic::error(
                    "gitops-clash",
                    format!(
                        "environments `{other}` and `{}` are both published to `{branch}:{}`",
                        out.name,
                        if other_path.len() < out.path.len() {
                            *other_path
                        } else {
                            out.path.as_str()
                        }
                    ),
                )
                .hint("give one of them its own `[gitops] path` or `branch`"),
            ));
            continue;
        }
        taken.push((&out.name, &out.path, branch));
    }
    diagnostics
}
