//! The spanned TOML tree every later stage reads.
//!
//! A [`Node`] is a TOML value that remembers which file and which bytes it came
//! from (and, for a table entry, where its key is written). Merging keeps those
//! origins, so a problem found in a merged service still points at the line that
//! caused it. Tables keep their entries in written order (the order of the
//! file, then of the layers merged in), which is the order environment
//! variables are rendered in. This module parses; it does not validate or
//! merge.

use std::ops::Range;

use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic, FileId, Sources};

/// Where a value was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    pub span: Range<usize>,
}

/// A TOML value with its origin.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
    /// Where the key naming this value is written, for table entries.
    pub key: Option<Range<usize>>,
    /// The values of lower layers that this one replaced when layers were
    /// merged, lowest layer first (see `merge`): where the environment's
    /// `[defaults]` or the service file set what a higher layer overrides.
    /// Empty for a value written in one layer only.
    pub overrode: Vec<Origin>,
}

#[derive(Clone, Debug)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// Kept as written: every datetime becomes a string downstream.
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// A TOML table: entries in written order, with an index sorted by key for
/// lookups. Tables in configuration are small, and two vectors are a fraction
/// of a B-tree's size.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// In written order: a file's own order, then each new key of a higher
    /// layer after the keys of the layers below (see `merge`).
    entries: Vec<(String, Node)>,
    /// Indices into `entries`, sorted by key.
    by_key: Vec<usize>,
}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    /// The place of `key` in `by_key`, or where it would go.
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.by_key
            .binary_search_by(|&i| self.entries[i].0.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.position(key)
            .ok()
            .map(|p| &self.entries[self.by_key[p]].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let p = self.position(key).ok()?;
        Some(&mut self.entries[self.by_key[p]].1)
    }

    /// Replaces the value of a key in its place, or appends a new key.
    pub fn insert(&mut self, key: String, node: Node) {
        match self.position(&key) {
            Ok(p) => self.entries[self.by_key[p]].1 = node,
            Err(p) => {
                self.by_key.insert(p, self.entries.len());
                self.entries.push((key, node));
            }
        }
    }

    /// The entries in written order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in written order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Node> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    /// The TOML name of this value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// One step of a path into a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl Node {
    pub fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_table()?.get(key)
    }

    /// Follows a path of keys and array indices.
    pub fn at(&self, path: &[Step]) -> Option<&Node> {
        let mut node = self;
        for step in path {
            node = match (step, &node.value) {
                (Step::Key(k), Value::Table(t)) => t.get(k)?,
                (Step::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The deepest node on `path` that exists, for pointing at the nearest
    /// thing the user wrote when the exact value is absent.
    pub fn nearest(&self, path: &[Step]) -> &Node {
        let mut node = self;
        for step in path {
            let next = match (step, &node.value) {
                (Step::Key(k), Value::Table(t)) => t.get(k),
                (Step::Index(i), Value::Array(a)) => a.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The span to underline for this node: its key when it has one and
    /// `prefer_key`, else the value.
    pub fn span(&self, prefer_key: bool) -> Range<usize> {
        match (&self.key, prefer_key) {
            (Some(k), true) => k.clone(),
            _ => self.origin.span.clone(),
        }
    }

    /// Converts to JSON for schema validation and typed deserialization.
    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::String(s) | Value::Datetime(s) => Json::String(s.clone()),
            Value::Integer(i) => Json::from(*i),
            // Non-finite floats were rejected at parse time.
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Boolean(b) => Json::Bool(*b),
            Value::Array(a) => Json::Array(a.iter().map(Node::to_json).collect()),
            Value::Table(t) => {
                Json::Object(t.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

/// Parses a TOML document into a spanned tree, reporting every syntax error.
pub fn parse(file: FileId, text: &str) -> Result<Node, Vec<Diagnostic>> {
    use toml::de::DeTable;
    let (table, errors) = DeTable::parse_recoverable(text);
    let mut diags: Vec<Diagnostic> = errors
        .iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            Diagnostic::error(Code::Syntax, syntax_message(e.message()))
                .at(file, span)
                .hint("see https://toml.io/en/v1.0.0 for the TOML syntax")
        })
        .collect();
    if !diags.is_empty() {
        return Err(diags);
    }
    let span = table.span();
    let node = Node {
        value: Value::Table(convert_table(file, table.into_inner(), &mut diags)),
        origin: Origin { file, span },
        key: None,
        overrode: Vec::new(),
    };
    if diags.is_empty() {
        Ok(node)
    } else {
        Err(diags)
    }
}

fn syntax_message(raw: &str) -> String {
    // The parser's messages are sentences; ours are lowercase phrases.
    let first = raw
        .lines()
        .next()
        .unwrap_or(raw)
        .trim()
        .trim_end_matches('.');
    let mut chars = first.chars();
    match chars.next() {
        Some(c) => format!("invalid TOML: {}{}", c.to_lowercase(), chars.as_str()),
        None => "invalid TOML".to_string(),
    }
}

fn convert_table(file: FileId, table: toml::de::DeTable<'_>, diags: &mut Vec<Diagnostic>) -> Table {
    // The parser's map iterates in key order and forgets the written one; the
    // spans of the keys remember it (a table's first mention, for a table
    // that a later `[a.b]` header extends).
    let mut entries: Vec<(String, Node)> = Vec::with_capacity(table.len());
    for (key, value) in table {
        let key_span = key.span();
        let mut node = convert(file, value, diags);
        node.key = Some(key_span);
        entries.push((key.into_inner().into_owned(), node));
    }
    entries.sort_by_key(|(_, node)| node.key.as_ref().map_or(0, |k| k.start));
    let mut by_key: Vec<usize> = (0..entries.len()).collect();
    by_key.sort_by(|&a, &b| entries[a].0.cmp(&entries[b].0));
    Table { entries, by_key }
}

fn convert(
    file: FileId,
    value: toml::Spanned<toml::de::DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Node {
    use toml::de::DeValue;
    let span = value.span();
    let value = match value.into_inner() {
        DeValue::String(s) => Value::String(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                diags.push(
                    Diagnostic::error(
                        Code::Syntax,
                        format!("integer `{i}` does not fit in 64 bits"),
                    )
                    .at(file, span.clone())
                    .hint("quote it if it is meant as text"),
                );
                Value::Integer(0)
            }
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) if x.is_finite() => Value::Float(x),
            _ => {
                diags.push(
                    Diagnostic::error(Code::Syntax, format!("`{f}` is not a finite number"))
                        .at(file, span.clone())
                        .hint("quote it if it is meant as text"),
                );
                Value::Float(0.0)
            }
        },
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(a.into_iter().map(|v| convert(file, v, diags)).collect()),
        DeValue::Table(t) => Value::Table(convert_table(file, t, diags)),
    };
    Node {
        value,
        origin: Origin { file, span },
        key: None,
        overrode: Vec::new(),
    }
}

/// Reads a typed value straight from a tree, without a JSON copy.
pub fn deserialize<T: serde::de::DeserializeOwned>(
    node: &Node,
) -> Result<T, serde::de::value::Error> {
    T::deserialize(NodeDeserializer(node))
}

struct NodeDeserializer<'a>(&'a Node);

impl<'de, 'a> serde::de::IntoDeserializer<'de, serde::de::value::Error> for NodeDeserializer<'a> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, 'a> serde::Deserializer<'de> for NodeDeserializer<'a> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::value::{MapDeserializer, SeqDeserializer};
        match &self.0.value {
            Value::String(s) | Value::Datetime(s) => visitor.visit_str(s),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Array(items) => {
                visitor.visit_seq(SeqDeserializer::new(items.iter().map(NodeDeserializer)))
            }
            Value::Table(table) => visitor.visit_map(MapDeserializer::new(
                table.iter().map(|(k, v)| (k.as_str(), NodeDeserializer(v))),
            )),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // TOML has no null: a present key is always `Some`.
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::IntoDeserializer;
        use serde::de::value::{MapAccessDeserializer, MapDeserializer};
        match &self.0.value {
            // `kind = "statefulset"`: a unit variant.
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            // `pre_stop = { sleep = "10s" }`: a variant with its data.
            Value::Table(table) => visitor.visit_enum(MapAccessDeserializer::new(
                MapDeserializer::new(table.iter().map(|(k, v)| (k.as_str(), NodeDeserializer(v)))),
            )),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// The key path of the deepest value written at `offset` of a TOML
/// `text` (`containers[1].version`): a name for a place that stays the
/// same when lines are added above it. `None` when the text does not
/// parse or no key is there.
pub fn path_at(text: &str, offset: usize) -> Option<String> {
    let root = parse(FileId(0), text).ok()?;
    deepest_at(&root, offset)
        .map(|p| p.trim_start_matches('.').to_string())
        .filter(|p| !p.is_empty())
}

/// A stable anchor for each diagnostic, for the fingerprints of reports:
/// the key path at its span in a TOML file, else the text its span
/// underlines (a YAML key, a table header), else nothing.
pub fn anchors(diags: &[Diagnostic], sources: &Sources) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            let (Some(file), Some(span)) = (d.file, &d.span) else {
                return String::new();
            };
            let f = sources.get(file);
            let toml = f.path.ends_with(".toml");
            toml.then(|| path_at(&f.text, span.start))
                .flatten()
                .or_else(|| f.text.get(span.clone()).map(|t| t.trim().to_string()))
                .unwrap_or_default()
        })
        .collect()
}

/// The path below `node` of the deepest value or key at `offset` (an
/// empty path for `node` itself); entries of a `[table]` are not inside
/// the header's span, so every child is searched.
fn deepest_at(node: &Node, offset: usize) -> Option<String> {
    let children: Vec<(String, &Node)> = match &node.value {
        Value::Table(t) => t.iter().map(|(k, n)| (format!(".{k}"), n)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("[{i}]"), n))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        if let Some(below) = deepest_at(child, offset) {
            return Some(format!("{step}{below}"));
        }
    }
    let within = |r: &Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
    (node.key.as_ref().is_some_and(within) || within(&node.origin.span)).then(String::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_at_an_offset_names_the_deepest_key() {
        let text = "image = \"web\"\n\n[[containers]]\nname = \"a\"\n\n[[containers]]\nversion = \"latest\"\n";
        let at = |needle: &str| path_at(text, text.find(needle).unwrap());
        assert_eq!(at("image").as_deref(), Some("image"));
        assert_eq!(at("\"latest").as_deref(), Some("containers[1].version"));
        assert_eq!(path_at("not toml [", 0), None);
    }
    use crate::diag::line_col;

    fn tree(text: &str) -> Node {
        parse(FileId(0), text).unwrap()
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "name = \"http\"\n[probes.readiness]\nperiod = \"5s\"\n";
        let t = tree(text);
        let period = t
            .at(&[
                Step::Key("probes".into()),
                Step::Key("readiness".into()),
                Step::Key("period".into()),
            ])
            .unwrap();
        assert_eq!(&text[period.key.clone().unwrap()], "period");
        assert_eq!(&text[period.origin.span.clone()], "\"5s\"");
        assert_eq!(line_col(text, period.key.clone().unwrap().start), (3, 1));
    }

    #[test]
    fn tables_keep_the_written_order_and_find_every_key() {
        // Environment variables render in this order; lookups must still
        // find every key whatever the order.
        let t = tree(
            "zeta = 1\nalpha = 2\n[mid]\nb = 1\na = 2\nc.x = 1\n[later.deep]\nq = 1\n[mid.d]\ny = 1\n",
        );
        let keys: Vec<&String> = t.as_table().unwrap().keys().collect();
        assert_eq!(keys, ["zeta", "alpha", "mid", "later"]);
        for k in ["zeta", "alpha", "mid", "later"] {
            assert!(t.get(k).is_some(), "{k}");
        }
        assert!(t.get("beta").is_none() && t.get("").is_none() && t.get("zz").is_none());
        let mid = t.get("mid").unwrap().as_table().unwrap();
        assert_eq!(mid.keys().collect::<Vec<_>>(), ["b", "a", "c", "d"]);
        assert_eq!(mid.get("a").unwrap().to_json(), Json::from(2));
        let inline = tree("env = { B = \"1\", A = \"2\", C = \"3\" }\n");
        let env = inline.get("env").unwrap().as_table().unwrap();
        assert_eq!(env.keys().collect::<Vec<_>>(), ["B", "A", "C"]);
    }

    #[test]
    fn insert_replaces_in_place_and_appends_new_keys() {
        let mut t = tree("[env]\nB = \"1\"\nA = \"2\"\n")
            .get("env")
            .unwrap()
            .as_table()
            .unwrap()
            .clone();
        let value = tree("v = \"9\"\n").get("v").unwrap().clone();
        t.insert("A".into(), value.clone());
        t.insert("0".into(), value.clone());
        t.insert("C".into(), value);
        assert_eq!(t.keys().collect::<Vec<_>>(), ["B", "A", "0", "C"]);
        assert_eq!(t.get("A").unwrap().as_str(), Some("9"));
        assert_eq!(t.get("B").unwrap().as_str(), Some("1"));
        assert_eq!(t.get("0").unwrap().as_str(), Some("9"));
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn typed_values_read_straight_from_the_tree() {
        let t = tree(
            "kind = \"statefulset\"\nreplicas = 3\npre_stop = { sleep = \"10s\" }\n[env]\nA = true\n",
        );
        let svc: crate::model::Service = deserialize(&t).unwrap();
        assert_eq!(svc.kind, crate::model::WorkloadKind::StatefulSet);
        assert_eq!(svc.replicas, Some(3));
        assert!(matches!(svc.pre_stop, Some(crate::model::Handler::Sleep(ref d)) if d == "10s"));
        assert_eq!(
            svc.env.get("A"),
            Some(&crate::model::EnvValue::Literal(
                crate::model::Scalar::Boolean(true)
            ))
        );
    }

    #[test]
    fn datetimes_stay_text_as_written() {
        let t = tree("at = 12:30:00\n");
        assert_eq!(t.to_json()["at"], Json::String("12:30:00".into()));
    }

    #[test]
    fn integers_in_other_radixes_are_numbers() {
        let t = tree("mode = 0o755\nmask = 0xff\n");
        assert_eq!(t.to_json()["mode"], Json::from(493));
        assert_eq!(t.to_json()["mask"], Json::from(255));
    }

    #[test]
    fn every_syntax_error_is_reported_with_a_position() {
        let errs = parse(FileId(0), "a = \nb = [1,\n").unwrap_err();
        assert!(!errs.is_empty());
        assert!(errs.iter().all(|d| d.span.is_some()));
        assert!(
            errs[0].message.starts_with("invalid TOML: "),
            "{}",
            errs[0].message
        );
    }
}
