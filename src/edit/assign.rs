//! `KEY=VALUE` arguments: the key path read as TOML writes dotted keys
//! (`labels."team.io/owner"`), looked up in the service schema, and the value
//! typed by what the key accepts.
//!
//! The schema decides the type, never the look of the value: `version=1.10`
//! is the text `"1.10"` because `version` takes text, `replicas=4` the
//! integer 4, `service_account=true` the boolean. Items of arrays of tables
//! are addressed by their `name` (`tracks.canary.weight`), as the merge
//! rules match them. Only single values are set: a key that takes a table or
//! a list is refused with a hint. Whether the value is allowed (a pattern, an
//! enum, a range) is left to the schema check of the edited file.

use std::ops::Range;

use serde_json::Value as Json;
use toml_edit::Value;

use super::document::Segment;
use crate::diag::{Code, Diagnostic, did_you_mean};

/// One argument, read and typed.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// The key as written.
    pub key: String,
    /// The key's bytes in the argument line.
    pub span: Range<usize>,
    pub path: Vec<Segment>,
    pub value: Value,
}

/// A problem with an argument: a message, the bytes of the argument line it
/// is about, a hint.
#[derive(Debug)]
pub struct ArgProblem {
    pub code: Code,
    pub message: String,
    pub span: Range<usize>,
    pub label: Option<String>,
    pub hint: String,
}

impl ArgProblem {
    pub fn into_diagnostic(self, file: crate::diag::FileId) -> Diagnostic {
        let d = Diagnostic::error(self.code, self.message)
            .at(file, self.span)
            .hint(self.hint);
        match self.label {
            Some(label) => d.label(label),
            None => d,
        }
    }
}

/// A key segment as written, with its bytes in the argument line.
struct Written {
    text: String,
    span: Range<usize>,
}

/// Reads `arg`, which starts at byte `offset` of the argument line, against
/// the service schema.
pub fn assignment(schema: &Json, arg: &str, offset: usize) -> Result<Assignment, ArgProblem> {
    let whole = offset..offset + arg.len();
    let Some((key, text)) = split(arg) else {
        return Err(ArgProblem {
            code: Code::Syntax,
            message: format!("`{arg}` is not KEY=VALUE"),
            span: whole,
            label: None,
            hint: "write the key, `=` and the value, e.g. `version=1.4.2` or `tracks.canary.weight=50`".into(),
        });
    };
    let segments = key_segments(key, offset)?;
    let (path, leaf) = walk(schema, &segments)?;
    let value_span = offset + key.len() + 1..offset + arg.len();
    let value = typed(schema, leaf, text).map_err(|expected| ArgProblem {
        code: Code::Type,
        message: format!("`{key}` takes {expected}, not `{text}`"),
        span: value_span.clone(),
        label: Some(format!("expected {expected}")),
        hint: format!("write {expected} after `{key}=`"),
    })?;
    Ok(Assignment {
        key: key.to_string(),
        span: offset..offset + key.len(),
        path,
        value,
    })
}

/// `KEY=VALUE` at the first `=` outside quotes.
fn split(arg: &str) -> Option<(&str, &str)> {
    let mut quote = None;
    for (i, c) in arg.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '=') => return Some((&arg[..i], &arg[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The segments of a dotted key: bare (`tracks`) or quoted (`"a.b/c"`,
/// `'a.b/c'`; no escapes).
fn key_segments(key: &str, offset: usize) -> Result<Vec<Written>, ArgProblem> {
    let bad = |span: Range<usize>, why: &str| {
        ArgProblem {
        code: Code::Syntax,
        message: format!("`{key}` is not a key: {why}"),
        span,
        label: None,
        hint: "separate keys with `.`, and quote a key that holds `.` or `/`: `labels.\"team.io/owner\"=web`".into(),
    }
    };
    let mut out = Vec::new();
    let mut rest = key;
    let mut at = 0;
    loop {
        let (text, used) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                Some(end) => (rest[1..1 + end].to_string(), end + 2),
                None => {
                    return Err(bad(
                        offset + at..offset + key.len(),
                        "a quote is not closed",
                    ));
                }
            },
            _ => {
                let end = rest.find('.').unwrap_or(rest.len());
                let text = &rest[..end];
                if text.is_empty()
                    || !text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    let span = offset + at..offset + at + end.max(1).min(rest.len().max(1));
                    return Err(bad(
                        span,
                        "an empty or unquoted key with other characters than letters, digits, `_` and `-`",
                    ));
                }
                (text.to_string(), end)
            }
        };
        out.push(Written {
            text,
            span: offset + at..offset + at + used,
        });
        rest = &rest[used..];
        at += used;
        match rest.strip_prefix('.') {
            Some(r) => {
                rest = r;
                at += 1;
            }
            None if rest.is_empty() => return Ok(out),
            None => {
                return Err(bad(
                    offset + at..offset + key.len(),
                    "expected `.` after a quoted key",
                ));
            }
        }
    }
}

/// `#/$defs/x` followed, as often as it takes.
fn resolve<'a>(schema: &'a Json, mut node: &'a Json) -> &'a Json {
    for _ in 0..16 {
        let Some(target) = node.get("$ref").and_then(Json::as_str) else {
            break;
        };
        let Some(name) = target.strip_prefix("#/$defs/") else {
            break;
        };
        match schema["$defs"].get(name) {
            Some(next) => node = next,
            None => break,
        }
    }
    node
}

/// A schema and the alternatives of its `oneOf` or `anyOf`, resolved.
fn alternatives<'a>(schema: &'a Json, node: &'a Json) -> Vec<&'a Json> {
    let node = resolve(schema, node);
    let mut out = vec![node];
    for key in ["oneOf", "anyOf"] {
        if let Some(Json::Array(items)) = node.get(key) {
            for item in items {
                out.extend(alternatives(schema, item));
            }
        }
    }
    out
}

/// Where a key segment leads from `node`: a property, an entry of a free
/// table, or (for an array of tables with a `name`) an item by name.
enum Next<'a> {
    Key(&'a Json),
    Named(&'a Json),
}

fn next<'a>(schema: &'a Json, node: &'a Json, key: &str) -> Option<Next<'a>> {
    let alts = alternatives(schema, node);
    for alt in &alts {
        if let Some(p) = alt.get("properties").and_then(|p| p.get(key)) {
            return Some(Next::Key(p));
        }
    }
    for alt in &alts {
        if let Some(a @ Json::Object(_)) = alt.get("additionalProperties") {
            return Some(Next::Key(a));
        }
        if let Some(items) = alt.get("items") {
            let item = resolve(schema, items);
            if item.get("properties").and_then(|p| p.get("name")).is_some() {
                return Some(Next::Named(item));
            }
        }
    }
    None
}

/// The keys a table may have, for "did you mean".
fn known_keys<'a>(schema: &'a Json, node: &'a Json) -> Vec<&'a str> {
    alternatives(schema, node)
        .into_iter()
        .filter_map(|alt| alt.get("properties").and_then(Json::as_object))
        .flat_map(|p| p.keys().map(String::as_str))
        .collect()
}

/// The path of segments a key leads to, and the schema of its value.
fn walk<'a>(schema: &'a Json, keys: &[Written]) -> Result<(Vec<Segment>, &'a Json), ArgProblem> {
    let mut node = &schema["$defs"]["service"];
    let mut path = Vec::new();
    let mut written = String::new();
    for key in keys {
        match next(schema, node, &key.text) {
            Some(Next::Key(n)) => {
                path.push(Segment::Key(key.text.clone()));
                node = n;
            }
            Some(Next::Named(n)) => {
                path.push(Segment::Item(key.text.clone()));
                node = n;
            }
            None => return Err(unknown(schema, node, key, &written)),
        }
        if !written.is_empty() {
            written.push('.');
        }
        written.push_str(&key.text);
    }
    Ok((path, node))
}

fn unknown(schema: &Json, node: &Json, key: &Written, above: &str) -> ArgProblem {
    let known = known_keys(schema, node);
    let at = if above.is_empty() {
        "a service".to_string()
    } else {
        format!("`{above}`")
    };
    if known.is_empty() {
        return ArgProblem {
            code: Code::UnknownKey,
            message: format!("{at} is a single value: it has no key `{}`", key.text),
            span: key.span.clone(),
            label: None,
            hint: format!("set `{above}` itself (`{above}=...`)"),
        };
    }
    let (label, hint) = match did_you_mean(&key.text, known.iter().copied()) {
        Some(better) => (
            Some(format!("did you mean `{better}`?")),
            format!("replace `{}` with `{better}`", key.text),
        ),
        None => (None, format!("{at} has the keys {}", list(&known))),
    };
    ArgProblem {
        code: Code::UnknownKey,
        message: format!("unknown key `{}` in {at}", key.text),
        span: key.span.clone(),
        label,
        hint,
    }
}

fn list(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    quoted.join(", ")
}

/// The kinds of single value a schema accepts.
#[derive(Default)]
struct Accepts {
    text: bool,
    integer: bool,
    number: bool,
    boolean: bool,
    /// A table or a list (and nothing single).
    compound: Option<&'static str>,
}

fn accepts(schema: &Json, node: &Json) -> Accepts {
    let mut a = Accepts::default();
    for alt in alternatives(schema, node) {
        let types: Vec<&str> = match alt.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        for t in types {
            match t {
                "string" => a.text = true,
                "integer" => a.integer = true,
                "number" => a.number = true,
                "boolean" => a.boolean = true,
                "object" => a.compound = Some("a table"),
                "array" => a.compound = Some("a list"),
                _ => {}
            }
        }
        let fixed = alt
            .get("enum")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .chain(alt.get("const").cloned());
        for v in fixed {
            match v {
                Json::String(_) => a.text = true,
                Json::Bool(_) => a.boolean = true,
                Json::Number(_) => a.number = true,
                _ => {}
            }
        }
    }
    a
}

/// The value of `text` for a key whose schema is `node`; `Err` names what
/// the key takes.
fn typed(schema: &Json, node: &Json, text: &str) -> Result<Value, String> {
    let a = accepts(schema, node);
    if a.boolean && (text == "true" || text == "false") {
        return Ok(Value::from(text == "true"));
    }
    if a.text {
        return Ok(Value::from(text));
    }
    if a.integer || a.number {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
    }
    if a.number {
        if let Ok(f) = text.parse::<f64>() {
            if f.is_finite() && text.chars().any(|c| c.is_ascii_digit()) {
                return Ok(Value::from(f));
            }
        }
    }
    let mut words = Vec::new();
    if a.integer && !a.number {
        words.push("an integer");
    }
    if a.number {
        words.push("a number");
    }
    if a.boolean {
        words.push("`true` or `false`");
    }
    if words.is_empty() {
        return Err(match a.compound {
            Some(what) => format!("{what}, which `set` does not write (edit the file)"),
            None => "no value `set` can write".to_string(),
        });
    }
    Err(words.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SERVICE_SCHEMA;

    fn read(arg: &str) -> Result<(Vec<Segment>, String), (String, String)> {
        let schema: Json = serde_json::from_str(SERVICE_SCHEMA).unwrap();
        assignment(&schema, arg, 0)
            .map(|a| (a.path, a.value.to_string()))
            .map_err(|p| (p.message, arg[p.span].to_string()))
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn values_are_typed_by_the_schema_not_by_their_look() {
        assert_eq!(
            read("version=1.10").unwrap(),
            (vec![key("version")], "\"1.10\"".into())
        );
        assert_eq!(read("replicas=4").unwrap().1, "4");
        assert_eq!(read("service_account=true").unwrap().1, "true");
        assert_eq!(read("service_account=web-sa").unwrap().1, "\"web-sa\"");
        assert_eq!(read("registry=false").unwrap().1, "false");
        assert_eq!(read("env.PORT=8080").unwrap().1, "\"8080\"");
        assert_eq!(read("resources.cpu.limit=2").unwrap().1, "\"2\"");
        assert_eq!(read("autoscale.cpu=70").unwrap().1, "70");
    }

    #[test]
    fn items_of_arrays_of_tables_are_addressed_by_name() {
        assert_eq!(
            read("tracks.canary.weight=50").unwrap(),
            (
                vec![key("tracks"), Segment::Item("canary".into()), key("weight")],
                "50".into()
            )
        );
        assert_eq!(
            read("labels.\"team.io/owner\"=web").unwrap().0,
            vec![key("labels"), key("team.io/owner")]
        );
    }

    #[test]
    fn a_value_that_does_not_fit_names_the_expected_type() {
        assert_eq!(
            read("replicas=four").unwrap_err(),
            (
                "`replicas` takes an integer, not `four`".into(),
                "four".into()
            )
        );
        assert_eq!(
            read("tracks.canary.weight=1.5").unwrap_err().0,
            "`tracks.canary.weight` takes an integer, not `1.5`"
        );
        assert_eq!(
            read("enabled=yes").unwrap_err().0,
            "`enabled` takes `true` or `false`, not `yes`"
        );
        assert!(read("ports=1").unwrap_err().0.contains("a list"));
    }

    #[test]
    fn an_unknown_key_is_shown_with_the_closest_one() {
        assert_eq!(
            read("replica=4").unwrap_err(),
            (
                "unknown key `replica` in a service".into(),
                "replica".into()
            )
        );
        assert_eq!(
            read("tracks.canary.wieght=4").unwrap_err(),
            (
                "unknown key `wieght` in `tracks.canary`".into(),
                "wieght".into()
            )
        );
        assert_eq!(read("version").unwrap_err().0, "`version` is not KEY=VALUE");
    }
}
