//! Reading the input of `manifold import`: every document of every file
//! (YAML or JSON, several documents or a stream of JSON values), with the
//! items of `List` objects taken out, each object remembering where it came
//! from. Not an object (no `kind` or no `metadata.name`) is an error with
//! its file and document number; a kustomization is skipped.

use serde_json::Value as Json;

use crate::diff::read_documents;

/// One object of the input and where it was read.
#[derive(Clone, Debug)]
pub struct Object {
    pub value: Json,
    /// `file` or `file#3` (the third document).
    pub origin: String,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"].as_str()
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        let end = self.origin.find(['#', ' ']).unwrap_or(self.origin.len());
        &self.origin[..end]
    }

    /// `Deployment/web`, as the summary names objects.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// The objects of one input text; `Err` says what is wrong and where.
pub fn objects(name: &str, bytes: &[u8]) -> Result<Vec<Object>, String> {
    let docs = read_documents(bytes)
        .ok_or_else(|| format!("{name}: not YAML or JSON (or not UTF-8 text)"))?;
    let several = docs.len() > 1;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let origin = if several {
            format!("{name}#{}", i + 1)
        } else {
            name.to_string()
        };
        if doc.is_null() {
            continue;
        }
        flatten(doc, &origin, &mut out)?;
    }
    Ok(out)
}

/// An object, or the items of a `List` (of any `...List` kind, as kubectl
/// writes them), in order.
fn flatten(doc: Json, origin: &str, out: &mut Vec<Object>) -> Result<(), String> {
    let kind = doc["kind"].as_str().unwrap_or_default();
    if kind.ends_with("List") && doc["items"].is_array() {
        let Json::Array(items) = doc["items"].clone() else {
            unreachable!("checked above")
        };
        for (i, item) in items.into_iter().enumerate() {
            flatten(item, &format!("{origin} item {}", i + 1), out)?;
        }
        return Ok(());
    }
    // A kustomization (as `manifold build` writes) lists files; it is not
    // an object of the cluster.
    let kustomize = doc["apiVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"));
    if kustomize {
        return Ok(());
    }
    if kind.is_empty() || doc["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{origin}: not a Kubernetes object (it needs `kind` and `metadata.name`)"
        ));
    }
    out.push(Object {
        value: doc,
        origin: origin.to_string(),
    });
    Ok(())
}
