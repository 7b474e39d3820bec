//! `explain` for people: the merged service as TOML with a comment on every
//! value naming the layer and line that set it and the values it replaced,
//! and the chain of one value, a line a layer.
//!
//! The TOML reads back as the merged service: top-level tables and arrays
//! of tables get a header, deeper tables are dotted keys. Built-in defaults
//! of the tables written are listed after their written keys.

use serde_json::Value as Json;

use super::chain::{Entry, Explained, Layer, Reader};
use super::path::{Seg, display, item_seg, key_text};
use super::schema;
use crate::input::tree::{Node, Value};

/// A TOML basic string.
pub fn string(s: &str) -> String {
    crate::emit::toml_string(s)
}

/// A JSON value as an inline TOML value.
pub fn value(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            let s = f.to_string();
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Json::Number(n) => n.to_string(),
        Json::String(s) => string(s),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Object(map) if map.is_empty() => "{}".into(),
        Json::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", key_text(k), value(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// A node of the merged tree as an inline TOML value (a datetime as
/// written).
fn node_value(node: &Node) -> String {
    match &node.value {
        Value::Datetime(d) => d.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(node_value).collect();
            format!("[{}]", items.join(", "))
        }
        _ => value(&node.to_json()),
    }
}

fn place_text(e: &Entry) -> String {
    match &e.at {
        Some(at) => format!("{} {}:{}", e.layer.label(), at.file, at.line),
        None => e.layer.label().to_string(),
    }
}

/// The comment on a value: the layer in force, what it was written as
/// when `${...}` was expanded, and the values it replaced, nearest first.
pub fn comment(e: &Explained) -> String {
    let Some((last, earlier)) = e.chain.split_last() else {
        return "not set".into();
    };
    let mut out = place_text(last);
    if e.expanded {
        out.push_str(&format!(" (from {})", last.written));
    }
    if !earlier.is_empty() {
        let replaced: Vec<String> = earlier
            .iter()
            .rev()
            .map(|x| format!("{} ({})", x.written, place_text(x)))
            .collect();
        out.push_str(&format!("; overrides {}", replaced.join(", ")));
    }
    if let Some(why) = e.ignored {
        out.push_str(&format!("; {why}"));
    }
    out
}

/// Lines under one header, each with its comment.
struct Section {
    header: Option<String>,
    lines: Vec<(String, String)>,
}

/// A table or array of tables written after the lines of its parent.
struct Deferred<'t> {
    node: &'t Node,
    path: Vec<Seg>,
    /// The TOML header's keys.
    header: Vec<String>,
}

struct Writer<'a> {
    reader: Reader<'a>,
    sections: Vec<Section>,
    /// Every value written, in order, for JSON.
    values: Vec<Explained>,
}

/// Whether a value is written as an array of tables.
fn is_table_array(node: &Node) -> bool {
    matches!(&node.value, Value::Array(items)
        if !items.is_empty() && items.iter().all(|i| matches!(i.value, Value::Table(_))))
}

/// Whether a table holds an array of tables at any depth of tables, so
/// that it needs headers of its own.
fn holds_table_array(node: &Node) -> bool {
    node.as_table().is_some_and(|t| {
        t.iter()
            .any(|(_, v)| is_table_array(v) || holds_table_array(v))
    })
}

impl<'t> Writer<'_> {
    fn line(&mut self, text: String, e: Explained) {
        if let Some(section) = self.sections.last_mut() {
            section.lines.push((text, comment(&e)));
        }
        self.values.push(e);
    }

    /// The entries of a table under the current header, `dotted` keys
    /// from it; tables that need headers are left in `deferred`.
    fn body(
        &mut self,
        table: &'t Node,
        path: &[Seg],
        dotted: &[String],
        deferred: &mut Vec<Deferred<'t>>,
    ) {
        let Some(entries) = table.as_table() else {
            return;
        };
        let top = path.is_empty();
        for (key, node) in entries.iter() {
            let mut p = path.to_vec();
            p.push(Seg::Key(key.clone()));
            let mut d = dotted.to_vec();
            d.push(key_text(key));
            let own_header = (top && dotted.is_empty()) || holds_table_array(node);
            match &node.value {
                Value::Table(_) if own_header => deferred.push(Deferred {
                    node,
                    path: p,
                    header: d.clone(),
                }),
                Value::Table(_) => self.body(node, &p, &d, deferred),
                _ if is_table_array(node) => deferred.push(Deferred {
                    node,
                    path: p,
                    header: d.clone(),
                }),
                _ => {
                    let e = self.reader.explain(p, node);
                    self.line(format!("{} = {}", d.join("."), node_value(node)), e);
                }
            }
        }
        for (key, _) in schema::defaults_of(path) {
            let mut p = path.to_vec();
            p.push(Seg::Key(key.to_string()));
            if entries.get(key).is_some() {
                continue;
            }
            let e = self.reader.unset(p);
            if let Some(v) = &e.value {
                let mut d = dotted.to_vec();
                d.push(key_text(key));
                let text = format!("{} = {}", d.join("."), value(v));
                self.line(text, e);
            }
        }
    }

    /// A deferred table or array of tables, and what it defers in turn.
    fn section(&mut self, item: Deferred<'t>) {
        let header = item.header.join(".");
        let items: Vec<(Vec<Seg>, &Node, String)> = match &item.node.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut p = item.path.clone();
                    p.push(item_seg(n, i));
                    (p, n, format!("[[{header}]]"))
                })
                .collect(),
            _ => vec![(item.path.clone(), item.node, format!("[{header}]"))],
        };
        for (path, node, header_text) in items {
            self.sections.push(Section {
                header: Some(header_text),
                lines: Vec::new(),
            });
            // Headers below are written from the root.
            let mut nested = Vec::new();
            self.body(node, &path, &[], &mut nested);
            for mut d in nested {
                let mut h = item.header.clone();
                h.extend(d.header);
                d.header = h;
                self.section(d);
            }
        }
    }
}

/// The merged service as annotated TOML, and its values in order.
pub fn service(reader: Reader<'_>, tree: &Node, title: &str) -> (String, Vec<Explained>) {
    let mut w = Writer {
        reader,
        sections: vec![Section {
            header: None,
            lines: Vec::new(),
        }],
        values: Vec::new(),
    };
    let mut deferred = Vec::new();
    w.body(tree, &[], &[], &mut deferred);
    for d in deferred {
        w.section(d);
    }
    let mut out = format!("# {title}\n");
    for section in &w.sections {
        if section.header.is_none() && section.lines.is_empty() {
            continue;
        }
        out.push('\n');
        if let Some(h) = &section.header {
            out.push_str(h);
            out.push('\n');
        }
        let width = section
            .lines
            .iter()
            .map(|(t, _)| t.chars().count())
            .filter(|&w| w <= 40)
            .max()
            .unwrap_or(0);
        for (text, comment) in &section.lines {
            let pad = width.saturating_sub(text.chars().count()) + 2;
            out.push_str(&format!("{text}{}# {comment}\n", " ".repeat(pad)));
        }
    }
    (out, w.values)
}

/// One value and its chain, a line a layer, low to high.
pub fn chain(e: &Explained, note: Option<&str>) -> String {
    let key = display(&e.key);
    let mut out = match &e.value {
        Some(v) if e.expanded => format!(
            "{key} = {}  (from {})\n",
            value(v),
            e.chain.last().map_or("", |l| l.written.as_str())
        ),
        Some(v) => format!("{key} = {}\n", value(v)),
        None => format!("{key} is not set in any layer and has no built-in default\n"),
    };
    let places: Vec<String> = e
        .chain
        .iter()
        .map(|x| {
            x.at.as_ref()
                .map_or(String::new(), |at| format!("{}:{}", at.file, at.line))
        })
        .collect();
    let width = places.iter().map(String::len).max().unwrap_or(0);
    let last = e.chain.len().saturating_sub(1);
    for (i, (x, place)) in e.chain.iter().zip(&places).enumerate() {
        let mark = if i == last { "   (in force)" } else { "" };
        out.push_str(&format!(
            "  {:<16} {place:<width$}  {}{mark}\n",
            x.layer.label(),
            x.written
        ));
    }
    if e.chain.len() == 1 && e.chain[0].layer == Layer::BuiltIn {
        out.push_str("  no layer sets it\n");
    }
    for note in e.ignored.into_iter().chain(note) {
        out.push_str(&format!("  {note}\n"));
    }
    out
}
