//! The `kustomization.yaml` of an environment: a `Kustomization` listing all
//! of the environment's files, so Flux or Argo CD can apply the directory.
//!
//! It lists files, not objects: which files exist is decided by `compile`.
//! It is returned as JSON; `emit` writes it as YAML like every other object.

use serde_json::Value as Json;

/// The kustomization listing an environment's files.
pub fn kustomization(resources: &[&str]) -> Json {
    serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    })
}
