//! Secret masking: each side of a changed file is read with a YAML parser,
//! every document of it, before anything is diffed, so no renderer can print
//! a Secret value whatever the syntax (block or flow style, JSON, tags,
//! anchors, CR or CRLF line breaks, several documents, `List` objects).
//!
//! A file is *sensitive* when any of its objects, at any depth (the items of
//! a `List` included), is of kind Secret, or carries kubectl's
//! last-applied-configuration annotation (a copy of the whole object). A
//! sensitive file is not shown as written: both sides are re-rendered in
//! manifold's own layout (`emit::to_yaml`), with every value under `data` and
//! `stringData` of a Secret, and the annotation, replaced by `<redacted>`, or
//! `<redacted, changed>` on the new side where it differs from the old one. A
//! file that is not sensitive on either side is shown exactly as it is. A
//! file that cannot be read as YAML on either side is never shown.
//!
//! The parser is `yaml-rust2`: pure Rust without `unsafe`, a complete YAML 1.2
//! parser (flow style, tags, anchors, JSON), maintained, and already in the
//! lock file for the property tests. `serde_yaml` is archived; its forks
//! `serde_yaml_ng` and `serde_norway` are serde front ends to a translation of
//! libyaml's C (`unsafe-libyaml`); `saphyr` is `yaml-rust2`'s successor with
//! a less stable API and more dependencies. The tree is built here from the
//! parser's events rather than by its loader, to refuse what could hide a
//! value or exhaust memory: alias expansion beyond a budget, deep nesting,
//! keys that are not scalars, duplicate keys.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value as Json};
use yaml_rust2::parser::{Event, Parser};

use crate::emit;
use crate::input::yaml::scalar;

const REDACTED: &str = "<redacted>";
const REDACTED_CHANGED: &str = "<redacted, changed>";
/// kubectl's copy of the whole object, Secret values included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Deeper nesting is refused (no Kubernetes object comes close).
const MAX_DEPTH: usize = 256;

/// What a changed file may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Masked {
    /// The two sides to diff: as they are, or re-rendered with Secret values
    /// masked.
    Text { old: String, new: String },
    /// A side is not YAML (or not UTF-8): nothing of the file is shown.
    Unparseable,
}

/// Masks the Secret values of one file's two sides (empty for a side that
/// does not exist). An entry whose value differs between the two is marked
/// as changed on the new side, so the diff shows that it changed but not how.
pub fn mask_secrets(old: &[u8], new: &[u8]) -> Masked {
    let (Some((old_text, old_docs)), Some((new_text, new_docs))) = (parse(old), parse(new)) else {
        return Masked::Unparseable;
    };
    if !old_docs
        .iter()
        .chain(&new_docs)
        .any(|d| sensitive(&d.value))
    {
        return Masked::Text {
            old: old_text.to_string(),
            new: new_text.to_string(),
        };
    }
    let mut old_values = BTreeMap::new();
    let old = render(old_docs, None, &mut old_values);
    let new = render(new_docs, Some(&old_values), &mut BTreeMap::new());
    Masked::Text { old, new }
}

/// One document and whether it used an alias (`*name`).
struct Document {
    value: Json,
    aliases: bool,
}

/// The documents of a YAML or JSON text (several documents, or a stream of
/// JSON values), read as [`mask_secrets`] reads them: YAML 1.2's core
/// schema, merge keys applied, aliases within a budget, duplicate keys
/// refused. `None` when it is not UTF-8 or not YAML. `manifold import`
/// reads its input with it.
pub fn read_documents(bytes: &[u8]) -> Option<Vec<Json>> {
    parse(bytes).map(|(_, docs)| docs.into_iter().map(|d| d.value).collect())
}

/// The text and its documents; `None` when it is not UTF-8 or not YAML.
/// A stream of JSON values without `---` between them (as kubectl accepts)
/// is split by serde_json and each value read by the YAML parser.
fn parse(bytes: &[u8]) -> Option<(&str, Vec<Document>)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(docs) = documents(body) {
        return Some((text, docs));
    }
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<serde::de::IgnoredAny>();
    let mut docs = Vec::new();
    let mut start = 0;
    while let Some(value) = stream.next() {
        value.ok()?;
        let end = stream.byte_offset();
        docs.extend(documents(&body[start..end]).ok()?);
        start = end;
    }
    (docs.len() > 1).then_some((text, docs))
}

/// Why a text was refused; only ever turned into "cannot be parsed".
#[derive(Debug)]
struct Refused;

impl From<yaml_rust2::ScanError> for Refused {
    fn from(_: yaml_rust2::ScanError) -> Self {
        Refused
    }
}

/// A collection being built: its value, its anchor, its size in nodes, and
/// for a mapping the key waiting for its value.
struct Frame {
    value: Json,
    anchor: usize,
    size: usize,
    key: Option<String>,
}

/// Builds the documents of a YAML text from the parser's events.
fn documents(text: &str) -> Result<Vec<Document>, Refused> {
    // Aliases may repeat a node, not multiply memory: the expanded tree may
    // hold a few times more nodes than the text has bytes.
    let mut budget = text.len().saturating_mul(16).saturating_add(100_000);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Json> = None;
    let mut anchors: HashMap<usize, (Json, usize)> = HashMap::new();
    let mut aliases = false;
    loop {
        let (event, _) = parser.next_token()?;
        let (node, anchor, size) = match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart => continue,
            Event::DocumentEnd => {
                docs.push(Document {
                    value: root.take().unwrap_or(Json::Null),
                    aliases,
                });
                // Anchors do not cross documents.
                anchors.clear();
                aliases = false;
                continue;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let value = match event {
                    Event::SequenceStart(..) => Json::Array(Vec::new()),
                    _ => Json::Object(Map::new()),
                };
                if stack.len() >= MAX_DEPTH || awaits_key(&stack) {
                    return Err(Refused);
                }
                stack.push(Frame {
                    value,
                    anchor,
                    size: 1,
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let mut frame = stack.pop().ok_or(Refused)?;
                if let Json::Object(map) = &mut frame.value {
                    merge_keys(map);
                }
                (frame.value, frame.anchor, frame.size)
            }
            Event::Scalar(raw, style, anchor, tag) => {
                if let Some(Frame {
                    value: Json::Object(map),
                    key: key @ None,
                    ..
                }) = stack.last_mut()
                {
                    // A key is its text, whatever it would resolve to.
                    if map.contains_key(&raw) || anchor != 0 {
                        return Err(Refused);
                    }
                    *key = Some(raw);
                    continue;
                }
                (scalar(raw, style, tag.as_ref()), anchor, 1)
            }
            Event::Alias(id) => {
                if awaits_key(&stack) {
                    return Err(Refused);
                }
                let (value, size) = anchors.get(&id).ok_or(Refused)?;
                budget = budget.checked_sub(*size).ok_or(Refused)?;
                aliases = true;
                (value.clone(), 0, *size)
            }
        };
        if anchor != 0 {
            budget = budget.checked_sub(size).ok_or(Refused)?;
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(parent) => {
                parent.size = parent.size.saturating_add(size);
                match &mut parent.value {
                    Json::Array(items) => items.push(node),
                    Json::Object(map) => {
                        let key = parent.key.take().ok_or(Refused)?;
                        map.insert(key, node);
                    }
                    _ => return Err(Refused),
                }
            }
        }
    }
    Ok(docs)
}

/// Whether the innermost collection is a mapping waiting for a key.
fn awaits_key(stack: &[Frame]) -> bool {
    matches!(
        stack.last(),
        Some(Frame {
            value: Json::Object(_),
            key: None,
            ..
        })
    )
}

/// YAML 1.1 merge keys (`<<: *base`), as Kubernetes' reader applies them:
/// the merged mappings' keys join the mapping's own, which win.
fn merge_keys(map: &mut Map<String, Json>) {
    let Some(merged) = map.remove("<<") else {
        return;
    };
    let sources = match merged {
        Json::Array(items) if items.iter().all(Json::is_object) => items,
        Json::Object(_) => vec![merged],
        other => {
            map.insert("<<".to_string(), other);
            return;
        }
    };
    for source in sources {
        if let Json::Object(source) = source {
            for (k, v) in source {
                map.entry(k).or_insert(v);
            }
        }
    }
}

/// The value of a key, the key compared without regard to case (a reader
/// may be lenient; masking must not be less so).
fn field<'a>(map: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn is_secret(map: &Map<String, Json>) -> bool {
    field(map, "kind")
        .and_then(Json::as_str)
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("Secret"))
}

fn is_secret_block(key: &str) -> bool {
    key.eq_ignore_ascii_case("data") || key.eq_ignore_ascii_case("stringData")
}

/// Whether a value holds a Secret or the last-applied annotation anywhere.
fn sensitive(value: &Json) -> bool {
    match value {
        Json::Object(map) => {
            is_secret(map)
                || map
                    .iter()
                    .any(|(k, v)| k.as_str() == LAST_APPLIED || sensitive(v))
        }
        Json::Array(items) => items.iter().any(sensitive),
        _ => false,
    }
}

/// Where a masked value was: the document's index or the named object's
/// identity, then keys and indices.
type Path = Vec<String>;

/// `kind`, namespace and name of a named object, as the first element of a
/// path (a NUL cannot occur in a document's index).
fn identity(map: &Map<String, Json>) -> Option<String> {
    let kind = field(map, "kind")?.as_str()?;
    let metadata = field(map, "metadata")?.as_object()?;
    let name = field(metadata, "name")?.as_str()?;
    let namespace = field(metadata, "namespace").and_then(Json::as_str);
    Some(format!("{kind}\0{}\0{name}", namespace.unwrap_or_default()))
}

/// Masks the documents and writes them in manifold's layout. Masked values
/// are recorded in `values` by path; with `before`, the values of the old
/// side, a value that differs from the one at the same path is marked.
fn render(
    docs: Vec<Document>,
    before: Option<&BTreeMap<Path, Json>>,
    values: &mut BTreeMap<Path, Json>,
) -> String {
    let mut out = Vec::new();
    for (i, mut doc) in docs.into_iter().enumerate() {
        if doc.value.is_null() {
            // An empty document (a trailing `---`) is no object.
            continue;
        }
        let mut path = vec![i.to_string()];
        let mut found = BTreeMap::new();
        mask(&mut doc.value, &mut path, before, &mut found);
        if doc.aliases {
            // An alias may have copied a masked value elsewhere.
            let hidden: BTreeSet<&str> = found.values().flat_map(strings).collect();
            scrub(&mut doc.value, &hidden);
        }
        values.extend(found);
        out.push(emit::to_yaml(&doc.value));
    }
    out.join("---\n")
}

fn mask(
    value: &mut Json,
    path: &mut Path,
    before: Option<&BTreeMap<Path, Json>>,
    found: &mut BTreeMap<Path, Json>,
) {
    match value {
        Json::Object(map) => {
            let secret = is_secret(map);
            // A named object's values are compared with the same object's,
            // wherever it is in the file (moved into a `List`, say).
            let mut own = identity(map).map(|id| vec![id]);
            let path = own.as_mut().unwrap_or(path);
            for (key, child) in map.iter_mut() {
                path.push(key.clone());
                if secret && is_secret_block(key) {
                    match child {
                        Json::Object(entries) => {
                            for (entry, v) in entries.iter_mut() {
                                path.push(entry.clone());
                                hide(v, path, before, found);
                                path.pop();
                            }
                        }
                        // Not a mapping (or empty): hidden as a whole.
                        _ => hide(child, path, before, found),
                    }
                } else if key.as_str() == LAST_APPLIED {
                    hide(child, path, before, found);
                } else {
                    mask(child, path, before, found);
                }
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                mask(item, path, before, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn hide(
    value: &mut Json,
    path: &Path,
    before: Option<&BTreeMap<Path, Json>>,
    found: &mut BTreeMap<Path, Json>,
) {
    let changed = before
        .and_then(|b| b.get(path))
        .is_some_and(|old| old != value);
    let mark = if changed { REDACTED_CHANGED } else { REDACTED };
    found.insert(path.clone(), std::mem::replace(value, Json::from(mark)));
}

/// Every string and number in a value, as text.
fn strings(value: &Json) -> Vec<&str> {
    match value {
        Json::String(s) if !s.is_empty() => vec![s.as_str()],
        Json::Array(items) => items.iter().flat_map(strings).collect(),
        Json::Object(map) => map.values().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Replaces every string equal to a hidden one.
fn scrub(value: &mut Json, hidden: &BTreeSet<&str>) {
    match value {
        Json::String(s) if hidden.contains(s.as_str()) => *s = REDACTED.to_string(),
        Json::Array(items) => items.iter_mut().for_each(|v| scrub(v, hidden)),
        Json::Object(map) => map.values_mut().for_each(|v| scrub(v, hidden)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::SECRET;
    use super::*;

    fn text(old: &str, new: &str) -> (String, String) {
        match mask_secrets(old.as_bytes(), new.as_bytes()) {
            Masked::Text { old, new } => (old, new),
            Masked::Unparseable => panic!("unparseable: {old:?} {new:?}"),
        }
    }

    #[test]
    fn secret_values_are_masked_and_changes_marked() {
        let changed = SECRET
            .replace("aHVudGVyMg==", "c2VjcmV0")
            .replace("token: abc", "token: xyz");
        let (old, new) = text(SECRET, &changed);
        assert_eq!(
            old,
            "\
apiVersion: v1
data:
  password: <redacted>
  user: <redacted>
kind: Secret
metadata:
  name: db
stringData:
  config.yaml: <redacted>
  quoted:key: <redacted>
type: Opaque
"
        );
        assert_eq!(
            new,
            old.replace("password: <redacted>", "password: <redacted, changed>")
                .replace(
                    "config.yaml: <redacted>",
                    "config.yaml: <redacted, changed>"
                )
        );
        for secret in ["aHVudGVyMg", "c2VjcmV0", "abc", "xyz", "plain", "YWRtaW4"] {
            assert!(!old.contains(secret) && !new.contains(secret), "{secret}");
        }
    }

    #[test]
    fn files_without_secrets_are_shown_as_written() {
        let cm = "# a comment\nkind: ConfigMap\ndata: {a: b}\r\n";
        let other = "kind: ConfigMap\ndata:\n  a: c\n";
        assert_eq!(text(cm, other), (cm.to_string(), other.to_string()));
        assert_eq!(text("", other), (String::new(), other.to_string()));
    }

    #[test]
    fn any_syntax_of_a_secret_is_masked() {
        let flow = "{kind: Secret, data: {a: b}}";
        let json = "{\"kind\": \"Secret\", \"data\": {\"a\": \"c\"}}";
        assert_eq!(
            text(flow, json),
            (
                "data:\n  a: <redacted>\nkind: Secret\n".to_string(),
                "data:\n  a: <redacted, changed>\nkind: Secret\n".to_string()
            )
        );
        let cases = [
            "kind: !!str Secret\nstringData:\n  a: !!str hunter2\n",
            "kind: ConfigMap\ndata:\n  x: y\n---\nkind: Secret\ndata:\n  a: hunter2\n",
            "kind: Secret\r\ndata:\r\n  a: hunter2\r\n",
            "kind: Secret\rdata:\r  a: hunter2\r",
            "{\"kind\":\"Secret\",\"data\":{\"a\":\"hunter2\"}}\n{\"kind\":\"ConfigMap\"}\n",
            "kind: List\nitems:\n- kind: Secret\n  data: {a: hunter2}\n",
            "base: &b {kind: Secret}\n<<: *b\ndata: {a: hunter2}\n",
            "kind: Secret\ndata: {a: &x hunter2}\nmetadata: {annotations: {copy: *x}}\n",
            "kind: Secret\ndata: hunter2\n",
            "\u{feff}kind: Secret\nData: {a: hunter2}\n",
        ];
        for case in cases {
            let (old, new) = text(case, "");
            assert!(!old.contains("hunter2"), "{case:?}: {old}");
            assert!(old.contains(REDACTED), "{case:?}: {old}");
            assert_eq!(new, "");
        }
    }

    #[test]
    fn a_named_secret_is_compared_with_itself_wherever_it_moved() {
        let old = "kind: Secret\nmetadata: {name: db}\ndata: {a: x, b: y}\n";
        let new = "kind: ConfigMap\n---\nkind: List\nitems:\n- {kind: Secret, metadata: {name: db}, data: {a: z, b: y}}\n";
        assert_eq!(
            text(old, new).1,
            "kind: ConfigMap\n---\nitems:\n- data:\n    a: <redacted, changed>\n    b: <redacted>\n  kind: Secret\n  metadata:\n    name: db\nkind: List\n"
        );
    }

    #[test]
    fn the_last_applied_annotation_is_masked() {
        let deployment = |v: &str| {
            format!(
                "kind: Deployment\nmetadata:\n  annotations:\n    {LAST_APPLIED}: '{{\"data\":{{\"a\":\"{v}\"}}}}'\n  name: web\n"
            )
        };
        let (old, new) = text(&deployment("hunter2"), &deployment("hunter3"));
        assert_eq!(
            new,
            format!(
                "kind: Deployment\nmetadata:\n  annotations:\n    {LAST_APPLIED}: <redacted, changed>\n  name: web\n"
            )
        );
        assert!(!old.contains("hunter2"));
    }

    #[test]
    fn what_is_not_yaml_is_not_shown() {
        for bad in [
            "kind: Secret\ndata: {a: hunter2\n",
            "kind: Secret\nkind: Secret\ndata: {a: hunter2}\n",
            "kind: Secret\ndata: {a: *nowhere}\n",
            "{kind: Secret}: x\n",
        ] {
            assert_eq!(mask_secrets(bad.as_bytes(), b""), Masked::Unparseable);
            assert_eq!(mask_secrets(b"", bad.as_bytes()), Masked::Unparseable);
        }
        assert_eq!(mask_secrets(b"a: \xff\n", b""), Masked::Unparseable);
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert_eq!(mask_secrets(deep.as_bytes(), b""), Masked::Unparseable);
        // Nine levels of nine aliases would be 387 million nodes.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb += &format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            );
        }
        assert_eq!(mask_secrets(bomb.as_bytes(), b""), Masked::Unparseable);
    }
}
