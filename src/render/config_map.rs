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

use super::{Object, Scope, content_hash};
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
        let pairs = data.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let name = format!("{service}-{what}-{}", content_hash(pairs));
        Some(Generated { name, data })
    }
}

/// The name of the ConfigMap generated for service `service` from `what`
/// (`config` or `files`) holding `data`; `None` for no data. `import` reads
/// manifold's own output back with it.
pub fn generated_name(service: &str, what: &str, data: BTreeMap<String, String>) -> Option<String> {
    Generated::new(service, what, data).map(|g| g.name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_valid_configmap_keys() {
        assert_eq!(
            file_key("/etc/petclinic/application.properties"),
            "etc_petclinic_application.properties"
        );
    }
}
