//! The raw `objects`: any Kubernetes object, written as a table, passed
//! through with the name (its key, unless set), the namespace (unless the
//! kind is cluster-scoped, as `Context::scopes` says: the vendored scopes of
//! built-in kinds, the CRDs of custom ones) and the service's labels filled
//! in; objects that
//! hold data (volumes, claims) get the do-not-prune annotations unless they
//! set them.
//!
//! Nothing else is defaulted or checked here; `patches` apply to them as to
//! rendered objects (`patch.rs`).

use serde_json::Value as Json;

use super::{Object, Scope};
use crate::model::{HOLDS_DATA, KEEP_ON_PRUNE};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    for (key, raw) in &scope.svc.objects {
        out.push(scope.raw_object(key, raw));
    }
}

impl Scope<'_> {
    fn raw_object(&self, key: &str, raw: &Json) -> Object {
        let mut value = raw.clone();
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        let cluster = self.cx.scopes.is_cluster(api_version, &kind);
        let meta = value
            .as_object_mut()
            .expect("raw objects are tables")
            .entry("metadata")
            .or_insert_with(|| Json::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            meta.entry("name")
                .or_insert_with(|| Json::String(key.to_string()));
            if !cluster {
                meta.entry("namespace")
                    .or_insert_with(|| Json::String(self.namespace.clone()));
            }
            if HOLDS_DATA.contains(&kind.as_str()) {
                keep_on_prune(meta);
            }
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Json::Object(Default::default()));
            if let Some(labels) = labels.as_object_mut() {
                for (k, v) in &self.labels {
                    labels
                        .entry(k.clone())
                        .or_insert_with(|| Json::String(v.clone()));
                }
            }
        }
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or(key)
            .to_string();
        let namespace = value["metadata"]["namespace"].as_str().map(str::to_string);
        Object {
            kind,
            name,
            namespace,
            value,
            raw_key: Some(key.to_string()),
            patch_name: None,
        }
    }
}

/// The do-not-prune annotations of Flux and Argo CD on an object's
/// `metadata`, unless it sets them: removing the file must not delete a
/// namespace with everything in it, or a volume's data.
pub fn keep_on_prune(meta: &mut serde_json::Map<String, Json>) {
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Json::Object(Default::default()));
    if let Some(annotations) = annotations.as_object_mut() {
        for (k, v) in KEEP_ON_PRUNE {
            annotations
                .entry(k.to_string())
                .or_insert_with(|| Json::String(v.to_string()));
        }
    }
}
