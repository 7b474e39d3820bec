//! The round trip: the written files compiled by the library's own
//! pipeline, in memory, for the target environment, and each rendered
//! object matched with the input object it should reproduce.
//!
//! Rendered objects are matched by kind, namespace and name; what the
//! environment adds on its own (its Namespace) is not compared, and the
//! kustomization is not an object.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::compile::{self, Compiled};
use crate::diff::read_documents;
use crate::input::load::{Project, load_files};

/// Kind, namespace and name.
pub type Key = (String, String, String);

/// A failed compile: the project (for its sources) and the diagnostics.
pub struct Failed {
    pub project: Project,
    pub compiled: Compiled,
}

/// The objects the files render in environment `env`, by key.
pub fn render(files: &[(String, String)], env: &str) -> Result<BTreeMap<Key, Json>, Box<Failed>> {
    let project = load_files(files);
    let compiled = match compile::compile(&project, &[env.to_string()]) {
        Ok(c) => c,
        Err(e) => {
            let mut compiled = Compiled::default();
            compiled.diagnostics.push(crate::diag::Diagnostic::error(
                crate::diag::Code::Internal,
                e.to_string(),
            ));
            return Err(Box::new(Failed { project, compiled }));
        }
    };
    if compiled.has_errors() {
        return Err(Box::new(Failed { project, compiled }));
    }
    let mut objects = BTreeMap::new();
    for env in &compiled.environments {
        for bytes in env.files.values() {
            for doc in read_documents(bytes).unwrap_or_default() {
                let kind = doc["kind"].as_str().unwrap_or_default().to_string();
                if kind == "Kustomization" || kind == "Namespace" {
                    continue;
                }
                objects.insert(key(&doc, ""), doc);
            }
        }
    }
    Ok(objects)
}

/// The key of an object; `namespace` where it names none.
pub fn key(v: &Json, namespace: &str) -> Key {
    let s = |p: &str| v.pointer(p).and_then(Json::as_str).map(str::to_string);
    (
        s("/kind").unwrap_or_default(),
        s("/metadata/namespace").unwrap_or_else(|| namespace.to_string()),
        s("/metadata/name").unwrap_or_default(),
    )
}
