//! JSON Schema validation of input files, with errors mapped back to the TOML.
//!
//! The schemas in `schemas/` are embedded and compiled once. A schema error
//! arrives as an instance path; this module walks the spanned tree along it to
//! find the key or value to underline, and reads the schema itself to suggest
//! the key the user probably meant. It checks shape only: references between
//! files and values that need context are the `check` stage's job.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diag::{Diagnostic, did_you_mean, one_of};
use crate::input::tree::{Node, Step, Value};

pub const SERVICE_SCHEMA: &str = include_str!("../../schemas/service.schema.json");
pub const ENVIRONMENT_SCHEMA: &str = include_str!("../../schemas/environment.schema.json");

/// Which schema a file is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `services/<name>.toml`: a full service.
    Service,
    /// `environments/<env>/<service>.toml`: service keys, nothing required.
    Overlay,
    /// `environments/<env>.toml`.
    Environment,
}

struct Compiled {
    /// The document the validator was built from: error schema paths point into it.
    document: Json,
    validator: Validator,
}

/// The embedded service schema, parsed once.
fn service_schema() -> &'static Json {
    static SERVICE: LazyLock<Json> = LazyLock::new(|| {
        serde_json::from_str(SERVICE_SCHEMA).expect("embedded service schema is JSON")
    });
    &SERVICE
}

/// Compiles the schema of a service (`Kind::Service`, which also checks
/// overlays) or of an environment. The environment schema references the
/// service schema's definitions as `service.schema.json#/$defs/...`, so
/// editors can resolve them as files; here they are copied in.
fn compile(kind: Kind) -> Compiled {
    let mut document: Json = match kind {
        Kind::Service | Kind::Overlay => service_schema().clone(),
        Kind::Environment => {
            let local = ENVIRONMENT_SCHEMA.replace("\"service.schema.json#", "\"#");
            let mut env: Json = serde_json::from_str(&local).expect("embedded schema is JSON");
            env["$defs"] = service_schema()["$defs"].clone();
            env
        }
    };
    // Editors use the descriptive `$schema`; validation is always 2020-12.
    if let Some(map) = document.as_object_mut() {
        map.remove("$schema");
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&document)
        .expect("embedded schema compiles");
    Compiled {
        document,
        validator,
    }
}

/// The validator of a kind, compiled on first use. An overlay is a service
/// without its required keys: the service schema is `$ref` to the service
/// definition plus a top-level `required`, so overlays share its validator
/// and ignore the errors of that one keyword (see [`only_for_services`]).
fn compiled(kind: Kind) -> &'static Compiled {
    static SERVICE: LazyLock<Compiled> = LazyLock::new(|| compile(Kind::Service));
    static ENVIRONMENT: LazyLock<Compiled> = LazyLock::new(|| compile(Kind::Environment));
    match kind {
        Kind::Service | Kind::Overlay => &SERVICE,
        Kind::Environment => &ENVIRONMENT,
    }
}

/// Whether `error` comes from the service schema's top-level `required`,
/// which overlays are exempt from.
fn only_for_services(error: &ValidationError<'_>) -> bool {
    error.schema_path().as_str() == "/required"
}

/// Validates one file's tree; returns every problem found.
/// `text` is the file's source, for quoting values as written.
pub fn validate(kind: Kind, tree: &Node, text: &str) -> Vec<Diagnostic> {
    let compiled = compiled(kind);
    let instance = tree.to_json();
    if compiled.validator.is_valid(&instance) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for error in compiled.validator.iter_errors(&instance) {
        if kind == Kind::Overlay && only_for_services(&error) {
            continue;
        }
        diagnose(&compiled.document, tree, text, &error, &mut out);
    }
    out
}

fn steps(location: &jsonschema::paths::Location) -> Vec<Step> {
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

fn diagnose(
    document: &Json,
    tree: &Node,
    text: &str,
    error: &ValidationError<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let path = steps(error.instance_path());
    let schema_path = error.schema_path().as_str();
    let node = tree.nearest(&path);
    let file = node.origin.file;
    let at_key = |d: Diagnostic, n: &Node| d.at(n.origin.file, n.span(true));
    let at_value = |d: Diagnostic, n: &Node| d.at(n.origin.file, n.span(false));
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let parent = schema_at(document, parent_pointer(schema_path));
            let known = parent.map(property_names).unwrap_or_default();
            for key in unexpected {
                let target = node.get(key).unwrap_or(node);
                let mut d = Diagnostic::error("unknown-key", format!("unknown key `{key}`"));
                if let Some(better) = did_you_mean(key, known.iter().copied()) {
                    d = d.label(format!("did you mean `{better}`?"));
                    d = d.hint(format!("replace `{key}` with `{better}`"));
                } else if !known.is_empty() {
                    let place = if path.is_empty() {
                        "here".to_string()
                    } else {
                        format!("in `{}`", dotted(&path))
                    };
                    d = d.hint(format!("valid keys {place}: {}", one_of(&known)));
                }
                out.push(at_key(d, target));
            }
        }
        ValidationErrorKind::Required { property } => {
            let key = property.as_str().unwrap_or_default();
            let place = if path.is_empty() {
                "this file".to_string()
            } else {
                format!("`{}`", dotted(&path))
            };
            let d = Diagnostic::error(
                "missing-key",
                format!("missing required key `{key}` in {place}"),
            )
            .hint(format!("add `{key} = ...`"));
            // The table's header, or the file when the key belongs at the top.
            out.push(if path.is_empty() {
                d.in_file(file)
            } else {
                d.at(file, node.span(true))
            });
        }
        ValidationErrorKind::Type { kind } => {
            let expected = type_names(kind);
            let mut d = Diagnostic::error(
                "type",
                format!(
                    "`{}` must be {expected}, found {}",
                    dotted(&path),
                    node.value.type_name()
                ),
            );
            let written = text.get(node.origin.span.clone()).unwrap_or_default();
            if expected.contains("string") && scalar_text(node).is_some() {
                d = d.hint(format!("quote the value: `\"{written}\"`"));
            } else if let Value::String(s) = &node.value {
                let t = s.trim();
                let fits = (expected.contains("integer") && t.parse::<i64>().is_ok())
                    || (expected.contains("number") && t.parse::<f64>().is_ok())
                    || (expected.contains("boolean") && (t == "true" || t == "false"));
                if fits {
                    d = d.hint(format!("remove the quotes: `{t}`"));
                }
            }
            out.push(at_value(d, node));
        }
        ValidationErrorKind::Enum { options } => {
            let choices: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(json_text).collect())
                .unwrap_or_default();
            let got = scalar_text(node).unwrap_or_default();
            let mut d = Diagnostic::error(
                "invalid-value",
                format!("invalid value `{got}` for `{}`", dotted(&path)),
            );
            d = match did_you_mean(&got, choices.iter().map(String::as_str)) {
                Some(better) => d
                    .label(format!("did you mean `{better}`?"))
                    .hint(format!("expected {}", one_of(&choices))),
                None => d.hint(format!("expected {}", one_of(&choices))),
            };
            out.push(at_value(d, node));
        }
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinLength { .. } => {
            let what = describe(document, schema_path);
            let got = scalar_text(node).unwrap_or_default();
            let (subject, target) =
                if schema_path.ends_with("/pattern") && is_property_name(schema_path) {
                    (format!("key `{got}`"), node)
                } else {
                    (format!("`{}`", dotted(&path)), node)
                };
            let message = if subject.starts_with("key") {
                format!("invalid {subject}")
            } else {
                format!("invalid value `{got}` for {subject}")
            };
            let d = Diagnostic::error("invalid-value", message)
                .maybe_hint(what.map(|w| format!("expected {w}")));
            out.push(at_value(d, target));
        }
        ValidationErrorKind::PropertyNames { error: inner } => {
            let key = json_text(inner.instance());
            let target = node.get(&key).unwrap_or(node);
            let inner_path = inner.schema_path().as_str().to_string();
            let what = describe(document, &format!("{schema_path}{inner_path}"))
                .or_else(|| describe(document, &inner_path));
            let d = Diagnostic::error(
                "invalid-key",
                format!("invalid key `{key}` in `{}`", dotted(&path)),
            )
            .maybe_hint(what.map(|w| format!("expected {w}")));
            out.push(at_key(d, target));
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let alternatives = schema_at(document, schema_path)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            match best_branch(document, node, &alternatives) {
                Some(i) if !context.get(i).is_none_or(Vec::is_empty) => {
                    for inner in &context[i] {
                        diagnose(document, tree, text, inner, out);
                    }
                }
                _ => {
                    let what = describe(document, parent_pointer(schema_path));
                    let d = Diagnostic::error(
                        "type",
                        format!("`{}` cannot be {}", dotted(&path), node.value.type_name()),
                    )
                    .maybe_hint(what.map(|w| format!("expected {w}")));
                    out.push(at_value(d, node));
                }
            }
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            let d = Diagnostic::error("invalid-value", format!("`{}` is too small", dotted(&path)))
                .hint(format!("use a value of at least {limit}"));
            out.push(at_value(d, node));
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            let d = Diagnostic::error("invalid-value", format!("`{}` is too large", dotted(&path)))
                .hint(format!("use a value of at most {limit}"));
            out.push(at_value(d, node));
        }
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. } => {
            let what = describe(document, parent_pointer(schema_path));
            let d = Diagnostic::error(
                "invalid-value",
                format!("`{}` needs exactly one of its keys", dotted(&path)),
            )
            .maybe_hint(what.map(|w| format!("expected {w}")));
            out.push(at_value(d, node));
        }
        _ => {
            let d = Diagnostic::error("invalid-value", format!("`{}`: {error}", dotted(&path)));
            out.push(at_value(d, node));
        }
    }
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

/// The oneOf branch the user most likely meant: the one whose keys overlap the
/// table's keys most, or the first whose type matches a scalar.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::input::tree::parse;

    fn check(kind: Kind, text: &str) -> Vec<(String, String, Option<String>)> {
        let tree = parse(FileId(0), text).unwrap();
        validate(kind, &tree, text)
            .into_iter()
            .map(|d| {
                let span = d.span.unwrap_or(0..0);
                (text[span].to_string(), d.message, d.hint)
            })
            .collect()
    }

    #[test]
    fn the_seed_probe_typo_points_at_the_key_with_a_suggestion() {
        let found = check(
            Kind::Service,
            "image = \"game/http\"\n[probes.readiness]\nhttp = { path = \"/\", port = 81 }\nperiodSecods = \"5s\"\n",
        );
        assert_eq!(
            found,
            vec![(
                "periodSecods".to_string(),
                "unknown key `periodSecods`".to_string(),
                Some("replace `periodSecods` with `period`".to_string())
            )]
        );
    }

    #[test]
    fn the_seed_rollout_typo_is_found_in_overlays_too() {
        let found = check(Kind::Overlay, "[rollout]\nmaxUnavailble = \"10%\"\n");
        assert_eq!(found[0].0, "maxUnavailble");
        assert_eq!(
            found[0].2.as_deref(),
            Some("replace `maxUnavailble` with `max_unavailable`")
        );
    }

    #[test]
    fn a_number_where_text_is_required_is_told_to_quote_it() {
        let found = check(Kind::Service, "image = \"game/http\"\nversion = 1.0\n");
        assert_eq!(
            found,
            vec![(
                "1.0".to_string(),
                "`version` must be a string, found a float".to_string(),
                Some("quote the value: `\"1.0\"`".to_string())
            )]
        );
    }

    #[test]
    fn a_missing_required_key_names_it() {
        let found = check(Kind::Service, "name = \"http\"\n");
        assert_eq!(found[0].1, "missing required key `image` in this file");
    }

    #[test]
    fn overlays_get_the_diagnostics_of_a_schema_of_their_own() {
        // The overlay schema as it reads in `schemas/overlay.schema.json`.
        let document = serde_json::json!({
            "$ref": "#/$defs/service",
            "$defs": service_schema()["$defs"].clone(),
        });
        let own = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&document)
            .unwrap();
        let overlays = [
            "replicas = 3\n",
            "replicas = \"3\"\nkind = \"statefullset\"\n",
            "image = 5\n[rollout]\nmaxUnavailble = \"10%\"\n",
            "name = \"Http_Server\"\n[probes.readiness]\nperiodSecods = \"5s\"\n",
            "[env]\nDB = { secret = \"mysql\", kye = \"password\" }\nX = 1\n",
            "required = 1\nimage = \"a/b\"\nport = -1\n",
        ];
        for text in overlays {
            let tree = parse(FileId(0), text).unwrap();
            let instance = tree.to_json();
            let mut want = Vec::new();
            for error in own.iter_errors(&instance) {
                diagnose(&document, &tree, text, &error, &mut want);
            }
            assert_eq!(want.is_empty(), text == "replicas = 3\n", "{text}");
            let got = validate(Kind::Overlay, &tree, text);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{text}");
        }
    }

    #[test]
    fn overlays_require_nothing() {
        assert!(check(Kind::Overlay, "replicas = 3\n").is_empty());
    }

    #[test]
    fn an_env_reference_typo_is_reported_inside_the_table_it_meant() {
        let found = check(
            Kind::Service,
            "image = \"a/b\"\n[env]\nDB_PASSWORD = { secret = \"mysql\", kye = \"password\" }\n",
        );
        let keys: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert!(keys.contains(&"kye"), "{found:?}");
    }

    #[test]
    fn enum_values_get_suggestions() {
        let found = check(Kind::Service, "image = \"a/b\"\nkind = \"statefullset\"\n");
        assert_eq!(found[0].1, "invalid value `statefullset` for `kind`");
        assert_eq!(
            found[0].2.as_deref(),
            Some("expected `deployment`, `statefulset`, `cronjob` or `job`")
        );
    }

    #[test]
    fn patterns_are_explained_in_words() {
        let found = check(Kind::Service, "image = \"a/b\"\nname = \"Http_Server\"\n");
        assert_eq!(found[0].1, "invalid value `Http_Server` for `name`");
        assert!(
            found[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with("expected a DNS-1123 label"),
            "{found:?}"
        );
    }

    #[test]
    fn environment_defaults_use_the_service_keys() {
        let found = check(
            Kind::Environment,
            "namespace = \"game\"\nkube_version = \"1.35\"\n[defaults]\nreplcas = 2\n",
        );
        assert_eq!(found[0].0, "replcas");
        assert_eq!(
            found[0].2.as_deref(),
            Some("replace `replcas` with `replicas`")
        );
    }
}
