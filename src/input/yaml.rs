//! Reading YAML (and JSON, which is YAML) into JSON values that remember
//! where each node was written, for the files of `crds/` and `manifests/`.
//!
//! The parser is `yaml-rust2` (see `diff/mask.rs` for why), driven by its
//! events so that every node's byte offset is kept: a problem found deep in a
//! CustomResourceDefinition is reported at its line and column. Like the
//! reader in `diff`, it refuses what could hide a value or exhaust memory:
//! keys that are not scalars, duplicate keys, nesting deeper than any
//! Kubernetes object, and aliases beyond a budget.
//!
//! [`documents`] resolves scalars under YAML 1.2's core schema.
//! [`kubernetes_documents`] reads them as the YAML readers of Kubernetes'
//! tools agree on, for files written for `kubectl apply`: a plain integer
//! is read as Go reads one (`0644` is octal, `1_000` is a thousand), as both
//! kubectl (YAML 1.1) and kustomize (YAML 1.2) do, and a YAML 1.1 boolean
//! other than `true` and `false` (`yes`, `on`, `n`, ...), true or false to
//! kubectl but text to kustomize and Flux, is refused at its position. Past
//! that, this module knows nothing of Kubernetes: it turns text into
//! documents or a located error.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde_json::{Map, Value as Json};
use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deeper nesting is refused (no Kubernetes object comes close).
const MAX_DEPTH: usize = 256;

/// One YAML document as JSON, with the position of each of its nodes.
#[derive(Clone, Debug)]
pub struct Document {
    pub value: Json,
    /// Where the document's first node starts.
    pub start: usize,
    /// JSON pointer (`/spec/versions/0`) -> the bytes of the node's key when
    /// it is a mapping entry, else of the node's first token.
    spans: BTreeMap<String, Range<usize>>,
}

impl Document {
    /// The span of the node at `pointer`, or of its nearest ancestor that
    /// has one (nodes copied by an alias have none of their own).
    pub fn span(&self, pointer: &str) -> Range<usize> {
        let mut at = pointer;
        loop {
            if let Some(span) = self.spans.get(at) {
                return span.clone();
            }
            match at.rfind('/') {
                Some(i) => at = &at[..i],
                None => return self.start..self.start,
            }
        }
    }
}

/// Why a text is not YAML this reader accepts, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub at: usize,
    /// The bytes of the offending token; 0 for a position alone.
    pub len: usize,
    /// What to write instead, when the text is YAML but means different
    /// things to different readers.
    pub hint: Option<String>,
}

fn refused(message: impl Into<String>, at: &Marker) -> YamlError {
    YamlError {
        message: message.into(),
        at: at.index(),
        len: 0,
        hint: None,
    }
}

/// How plain scalars resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolve {
    /// YAML 1.2's core schema.
    Core,
    /// As Kubernetes' tools agree (see the module's documentation).
    Kubernetes,
}

/// A collection being built.
struct Frame {
    value: Json,
    pointer: String,
    anchor: usize,
    size: usize,
    /// For a mapping, the key waiting for its value.
    key: Option<String>,
}

/// Every document of `text`, empty documents left out; scalars under YAML
/// 1.2's core schema.
pub fn documents(text: &str) -> Result<Vec<Document>, YamlError> {
    read(text, Resolve::Core)
}

/// Every document of `text`, empty documents left out; plain scalars as
/// kubectl and kustomize both read them, or an error where they differ.
pub fn kubernetes_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    read(text, Resolve::Kubernetes)
}

fn read(text: &str, resolve: Resolve) -> Result<Vec<Document>, YamlError> {
    let mut reader = Reader {
        resolve,
        // Aliases may repeat a node, not multiply memory.
        budget: text.len().saturating_mul(16).saturating_add(100_000),
        stack: Vec::new(),
        anchors: HashMap::new(),
        spans: BTreeMap::new(),
        root: None,
        start: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    loop {
        let (event, marker) = parser.next_token().map_err(|e| YamlError {
            message: e.info().to_string(),
            at: e.marker().index(),
            len: 0,
            hint: None,
        })?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentEnd => {
                if let Some(value) = reader.root.take().filter(|v| !v.is_null()) {
                    docs.push(Document {
                        value,
                        start: reader.start,
                        spans: std::mem::take(&mut reader.spans),
                    });
                }
                reader.spans.clear();
                reader.anchors.clear();
            }
            event => reader.event(event, &marker, text)?,
        }
    }
    Ok(docs)
}

struct Reader {
    resolve: Resolve,
    budget: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Json, usize)>,
    spans: BTreeMap<String, Range<usize>>,
    root: Option<Json>,
    start: usize,
}

impl Reader {
    /// The pointer of the node that comes next, and whether the innermost
    /// collection is a mapping waiting for a key.
    fn next_pointer(&self) -> (String, bool) {
        match self.stack.last() {
            None => (String::new(), false),
            Some(Frame {
                value: Json::Object(_),
                key: None,
                ..
            }) => (String::new(), true),
            Some(frame) => {
                let last = match (&frame.value, &frame.key) {
                    (Json::Array(items), _) => items.len().to_string(),
                    (_, Some(key)) => key.replace('~', "~0").replace('/', "~1"),
                    _ => String::new(),
                };
                (format!("{}/{last}", frame.pointer), false)
            }
        }
    }

    fn event(&mut self, event: Event, marker: &Marker, text: &str) -> Result<(), YamlError> {
        let (pointer, awaits_key) = self.next_pointer();
        if self.stack.is_empty() && matches!(event, Event::DocumentStart) {
            return Ok(());
        }
        let (node, anchor, size) = match event {
            Event::Nothing | Event::StreamStart | Event::DocumentStart => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if awaits_key {
                    return Err(refused(
                        "a key must be a plain value, not a list or a mapping",
                        marker,
                    ));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(refused("nested too deeply", marker));
                }
                if self.stack.is_empty() {
                    self.start = marker.index();
                }
                self.spans
                    .entry(pointer.clone())
                    .or_insert(marker.index()..marker.index() + 1);
                let value = match event {
                    Event::SequenceStart(..) => Json::Array(Vec::new()),
                    _ => Json::Object(Map::new()),
                };
                self.stack.push(Frame {
                    value,
                    pointer,
                    anchor,
                    size: 1,
                    key: None,
                });
                return Ok(());
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self
                    .stack
                    .pop()
                    .ok_or_else(|| refused("unbalanced", marker))?;
                (frame.value, frame.anchor, frame.size)
            }
            Event::Scalar(raw, style, anchor, tag) => {
                let span = token_span(text, marker.index(), &raw, style);
                if awaits_key {
                    return self.key(raw, anchor, span, marker);
                }
                if self.stack.is_empty() {
                    self.start = marker.index();
                }
                self.spans.entry(pointer).or_insert(span);
                let plain = style == TScalarStyle::Plain && tag.is_none();
                let value = match self.resolve {
                    Resolve::Kubernetes if plain => kubernetes_plain(raw, marker)?,
                    _ => scalar(raw, style, tag.as_ref()),
                };
                (value, anchor, 1)
            }
            Event::Alias(id) => {
                if awaits_key {
                    return Err(refused("a key must be a plain value, not an alias", marker));
                }
                let (value, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| refused("unknown alias", marker))?;
                self.spend(size, marker)?;
                self.spans
                    .entry(pointer)
                    .or_insert(marker.index()..marker.index() + 1);
                (value, 0, size)
            }
            Event::StreamEnd | Event::DocumentEnd => return Ok(()),
        };
        if anchor != 0 {
            self.spend(size, marker)?;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        self.attach(node, size, marker)
    }

    fn key(
        &mut self,
        raw: String,
        anchor: usize,
        span: Range<usize>,
        marker: &Marker,
    ) -> Result<(), YamlError> {
        let frame = self.stack.last_mut().expect("a mapping awaits the key");
        let Json::Object(map) = &frame.value else {
            unreachable!("only mappings await keys")
        };
        if anchor != 0 {
            return Err(refused("a key cannot carry an anchor", marker));
        }
        if map.contains_key(&raw) {
            return Err(refused(format!("duplicate key `{raw}`"), marker));
        }
        let pointer = format!(
            "{}/{}",
            frame.pointer,
            raw.replace('~', "~0").replace('/', "~1")
        );
        self.spans.insert(pointer, span);
        frame.key = Some(raw);
        Ok(())
    }

    fn spend(&mut self, size: usize, marker: &Marker) -> Result<(), YamlError> {
        self.budget = self
            .budget
            .checked_sub(size)
            .ok_or_else(|| refused("aliases expand beyond the size this reader accepts", marker))?;
        Ok(())
    }

    fn attach(&mut self, node: Json, size: usize, marker: &Marker) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(parent) => {
                parent.size = parent.size.saturating_add(size);
                match &mut parent.value {
                    Json::Array(items) => items.push(node),
                    Json::Object(map) => {
                        let key = parent
                            .key
                            .take()
                            .ok_or_else(|| refused("a value without a key", marker))?;
                        map.insert(key, node);
                    }
                    _ => return Err(refused("unbalanced", marker)),
                }
            }
        }
        Ok(())
    }
}

/// The bytes of a scalar token starting at `start`: the raw text, plus the
/// quotes of a quoted one, kept on its first line.
fn token_span(text: &str, start: usize, raw: &str, style: TScalarStyle) -> Range<usize> {
    let quotes = match style {
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => 2,
        _ => 0,
    };
    let rest = text.get(start..).unwrap_or_default();
    let line = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let len = (raw.len() + quotes).clamp(1, line.max(1));
    start..(start + len).min(text.len())
}

/// A scalar under YAML 1.2's core schema; quoted, block and tagged (`!!str`,
/// `!custom`) scalars are strings unless the tag names another core type.
/// Shared with `diff`'s masking reader, so both read a scalar alike.
pub fn scalar(raw: String, style: TScalarStyle, tag: Option<&Tag>) -> Json {
    let resolve = match tag {
        _ if style != TScalarStyle::Plain => false,
        None => true,
        Some(tag) => {
            tag.handle == "tag:yaml.org,2002:"
                && matches!(tag.suffix.as_str(), "int" | "float" | "bool" | "null")
        }
    };
    if !resolve {
        return Json::String(raw);
    }
    match Yaml::from_str(&raw) {
        Yaml::Null => Json::Null,
        Yaml::Boolean(b) => Json::Bool(b),
        Yaml::Integer(i) => Json::from(i),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::String(raw), Json::Number),
        _ => Json::String(raw),
    }
}

/// A plain, untagged scalar as kubectl and kustomize read it: an integer
/// as Go parses one, a YAML 1.1 boolean refused, else YAML 1.2's core
/// schema.
fn kubernetes_plain(raw: String, marker: &Marker) -> Result<Json, YamlError> {
    if let Some(i) = go_integer(&raw) {
        return Ok(Json::from(i));
    }
    const YAML_1_1_BOOLEANS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
        "OFF",
    ];
    if YAML_1_1_BOOLEANS.contains(&raw.as_str()) {
        let truth = matches!(raw.as_bytes()[0], b'y' | b'Y') || raw.eq_ignore_ascii_case("on");
        return Err(YamlError {
            message: format!(
                "`{raw}` is {truth} to kubectl (YAML 1.1) but the text `{raw}` to kustomize and Flux (YAML 1.2)"
            ),
            at: marker.index(),
            len: raw.len(),
            hint: Some(format!(
                "write `{truth}` for a boolean, or `\"{raw}\"` for the text"
            )),
        });
    }
    Ok(scalar(raw, TScalarStyle::Plain, None))
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it, which both
/// YAML readers of Kubernetes' tools use: an optional sign, then `0x`,
/// `0o`, `0b` or a leading `0` (octal) for the base, and `_` between digits.
fn go_integer(s: &str) -> Option<i64> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    // Go allows `_` only between digits or after a base prefix.
    let prefixed = radix != 10;
    if digits.is_empty()
        || digits.ends_with('_')
        || digits.contains("__")
        || (digits.starts_with('_') && !prefixed)
    {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&digits, radix).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_keep_the_position_of_every_key() {
        let text = "---\napiVersion: v1\nspec:\n  names:\n    kind: Foo\n  versions:\n  - name: v1\n    served: true\n---\n---\nb: [1, \"x\"]\n";
        let docs = documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].value,
            json!({"apiVersion": "v1", "spec": {"names": {"kind": "Foo"}, "versions": [{"name": "v1", "served": true}]}})
        );
        let at = |d: &Document, p: &str| &text[d.span(p)];
        assert_eq!(at(&docs[0], "/spec/names/kind"), "kind");
        assert_eq!(at(&docs[0], "/spec/versions/0/served"), "served");
        assert_eq!(
            docs[0].span("/spec/versions/0/name").start,
            text.find("name: v1").unwrap()
        );
        // A pointer with no node of its own falls back to its ancestor.
        assert_eq!(at(&docs[0], "/spec/names/plural"), "names");
        assert_eq!(docs[1].value, json!({"b": [1, "x"]}));
        assert_eq!(at(&docs[1], "/b/1"), "\"x\"");
    }

    #[test]
    fn json_is_read_too() {
        let text = "{\"kind\": \"List\", \"items\": [{\"a\": 1.5, \"b\": null, \"c\": \"yes\"}]}";
        let docs = documents(text).unwrap();
        assert_eq!(
            docs[0].value,
            json!({"kind": "List", "items": [{"a": 1.5, "b": null, "c": "yes"}]})
        );
        assert_eq!(&text[docs[0].span("/items/0/c")], "\"c\"");
    }

    #[test]
    fn yaml_1_1_look_alikes_stay_strings() {
        let docs = documents("a: yes\nb: 0755\nc: '1'\nd: on\n").unwrap();
        assert_eq!(
            docs[0].value,
            json!({"a": "yes", "b": 755, "c": "1", "d": "on"})
        );
    }

    #[test]
    fn what_could_hide_a_value_or_exhaust_memory_is_refused_with_its_position() {
        let text = "a: 1\na: 2\n";
        let e = documents(text).unwrap_err();
        assert_eq!(e.message, "duplicate key `a`");
        assert_eq!(e.at, 5);
        assert!(documents("? [a]\n: 1\n").is_err());
        let bomb = format!(
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n{}",
            (b'b'..=b'z')
                .map(|c| {
                    let prev = (c - 1) as char;
                    let c = c as char;
                    format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n")
                })
                .collect::<String>()
        );
        assert!(documents(&bomb).unwrap_err().message.contains("aliases"));
        let deep = "[".repeat(300);
        assert!(documents(&deep).is_err());
    }

    #[test]
    fn kubernetes_integers_are_read_as_go_reads_them() {
        let docs = kubernetes_documents(
            "a: 0644\nb: 0o755\nc: 1_000\nd: 0x1F\ne: -010\nf: 0\ng: '0644'\nh: 09\ni: 1.5\nj: 0b101\nk: true\n",
        )
        .unwrap();
        assert_eq!(
            docs[0].value,
            json!({"a": 420, "b": 493, "c": 1000, "d": 31, "e": -8, "f": 0, "g": "0644", "h": 9, "i": 1.5, "j": 5, "k": true})
        );
        // The core schema reads the same text otherwise.
        assert_eq!(documents("a: 0644\n").unwrap()[0].value, json!({"a": 644}));
    }

    #[test]
    fn kubernetes_ambiguous_booleans_are_refused_with_a_hint() {
        let text = "data:\n  debug: \"on\"\n  verbose: on\n";
        let e = kubernetes_documents(text).unwrap_err();
        assert_eq!(
            e.message,
            "`on` is true to kubectl (YAML 1.1) but the text `on` to kustomize and Flux (YAML 1.2)"
        );
        assert_eq!((e.at, e.len), (text.rfind("on").unwrap(), 2));
        assert_eq!(
            e.hint.as_deref(),
            Some("write `true` for a boolean, or `\"on\"` for the text")
        );
        assert!(
            kubernetes_documents("a: No\n")
                .unwrap_err()
                .message
                .contains("false")
        );
        // Keys and quoted values are text to every reader.
        assert!(kubernetes_documents("yes: 'no'\n").is_ok());
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.at > 0, "{e:?}");
    }
}
