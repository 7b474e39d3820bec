//! A small TOML writer in the house style of `services/*.toml`: the keys in
//! the order they were added, short tables inline (`cpu = { request = "1" }`),
//! the others as `[section]` headers after the plain keys, arrays of tables as
//! `[[section]]`, and a `# comment` line above any key that carries one.
//!
//! Strings are written so that manifold reads them back as they were:
//! `${` becomes `$${`, which variable expansion turns back into `${`.
//!
//! It writes only what it is given: the values come from `map.rs`, and
//! the text is read back by manifold's own loader in the round trip, so a
//! writer bug shows as a failed import, never as a silent change.

use serde_json::Value as Json;

/// Inline tables and arrays longer than this are written as sections.
const INLINE_MAX: usize = 88;

/// Tables of text written as sections even when short: they read as parts
/// of the service, not as a map of labels.
const SECTIONS: [&str; 5] = ["config", "files", "ingress", "route", "security"];

/// A TOML value. Tables keep the order their keys were added in.
#[derive(Clone, Debug, PartialEq)]
pub enum Toml {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Toml>),
    Table(Table),
}

/// An ordered table; each key may carry a comment written above it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table(Vec<Entry>);

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    key: String,
    value: Toml,
    comment: Option<String>,
}

impl Table {
    pub fn new() -> Self {
        Table(Vec::new())
    }

    /// Sets `key`, in place when it is already there, last otherwise.
    pub fn set(&mut self, key: &str, value: impl Into<Toml>) {
        let value = value.into();
        match self.0.iter_mut().find(|e| e.key == key) {
            Some(e) => e.value = value,
            None => self.0.push(Entry {
                key: key.to_string(),
                value,
                comment: None,
            }),
        }
    }

    /// Sets `key` when `value` is `Some`.
    pub fn set_opt<T: Into<Toml>>(&mut self, key: &str, value: Option<T>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    /// Sets `key` to a table, unless the table is empty.
    pub fn set_table(&mut self, key: &str, table: Table) {
        if !table.is_empty() {
            self.set(key, Toml::Table(table));
        }
    }

    /// Writes `comment` above `key` (which must be set).
    pub fn comment(&mut self, key: &str, comment: &str) {
        if let Some(e) = self.0.iter_mut().find(|e| e.key == key) {
            e.comment = Some(comment.to_string());
        }
    }

    pub fn get(&self, key: &str) -> Option<&Toml> {
        self.0.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The comment written above `key`.
    pub fn comment_of(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| e.comment.as_deref())
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Toml> {
        self.0
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Toml> {
        let at = self.0.iter().position(|e| e.key == key)?;
        Some(self.0.remove(at).value)
    }

    /// The table under `key`, created (last) when missing.
    pub fn table_mut(&mut self, key: &str) -> &mut Table {
        if !matches!(self.get(key), Some(Toml::Table(_))) {
            self.set(key, Toml::Table(Table::new()));
        }
        match self.0.iter_mut().find(|e| e.key == key) {
            Some(Entry {
                value: Toml::Table(t),
                ..
            }) => t,
            _ => unreachable!("the table was just set"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|e| e.key.as_str())
    }

    /// The table as a document: a header comment, then the entries.
    pub fn to_document(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
        }
        write_table(&mut out, self, &[]);
        out
    }
}

impl From<&str> for Toml {
    fn from(s: &str) -> Self {
        Toml::Str(s.to_string())
    }
}

impl From<String> for Toml {
    fn from(s: String) -> Self {
        Toml::Str(s)
    }
}

impl From<i64> for Toml {
    fn from(n: i64) -> Self {
        Toml::Int(n)
    }
}

impl From<bool> for Toml {
    fn from(b: bool) -> Self {
        Toml::Bool(b)
    }
}

impl From<Table> for Toml {
    fn from(t: Table) -> Self {
        Toml::Table(t)
    }
}

impl From<Vec<String>> for Toml {
    fn from(v: Vec<String>) -> Self {
        Toml::Array(v.into_iter().map(Toml::Str).collect())
    }
}

impl Toml {
    /// JSON as TOML; `None` for `null`, which TOML cannot write (and which
    /// Kubernetes reads as absent), also inside arrays and tables.
    pub fn from_json(value: &Json) -> Option<Toml> {
        Some(match value {
            Json::Null => return None,
            Json::Bool(b) => Toml::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Toml::Int(i),
                None => Toml::Float(n.as_f64().unwrap_or_default()),
            },
            Json::String(s) => Toml::Str(s.clone()),
            Json::Array(items) => Toml::Array(items.iter().filter_map(Toml::from_json).collect()),
            Json::Object(map) => {
                let mut t = Table::new();
                for (k, v) in map {
                    t.set_opt(k, Toml::from_json(v));
                }
                Toml::Table(t)
            }
        })
    }

    fn is_table(&self) -> bool {
        matches!(self, Toml::Table(_))
    }

    /// An array of tables only, written as `[[key]]` sections when long.
    fn is_table_array(&self) -> bool {
        matches!(self, Toml::Array(items) if !items.is_empty() && items.iter().all(Toml::is_table))
    }
}

/// Writes the plain and inline entries, then the sections.
fn write_table(out: &mut String, table: &Table, path: &[String]) {
    let mut sections = Vec::new();
    for e in &table.0 {
        if is_section(&e.value, &e.key, path.is_empty()) {
            sections.push(e);
            continue;
        }
        write_comment(out, e.comment.as_deref());
        out.push_str(&format!("{} = {}\n", key(&e.key), inline(&e.value)));
    }
    for e in sections {
        let mut sub = path.to_vec();
        sub.push(key(&e.key));
        match &e.value {
            Toml::Table(t) => {
                // A table of sections only needs no header of its own.
                if e.comment.is_some() || !only_sections(t) {
                    out.push('\n');
                    write_comment(out, e.comment.as_deref());
                    out.push_str(&format!("[{}]\n", sub.join(".")));
                }
                write_table(out, t, &sub);
            }
            Toml::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.push('\n');
                    if i == 0 {
                        write_comment(out, e.comment.as_deref());
                    }
                    out.push_str(&format!("[[{}]]\n", sub.join(".")));
                    if let Toml::Table(t) = item {
                        write_table(out, t, &sub);
                    }
                }
            }
            _ => unreachable!("only tables and arrays of tables are sections"),
        }
    }
}

/// Whether every entry of a table is written as a section.
fn only_sections(t: &Table) -> bool {
    !t.is_empty() && t.0.iter().all(|e| is_section(&e.value, &e.key, false))
}

/// Whether an entry is written as a section: a table or array of tables
/// too long for one line, one holding such, or an array of tables at the
/// top of the document (`[[ports]]`).
fn is_section(value: &Toml, key: &str, top: bool) -> bool {
    let fits = inline(value).len() + key.len() + 3 <= INLINE_MAX;
    (value.is_table() || value.is_table_array()) && !fits
        || nested_sections(value)
        || top
            && (value.is_table_array()
                || value.is_table() && (!is_map(value) || SECTIONS.contains(&key)))
}

/// A table of plain text values (labels, a selector), inline at the top
/// when it fits; other top-level tables are sections (`[resources]`).
fn is_map(value: &Toml) -> bool {
    matches!(value, Toml::Table(t) if t.0.iter().all(|e| matches!(e.value, Toml::Str(_))))
}

/// Whether a value holds a table that is too long for one line, so the
/// value itself must be a section (an inline table cannot hold a section).
fn nested_sections(value: &Toml) -> bool {
    let children: Vec<&Toml> = match value {
        Toml::Table(t) => t.0.iter().map(|e| &e.value).collect(),
        Toml::Array(items) if value.is_table_array() => items.iter().collect(),
        _ => return false,
    };
    children.into_iter().any(|c| {
        (c.is_table() || c.is_table_array()) && inline(c).len() > INLINE_MAX || nested_sections(c)
    })
}

fn write_comment(out: &mut String, comment: Option<&str>) {
    for line in comment.into_iter().flat_map(str::lines) {
        out.push_str(&format!("# {line}\n"));
    }
}

/// A value on one line.
fn inline(value: &Toml) -> String {
    match value {
        // manifold expands `${...}` in every string; `$${` is a literal `${`.
        Toml::Str(s) => string(&s.replace("${", "$${")),
        Toml::Int(i) => i.to_string(),
        Toml::Float(f) if f.is_finite() && f.fract() == 0.0 => format!("{f:.1}"),
        Toml::Float(f) => f.to_string(),
        Toml::Bool(b) => b.to_string(),
        Toml::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Toml::Table(t) if t.is_empty() => "{}".to_string(),
        Toml::Table(t) => {
            let entries: Vec<String> =
                t.0.iter()
                    .map(|e| format!("{} = {}", key(&e.key), inline(&e.value)))
                    .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

/// A key, bare when TOML allows it.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_string() } else { string(k) }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    crate::emit::toml_string(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tables_are_inline_and_long_ones_sections() {
        let mut t = Table::new();
        t.set("image", "nginx");
        let mut sel = Table::new();
        sel.set("app.kubernetes.io/name", "web");
        t.set("selector", sel);
        let mut port = Table::new();
        port.set("name", "http");
        port.set("port", 80);
        t.set(
            "ports",
            Toml::Array(vec![Toml::Table(port.clone()), Toml::Table(port)]),
        );
        let mut probe = Table::new();
        probe.set("exec", vec!["sh".to_string(), "-c".into(), "x".repeat(80)]);
        t.table_mut("probes").set("liveness", probe);
        t.comment("image", "why");
        assert_eq!(
            t.to_document("head\n\nline"),
            "\
# head
#
# line
# why
image = \"nginx\"
selector = { \"app.kubernetes.io/name\" = \"web\" }

[[ports]]
name = \"http\"
port = 80

[[ports]]
name = \"http\"
port = 80

[probes.liveness]
exec = [\"sh\", \"-c\", \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]
"
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let json = serde_json::json!({
            "a b": {"x\"y": "line\nbreak\t\u{1}", "n": 1.5, "list": [{"k": {"deep": [1, 2]}}]},
            "empty": {},
            "nothing": null,
        });
        let Some(Toml::Table(t)) = Toml::from_json(&json) else {
            panic!()
        };
        let text = t.to_document("");
        let back: toml::Table = text.parse().unwrap();
        let back = serde_json::to_value(back).unwrap();
        let mut expected = json.clone();
        expected.as_object_mut().unwrap().remove("nothing");
        assert_eq!(back, expected, "{text}");
    }
}
