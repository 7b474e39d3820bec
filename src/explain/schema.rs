//! What the service schema says about a key: its built-in `default`, its
//! description, and whether the key exists at all (with the keys that do,
//! for a suggestion). The built-in defaults `explain` shows are the
//! schema's `default`s, the values the typed model falls back to.

use std::sync::LazyLock;

use serde_json::Value as Json;

use super::path::Seg;
use crate::schema::SERVICE_SCHEMA;

fn document() -> &'static Json {
    static DOC: LazyLock<Json> =
        LazyLock::new(|| serde_json::from_str(SERVICE_SCHEMA).expect("embedded schema is JSON"));
    &DOC
}

/// Where a path leads in the schema.
#[derive(Debug)]
pub enum Found {
    /// The schema of the key.
    Key(&'static Json),
    /// Inside a free-form table (`patches`, `objects`, a raw object's
    /// fields): any key may be written and the schema says no more.
    Free,
    /// No such key: the path up to it, and the keys written there.
    Unknown { at: usize, known: Vec<String> },
}

/// Follows `$ref`s to the definition they name.
fn resolve(mut node: &'static Json) -> &'static Json {
    while let Some(r) = node.get("$ref").and_then(Json::as_str) {
        let Some(name) = r.strip_prefix("#/$defs/") else {
            break;
        };
        match document()["$defs"].get(name) {
            Some(def) => node = def,
            None => break,
        }
    }
    node
}

/// The branches of a `oneOf` or `anyOf`, or the node itself.
fn branches(node: &'static Json) -> Vec<&'static Json> {
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = node.get(key).and_then(Json::as_array) {
            return list.iter().map(resolve).collect();
        }
    }
    vec![node]
}

/// One step into `node`: `Ok(None)` for a free-form place, `Err` with the
/// known keys when the key does not exist.
/// The node returned is as written (a `$ref` with the key's own
/// `default` and `description` beside it), not resolved.
fn step(node: &'static Json, seg: &Seg) -> Result<Option<&'static Json>, Vec<String>> {
    let mut known = Vec::new();
    for branch in branches(resolve(node)) {
        if let Some(items) = branch.get("items") {
            return Ok(Some(items));
        }
        let Seg::Key(key) = seg else { continue };
        if let Some(found) = branch.get("properties").and_then(|p| p.get(key)) {
            return Ok(Some(found));
        }
        match branch.get("additionalProperties") {
            Some(Json::Bool(false)) => {}
            Some(more @ Json::Object(_)) => return Ok(Some(more)),
            _ if branch.get("type").and_then(Json::as_str) == Some("object") => return Ok(None),
            _ => {}
        }
        if let Some(props) = branch.get("properties").and_then(Json::as_object) {
            known.extend(props.keys().cloned());
        }
    }
    Err(known)
}

/// Follows a key path of the merged service in the schema.
pub fn find(segs: &[Seg]) -> Found {
    let mut node = &document()["$defs"]["service"];
    for (at, seg) in segs.iter().enumerate() {
        match step(node, seg) {
            Ok(Some(next)) => node = next,
            Ok(None) => return Found::Free,
            Err(known) => return Found::Unknown { at, known },
        }
    }
    Found::Key(node)
}

/// A word of the key's schema: its own, else its definition's.
fn own(node: &'static Json, word: &str) -> Option<&'static Json> {
    node.get(word).or_else(|| resolve(node).get(word))
}

/// The schema's `default` of a key, if it has one.
pub fn default(segs: &[Seg]) -> Option<&'static Json> {
    match find(segs) {
        Found::Key(node) => own(node, "default"),
        _ => None,
    }
}

/// The keys of the table at `segs` that have a `default`, in the schema's
/// order: what a table of the merged service holds where no layer wrote it.
pub fn defaults_of(segs: &[Seg]) -> Vec<(&'static str, &'static Json)> {
    let Found::Key(node) = find(segs) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for branch in branches(resolve(node)) {
        if let Some(props) = branch.get("properties").and_then(Json::as_object) {
            for (key, value) in props {
                if let Some(d) = own(value, "default") {
                    out.push((key.as_str(), d));
                }
            }
        }
    }
    out
}

/// The first sentence of a key's description, if it has one.
pub fn description(segs: &[Seg]) -> Option<String> {
    let Found::Key(node) = find(segs) else {
        return None;
    };
    let text = own(node, "description").and_then(Json::as_str)?;
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    Some(text[..end].trim_end_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::path::parse;

    #[test]
    fn defaults_come_from_the_schema_through_refs_and_items() {
        assert_eq!(default(&parse("replicas").unwrap()), Some(&Json::from(1)));
        assert_eq!(
            default(&parse("security.profile").unwrap()),
            Some(&Json::from("hardened"))
        );
        assert_eq!(
            default(&parse("ports.http.protocol").unwrap()),
            Some(&Json::from("TCP"))
        );
        assert_eq!(default(&parse("resources.cpu.limit").unwrap()), None);
    }

    #[test]
    fn unknown_keys_are_told_apart_from_free_form_tables() {
        assert!(matches!(
            find(&parse("resources.cpu.limt").unwrap()),
            Found::Unknown { at: 2, ref known } if known.contains(&"limit".to_string())
        ));
        assert!(matches!(
            find(&parse("env.LOG_LEVEL").unwrap()),
            Found::Key(_)
        ));
        assert!(matches!(
            find(&parse("tracks.canary.weight").unwrap()),
            Found::Key(_)
        ));
        assert!(matches!(
            find(&parse(r#"patches."deployment/web".spec"#).unwrap()),
            Found::Free
        ));
    }
}
