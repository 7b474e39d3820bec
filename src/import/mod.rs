//! `manifold import`: existing Kubernetes YAML in, service files out, with
//! the round trip checked before anything is written.
//!
//! The stages, one file each: `read` (documents and `List` items), `clean`
//! (server-populated fields), `group` (a workload and what selects or
//! references it), `tracks` (the workloads of one app as one service),
//! `environment` (the environment to compile for), `map` with `map_pod`,
//! `map_container`, `security`, `map_objects` and `map_routing`
//! (Kubernetes fields to typed keys, the one place that knows them),
//! `toml` (the writer), `compare` (field-by-field differences and the
//! patches that remove them), `roundtrip` (the compile of the new files)
//! and `blame` (the environment's defaults behind a difference); `envs`
//! imports several environments, each alone, and splits each service into
//! the shared file and overlays. The
//! patches are derived, not written by hand: the typed service is rendered,
//! every input value the rendering does not reproduce goes into `patches`,
//! and the service is rendered again and compared; what still differs is
//! reported.
//!
//! No I/O: the command line reads the inputs and the repository's
//! environments, and writes the files this returns.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

mod blame;
pub mod clean;
pub mod compare;
mod environment;
mod envs;
pub mod group;
mod map;
mod map_container;
mod map_objects;
mod map_pod;
mod map_routing;
pub mod read;
pub mod roundtrip;
mod security;
pub mod toml;
mod tracks;

use compare::Difference;
use map::Mapped;
use roundtrip::{Failed, Key};
use toml::Toml;

pub use envs::{EnvInput, Imports, MultiRequest, import_environments};

/// What the import is given.
pub struct Request {
    /// Input texts, by the name to show (a path, or `-`).
    pub inputs: Vec<(String, Vec<u8>)>,
    /// The repository's environment files: name and text.
    pub environments: Vec<(String, String)>,
}

/// A file to write, relative to the repository.
#[derive(Debug)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// One service written.
#[derive(Debug)]
pub struct ServiceReport {
    pub name: String,
    pub path: String,
    /// `Deployment/web`, ... in input order.
    pub objects: Vec<String>,
    /// Leaf values of the input reproduced by typed keys.
    pub typed: usize,
    pub patched: usize,
    pub raw: usize,
}

/// The result: files, what went where, and the round trip's differences.
#[derive(Debug, Default)]
pub struct Imported {
    pub files: Vec<File>,
    pub environment: String,
    pub namespace: String,
    /// Whether the environment file is new.
    pub new_environment: bool,
    pub services: Vec<ServiceReport>,
    pub left_out: Vec<(String, String)>,
    /// What the user should know about an object: a second workload of an
    /// app that fits no track, a literal secret kept in a patch.
    pub notes: Vec<(String, String)>,
    pub secrets: BTreeSet<(String, String)>,
    /// Server-populated fields dropped: path and how many objects had it.
    pub dropped: BTreeMap<String, usize>,
    pub differences: Vec<Difference>,
}

/// Why nothing can be imported.
pub enum Failure {
    /// Input that is not Kubernetes objects, or holds no workload.
    Input(Vec<String>),
    /// The written services do not compile: a bug of import, or input
    /// manifold refuses (shown as diagnostics on the new files).
    Compile(Box<Failed>),
}

/// The newest Kubernetes version an environment written by import targets.
pub const KUBE_VERSION: &str = "1.35";

pub fn import(request: &Request) -> Result<Imported, Failure> {
    let (objects, problems) = read_all(&request.inputs);
    let prepared = prepare(objects, problems, &request.environments, None)?;
    let mut imported = prepared.imported;
    let env = prepared.env;
    imported.files = prepared
        .written
        .into_iter()
        .filter(|(path, _)| env.new || path.starts_with("services/"))
        .map(|(path, text)| File { path, text })
        .collect();
    Ok(imported)
}

/// Every object of the inputs, and what could not be read.
fn read_all(inputs: &[(String, Vec<u8>)]) -> (Vec<read::Object>, Vec<String>) {
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for (name, bytes) in inputs {
        match read::objects(name, bytes) {
            Ok(found) => objects.extend(found),
            Err(e) => problems.push(e),
        }
    }
    (objects, problems)
}

/// One environment imported on its own: the summary (without files), the
/// mapped services with their patches, the environment, and the files
/// that reproduce the input in it.
struct Prepared {
    imported: Imported,
    mapped: Vec<Mapped>,
    env: environment::Environment,
    written: Vec<(String, String)>,
}

/// Imports `objects` into one environment: the repository's environment
/// named `name` (or a new one of that name), else the one the objects'
/// namespace picks.
fn prepare(
    mut objects: Vec<read::Object>,
    mut problems: Vec<String>,
    environments: &[(String, String)],
    name: Option<&str>,
) -> Result<Prepared, Failure> {
    let mut imported = Imported::default();
    for o in &mut objects {
        for path in clean::clean(&mut o.value) {
            *imported.dropped.entry(path).or_default() += 1;
        }
    }
    let namespaces: Vec<read::Object> = objects
        .iter()
        .filter(|o| o.kind() == "Namespace")
        .cloned()
        .collect();
    let grouping = group::group(objects);
    if grouping.groups.is_empty() && problems.is_empty() {
        problems.push(format!(
            "no workload in the input (import starts from a {})",
            group::WORKLOADS.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(Failure::Input(problems));
    }
    let found = tracks::apps(grouping.groups);
    let env = environment::environment(environments, name, &found.apps, &namespaces);
    imported.namespace = env.namespace.clone();
    imported.environment = env.name.clone();
    imported.new_environment = env.new;
    let cx = map::Context {
        namespace: &env.namespace,
        registry: env.registry,
        pull_secrets: &env.pull_secrets,
        labels: &env.labels,
        security: &env.security,
        gateway: env.gateway.as_ref(),
    };
    let mapped: Vec<Mapped> = found.apps.iter().map(|a| map::service(a, &cx)).collect();
    let mut left_out = found.left_out;
    left_out.extend(grouping.left_out);
    let mut mapped = distinct(mapped, &mut left_out);
    let env_file = (format!("environments/{}.toml", env.name), env.text.clone());
    let first =
        roundtrip::render(&files(&env_file, &mapped), &env.name).map_err(Failure::Compile)?;
    for m in &mut mapped {
        add_patches(m, &first, &env.namespace);
    }
    let written = files(&env_file, &mapped);
    let second = roundtrip::render(&written, &env.name).map_err(Failure::Compile)?;
    imported.differences = differences(&mapped, &second, &env.namespace);
    if !env.new {
        let again = |files: &[(String, String)]| {
            let rendered = roundtrip::render(files, &env.name).ok()?;
            Some(differences(&mapped, &rendered, &env.namespace))
        };
        blame::defaults(&mut imported.differences, &written, &env.name, again);
    }
    imported.services = mapped
        .iter()
        .map(|m| report(m, &imported.differences))
        .collect();
    imported.left_out = left_out;
    imported.notes = found.notes;
    imported
        .notes
        .extend(mapped.iter().flat_map(secret_literals));
    imported.secrets = grouping.secrets;
    Ok(Prepared {
        imported,
        mapped,
        env,
        written,
    })
}

/// The services with distinct names: a second service of a name already
/// taken (two workloads whose pods carry the same `app` that are not
/// tracks of one another) is left out with its objects.
fn distinct(mapped: Vec<Mapped>, left_out: &mut Vec<(String, String)>) -> Vec<Mapped> {
    let mut out: Vec<Mapped> = Vec::new();
    for m in mapped {
        if !out.iter().any(|o| o.name == m.name) {
            out.push(m);
            continue;
        }
        for t in &m.targets {
            left_out.push((
                t.input.id(),
                format!(
                    "a second service named `{}` (its pods carry the same `app`): import it on its own",
                    m.name
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The environment file and every service file.
fn files(env: &(String, String), mapped: &[Mapped]) -> Vec<(String, String)> {
    let mut out = vec![env.clone()];
    for m in mapped {
        let origins: BTreeSet<&str> = m.targets.iter().map(|t| t.input.file()).collect();
        out.push((
            format!("services/{}.toml", m.name),
            m.table.to_document(&header(origins)),
        ));
    }
    out
}

/// The comment above a service file imported from `origins`.
fn header<'a>(origins: impl IntoIterator<Item = &'a str>) -> String {
    format!(
        "Imported by `manifold import` from {}.\nReview it, then remove this comment.",
        origins.into_iter().collect::<Vec<_>>().join(", ")
    )
}

/// Adds to the service the patches that set every input value the first
/// rendering did not reproduce.
fn add_patches(m: &mut Mapped, rendered: &BTreeMap<Key, Json>, namespace: &str) {
    let mut table = toml::Table::new();
    for t in &m.targets {
        let Some(out) = find(rendered, t, namespace, false) else {
            continue;
        };
        let mut wanted = without_manifold_labels(&t.input.value, out);
        let autoscaled = m.table.get("autoscale").is_some();
        if autoscaled && t.rendered == m.name && t.input.value["spec"]["template"].is_object() {
            // The autoscaler owns the count: manifold writes none.
            if let Some(spec) = wanted["spec"].as_object_mut() {
                spec.remove("replicas");
            }
        }
        if t.kind == "Job" {
            // The name is manifold's (`<name>-<hash>`), taken after the
            // patches: a patch of it would be hashed again.
            wanted["metadata"]["name"] = out["metadata"]["name"].clone();
        }
        if let Some(Some(p)) = compare::patch(&wanted, out).map(|p| Toml::from_json(&p)) {
            let k = format!("{}/{}", t.kind.to_lowercase(), t.rendered);
            table.set(&k, p);
            table.comment(&k, "the input's values that no typed key renders");
        }
    }
    m.table.set_table("patches", table);
}

/// The input with manifold's own labels as manifold renders them: their
/// differences are allowed, and a patch must not take them from manifold.
fn without_manifold_labels(input: &Json, rendered: &Json) -> Json {
    let mut wanted = input.clone();
    for at in [
        "/metadata/labels",
        "/spec/template/metadata/labels",
        "/spec/jobTemplate/spec/template/metadata/labels",
    ] {
        let Some(Json::Object(labels)) = wanted.pointer_mut(at) else {
            continue;
        };
        for key in compare::MANIFOLD_LABELS {
            match rendered.pointer(at).and_then(|r| r.get(key)) {
                Some(v) => labels.insert(key.to_string(), v.clone()),
                None => labels.remove(key),
            };
        }
    }
    wanted
}

/// The rendered object a target became: by the input's kind, namespace
/// and name once patched (`by_input`), else by the name manifold gives it;
/// a Job by its name and any hash.
fn find<'a>(
    rendered: &'a BTreeMap<Key, Json>,
    t: &map_objects::Target,
    namespace: &str,
    by_input: bool,
) -> Option<&'a Json> {
    let ns = t.input.namespace().unwrap_or(namespace).to_string();
    let name = if by_input {
        t.input.name()
    } else {
        &t.rendered
    };
    let key = (t.kind.clone(), ns.clone(), name.to_string());
    lookup(rendered, &key).or_else(|| {
        if t.kind != "Job" {
            return None;
        }
        rendered.iter().find_map(|((kind, n, name), v)| {
            let ours = kind == "Job"
                && (n == &ns || n.is_empty())
                && tracks::job_base(name) == Some(t.rendered.as_str());
            ours.then_some(v)
        })
    })
}

fn lookup<'a>(rendered: &'a BTreeMap<Key, Json>, key: &Key) -> Option<&'a Json> {
    rendered
        .get(key)
        .or_else(|| rendered.get(&(key.0.clone(), String::new(), key.2.clone())))
}

/// Every input object against the rendered object it became, and the
/// rendered objects that match no input.
fn differences(
    mapped: &[Mapped],
    rendered: &BTreeMap<Key, Json>,
    namespace: &str,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for m in mapped {
        let autoscaled = |name: &str| {
            m.targets.iter().any(|t| {
                t.kind == "HorizontalPodAutoscaler"
                    && t.input.value["spec"]["scaleTargetRef"]["name"] == name
            })
        };
        for t in &m.targets {
            let id = t.input.id();
            let found =
                find(rendered, t, namespace, true).or_else(|| find(rendered, t, namespace, false));
            match found {
                Some(o) => {
                    seen.insert(roundtrip::key(o, ""));
                    let from = out.len();
                    compare::differences(&id, "", &t.input.value, o, &mut out);
                    kept_selector_labels(&mut out[from..], o);
                    if autoscaled(t.input.name()) {
                        fights_the_autoscaler(&mut out[from..]);
                    }
                }
                None => out.push(Difference::whole(id, true)),
            }
        }
    }
    for (key, _) in rendered.iter().filter(|(k, _)| !seen.contains(*k)) {
        out.push(Difference::whole(format!("{}/{}", key.0, key.2), false));
    }
    for d in &mut out {
        // The hash in a Job's name is manifold's (see README, Jobs).
        let hashed = d
            .output
            .as_ref()
            .and_then(Json::as_str)
            .and_then(tracks::job_base)
            .is_some();
        if d.object.starts_with("Job/") && d.path == "metadata.name" && hashed {
            d.allowed = true;
        }
    }
    out
}

/// A replica count manifold writes where the input has none is the API
/// server's default, but not when an autoscaler kept as written (not
/// `[autoscale]`) owns the count: each publish would reset it.
fn fights_the_autoscaler(diffs: &mut [Difference]) {
    for d in diffs
        .iter_mut()
        .filter(|d| d.path == "spec.replicas" && d.input.is_none())
    {
        d.allowed = false;
        d.cause = Some(
            "the autoscaler kept in `objects` owns the count, which each publish would reset: make it `[autoscale]` (its pods need a request of the resource it measures)"
                .to_string(),
        );
    }
}

/// Variables of the service's pods named like secrets with a literal
/// value: no typed key takes them (manifold refuses literal secrets), so
/// they come from the patch, and the summary says so.
fn secret_literals(m: &Mapped) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in m
        .targets
        .iter()
        .filter(|t| group::WORKLOADS.contains(&t.kind.as_str()))
    {
        let spec = &group::pod_template(&t.input.value)["spec"];
        let containers =
            group::items(&spec["containers"]).chain(group::items(&spec["initContainers"]));
        for c in containers {
            for e in group::items(&c["env"]) {
                let (Some(name), true) = (e["name"].as_str(), e["value"].is_string()) else {
                    continue;
                };
                if crate::check::looks_secret(name) {
                    out.push((
                        t.input.id(),
                        format!(
                            "`{name}` of container `{}` looks like a secret and has a literal value, kept in a patch: put it in a Secret and write `{name} = {{ secret = \"<name>\", key = \"<key>\" }}`",
                            c["name"].as_str().unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// The labels of a workload's kept selector, which manifold writes on the
/// workload itself too (beside its own), are allowed there.
fn kept_selector_labels(diffs: &mut [Difference], rendered: &Json) {
    let selector = &rendered["spec"]["selector"]["matchLabels"];
    let kept = |k: &str, v: &Json| {
        let k = k.trim_matches('"');
        compare::MANIFOLD_LABELS.contains(&k) || selector.get(k) == Some(v)
    };
    for d in diffs.iter_mut().filter(|d| !d.allowed && d.input.is_none()) {
        let Some(output) = &d.output else { continue };
        d.allowed = match d.path.strip_prefix("metadata.labels") {
            Some("") => output
                .as_object()
                .is_some_and(|labels| labels.iter().all(|(k, v)| kept(k, v))),
            Some(key) => key.strip_prefix('.').is_some_and(|k| kept(k, output)),
            None => false,
        };
    }
}

/// Leaf values: how many of a service's input values are typed, patched,
/// raw.
fn report(m: &Mapped, diffs: &[Difference]) -> ServiceReport {
    let total: usize = m.targets.iter().map(|t| leaves(&t.input.value)).sum();
    let patched = m.table.get("patches").map_or(0, toml_leaves);
    let raw = m.table.get("objects").map_or(0, toml_leaves);
    let ids: Vec<String> = m.targets.iter().map(|t| t.input.id()).collect();
    let missed: usize = diffs
        .iter()
        .filter(|d| !d.allowed && ids.contains(&d.object))
        .map(|d| d.input.as_ref().map_or(0, leaves))
        .sum();
    ServiceReport {
        name: m.name.clone(),
        path: format!("services/{}.toml", m.name),
        objects: ids,
        typed: total.saturating_sub(patched + raw + missed),
        patched,
        raw,
    }
}

fn leaves(v: &Json) -> usize {
    match v {
        Json::Object(m) => m.values().map(leaves).sum(),
        Json::Array(a) => a.iter().map(leaves).sum(),
        _ => 1,
    }
}

fn toml_leaves(v: &Toml) -> usize {
    match v {
        Toml::Table(t) => t.keys().map(|k| t.get(k).map_or(0, toml_leaves)).sum(),
        Toml::Array(a) => a.iter().map(toml_leaves).sum(),
        _ => 1,
    }
}
