//! Format-preserving edits of one overlay file (`toml_edit`): a value is
//! replaced where it is written, keeping its comments and the quotes of a
//! literal string; a missing key is added to the table that holds its
//! siblings, or in a new table at the end; an item of an array of tables is
//! found by its `name`, or appended. Nothing else in the file changes.
//!
//! This module knows TOML, not the schema: `assign` decides what to write.

use std::fmt;

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table.
    Key(String),
    /// The item of the array above whose `name` is this.
    Item(String),
}

/// `tracks.canary.weight`, as a key path is written.
pub fn dotted(path: &[Segment]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Segment::Key(k) | Segment::Item(k) => quote_key(k),
        })
        .collect();
    parts.join(".")
}

fn quote_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        format!("\"{k}\"")
    }
}

/// A key path that runs into a value that is not a table (or not an array of
/// tables): `at` is how many segments lead to it.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict {
    pub at: usize,
}

/// What setting a value did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The file has the value already.
    Unchanged,
    /// Replaced the value written before: what was written, and what is
    /// now (as TOML: a literal string stays one).
    Replaced {
        was: String,
        now: String,
    },
    Added,
}

/// An overlay being edited.
pub struct Overlay {
    doc: DocumentMut,
}

impl fmt::Display for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.doc)
    }
}

impl Overlay {
    /// The overlay written in `text`; `None` when it is not TOML (the
    /// compile reports why).
    pub fn parse(text: &str) -> Option<Overlay> {
        text.parse::<DocumentMut>().ok().map(|doc| Overlay { doc })
    }

    /// A new overlay that starts with `header` (a `#:schema` line).
    pub fn new(header: Option<&str>) -> Overlay {
        let text = header.map(|h| format!("{h}\n")).unwrap_or_default();
        Overlay::parse(&text).unwrap_or_else(|| Overlay {
            doc: DocumentMut::new(),
        })
    }

    /// Sets `path` to `value`.
    pub fn set(&mut self, path: &[Segment], value: Value) -> Result<Outcome, Conflict> {
        let root_was_empty = self.doc.as_table().get_values().is_empty();
        let outcome = set_in(Place::Table(self.doc.as_table_mut()), path, value, 0)?;
        if root_was_empty && matches!(path, [Segment::Key(_)]) {
            self.keep_directives_first();
        }
        Ok(outcome)
    }

    /// A first key of the root table is written before every table (and
    /// before what follows the last one), so the comment lines above the
    /// first table would now follow it: the `#:schema` lines stay first,
    /// the others stay where they were.
    fn keep_directives_first(&mut self) {
        let split = |text: &str| {
            let directives: String = text
                .split_inclusive('\n')
                .take_while(|l| l.starts_with("#:"))
                .collect();
            let rest = text[directives.len()..].to_string();
            (directives, rest)
        };
        let directives = match first_table_mut(self.doc.as_table_mut()) {
            Some(first) => {
                let prefix = first.decor().prefix().and_then(|p| p.as_str());
                let (directives, rest) = split(prefix.unwrap_or_default());
                let rest = match rest.starts_with('\n') {
                    true => rest,
                    false => format!("\n{rest}"),
                };
                first.decor_mut().set_prefix(rest);
                directives
            }
            None => {
                let (directives, rest) = split(self.doc.trailing().as_str().unwrap_or_default());
                self.doc.set_trailing(rest);
                directives
            }
        };
        let root = self.doc.as_table_mut();
        if let Some((mut key, _)) = root.iter_mut().find(|(_, item)| item.is_value()) {
            key.leaf_decor_mut().set_prefix(directives);
        }
    }
}

/// The table written first in the file, among the root's tables.
fn first_table_mut(root: &mut Table) -> Option<&mut Table> {
    let position = |item: &Item| match item {
        Item::Table(t) => t.position(),
        Item::ArrayOfTables(a) => a.iter().next().and_then(Table::position),
        _ => None,
    };
    let key = root
        .iter()
        .filter_map(|(k, item)| Some((position(item)?, k.to_string())))
        .min()?
        .1;
    match root.get_mut(&key)? {
        Item::Table(t) => Some(t),
        Item::ArrayOfTables(a) => a.get_mut(0),
        _ => None,
    }
}

/// A table to write into: a `[table]` (or dotted keys) or an inline table.
enum Place<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

fn set_in(
    place: Place<'_>,
    path: &[Segment],
    value: Value,
    depth: usize,
) -> Result<Outcome, Conflict> {
    let conflict = Conflict { at: depth + 1 };
    match path {
        [Segment::Key(k)] => Ok(match place {
            Place::Table(t) => match t.get_mut(k) {
                Some(Item::Value(old)) => replace(old, value),
                Some(_) => return Err(conflict),
                None => {
                    t.insert(k, Item::Value(value));
                    Outcome::Added
                }
            },
            Place::Inline(t) => match t.get_mut(k) {
                Some(old) => replace(old, value),
                None => {
                    t.insert(k, value);
                    Outcome::Added
                }
            },
        }),
        [Segment::Key(k), Segment::Item(name), rest @ ..] => {
            let item = item_named(place, k, name).ok_or(conflict)?;
            set_in(item, rest, value, depth + 2)
        }
        [Segment::Key(k), rest @ ..] if !rest.is_empty() => {
            let next =
                sub_table(place, k, matches!(rest, [Segment::Key(_), _, ..])).ok_or(conflict)?;
            set_in(next, rest, value, depth + 1)
        }
        _ => Err(Conflict { at: depth }),
    }
}

/// The table `k` of `place`, created when missing; `None` when `k` holds
/// something else. A new `[table]` that would only hold tables is implicit
/// (it gets no header of its own).
fn sub_table<'a>(place: Place<'a>, k: &str, only_tables: bool) -> Option<Place<'a>> {
    match place {
        Place::Table(t) => {
            if !t.contains_key(k) {
                let mut new = Table::new();
                if t.is_dotted() {
                    new.set_dotted(true);
                } else {
                    new.set_implicit(only_tables);
                    new.decor_mut().set_prefix("\n");
                }
                t.insert(k, Item::Table(new));
            }
            match t.get_mut(k)? {
                Item::Table(sub) => Some(Place::Table(sub)),
                Item::Value(Value::InlineTable(sub)) => Some(Place::Inline(sub)),
                _ => None,
            }
        }
        Place::Inline(t) => {
            if !t.contains_key(k) {
                t.insert(k, Value::InlineTable(InlineTable::new()));
            }
            match t.get_mut(k)? {
                Value::InlineTable(sub) => Some(Place::Inline(sub)),
                _ => None,
            }
        }
    }
}

/// The item of the array of tables `k` whose `name` is `name`, appended
/// when missing (with the array, when that is missing too).
fn item_named<'a>(place: Place<'a>, k: &str, name: &str) -> Option<Place<'a>> {
    let is_named = |v: Option<&Item>| v.and_then(Item::as_str) == Some(name);
    match place {
        Place::Table(t) => {
            if !t.contains_key(k) {
                let item = match t.is_dotted() {
                    true => Item::Value(Value::Array(toml_edit::Array::new())),
                    false => Item::ArrayOfTables(ArrayOfTables::new()),
                };
                t.insert(k, item);
            }
            match t.get_mut(k)? {
                Item::ArrayOfTables(array) => {
                    let found = array.iter().position(|t| is_named(t.get("name")));
                    let i = match found {
                        Some(i) => i,
                        None => {
                            let mut new = Table::new();
                            new.decor_mut().set_prefix("\n");
                            new.insert("name", Item::Value(Value::from(name)));
                            array.push(new);
                            array.len() - 1
                        }
                    };
                    array.get_mut(i).map(Place::Table)
                }
                Item::Value(Value::Array(array)) => inline_item(array, name),
                _ => None,
            }
        }
        Place::Inline(t) => {
            if !t.contains_key(k) {
                t.insert(k, Value::Array(toml_edit::Array::new()));
            }
            match t.get_mut(k)? {
                Value::Array(array) => inline_item(array, name),
                _ => None,
            }
        }
    }
}

fn inline_item<'a>(array: &'a mut toml_edit::Array, name: &str) -> Option<Place<'a>> {
    let named = |v: &Value| {
        v.as_inline_table()
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            == Some(name)
    };
    let found = array.iter().position(named);
    let i = match found {
        Some(i) => i,
        None => {
            if !array.iter().all(|v| v.is_inline_table()) {
                return None;
            }
            let mut new = InlineTable::new();
            new.insert("name", Value::from(name));
            array.push(new);
            array.len() - 1
        }
    };
    match array.get_mut(i)? {
        Value::InlineTable(t) => Some(Place::Inline(t)),
        _ => None,
    }
}

/// Puts `new` where `old` is, with `old`'s spacing and comment, and as a
/// literal string when `old` was one and `new` can be.
fn replace(old: &mut Value, mut new: Value) -> Outcome {
    if same(old, &new) {
        return Outcome::Unchanged;
    }
    let was = shown(old);
    if let (Some(raw), Some(s)) = (old.as_str().and(raw_repr(old)), new.as_str()) {
        let literal_ok = !s.contains('\'') && !s.chars().any(char::is_control);
        if raw.starts_with('\'') && literal_ok {
            if let Ok(v) = format!("'{s}'").parse::<Value>() {
                new = v;
            }
        }
    }
    let now = shown(&new);
    *new.decor_mut() = old.decor().clone();
    *old = new;
    Outcome::Replaced { was, now }
}

fn raw_repr(v: &Value) -> Option<String> {
    match v {
        Value::String(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        _ => None,
    }
}

/// A value as TOML, without its surrounding spaces and comment.
pub fn shown(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    v.to_string()
}

/// Whether two values are equal as data (not as written).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Float(x), Value::Float(y)) => x.value() == y.value(),
        (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
        }
        (Value::InlineTable(x), Value::InlineTable(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    fn edit(text: &str, path: &[Segment], value: Value) -> (String, Outcome) {
        let mut o = Overlay::parse(text).unwrap();
        let outcome = o.set(path, value).unwrap();
        (o.to_string(), outcome)
    }

    const OVERLAY: &str = "\
#:schema ../../schemas/overlay.schema.json
# Test runs the canary at half the traffic.
version   = '1.0.0002'   # bumped by CI

[ingress]
host = \"game.test.example.com\"  # ours

# the canary
[[tracks]]
name = \"canary\"
version = \"1.0.0003\"
weight = 50

[env]
A = \"1\"
";

    #[test]
    fn a_replaced_value_keeps_everything_around_it() {
        let (text, outcome) = edit(OVERLAY, &[key("version")], Value::from("1.10"));
        let (was, now) = ("'1.0.0002'".into(), "'1.10'".into());
        assert_eq!(outcome, Outcome::Replaced { was, now });
        assert_eq!(text, OVERLAY.replace("'1.0.0002'", "'1.10'"));
        let path = [key("tracks"), Segment::Item("canary".into()), key("weight")];
        let (text, _) = edit(OVERLAY, &path, Value::from(10));
        assert_eq!(text, OVERLAY.replace("weight = 50", "weight = 10"));
        let (text, outcome) = edit(OVERLAY, &path, Value::from(50));
        assert_eq!((text.as_str(), outcome), (OVERLAY, Outcome::Unchanged));
    }

    #[test]
    fn a_new_key_joins_its_table_or_a_new_one_at_the_end() {
        let (text, outcome) = edit(OVERLAY, &[key("env"), key("B")], Value::from("2"));
        assert_eq!(outcome, Outcome::Added);
        assert_eq!(text, format!("{OVERLAY}B = \"2\"\n"));
        let (text, _) = edit(OVERLAY, &[key("replicas")], Value::from(4));
        assert_eq!(
            text,
            OVERLAY.replace("# bumped by CI\n", "# bumped by CI\nreplicas = 4\n")
        );
        let path = [key("resources"), key("cpu"), key("limit")];
        let (text, _) = edit(OVERLAY, &path, Value::from("500m"));
        assert_eq!(
            text,
            format!("{OVERLAY}\n[resources.cpu]\nlimit = \"500m\"\n")
        );
    }

    #[test]
    fn a_missing_track_is_appended_by_name() {
        let path = [key("tracks"), Segment::Item("blue".into()), key("weight")];
        let (text, _) = edit(OVERLAY, &path, Value::from(5));
        assert_eq!(
            text,
            OVERLAY.replace(
                "weight = 50\n",
                "weight = 50\n\n[[tracks]]\nname = \"blue\"\nweight = 5\n"
            )
        );
        let (text, _) = edit("tracks = []\n", &path, Value::from(5));
        assert_eq!(text, "tracks = [{ name = \"blue\", weight = 5 }]\n");
    }

    #[test]
    fn the_schema_line_stays_first_when_the_root_gets_its_first_key() {
        let text =
            "#:schema ../../schemas/overlay.schema.json\n# Scales on load.\n[autoscale]\nmin = 3\n";
        let (out, _) = edit(text, &[key("version")], Value::from("2.0"));
        assert_eq!(
            out,
            "#:schema ../../schemas/overlay.schema.json\nversion = \"2.0\"\n\n# Scales on load.\n[autoscale]\nmin = 3\n"
        );
        let mut new = Overlay::new(Some("#:schema ../../schemas/overlay.schema.json"));
        new.set(&[key("version")], Value::from("2.0")).unwrap();
        assert_eq!(
            new.to_string(),
            "#:schema ../../schemas/overlay.schema.json\nversion = \"2.0\"\n"
        );
    }

    #[test]
    fn a_value_in_the_way_is_a_conflict() {
        let mut o = Overlay::parse("[resources]\ncpu = \"1\"\n").unwrap();
        let path = [key("resources"), key("cpu"), key("limit")];
        assert_eq!(o.set(&path, Value::from("2")), Err(Conflict { at: 2 }));
        let mut o = Overlay::parse("[resources.cpu]\nlimit = \"1\"\n").unwrap();
        assert_eq!(
            o.set(&path, Value::from("2")),
            Ok(Outcome::Replaced {
                was: "\"1\"".into(),
                now: "\"2\"".into()
            })
        );
        assert_eq!(o.to_string(), "[resources.cpu]\nlimit = \"2\"\n");
        let mut o = Overlay::parse("resources.cpu.limit = \"1\"\n").unwrap();
        let path = [key("resources"), key("cpu"), key("request")];
        o.set(&path, Value::from("2")).unwrap();
        assert_eq!(
            o.to_string(),
            "resources.cpu.limit = \"1\"\nresources.cpu.request = \"2\"\n"
        );
    }
}
