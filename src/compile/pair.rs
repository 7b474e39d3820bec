//! One (environment, service) pair: the environment's defaults, the service
//! and its overlay merged in that order, variables expanded, the result
//! checked, rendered, verified against the environment's Kubernetes version
//! and emitted as YAML text.
//!
//! A pair that fails at any step carries its diagnostics and no objects; the
//! JSON of each object is dropped as soon as its text is written.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::{EnvContext, Requests, ServiceCheck};
use crate::diag::{Code, Diagnostic, FileId, did_you_mean};
use crate::emit::to_yaml;
use crate::input::load::{EnvInput, Input};
use crate::input::merge::{Layers, merge};
use crate::input::tree::{Node, Step, Table, Value};
use crate::input::vars::interpolate;
use crate::kube;
use crate::model::{Date, Directory, Environment, Peer, Service};
use crate::render::{self, Context, Object, Rendered};

use super::kinds::Kinds;
use super::names::checked_file;
use super::policy::Policy;
use super::requests;

/// One rendered object, as text.
pub(super) struct Emitted {
    /// `<service>/<kind>-<name>.yaml`, in the environment's directory.
    pub(super) file: String,
    /// The API group (`apps`, `cert-manager.io`; empty for the core group):
    /// with the kind, namespace and name, the object's identity.
    pub(super) group: String,
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) yaml: String,
}

/// What one (environment, service) pair produced.
pub(super) struct PairOutput {
    pub(super) service: String,
    pub(super) file: FileId,
    pub(super) objects: Vec<Emitted>,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// cpu cores and memory bytes requested at full scale.
    /// What the pair requests at full scale, and where that is written;
    /// `None` when it failed.
    pub(super) requests: Option<Requests>,
    pub(super) namespace: String,
}

impl PairOutput {
    fn failed(service: String, file: FileId, diagnostics: Vec<Diagnostic>) -> Self {
        PairOutput {
            service,
            file,
            objects: Vec::new(),
            diagnostics,
            requests: None,
            namespace: String::new(),
        }
    }
}

/// A pair merged and read into the typed model, to be checked and rendered.
pub(super) struct Prepared {
    pub(super) name: String,
    namespace: String,
    /// The environment, service and overlay files, low to high.
    pub(super) layers: Layers,
    pub(super) tree: Node,
    pub(super) svc: Service,
}

/// The keys of a service the directory is made of, and those they depend on
/// (`enabled`, and the variables `namespace` may use).
const PEER_KEYS: [&str; 8] = [
    "enabled",
    "name",
    "namespace",
    "group",
    "version",
    "ports",
    "containers",
    "pod_labels",
];

/// What a service shows the others in this environment: its name, namespace
/// and port names. Computed from the few keys it needs, merged by the same
/// rules as the whole service but without holding every merged service at
/// once; `None` where the pair compiles to nothing. Problems are left to the
/// pair's own compile.
pub(super) fn peer(
    env_input: &EnvInput,
    env: &Environment,
    defaults: Option<&Node>,
    svc_input: &Input,
    invalid: &BTreeSet<FileId>,
) -> Option<(String, Peer)> {
    let service_tree = svc_input
        .tree
        .as_ref()
        .filter(|_| !invalid.contains(&svc_input.file))?;
    let overlay = overlay(env_input, &svc_input.name, invalid)?;
    let pick = |node: &Node| {
        let mut subset = Table::new();
        for key in PEER_KEYS {
            if let Some(value) = node.get(key) {
                subset.insert(key.to_string(), value.clone());
            }
        }
        Node {
            value: Value::Table(subset),
            origin: node.origin.clone(),
            key: node.key.clone(),
            overrode: Vec::new(),
        }
    };
    let overlay = overlay.and_then(|o| o.tree.as_ref()).map(pick);
    let mut tree = merged(
        defaults.map(pick).as_ref(),
        &pick(service_tree),
        overlay.as_ref(),
    );
    if let Some(Value::Boolean(false)) = tree.get("enabled").map(|n| &n.value) {
        return None;
    }
    let text = |tree: &Node, key: &str| tree.get(key).and_then(Node::as_str).map(str::to_string);
    let name = text(&tree, "name").unwrap_or_else(|| svc_input.name.clone());
    let namespace = text(&tree, "namespace").unwrap_or_else(|| env.namespace.clone());
    expand(
        &mut tree,
        &name,
        &env_input.input.name,
        &namespace,
        &mut Vec::new(),
    );
    let namespace = text(&tree, "namespace").unwrap_or(namespace);
    let mut ports = port_names(tree.get("ports"));
    if let Some(Value::Array(containers)) = tree.get("containers").map(|n| &n.value) {
        for c in containers {
            ports.extend(port_names(c.get("ports")));
        }
    }
    let unlabelled = match tree.get("pod_labels").map(|n| &n.value) {
        Some(Value::Table(labels)) => !labels.is_empty() && labels.get("app").is_none(),
        _ => false,
    };
    Some((
        name,
        Peer {
            namespace,
            ports,
            unlabelled,
        },
    ))
}

fn port_names(ports: Option<&Node>) -> Vec<String> {
    match ports.map(|n| &n.value) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|p| p.get("name").and_then(Node::as_str))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The first half of a pair: merge, variables, and the typed model. `None`
/// when the service is disabled there or one of its files is unreadable or
/// invalid (those problems are reported by the schema stage); `Err` when the
/// pair failed.
pub(super) fn prepare_pair(
    env_input: &EnvInput,
    env: &Environment,
    defaults: Option<&Node>,
    svc_input: &Input,
    invalid: &BTreeSet<FileId>,
) -> Option<Result<Prepared, PairOutput>> {
    let service_tree = svc_input.tree.as_ref()?;
    if invalid.contains(&svc_input.file) {
        return None;
    }
    let overlay = overlay(env_input, &svc_input.name, invalid)?;
    let env_name = env_input.input.name.as_str();

    let mut tree = merged(
        defaults,
        service_tree,
        overlay.and_then(|o| o.tree.as_ref()),
    );
    if let Some(Value::Boolean(false)) = tree.get("enabled").map(|n| &n.value) {
        return None;
    }
    let name = tree
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or(&svc_input.name)
        .to_string();
    let mut diagnostics: Vec<Diagnostic> = renamed_by_overlay(service_tree, overlay, svc_input)
        .into_iter()
        .collect();
    let namespace = tree
        .get("namespace")
        .and_then(Node::as_str)
        .unwrap_or(&env.namespace)
        .to_string();
    expand(&mut tree, &name, env_name, &namespace, &mut diagnostics);
    if !diagnostics.is_empty() {
        return Some(Err(PairOutput::failed(name, svc_input.file, diagnostics)));
    }

    let svc: Service = match crate::input::tree::deserialize(&tree) {
        Ok(s) => s,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::Internal,
                    format!("cannot read the merged service: {e}"),
                )
                .in_file(svc_input.file)
                .hint("this is a bug in manifold: the schema accepted what the model cannot read"),
            );
            return Some(Err(PairOutput::failed(name, svc_input.file, diagnostics)));
        }
    };
    Some(Ok(Prepared {
        name,
        namespace,
        layers: Layers {
            environment: env_input.input.file,
            service: svc_input.file,
            overlay: overlay.map(|o| o.file),
        },
        tree,
        svc,
    }))
}

/// The second half of a pair: checks, rendering, the Kubernetes schema and
/// the YAML text, with the directory of the environment's services.
pub(super) fn finish_pair(
    p: Prepared,
    env_name: &str,
    env: &Environment,
    directory: &Directory,
    kinds: &Kinds,
    today: Option<Date>,
) -> PairOutput {
    let Prepared {
        name,
        namespace,
        layers,
        tree,
        svc,
    } = p;
    let file = layers.service;
    let mut diagnostics = ServiceCheck::new(
        &svc,
        &name,
        &tree,
        layers,
        EnvContext {
            name: env_name,
            settings: env,
            directory,
        },
    )
    .run();
    let policy = Policy {
        svc: &svc,
        tree: &tree,
        layers,
        env_name,
        env,
        today,
    };
    policy.settle(&mut diagnostics);
    diagnostics.extend(policy.exception_problems());
    if diagnostics.iter().any(Diagnostic::is_error) {
        return PairOutput::failed(name, file, diagnostics);
    }

    let rendered = render::render(
        &svc,
        &Context {
            env_name,
            env,
            name: &name,
            directory,
            scopes: &kinds.scopes,
        },
    );
    unmatched_patches(&rendered, &tree, &mut diagnostics);
    let mut findings = policy.rendered(&rendered.objects);
    policy.settle(&mut findings);
    diagnostics.extend(findings);
    let site = Site { tree: &tree, file };
    let objects = emit_objects(&name, rendered.objects, &site, env, kinds, &mut diagnostics);
    PairOutput {
        requests: Some(requests(&svc, &tree, layers)),
        service: name,
        file,
        objects,
        diagnostics,
        namespace,
    }
}

/// The service's overlay in this environment: `Some(None)` when it has none,
/// `None` when it has one that is unreadable or invalid.
pub(super) fn overlay<'a>(
    env_input: &'a EnvInput,
    service: &str,
    invalid: &BTreeSet<FileId>,
) -> Option<Option<&'a Input>> {
    // Overlays are sorted by name (see `load`): a search, not a scan, or the
    // whole compile is quadratic in the number of services.
    let overlay = env_input
        .overlays
        .binary_search_by(|o| o.name.as_str().cmp(service))
        .ok()
        .map(|i| &env_input.overlays[i]);
    if let Some(o) = overlay {
        if o.tree.is_none() || invalid.contains(&o.file) {
            return None;
        }
    }
    Some(overlay)
}

/// defaults < service < overlay
pub(super) fn merged(defaults: Option<&Node>, service_tree: &Node, overlay: Option<&Node>) -> Node {
    let mut tree = match defaults {
        Some(d) => {
            let mut base = d.clone();
            base.key = None;
            merge(&mut base, service_tree);
            base
        }
        None => service_tree.clone(),
    };
    if let Some(o) = overlay {
        merge(&mut tree, o);
    }
    tree
}

/// An overlay that sets another `name` than its service's own.
fn renamed_by_overlay(
    service_tree: &Node,
    overlay: Option<&Input>,
    svc_input: &Input,
) -> Option<Diagnostic> {
    let own_name = service_tree
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or(&svc_input.name);
    let o = overlay.and_then(|o| o.tree.as_ref())?;
    let n = o.get("name").and_then(Node::as_str)?;
    (n != own_name).then(|| {
        Diagnostic::error(Code::InvalidValue, "an overlay cannot rename its service")
            .at(o.origin.file, n_span(o, "name"))
            .hint("remove `name` from the overlay; rename the service in `services/`")
    })
}

/// Expands `${name}`, `${env}`, `${namespace}`, `${group}` and `${version}`
/// in the merged tree.
pub(super) fn expand(
    tree: &mut Node,
    name: &str,
    env_name: &str,
    namespace: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    vars.insert("name", name.to_string());
    vars.insert("env", env_name.to_string());
    vars.insert("namespace", namespace.to_string());
    for key in ["group", "version"] {
        if let Some(v) = tree.get(key).and_then(Node::as_str) {
            vars.insert(key, v.to_string());
        }
    }
    interpolate(tree, &vars, diagnostics);
}

/// Patches whose `<kind>/<name>` names no rendered object.
pub(super) fn unmatched_patches(
    rendered: &Rendered,
    tree: &Node,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for key in &rendered.unmatched_patches {
        let known: Vec<String> = rendered.objects.iter().map(Object::patch_key).collect();
        let d = Diagnostic::error(
            Code::UnmatchedPatch,
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
}

/// The merged service tree and its file: where the problems of its objects
/// are shown.
struct Site<'a> {
    tree: &'a Node,
    file: FileId,
}

/// Verifies each object against the environment's Kubernetes version (or
/// its CRD) and its kind's scope, checks its name and path, and writes it
/// as YAML.
fn emit_objects(
    service: &str,
    objects: Vec<Object>,
    site: &Site<'_>,
    env: &Environment,
    kinds: &Kinds,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Emitted> {
    let (tree, file) = (site.tree, site.file);
    let mut emitted = Vec::with_capacity(objects.len());
    for object in objects {
        let verdict = kube::validate_with(&env.kube_version, &kinds.crds, &object.value);
        for problem in &verdict.problems {
            diagnostics.push(match &verdict.crd {
                None => object_diagnostic(&object, problem, tree, file, env),
                Some(crd) => crd_diagnostic(&object, problem, crd, site),
            });
        }
        diagnostics.extend(namespace_of_cluster_object(&object, kinds, site));
        let Some(file) = checked_file(service, &object, tree, file, diagnostics) else {
            continue;
        };
        // The JSON is dropped here: only the text is kept for the whole run.
        let group = object.value["apiVersion"]
            .as_str()
            .and_then(|v| v.split_once('/'))
            .map_or("", |(group, _)| group)
            .to_string();
        emitted.push(Emitted {
            file,
            group,
            yaml: to_yaml(&object.value),
            kind: object.kind,
            name: object.name,
            namespace: object.namespace.unwrap_or_default(),
        });
    }
    emitted
}

fn n_span(node: &Node, key: &str) -> std::ops::Range<usize> {
    node.get(key).map_or(0..0, |n| n.span(true))
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
        Code::KubernetesSchema,
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

/// The node of the input that wrote `steps` of `object`: in its raw table
/// or its patch, whichever holds more of the path; `None` for an object
/// manifold rendered and no patch touched.
fn written<'a>(object: &Object, steps: &[Step], tree: &'a Node) -> Option<&'a Node> {
    written_depth(object, steps, tree).map(|(_, node, _)| node)
}

/// [`written`], with how many steps of the path the node is down, and
/// whether it is in a raw object's table (rather than a patch).
pub(super) fn written_depth<'a>(
    object: &Object,
    steps: &[Step],
    tree: &'a Node,
) -> Option<(usize, &'a Node, bool)> {
    let mut best: Option<(usize, &Node, bool)> = None;
    let raw = object
        .raw_key
        .as_ref()
        .map(|k| (Step::Key("objects".into()), k.clone(), true));
    let patch = Some((Step::Key("patches".into()), object.patch_key(), false));
    for (table, key, is_raw) in raw.into_iter().chain(patch) {
        let Some(mut node) = tree.at(&[table, Step::Key(key)]) else {
            continue;
        };
        let mut depth = 0;
        for step in steps {
            let next = match (step, &node.value) {
                (Step::Key(k), Value::Table(t)) => t.get(k),
                (Step::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            node = next;
            depth += 1;
        }
        if best.is_none_or(|(d, _, _)| depth > d) {
            best = Some((depth, node, is_raw));
        }
    }
    best
}

/// A custom resource its CRD rejects: at the field that was written, or
/// the nearest table above it.
fn crd_diagnostic(
    object: &Object,
    problem: &kube::Problem,
    crd: &str,
    site: &Site<'_>,
) -> Diagnostic {
    let field = if problem.path.is_empty() {
        String::new()
    } else {
        format!(" at `{}`", problem.path)
    };
    let d = Diagnostic::error(
        Code::CrdSchema,
        format!(
            "{} `{}` does not match CustomResourceDefinition `{crd}`{field}: {}",
            object.kind, object.name, problem.message
        ),
    );
    let hint = match problem.path.as_str() {
        "apiVersion" => "use a version the CRD serves, or update the CRD in `crds/`",
        _ => "fix the field, or update the CRD in `crds/` if the cluster's is newer",
    };
    match written(object, &problem.steps, site.tree) {
        Some(n) => d.at(n.origin.file, n.span(true)).hint(hint),
        None => d.in_file(site.file).hint(hint),
    }
}

/// A cluster-scoped object that names a namespace: the API server would
/// ignore it or refuse the object, depending on the client.
fn namespace_of_cluster_object(
    object: &Object,
    kinds: &Kinds,
    site: &Site<'_>,
) -> Option<Diagnostic> {
    // Only raw objects can be of a cluster-scoped kind: manifold renders
    // none, and a patch keeps its target's kind.
    object.raw_key.as_ref()?;
    let value = &object.value;
    let namespace = value["metadata"]["namespace"].as_str()?;
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    if !kinds.scopes.is_cluster(api_version, &object.kind) {
        return None;
    }
    let from = match kinds.crds.get(api_version, &object.kind) {
        Some(crd) => format!(
            "its CustomResourceDefinition `{}` says `scope: Cluster`",
            crd.name
        ),
        None => "Kubernetes serves it outside namespaces".to_string(),
    };
    let d = Diagnostic::error(
        Code::ClusterScoped,
        format!(
            "{} `{}` is cluster-scoped but sets namespace `{namespace}`",
            object.kind, object.name
        ),
    )
    .hint(format!("remove `metadata.namespace`: {from}"));
    let steps = [Step::Key("metadata".into()), Step::Key("namespace".into())];
    Some(match written(object, &steps, site.tree) {
        Some(n) => d.at(n.origin.file, n.span(true)),
        None => d.in_file(site.file),
    })
}

/// The same schema problem found for several Kubernetes versions is one
/// problem: "invalid for Kubernetes 1.35 and 1.37".
pub(super) fn merge_versions(diagnostics: &mut Vec<Diagnostic>) {
    const MARK: &str = " for Kubernetes ";
    // (file, span, message with the version left out) -> (first, versions)
    type Key = (Option<FileId>, Option<(usize, usize)>, String);
    let mut seen: BTreeMap<Key, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut keep = vec![true; diagnostics.len()];
    for (i, d) in diagnostics.iter().enumerate() {
        if d.code != Code::KubernetesSchema {
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
