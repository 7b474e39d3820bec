//! The environment the imported services are compiled for: the
//! repository's environment whose namespace the first workload runs in (or
//! its first), or a new one written beside the services.
//!
//! A new environment is named after the `env` label every workload carries
//! (manifold's own output has one), else after the namespace. It takes what
//! is the environment's rather than a service's: the labels that the input's
//! Namespace objects and every object and pod carry, and the Gateway the
//! HTTPRoutes attach to. What an existing environment gives every service
//! (its registry, pull secrets, labels, Gateway, `[defaults.security]`) is
//! read so the service files neither repeat it nor miss taking it away.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::KUBE_VERSION;
use super::group::pod_template;
use super::map::string_map;
use super::map_routing::gateway_json;
use super::read::Object;
use super::toml::{Table, Toml};
use super::tracks::App;
use crate::check::reserved_label;
use crate::model::Security;

/// The environment, as the mapping reads it.
pub struct Environment {
    pub name: String,
    pub text: String,
    /// Whether import writes the file.
    pub new: bool,
    pub namespace: String,
    pub registry: bool,
    pub pull_secrets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub gateway: Option<Json>,
    pub security: Security,
}

/// The environment to compile for: the repository's environment `name`
/// (or a new one of that name) when one is given.
pub fn environment(
    environments: &[(String, String)],
    name: Option<&str>,
    apps: &[App],
    namespaces: &[Object],
) -> Environment {
    let ns = apps[0].stable.namespace().unwrap_or("default").to_string();
    let existing = match name {
        Some(name) => environments.iter().find(|(n, _)| n == name),
        None => environments
            .iter()
            .find(|(_, text)| field(text, "namespace").as_str() == Some(ns.as_str()))
            .or(environments.first()),
    };
    match existing {
        Some((name, text)) => read(name, text),
        None => {
            let mut env = new(apps, namespaces, &ns);
            if let Some(name) = name {
                env.name = name.to_string();
            }
            env
        }
    }
}

/// The value of a key at the top of an environment file.
fn field(text: &str, key: &str) -> Json {
    text.parse::<::toml::Table>()
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .map(|v| v[key].clone())
        .unwrap_or_default()
}

fn read(name: &str, text: &str) -> Environment {
    let security = field(text, "defaults")["security"].clone();
    Environment {
        name: name.to_string(),
        text: text.to_string(),
        new: false,
        namespace: field(text, "namespace")
            .as_str()
            .unwrap_or_default()
            .to_string(),
        registry: field(text, "registry").is_string(),
        pull_secrets: serde_json::from_value(field(text, "pull_secrets")).unwrap_or_default(),
        labels: string_map(&field(text, "labels")),
        gateway: Some(field(text, "gateway")).filter(Json::is_object),
        security: serde_json::from_value(security).unwrap_or_default(),
    }
}

fn new(apps: &[App], namespaces: &[Object], ns: &str) -> Environment {
    let env_labels: Vec<Option<&str>> = apps
        .iter()
        .map(|a| a.stable.workload().value["metadata"]["labels"]["env"].as_str())
        .collect();
    let name = match env_labels.first() {
        Some(Some(env)) if env_labels.iter().all(|e| e == &Some(*env)) && is_name(env) => {
            env.to_string()
        }
        _ => ns.to_string(),
    };
    let labels = common_labels(apps, namespaces);
    let gateway =
        apps.iter().flat_map(|a| &a.stable.routes).find_map(
            |r| match r.value["spec"]["parentRefs"].as_array()?.as_slice() {
                [parent] => Some(gateway_json(parent)),
                _ => None,
            },
        );
    let mut t = Table::new();
    t.set("namespace", ns);
    t.set("kube_version", KUBE_VERSION);
    if !labels.is_empty() {
        t.set("labels", super::map::map_table(&labels));
    }
    if let Some(g) = gateway.as_ref().and_then(Toml::from_json) {
        t.set("gateway", g);
    }
    let text = t
        .to_document("Written by `manifold import` for the namespace the imported objects run in.");
    Environment {
        name,
        text,
        new: true,
        namespace: ns.to_string(),
        registry: false,
        pull_secrets: Vec::new(),
        labels,
        gateway,
        security: Security::default(),
    }
}

/// The labels of the input's Namespaces that every imported object and
/// pod carries too: the environment's. None without Namespaces.
fn common_labels(apps: &[App], namespaces: &[Object]) -> BTreeMap<String, String> {
    let mut sets: Vec<BTreeMap<String, String>> = namespaces
        .iter()
        .map(|n| string_map(&n.value["metadata"]["labels"]))
        .collect();
    if sets.is_empty() {
        return BTreeMap::new();
    }
    for a in apps {
        let workloads = std::iter::once(a.stable.workload()).chain(a.tracks.iter().map(|(_, w)| w));
        for w in workloads {
            sets.push(string_map(&pod_template(&w.value)["metadata"]["labels"]));
            sets.push(string_map(&w.value["metadata"]["labels"]));
        }
        for o in a.stable.objects() {
            sets.push(string_map(&o.value["metadata"]["labels"]));
        }
    }
    sets[0]
        .iter()
        .filter(|(k, v)| reserved_label(k).is_none() && sets.iter().all(|s| s.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether an environment may be named so (its file name).
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}
