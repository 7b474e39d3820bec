//! Rendering: one merged, checked service in one environment becomes typed
//! Kubernetes objects.
//!
//! Objects are built as `k8s-openapi` types and serialized once to JSON, where
//! the escape-hatch patches are merged and raw objects joined. Rendering is a
//! pure function of its inputs and assumes the `check` stage passed: it does
//! not report problems, except patches that match no object.
//!
//! One file per kind of object, each an `impl Scope` block with a `render`
//! function that pushes that kind's objects:
//!
//! - `config_map.rs`: the generated `config` and `files` ConfigMaps;
//! - `service_account.rs`: the ServiceAccount;
//! - `workload.rs`: the Deployment, StatefulSet, DaemonSet (`daemon_set.rs`),
//!   CronJob or Job of each track, built from the pod template of `pod.rs`
//!   and the containers of `container.rs`;
//! - `service.rs`, `ingress.rs`, `route.rs`: the Services, Ingresses and
//!   the Gateway API HTTPRoute;
//! - `autoscaler.rs`, `disruption_budget.rs`: the HorizontalPodAutoscaler and
//!   the PodDisruptionBudget;
//! - `network_policy.rs`: the NetworkPolicy;
//! - `raw.rs`: the raw `objects`, passed through;
//! - `patch.rs`: the `patches`, merged into the rendered objects last;
//! - `job_name.rs`: then a Job's name gets the hash of what Kubernetes
//!   cannot change in it.
//!
//! The files of an environment rather than a service are built by
//! `namespace.rs` (Namespaces) and `kustomization.rs`.
//!
//! A new kind is a new file with a `render` function and one line in `KINDS`,
//! whose order is the order of the objects in the output.

mod autoscaler;
mod config_map;
mod container;
mod daemon_set;
mod disruption_budget;
mod ingress;
mod job_name;
mod kustomization;
mod namespace;
mod network_policy;
mod patch;
mod pod;
mod raw;
mod route;
mod service;
mod service_account;
mod workload;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::model::{self, Directory, Environment, Scopes, Service, duration_seconds};

pub use config_map::generated_name;
pub use kustomization::kustomization;
pub use namespace::namespace;
pub use pod::FILES_VOLUME;
pub use raw::keep_on_prune;

/// A rendered object.
#[derive(Clone, Debug)]
pub struct Object {
    /// `Deployment`, `Service`, ...
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Json,
    /// The key in `objects` this came from, for raw objects.
    pub raw_key: Option<String>,
    /// The name patches know the object by, when it was renamed after them:
    /// a Job named after its content (`job_name.rs`).
    pub patch_name: Option<String>,
}

impl Object {
    fn new<T: serde::Serialize + k8s_openapi::Resource>(
        value: &T,
        name: &str,
        namespace: Option<&str>,
    ) -> Self {
        Object {
            kind: T::KIND.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            value: serde_json::to_value(value).expect("k8s-openapi objects serialize"),
            raw_key: None,
            patch_name: None,
        }
    }

    /// `deployment/http`: how patches name their target.
    pub fn patch_key(&self) -> String {
        let name = self.patch_name.as_ref().unwrap_or(&self.name);
        format!("{}/{name}", self.kind.to_lowercase())
    }
}

pub struct Rendered {
    pub objects: Vec<Object>,
    /// Patch keys that matched no object.
    pub unmatched_patches: Vec<String>,
}

/// Everything render needs that is not in the service itself.
pub struct Context<'a> {
    pub env_name: &'a str,
    pub env: &'a Environment,
    /// The service's name (file stem unless `name` is set).
    pub name: &'a str,
    /// The services of the environment, for references between services.
    pub directory: &'a Directory,
    /// Which kinds are cluster-scoped: raw objects of those get no namespace.
    pub scopes: &'a Scopes,
}

/// The kinds of object a service renders to, in output order. Each pushes
/// its objects, if the service has any of that kind.
const KINDS: &[fn(&Scope<'_>, &mut Vec<Object>)] = &[
    config_map::render,
    service_account::render,
    workload::render,
    service::render,
    ingress::render,
    route::render,
    autoscaler::render,
    disruption_budget::render,
    network_policy::render,
    raw::render,
];

/// One service in one environment, with what every kind of object shares.
struct Scope<'a> {
    svc: &'a Service,
    cx: &'a Context<'a>,
    namespace: String,
    /// Labels on every object of the service.
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    /// The generated ConfigMaps, which the pods refer to by name.
    wiring: config_map::Wiring,
}

pub fn render(svc: &Service, cx: &Context<'_>) -> Rendered {
    let scope = Scope::new(svc, cx);
    let mut objects = Vec::new();
    for render_kind in KINDS {
        render_kind(&scope, &mut objects);
    }
    let unmatched_patches = patch::apply_patches(&mut objects, &svc.patches);
    job_name::name_jobs(&mut objects);
    Rendered {
        objects,
        unmatched_patches,
    }
}

impl<'a> Scope<'a> {
    fn new(svc: &'a Service, cx: &'a Context<'a>) -> Self {
        let namespace = svc
            .namespace
            .clone()
            .unwrap_or_else(|| cx.env.namespace.clone());
        let mut labels = cx.env.labels.clone();
        labels.extend(svc.labels.clone());
        labels.insert("app".into(), cx.name.into());
        labels.insert("app.kubernetes.io/name".into(), cx.name.into());
        labels.insert("app.kubernetes.io/managed-by".into(), "manifold".into());
        labels.insert("env".into(), cx.env_name.into());
        if let Some(group) = &svc.group {
            labels.insert("group".into(), group.clone());
            labels.insert("app.kubernetes.io/part-of".into(), group.clone());
        }
        let mut annotations = cx.env.annotations.clone();
        annotations.extend(svc.annotations.clone());
        Scope {
            svc,
            cx,
            namespace,
            labels,
            annotations,
            wiring: config_map::Wiring::new(svc, cx.name),
        }
    }

    fn ns(&self) -> Option<&str> {
        Some(&self.namespace)
    }

    fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels.clone()),
            annotations: non_empty(self.annotations.clone()),
            ..Default::default()
        }
    }

    /// The selector of a track's pods: the kept `selector` for the stable
    /// track of an adopted workload, else `app` and `track`.
    fn selector(&self, track: &str) -> BTreeMap<String, String> {
        if track == model::STABLE && !self.svc.selector.is_empty() {
            return self.svc.selector.clone();
        }
        BTreeMap::from([
            ("app".to_string(), self.cx.name.to_string()),
            ("track".to_string(), track.to_string()),
        ])
    }
}

fn int_or_string(v: &model::IntOrPercent) -> IntOrString {
    match v {
        model::IntOrPercent::Int(n) => IntOrString::Int(*n),
        model::IntOrPercent::Percent(s) => IntOrString::String(s.clone()),
    }
}

fn secs32(d: &str) -> i32 {
    i32::try_from(duration_seconds(d)).unwrap_or(i32::MAX)
}

fn non_empty<K, V>(m: BTreeMap<K, V>) -> Option<BTreeMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

fn non_empty_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// The first 10 hex digits of a SHA-256 over `(key, value)` pairs, each
/// length-prefixed: the suffix of names that follow their content (the
/// generated ConfigMaps, a Job), so a change of content is a change of name.
fn content_hash<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut h = Sha256::new();
    for (k, v) in pairs {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    let digest = h.finalize();
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_changes_with_content_and_is_stable() {
        let a = [("A", "1")];
        let b = [("A", "2")];
        assert_eq!(content_hash(a), content_hash(a));
        assert_ne!(content_hash(a), content_hash(b));
        assert_eq!(content_hash(a).len(), 10);
        // Length prefixes: moving a byte from the key to the value is a change.
        assert_ne!(content_hash([("AB", "")]), content_hash([("A", "B")]));
    }
}
