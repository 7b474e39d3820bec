//! The Namespace objects of an environment: its own namespace and every
//! other one a service renders into, labelled as manifold's and kept when
//! they leave the branch (Flux and Argo CD would otherwise delete the
//! namespace with everything made in it by hand).
//!
//! Which namespaces exist and the file each goes to are decided by `compile`;
//! this builds one object. Namespaces listed as raw `objects` are raw objects.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Object;
use crate::model::{Environment, KEEP_ON_PRUNE};

/// The Namespace `name` of the environment `env_name`: the environment's
/// labels and annotations, plus `app.kubernetes.io/managed-by` and `env`,
/// and the do-not-prune annotations unless the environment sets them.
pub fn namespace(name: &str, env_name: &str, env: &Environment) -> Object {
    let mut labels = env.labels.clone();
    labels.insert("app.kubernetes.io/managed-by".into(), "manifold".into());
    labels.insert("env".into(), env_name.into());
    let mut annotations = env.annotations.clone();
    for (key, value) in KEEP_ON_PRUNE {
        annotations
            .entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }
    let ns = core::Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        ..Default::default()
    };
    Object::new(&ns, name, None)
}
