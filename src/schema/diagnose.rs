//! How a schema error becomes a diagnostic on the TOML the user wrote.
//!
//! [`diagnose`] turns one `jsonschema` error into diagnostics: it walks the
//! spanned tree along the error's instance path to find the key or value to
//! underline, and reads the schema document along the error's schema path for
//! the words to explain it with (the `description` of the failing node, the
//! keys a table allows, the values an enum allows), so that a typo gets a
//! suggestion. Each family of keyword has its own function; a `oneOf` or
//! `anyOf` failure is reported through the branch the user most likely meant.

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value as Json;

use super::hints::{Trial, duration, quantity, quoted};
use crate::diag::{Code, Diagnostic, FileId, did_you_mean, one_of};
use crate::input::tree::{Node, Step, Value};
use crate::model::digest_problem;

/// Where an error is: what every kind of error is reported with.
struct Site<'a> {
    /// The schema document the error's schema path points into.
    document: &'a Json,
    /// The whole file's tree, for errors inside a `oneOf` branch.
    tree: &'a Node,
    /// The file's source, for quoting values as written.
    text: &'a str,
    /// The instance path, as steps into the tree.
    path: Vec<Step>,
    /// The JSON pointer of the failing keyword in `document`.
    schema_path: &'a str,
    /// The node the instance path names, or its nearest existing ancestor.
    node: &'a Node,
    /// The file's JSON and validator, to try suggestions in.
    trial: &'a Trial<'a>,
}

impl Site<'_> {
    /// The instance path in `ports[2].name` style.
    fn dotted(&self) -> String {
        dotted(&self.path)
    }

    /// The description of the schema node owning the failing keyword's
    /// parent: the `oneOf`, `properties` or other group it belongs to.
    fn owner_description(&self) -> Option<String> {
        describe(self.document, parent_pointer(self.schema_path))
    }

    fn file(&self) -> FileId {
        self.node.origin.file
    }

    /// The failing value as written in the file.
    fn written(&self) -> &str {
        self.text
            .get(self.node.origin.span.clone())
            .unwrap_or_default()
    }

    /// Whether the failing keyword belongs to the definition `name`
    /// (`duration`, `quantity`).
    fn in_definition(&self, name: &str) -> bool {
        self.schema_path.starts_with(&format!("/$defs/{name}/"))
    }

    /// The first of `candidates` that makes the value valid.
    fn first_fit(&self, candidates: Vec<(String, Json)>) -> Option<String> {
        self.trial.first_fit(&self.path, candidates)
    }
}

/// Pushes onto `out` the diagnostics for one schema `error` found in the file
/// whose tree is `tree` and source is `text`.
pub(super) fn diagnose(
    document: &Json,
    tree: &Node,
    text: &str,
    trial: &Trial<'_>,
    error: &ValidationError<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let path = steps(error.instance_path());
    let node = tree.nearest(&path);
    let site = Site {
        document,
        tree,
        text,
        path,
        schema_path: error.schema_path().as_str(),
        node,
        trial,
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            unknown_keys(&site, unexpected, out);
        }
        ValidationErrorKind::Required { property } => out.push(missing_key(&site, property)),
        ValidationErrorKind::Type { kind } => out.push(wrong_type(&site, kind)),
        ValidationErrorKind::Enum { options } => out.push(not_a_choice(&site, options)),
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinLength { .. } => out.push(malformed(&site)),
        ValidationErrorKind::PropertyNames { error: inner } => {
            out.push(invalid_key(&site, inner));
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            no_branch(&site, context, out);
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            out.push(out_of_range(
                &site,
                "too small",
                format!("at least {limit}"),
            ));
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            out.push(out_of_range(&site, "too large", format!("at most {limit}")));
        }
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. } => {
            out.push(not_exactly_one_key(&site));
        }
        _ => {
            let d = Diagnostic::error(Code::InvalidValue, format!("`{}`: {error}", site.dotted()));
            out.push(at_value(d, site.node));
        }
    }
}

/// Points at a node's key (or its table header).
fn at_key(d: Diagnostic, n: &Node) -> Diagnostic {
    d.at(n.origin.file, n.span(true))
}

/// Points at a node's value.
fn at_value(d: Diagnostic, n: &Node) -> Diagnostic {
    d.at(n.origin.file, n.span(false))
}

/// `additionalProperties`: one diagnostic per unknown key, with the closest
/// allowed key, or the list of them when none is close.
fn unknown_keys(site: &Site<'_>, unexpected: &[String], out: &mut Vec<Diagnostic>) {
    let parent = schema_at(site.document, parent_pointer(site.schema_path));
    let known = parent.map(property_names).unwrap_or_default();
    for key in unexpected {
        let target = site.node.get(key).unwrap_or(site.node);
        let mut d = Diagnostic::error(Code::UnknownKey, format!("unknown key `{key}`"));
        if let Some((place, hint)) = elsewhere(key, &known) {
            d = d.label(format!("did you mean `{place}`?")).hint(hint);
        } else if let Some(better) = did_you_mean(key, known.iter().copied()) {
            d = d.label(format!("did you mean `{better}`?"));
            d = d.hint(format!("replace `{key}` with `{better}`"));
        } else if !known.is_empty() {
            let place = if site.path.is_empty() {
                "here".to_string()
            } else {
                format!("in `{}`", site.dotted())
            };
            d = d.hint(format!("valid keys {place}: {}", one_of(&known)));
        }
        out.push(at_key(d, target));
    }
}

/// A key written at the top of a service that manifold has elsewhere, as
/// the key it is and a hint: the restart policy, which is a job's or
/// cronjob's only (`job.restart`). `known` are the keys of the table it was
/// written in.
fn elsewhere(key: &str, known: &[&str]) -> Option<(&'static str, &'static str)> {
    let squashed = key.replace(['_', '-'], "").to_ascii_lowercase();
    let restart = matches!(squashed.as_str(), "restart" | "restartpolicy");
    (restart && known.contains(&"job")).then_some((
        "job.restart",
        "a job's or cronjob's pods restart as `job.restart` says (`OnFailure`, the default, or `Never`): write `restart = \"Never\"` under `[job]`; a deployment's and a statefulset's pods always restart (`Always`), so they have no such key",
    ))
}

/// `required`: at the table's header, or the file when the key belongs at
/// the top.
fn missing_key(site: &Site<'_>, property: &Json) -> Diagnostic {
    let key = property.as_str().unwrap_or_default();
    let place = if site.path.is_empty() {
        "this file".to_string()
    } else {
        format!("`{}`", site.dotted())
    };
    let d = Diagnostic::error(
        Code::MissingKey,
        format!("missing required key `{key}` in {place}"),
    )
    .hint(format!("add `{key} = ...`"));
    if site.path.is_empty() {
        d.in_file(site.file())
    } else {
        d.at(site.file(), site.node.span(true))
    }
}

/// `type`: says what was expected, and what to write instead when a value
/// that validates can be found (quoted, unquoted, with a unit).
fn wrong_type(site: &Site<'_>, kind: &TypeKind) -> Diagnostic {
    let node = site.node;
    let expected = type_names(kind);
    let d = Diagnostic::error(
        Code::Type,
        format!(
            "`{}` must be {expected}, found {}",
            site.dotted(),
            node.value.type_name()
        ),
    );
    let hint = if expected.contains("string") {
        text_hint(site)
    } else {
        unquote_hint(site)
    };
    let hint =
        hint.or_else(|| describe(site.document, site.schema_path).map(|w| format!("expected {w}")));
    at_value(d.maybe_hint(hint), node)
}

/// A number or a boolean where text is expected: quoted as written when
/// that validates, a duration with its unit, or what the text means.
fn text_hint(site: &Site<'_>) -> Option<String> {
    let written = site.written();
    match &site.node.value {
        Value::Boolean(_) => Some(not_a_switch(site)),
        Value::Integer(_) | Value::Float(_) => {
            if let Some(fix) = site.first_fit(vec![quoted(written)]) {
                return Some(format!("quote the value: `{fix}`"));
            }
            let unit = site
                .in_definition("duration")
                .then(|| duration(written))
                .flatten()?;
            let fix = site.first_fit(vec![quoted(&unit)])?;
            Some(format!(
                "a duration needs its unit: `{fix}` ({written} seconds; `m` counts minutes, `h` hours)"
            ))
        }
        _ => None,
    }
}

/// `true` or `false` where a name or other text is expected: quoting it
/// would validate and mean something else, so the hint says what the text
/// is, with the schema's example when it validates.
fn not_a_switch(site: &Site<'_>) -> String {
    let property = property_schema(site.document, &site.path);
    let what = property
        .and_then(|p| p.get("description"))
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| describe(site.document, site.schema_path))
        .unwrap_or_else(|| "text".to_string());
    let example = property
        .and_then(|p| p.get("examples"))
        .and_then(Json::as_array)
        .and_then(|e| e.first())
        .and_then(Json::as_str)
        .and_then(|e| site.first_fit(vec![quoted(e)]));
    let like = example.map(|e| format!(", like `{e}`")).unwrap_or_default();
    format!(
        "`{}` takes text, not `true` or `false` ({what}): write it as a string{like}",
        site.dotted()
    )
}

/// Text where a number or boolean is expected: the value without its
/// quotes, when that validates.
fn unquote_hint(site: &Site<'_>) -> Option<String> {
    let Value::String(s) = &site.node.value else {
        return None;
    };
    let t = s.trim();
    let mut candidates = Vec::new();
    if let Ok(n) = t.parse::<i64>() {
        candidates.push((n.to_string(), Json::from(n)));
    } else if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        candidates.push((t.to_string(), Json::Number(n)));
    }
    let lower = t.to_ascii_lowercase();
    if lower == "true" || lower == "false" {
        candidates.push((lower.clone(), Json::Bool(lower == "true")));
    }
    let fix = site.first_fit(candidates)?;
    Some(format!("remove the quotes: `{fix}`"))
}

/// `enum`: lists the choices, and suggests the closest. A number written
/// where the choices are text (`kube_version = 1.35`) is told to quote it,
/// as written: TOML reads it as a number, which keeps no trailing zeros.
fn not_a_choice(site: &Site<'_>, options: &Json) -> Diagnostic {
    let choices: Vec<String> = options
        .as_array()
        .map(|a| a.iter().map(json_text).collect())
        .unwrap_or_default();
    let expected = format!("expected {}", one_of(&choices));
    let d = |got: &str| {
        Diagnostic::error(
            Code::InvalidValue,
            format!("invalid value `{got}` for `{}`", site.dotted()),
        )
    };
    let d = match &site.node.value {
        Value::String(got) => match did_you_mean(got, choices.iter().map(String::as_str)) {
            Some(better) => d(got)
                .label(format!("did you mean `{better}`?"))
                .hint(expected),
            None => d(got).hint(expected),
        },
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) => {
            let written = site.written();
            let fits = choices.iter().any(|c| c == written);
            let hint = match site.first_fit(vec![quoted(written)]).filter(|_| fits) {
                Some(fix) => format!("quote the value: `{fix}`"),
                None if matches!(site.node.value, Value::Float(_)) => format!(
                    "write one of {} as a string: TOML reads `{written}` as a number, and a number cannot be trusted to keep trailing zeros (`1.30` is the number `1.3`)",
                    one_of(&choices)
                ),
                None => format!("write one of {} as a string", one_of(&choices)),
            };
            d(written).hint(hint)
        }
        Value::Datetime(_) | Value::Array(_) | Value::Table(_) => {
            d(&scalar_text(site.node).unwrap_or_default()).hint(expected)
        }
    };
    at_value(d, site.node)
}

/// `pattern`, `minLength`, `maxLength`: a value (or a key, for a
/// `propertyNames` pattern) of the wrong form, explained by the schema's
/// description.
fn malformed(site: &Site<'_>) -> Diagnostic {
    let what = describe(site.document, site.schema_path);
    let got = scalar_text(site.node).unwrap_or_default();
    let message = if site.schema_path.ends_with("/pattern") && is_property_name(site.schema_path) {
        format!("invalid key `{got}`")
    } else {
        format!("invalid value `{got}` for `{}`", site.dotted())
    };
    // A version whose digest is wrong says what is wrong with it first.
    let digest = is_version(site).then(|| digest_problem(&got)).flatten();
    let what = match (digest, what) {
        (Some(problem), Some(w)) => Some(format!("{problem}; expected {w}")),
        (None, Some(w)) => Some(format!("expected {w}")),
        (problem, None) => problem,
    };
    let hint = unit_hint(site, &got)
        .or_else(|| unquote_hint(site).map(|h| format!("{h}, a number")))
        .or(what);
    let d = Diagnostic::error(Code::InvalidValue, message).maybe_hint(hint);
    at_value(d, site.node)
}

/// A duration or a quantity whose unit is missing, spelled out or not one
/// Kubernetes reads: the spellings that validate, and what each means.
fn unit_hint(site: &Site<'_>, got: &str) -> Option<String> {
    if site.in_definition("duration") {
        let fix = site.first_fit(vec![quoted(&duration(got)?)])?;
        return Some(format!(
            "write `{fix}`: a duration is whole seconds written with units, `s`, `m` and `h`, like `10s`, `5m` or `1h30m`"
        ));
    }
    if !site.in_definition("quantity") {
        return None;
    }
    let (fixes, why) = quantity(got)?;
    let fitting: Vec<String> = fixes
        .into_iter()
        .filter_map(|(text, means)| {
            let fix = site.first_fit(vec![quoted(&text)])?;
            Some(format!("`{fix}` ({means})"))
        })
        .collect();
    (!fitting.is_empty()).then(|| format!("{why}: write {}", fitting.join(" or ")))
}

/// Whether the failing keyword belongs to the `version` definition.
fn is_version(site: &Site<'_>) -> bool {
    let owner = schema_at(site.document, parent_pointer(site.schema_path));
    let version = site.document.pointer("/$defs/version");
    matches!((owner, version), (Some(a), Some(b)) if std::ptr::eq(a, b))
}

/// `propertyNames`: a key of the wrong form, at the key.
fn invalid_key(site: &Site<'_>, inner: &ValidationError<'_>) -> Diagnostic {
    let key = json_text(inner.instance());
    let target = site.node.get(&key).unwrap_or(site.node);
    let inner_path = inner.schema_path().as_str().to_string();
    let what = describe(site.document, &format!("{}{inner_path}", site.schema_path))
        .or_else(|| describe(site.document, &inner_path));
    let d = Diagnostic::error(
        Code::InvalidKey,
        format!("invalid key `{key}` in `{}`", site.dotted()),
    )
    .maybe_hint(what.map(|w| format!("expected {w}")));
    at_key(d, target)
}

/// `oneOf`, `anyOf`: the errors of the branch the user most likely meant, or
/// one diagnostic for the whole value when no branch is a likely fit.
fn no_branch(site: &Site<'_>, context: &[Vec<ValidationError<'_>>], out: &mut Vec<Diagnostic>) {
    let alternatives = schema_at(site.document, site.schema_path)
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let best = best_branch(site.document, site.node, &alternatives)
        .or_else(|| typed_branch(site.document, site.node, &alternatives));
    match best {
        Some(i) if !context.get(i).is_none_or(Vec::is_empty) => {
            for inner in &context[i] {
                diagnose(site.document, site.tree, site.text, site.trial, inner, out);
            }
        }
        _ => {
            let d = Diagnostic::error(
                Code::Type,
                format!(
                    "`{}` cannot be {}",
                    site.dotted(),
                    site.node.value.type_name()
                ),
            )
            .maybe_hint(site.owner_description().map(|w| format!("expected {w}")));
            out.push(at_value(d, site.node));
        }
    }
}

/// `minimum`, `maximum` and their exclusive forms: `bound` is "at least 1"
/// or "at most 65535".
fn out_of_range(site: &Site<'_>, what: &str, bound: String) -> Diagnostic {
    let d = Diagnostic::error(Code::InvalidValue, format!("`{}` is {what}", site.dotted()))
        .hint(format!("use a value of {bound}"));
    at_value(d, site.node)
}

/// `minProperties`, `maxProperties`: the schemas use both at 1 for tables
/// that take exactly one of their keys.
fn not_exactly_one_key(site: &Site<'_>) -> Diagnostic {
    let d = Diagnostic::error(
        Code::InvalidValue,
        format!("`{}` needs exactly one of its keys", site.dotted()),
    )
    .maybe_hint(site.owner_description().map(|w| format!("expected {w}")));
    at_value(d, site.node)
}

/// A JSON Schema instance location as the steps of a tree path; the
/// Kubernetes checks (`kube`) read their locations with it too.
pub fn steps(location: &jsonschema::paths::Location) -> Vec<Step> {
    location
        .into_iter()
        .map(|segment| match segment {
            jsonschema::paths::LocationSegment::Property(p) => Step::Key(p.to_string()),
            jsonschema::paths::LocationSegment::Index(i) => Step::Index(i),
        })
        .collect()
}

/// The schema node a JSON pointer names, following a `$ref` found there.
fn schema_at<'a>(document: &'a Json, pointer: &str) -> Option<&'a Json> {
    resolve(document, document.pointer(pointer)?)
}

fn resolve<'a>(document: &'a Json, mut node: &'a Json) -> Option<&'a Json> {
    // Bounded: the schemas never chain more than a few references.
    for _ in 0..8 {
        match node.get("$ref").and_then(Json::as_str) {
            Some(r) if node.get("properties").is_none() => {
                node = document.pointer(r.strip_prefix('#')?)?;
            }
            _ => return Some(node),
        }
    }
    Some(node)
}

fn parent_pointer(pointer: &str) -> &str {
    pointer.rfind('/').map_or("", |i| &pointer[..i])
}

fn property_names(schema: &Json) -> Vec<&str> {
    schema
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// `ports[2].name` style, for messages about a value.
fn dotted(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn is_property_name(schema_path: &str) -> bool {
    schema_path.contains("/propertyNames/")
}

/// The human description of the schema node owning a failed keyword.
fn describe(document: &Json, keyword_pointer: &str) -> Option<String> {
    let mut pointer = parent_pointer(keyword_pointer);
    // A failing keyword inside a oneOf branch is described by the oneOf's owner.
    loop {
        if let Some(node) = document.pointer(pointer) {
            if let Some(d) = node.get("description").and_then(Json::as_str) {
                if !d.starts_with(|c: char| c.is_uppercase()) {
                    return Some(d.to_string());
                }
            }
        }
        let last = pointer.rsplit('/').next().unwrap_or_default();
        if !(last == "oneOf" || last == "anyOf" || last.parse::<usize>().is_ok()) {
            return None;
        }
        pointer = parent_pointer(pointer);
    }
}

/// The oneOf branch the user most likely meant for a table: the one whose
/// keys overlap the table's keys most.
fn best_branch(document: &Json, node: &Node, alternatives: &[Json]) -> Option<usize> {
    let Value::Table(table) = &node.value else {
        return None;
    };
    let mut best: Option<(usize, usize)> = None;
    for (i, alt) in alternatives.iter().enumerate() {
        let Some(schema) = resolve(document, alt) else {
            continue;
        };
        if schema.get("type").and_then(Json::as_str) != Some("object") {
            continue;
        }
        let names = property_names(schema);
        let overlap = table.keys().filter(|k| names.contains(&k.as_str())).count();
        if overlap > 0 && best.is_none_or(|(_, o)| overlap > o) {
            best = Some((i, overlap));
        }
    }
    best.map(|(i, _)| i)
}

/// The oneOf branch a scalar was most likely meant for: the first whose
/// type (or, for a branch that is itself a `oneOf`, one of whose types) is
/// the scalar's. A quantity written as `"512MB"` is a malformed string
/// quantity, not a value of no type at all.
fn typed_branch(document: &Json, node: &Node, alternatives: &[Json]) -> Option<usize> {
    let json = match &node.value {
        Value::String(_) | Value::Datetime(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "number",
        Value::Boolean(_) => "boolean",
        Value::Array(_) | Value::Table(_) => return None,
    };
    let matches = |schema: &Json| match schema.get("type").and_then(Json::as_str) {
        Some("number") => json == "number" || json == "integer",
        Some(t) => t == json,
        None => false,
    };
    alternatives.iter().position(|alt| {
        let Some(schema) = resolve(document, alt) else {
            return false;
        };
        matches(schema)
            || schema
                .get("oneOf")
                .and_then(Json::as_array)
                .is_some_and(|inner| {
                    inner
                        .iter()
                        .filter_map(|i| resolve(document, i))
                        .any(matches)
                })
    })
}

/// The schema of the key an instance path names, before its `$ref` is
/// followed (its `description` and `examples` are the key's own), looking
/// into the branches of a `oneOf` for a key a table branch has.
fn property_schema<'a>(document: &'a Json, path: &[Step]) -> Option<&'a Json> {
    let mut node = document;
    for step in path {
        let schema = resolve(document, node)?;
        node = match step {
            Step::Key(k) => {
                let branches = schema.get("oneOf").and_then(Json::as_array);
                std::iter::once(schema)
                    .chain(
                        branches
                            .into_iter()
                            .flatten()
                            .filter_map(|b| resolve(document, b)),
                    )
                    .find_map(|s| {
                        s.get("properties")
                            .and_then(|p| p.get(k.as_str()))
                            .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
                    })?
            }
            Step::Index(_) => schema.get("items")?,
        };
    }
    Some(node)
}

fn type_names(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "object" => "a table",
        "array" => "an array",
        _ => "null",
    };
    match kind {
        TypeKind::Single(t) => name(t).to_string(),
        TypeKind::Multiple(ts) => {
            let names: Vec<&str> = ts.iter().map(|t| name(&t)).collect();
            match names.len() {
                0 => String::new(),
                1 => names[0].to_string(),
                n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
            }
        }
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    Some(match &node.value {
        Value::String(s) | Value::Datetime(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Array(_) | Value::Table(_) => return None,
    })
}

fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
