//! `explain --format json`: the shape tools read, documented in README's
//! "explain" section. Every answer has `environment`, `service`,
//! `enabled` and `files` (the layers' files); then `values`, each a key,
//! its value in force and its chain of layers, low to high.

use serde_json::{Map, Value as Json, json};

use super::chain::{Entry, Explained};
use super::path::display;
use crate::compile::Traced;
use crate::diag::Sources;

/// What every answer starts with.
pub fn header(t: &Traced<'_>, sources: &Sources, environment: &str) -> Map<String, Json> {
    let path = |f| Json::from(sources.get(f).path.as_str());
    let mut map = Map::new();
    map.insert("environment".into(), Json::from(environment));
    map.insert("service".into(), Json::from(t.name.as_str()));
    map.insert("enabled".into(), Json::from(t.enabled));
    map.insert(
        "files".into(),
        json!({
            "defaults": path(t.layers.environment),
            "service": path(t.layers.service),
            "overlay": t.layers.overlay.map_or(Json::Null, path),
        }),
    );
    map
}

fn entry(e: &Entry) -> Json {
    json!({
        "layer": e.layer.id(),
        "file": e.at.as_ref().map(|a| a.file.as_str()),
        "line": e.at.as_ref().map(|a| a.line),
        "column": e.at.as_ref().map(|a| a.column),
        "written": e.written,
    })
}

/// One value: `key`, `value` (`null` when nothing sets it), `expanded`
/// (written with `${...}`), `ignored` (why the objects leave it out, or
/// `null`) and `chain`.
pub fn explained(e: &Explained) -> Json {
    json!({
        "key": display(&e.key),
        "value": e.value,
        "expanded": e.expanded,
        "ignored": e.ignored,
        "chain": e.chain.iter().map(entry).collect::<Vec<_>>(),
    })
}
