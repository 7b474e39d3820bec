//! Where the objects of a kind live: in a namespace, or in the whole cluster.
//!
//! A raw object gets the service's namespace only if its kind is namespaced,
//! and a cluster-scoped object may not name one. Which kinds are which is
//! data, filled in by `compile`: the built-in kinds from the vendored scope
//! file (`kube::builtin_scopes`), custom kinds from the `spec.scope` of their
//! CustomResourceDefinition in `crds/`. A kind this table does not know (a
//! custom resource without a CRD) is taken as namespaced, as most are.

use std::collections::HashMap;

/// The scope of a kind, as CRDs write it in `spec.scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceScope {
    Namespaced,
    Cluster,
}

impl ResourceScope {
    /// `"Namespaced"` or `"Cluster"`.
    pub fn parse(text: &str) -> Option<ResourceScope> {
        match text {
            "Namespaced" => Some(ResourceScope::Namespaced),
            "Cluster" => Some(ResourceScope::Cluster),
            _ => None,
        }
    }
}

/// The API group of an `apiVersion`: `apps/v1` -> `apps`, `v1` -> `` (core).
pub fn api_group(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(group, _)| group)
}

/// group -> kind -> scope.
#[derive(Clone, Debug, Default)]
pub struct Scopes {
    by_group: HashMap<String, HashMap<String, ResourceScope>>,
}

impl Scopes {
    /// Records the scope of a kind; a kind already known keeps its scope
    /// (built-in kinds are recorded first and a CRD cannot change them).
    pub fn insert(&mut self, group: &str, kind: &str, scope: ResourceScope) {
        self.by_group
            .entry(group.to_string())
            .or_default()
            .entry(kind.to_string())
            .or_insert(scope);
    }

    /// The scope of `kind` in the group of `api_version`, if known.
    pub fn of(&self, api_version: &str, kind: &str) -> Option<ResourceScope> {
        self.by_group
            .get(api_group(api_version))?
            .get(kind)
            .copied()
    }

    /// Whether objects of this kind live outside namespaces; unknown kinds
    /// are namespaced.
    pub fn is_cluster(&self, api_version: &str, kind: &str) -> bool {
        self.of(api_version, kind) == Some(ResourceScope::Cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_apart_by_group() {
        let mut scopes = Scopes::default();
        scopes.insert("cert-manager.io", "ClusterIssuer", ResourceScope::Cluster);
        scopes.insert("", "Namespace", ResourceScope::Cluster);
        scopes.insert("", "Namespace", ResourceScope::Namespaced);
        assert!(scopes.is_cluster("cert-manager.io/v1", "ClusterIssuer"));
        assert!(scopes.is_cluster("v1", "Namespace"));
        assert!(!scopes.is_cluster("example.com/v1", "ClusterIssuer"));
        assert_eq!(scopes.of("example.com/v1", "Widget"), None);
        assert_eq!(api_group("apps/v1"), "apps");
        assert_eq!(api_group("v1"), "");
    }
}
