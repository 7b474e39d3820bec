//! The ConfigMaps generated from the service: `config` (its `[config]`
//! values, for the environment of the main container) and `files` (its
//! `[files]`, mounted into it). Each is named after a hash of its content, so
//! a change of content is a change of name and rolls the pods.
//!
//! The [`Wiring`] carries those names to the pods; the `envFrom` entry is
//! built in `container.rs` and the files volume and mounts in `pod.rs`.
//! ConfigMaps the service merely refers to are not rendered here.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use sha2::{Digest, Sha256};

use super::{Object, Scope};
use crate::model::{Service, file_key};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    let wiring = &scope.wiring;
    for generated in [&wiring.config, &wiring.files].into_iter().flatten() {
        out.push(scope.config_map(generated));
    }
}

/// A ConfigMap generated from the service, named after its content.
pub(super) struct Generated {
    pub(super) name: String,
    data: BTreeMap<String, String>,
}

impl Generated {
    /// `None` for no data: an empty ConfigMap is not rendered.
    fn new(service: &str, what: &str, data: BTreeMap<String, String>) -> Option<Self> {
        if data.is_empty() {
            return None;
        }
        let name = format!("{service}-{what}-{}", content_hash(&data));
        Some(Generated { name, data })
    }
}

/// The generated ConfigMaps the pods are wired to.
pub(super) struct Wiring {
    /// From `[config]`: the main container's `envFrom`.
    pub(super) config: Option<Generated>,
    /// From `[files]`: a volume mounted at each file's path.
    pub(super) files: Option<Generated>,
}

impl Wiring {
    /// The ConfigMaps of the service `name`.
    pub(super) fn new(svc: &Service, name: &str) -> Self {
        let config = svc
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.render()))
            .collect();
        Wiring {
            config: Generated::new(name, "config", config),
            files: Generated::new(name, "files", file_data(&svc.files)),
        }
    }
}

impl Scope<'_> {
    fn config_map(&self, generated: &Generated) -> Object {
        let cm = core::ConfigMap {
            metadata: self.meta(&generated.name),
            data: Some(generated.data.clone()),
            ..Default::default()
        };
        Object::new(&cm, &generated.name, self.ns())
    }
}

fn file_data(files: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(path, content)| (file_key(path), content.clone()))
        .collect()
}

/// The first 10 hex digits of a SHA-256 over the data: in the ConfigMap's
/// name, so a change of content is a change of name and rolls the pods.
fn content_hash(data: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in data {
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
        let a = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let b = BTreeMap::from([("A".to_string(), "2".to_string())]);
        assert_eq!(content_hash(&a), content_hash(&a.clone()));
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(content_hash(&a).len(), 10);
    }

    #[test]
    fn file_keys_are_valid_configmap_keys() {
        assert_eq!(
            file_key("/etc/petclinic/application.properties"),
            "etc_petclinic_application.properties"
        );
    }
}
