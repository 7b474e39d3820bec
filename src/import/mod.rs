//! `manifold import`: existing Kubernetes YAML in, service files out, with
//! the round trip checked before anything is written.
//!
//! The stages, one file each: `read` (documents and `List` items), `clean`
//! (server-populated fields), `group` (a workload and what selects or
//! references it), `map` with `map_container` and `map_objects` (Kubernetes
//! fields to typed keys, the one place that knows them), `toml` (the
//! writer), `compare` (field-by-field differences and the patches that
//! remove them) and `roundtrip` (the compile of the new files). The patches
//! are derived, not written by hand: the typed service is rendered, every
//! input value the rendering does not reproduce goes into `patches`, and the
//! service is rendered again and compared; what still differs is reported.
//!
//! No I/O: the command line reads the inputs and the repository's
//! environments, and writes the files this returns.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

pub mod clean;
pub mod compare;
pub mod group;
mod map;
mod map_container;
mod map_objects;
pub mod read;
pub mod roundtrip;
pub mod toml;

use compare::Difference;
use map::Mapped;
use roundtrip::{Failed, Key};
use toml::Toml;

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
    let mut imported = Imported::default();
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for (name, bytes) in &request.inputs {
        match read::objects(name, bytes) {
            Ok(found) => objects.extend(found),
            Err(e) => problems.push(e),
        }
    }
    for o in &mut objects {
        for path in clean::clean(&mut o.value) {
            *imported.dropped.entry(path).or_default() += 1;
        }
    }
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
    let (env_name, env_text, new_env) = environment(request, &grouping);
    imported.namespace = namespace_of(&env_text);
    imported.environment = env_name.clone();
    imported.new_environment = new_env;
    let registry_off = env_has_registry(&env_text);
    let mut mapped: Vec<Mapped> = grouping
        .groups
        .iter()
        .map(|g| map::service(g, &imported.namespace, registry_off))
        .collect();
    let mut left_out = grouping.left_out;
    mapped = distinct(mapped, &mut left_out);
    let env_file = (format!("environments/{env_name}.toml"), env_text);
    let first =
        roundtrip::render(&files(&env_file, &mapped), &env_name).map_err(Failure::Compile)?;
    for m in &mut mapped {
        add_patches(m, &first, &imported.namespace);
    }
    let written = files(&env_file, &mapped);
    let second = roundtrip::render(&written, &env_name).map_err(Failure::Compile)?;
    imported.differences = differences(&mapped, &second, &imported.namespace);
    imported.services = mapped
        .iter()
        .map(|m| report(m, &imported.differences))
        .collect();
    imported.files = written
        .into_iter()
        .filter(|(path, _)| new_env || path.starts_with("services/"))
        .map(|(path, text)| File { path, text })
        .collect();
    imported.left_out = left_out;
    imported.secrets = grouping.secrets;
    Ok(imported)
}

/// The services with distinct names: a second workload whose pods carry
/// the same `app` (a canary, most likely) is left out with its objects, as
/// importing it as a track is not done yet.
fn distinct(mut mapped: Vec<Mapped>, left_out: &mut Vec<(String, String)>) -> Vec<Mapped> {
    // The workload named like the service (the stable one) wins.
    mapped.sort_by_key(|m| m.targets[0].input.name() != m.name);
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
                    "a second workload for service `{}` (importing tracks is not done yet): import it on its own",
                    m.name
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The environment to compile for: the repository's whose namespace the
/// first workload runs in, else its first, else a new one named after that
/// namespace. Returns its name, text and whether it is new.
fn environment(request: &Request, grouping: &group::Grouping) -> (String, String, bool) {
    let ns = grouping.groups[0]
        .namespace()
        .unwrap_or("default")
        .to_string();
    let existing = request
        .environments
        .iter()
        .find(|(_, text)| namespace_of(text) == ns)
        .or(request.environments.first());
    match existing {
        Some((name, text)) => (name.clone(), text.clone(), false),
        None => {
            let text = format!(
                "# Written by `manifold import` for the namespace the imported objects run in.\nnamespace = \"{ns}\"\nkube_version = \"{KUBE_VERSION}\"\n"
            );
            (ns, text, true)
        }
    }
}

fn namespace_of(env_text: &str) -> String {
    env_text
        .parse::<::toml::Table>()
        .ok()
        .and_then(|t| t.get("namespace")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn env_has_registry(env_text: &str) -> bool {
    env_text
        .parse::<::toml::Table>()
        .is_ok_and(|t| t.contains_key("registry"))
}

/// The environment file and every service file.
fn files(env: &(String, String), mapped: &[Mapped]) -> Vec<(String, String)> {
    let mut out = vec![env.clone()];
    for m in mapped {
        let origins: BTreeSet<&str> = m.targets.iter().map(|t| t.input.file()).collect();
        let header = format!(
            "Imported by `manifold import` from {}.\nReview it, then remove this comment.",
            origins.into_iter().collect::<Vec<_>>().join(", ")
        );
        out.push((
            format!("services/{}.toml", m.name),
            m.table.to_document(&header),
        ));
    }
    out
}

/// Adds to the service the patches that set every input value the first
/// rendering did not reproduce.
fn add_patches(m: &mut Mapped, rendered: &BTreeMap<Key, Json>, namespace: &str) {
    let mut table = toml::Table::new();
    for t in &m.targets {
        let ns = t.input.namespace().unwrap_or(namespace).to_string();
        let key = (t.kind.clone(), ns, t.rendered.clone());
        let Some(out) = lookup(rendered, &key) else {
            continue;
        };
        let labelled = without_manifold_labels(&t.input.value, out);
        let wanted = keep_capabilities(labelled.clone());
        if let Some(Some(p)) = compare::patch(&wanted, out).map(|p| Toml::from_json(&p)) {
            let k = format!("{}/{}", t.kind.to_lowercase(), t.rendered);
            table.set(&k, p);
            let mut why = "the input's values that no typed key renders".to_string();
            if wanted != labelled {
                why.push_str(";\n`capabilities.drop = []`: its containers drop none, and no key keeps manifold from dropping all");
            }
            table.comment(&k, &why);
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

/// A container that drops no capabilities keeps the runtime's: manifold
/// drops them all unless told otherwise, and no typed key says otherwise
/// yet, so the patch sets `drop: []` (nginx, say, cannot start without
/// them when it runs as root).
fn keep_capabilities(mut wanted: Json) -> Json {
    let pod = match wanted["kind"].as_str() {
        Some("CronJob") => "/spec/jobTemplate/spec/template/spec",
        Some("Deployment" | "StatefulSet" | "Job") => "/spec/template/spec",
        _ => return wanted,
    };
    for list in ["containers", "initContainers"] {
        let Some(Json::Array(containers)) = wanted.pointer_mut(&format!("{pod}/{list}")) else {
            continue;
        };
        for c in containers {
            if c.pointer("/securityContext/capabilities/drop").is_none() && c.is_object() {
                let sc = &mut c["securityContext"];
                if !sc.is_object() {
                    *sc = Json::Object(Default::default());
                }
                let caps = &mut sc["capabilities"];
                if !caps.is_object() {
                    *caps = Json::Object(Default::default());
                }
                caps["drop"] = Json::Array(Vec::new());
            }
        }
    }
    wanted
}

fn lookup<'a>(rendered: &'a BTreeMap<Key, Json>, key: &Key) -> Option<&'a Json> {
    rendered
        .get(key)
        .or_else(|| rendered.get(&(key.0.clone(), String::new(), key.2.clone())))
}

/// Every input object against the object of the same kind, namespace and
/// name in the output, and the output objects that match no input.
fn differences(
    mapped: &[Mapped],
    rendered: &BTreeMap<Key, Json>,
    namespace: &str,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for m in mapped {
        for t in &m.targets {
            let key = roundtrip::key(&t.input.value, namespace);
            let id = t.input.id();
            match lookup(rendered, &key) {
                Some(o) => {
                    seen.insert(roundtrip::key(o, ""));
                    compare::differences(&id, "", &t.input.value, o, &mut out);
                }
                None => out.push(Difference {
                    object: id,
                    path: String::new(),
                    input: Some(Json::String("the object".into())),
                    output: None,
                    allowed: false,
                }),
            }
        }
    }
    for (key, _) in rendered.iter().filter(|(k, _)| !seen.contains(*k)) {
        out.push(Difference {
            object: format!("{}/{}", key.0, key.2),
            path: String::new(),
            input: None,
            output: Some(Json::String("the object".into())),
            allowed: false,
        });
    }
    out
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
