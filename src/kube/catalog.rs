//! The vendored schema text of one Kubernetes version, indexed without parsing.
//!
//! A vendored file is several hundred kilobytes of JSON, and a run needs a
//! handful of its definitions: parsing it whole costs more than everything
//! else a small repository's run does. `scripts/vendor-kube-schemas.py` writes
//! one definition per line (`"name":{...},`), so a scan of the lines finds
//! every definition's text, the kinds are read from the lines that declare
//! one, and only the definitions a validator reaches are ever parsed. The
//! tests check the index against a full parse of every vendored version.

use std::collections::HashMap;

use serde_json::Value as Json;

/// The key a definition declares its kind with.
const GVK: &str = "\"x-kubernetes-group-version-kind\":";
/// How a definition refers to another.
const REF: &str = "\"$ref\":\"#/$defs/";

pub(super) struct Catalog {
    /// Definition name -> the definition's JSON text.
    definitions: HashMap<&'static str, &'static str>,
    /// (apiVersion, kind) -> definition name.
    pub(super) kinds: HashMap<(String, String), &'static str>,
}

impl Catalog {
    /// Indexes `text`, a vendored file with one definition per line.
    pub(super) fn index(text: &'static str) -> Catalog {
        let mut definitions = HashMap::new();
        let mut kinds = HashMap::new();
        for line in text.lines() {
            let Some((name, body)) = definition_line(line) else {
                continue;
            };
            definitions.insert(name, body);
            if let Some(api_version_kind) = declared_kind(body) {
                kinds.insert(api_version_kind, name);
            }
        }
        Catalog { definitions, kinds }
    }

    /// The JSON text of the definition `name`.
    pub(super) fn definition(&self, name: &str) -> Option<&'static str> {
        self.definitions.get(name).copied()
    }

    /// The definitions `definition` reaches through `$ref`, itself included,
    /// parsed: the `$defs` of its validator.
    pub(super) fn reachable(&self, definition: &str) -> serde_json::Map<String, Json> {
        let mut reached = serde_json::Map::new();
        let mut stack = vec![definition];
        while let Some(name) = stack.pop() {
            if reached.contains_key(name) {
                continue;
            }
            let Some(text) = self.definition(name) else {
                continue;
            };
            for name in refs(text) {
                stack.push(name);
            }
            let parsed = serde_json::from_str(text).expect("vendored definition is JSON");
            reached.insert(name.to_string(), parsed);
        }
        reached
    }
}

/// `"name":{...},` -> (`name`, `{...}`); `None` for the lines around the
/// definitions.
fn definition_line(line: &'static str) -> Option<(&'static str, &'static str)> {
    let line = line.strip_suffix(',').unwrap_or(line);
    let rest = line.strip_prefix('"')?;
    let (name, body) = rest.split_once("\":")?;
    (body.starts_with('{') && body.ends_with('}')).then_some((name, body))
}

/// The (apiVersion, kind) a definition is the schema of: the one entry of its
/// `x-kubernetes-group-version-kind`. Shared types such as DeleteOptions list
/// many and are no kind's schema.
fn declared_kind(body: &str) -> Option<(String, String)> {
    let at = body.find(GVK)? + GVK.len();
    let gvks: Json = serde_json::Deserializer::from_str(&body[at..])
        .into_iter::<Json>()
        .next()?
        .ok()?;
    let [gvk] = gvks.as_array()?.as_slice() else {
        return None;
    };
    let field = |key: &str| gvk[key].as_str().unwrap_or_default();
    let api_version = match field("group") {
        "" => field("version").to_string(),
        group => format!("{group}/{}", field("version")),
    };
    Some((api_version, field("kind").to_string()))
}

/// The names of the definitions `text` refers to. In compact JSON a `$ref`
/// key is always written `"$ref":"`; inside a string its quotes would be
/// escaped, so this finds exactly the references.
fn refs(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.match_indices(REF).filter_map(move |(at, _)| {
        let rest = &text[at + REF.len()..];
        rest.find('"').map(|end| &rest[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{VERSIONS, text};

    /// Every definition name a parsed definition refers to.
    fn parsed_refs(node: &Json, out: &mut Vec<String>) {
        match node {
            Json::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Json::String(r)) => {
                            if let Some(name) = r.strip_prefix("#/$defs/") {
                                out.push(name.to_string());
                            }
                        }
                        _ => parsed_refs(value, out),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|i| parsed_refs(i, out)),
            _ => {}
        }
    }

    #[test]
    fn the_index_agrees_with_a_full_parse_of_every_version() {
        for version in VERSIONS {
            let text = text(version).unwrap();
            let catalog = Catalog::index(text);
            let document: Json = serde_json::from_str(text).unwrap();
            let defs = document["$defs"].as_object().unwrap();
            assert_eq!(catalog.definitions.len(), defs.len(), "{version}");
            for (name, def) in defs {
                let body = catalog.definition(name).unwrap();
                let parsed: Json = serde_json::from_str(body).unwrap();
                assert_eq!(&parsed, def, "{version} {name}");
                let mut want = Vec::new();
                parsed_refs(def, &mut want);
                let got: Vec<String> = refs(body).map(str::to_string).collect();
                assert_eq!(got.len(), want.len(), "{version} {name}");
                want.sort();
                let mut got = got;
                got.sort();
                assert_eq!(got, want, "{version} {name}");
            }
            // The kinds as read from the parsed document.
            let mut kinds = HashMap::new();
            for (name, def) in defs {
                let Some(gvks) = def
                    .get("x-kubernetes-group-version-kind")
                    .and_then(Json::as_array)
                else {
                    continue;
                };
                if gvks.len() != 1 {
                    continue;
                }
                let gvk = &gvks[0];
                let group = gvk["group"].as_str().unwrap_or_default();
                let api_version = if group.is_empty() {
                    gvk["version"].as_str().unwrap_or_default().to_string()
                } else {
                    format!("{group}/{}", gvk["version"].as_str().unwrap_or_default())
                };
                let kind = gvk["kind"].as_str().unwrap_or_default().to_string();
                kinds.insert((api_version, kind), name.as_str());
            }
            assert!(kinds.len() > 100, "{version}");
            assert_eq!(catalog.kinds, kinds, "{version}");
        }
    }
}
