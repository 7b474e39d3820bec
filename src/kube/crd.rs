//! CustomResourceDefinitions: what they say about their kind (group, kind,
//! scope, versions) and a strict validator for each served version.
//!
//! A CRD's `openAPIV3Schema` is a *structural* schema (OpenAPI v3 with
//! Kubernetes extensions), not a JSON Schema: the API server prunes fields
//! the schema does not declare, where manifold rejects them, as it does for
//! built-in kinds. `strict` turns it into a JSON Schema that says exactly
//! that: objects admit only their `properties` (or any key under
//! `additionalProperties` or `x-kubernetes-preserve-unknown-fields`),
//! `x-kubernetes-int-or-string` admits both, `nullable` admits `null`,
//! `x-kubernetes-embedded-resource` admits `apiVersion`, `kind` and
//! `metadata`, and the value validations (types, `required`, `enum`,
//! `pattern`, bounds, `items`, `allOf`/`anyOf`/`oneOf`/`not`, and the cheap
//! formats) are kept. CEL rules (`x-kubernetes-validations`) and defaults are
//! left out. The object's `metadata` is checked apart, as the ObjectMeta of
//! the environment's Kubernetes version (`super::validate_custom`).
//!
//! [`Crds::register`] takes parsed CRDs, from the repository's `crds/` or
//! from anywhere else, and refuses a group and kind defined twice.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value as Json, json};

use super::Compiled;
use crate::diag::{Code, Diagnostic, FileId};
use crate::model::{ResourceScope, Scopes, api_group};

/// One CustomResourceDefinition.
pub struct Crd {
    /// `metadata.name`: `<plural>.<group>`.
    pub name: String,
    pub group: String,
    pub kind: String,
    pub scope: ResourceScope,
    pub versions: Vec<CrdVersion>,
    /// Where it is written, when it comes from a file of the repository.
    pub origin: Option<(FileId, Range<usize>)>,
    /// Where it comes from, for people: `crds/cert-manager.yaml:12:1`.
    pub defined_in: String,
}

/// One version of a CRD: its schema when it is served, and the validator
/// built from it on first use (most CRDs of a repository check no object in
/// a given run, and a large schema takes milliseconds to compile).
pub struct CrdVersion {
    pub name: String,
    pub served: bool,
    schema: Option<Json>,
    validator: OnceLock<Result<Arc<Compiled>, String>>,
}

/// Why a document is not a CRD manifold can use: where (a JSON pointer into
/// the document) and what.
#[derive(Debug, PartialEq, Eq)]
pub struct NotACrd {
    pub pointer: String,
    pub message: String,
    pub hint: String,
}

fn not_a_crd(pointer: &str, message: impl Into<String>, hint: impl Into<String>) -> NotACrd {
    NotACrd {
        pointer: pointer.to_string(),
        message: message.into(),
        hint: hint.into(),
    }
}

const API_VERSION: &str = "apiextensions.k8s.io/v1";

impl Crd {
    /// Reads one CRD (as `kubectl get crd -o yaml` prints it).
    pub fn from_json(doc: &Json) -> Result<Crd, NotACrd> {
        let text = |pointer: &str| doc.pointer(pointer).and_then(Json::as_str);
        let (api_version, kind) = (text("/apiVersion"), text("/kind"));
        if kind != Some("CustomResourceDefinition") {
            return Err(not_a_crd(
                "/kind",
                format!(
                    "not a CustomResourceDefinition: kind `{}`",
                    kind.unwrap_or_default()
                ),
                "`crds/` holds only CustomResourceDefinitions; move other objects to a service's `objects`",
            ));
        }
        if api_version != Some(API_VERSION) {
            return Err(not_a_crd(
                "/apiVersion",
                format!(
                    "a CustomResourceDefinition of `{}`: manifold reads `{API_VERSION}` only",
                    api_version.unwrap_or_default()
                ),
                "v1beta1 is no longer served since Kubernetes 1.22; export the CRD as the cluster serves it: `kubectl get crd <name> -o yaml`",
            ));
        }
        let required = |pointer: &str, what: &str| {
            text(pointer).filter(|s| !s.is_empty()).ok_or_else(|| {
                not_a_crd(
                    pointer.rsplit_once('/').map_or("", |(p, _)| p),
                    format!(
                        "the CustomResourceDefinition has no `{}`",
                        &pointer[1..].replace('/', ".")
                    ),
                    format!("set {what}"),
                )
            })
        };
        let group = required("/spec/group", "the API group of the kind")?;
        let kind = required("/spec/names/kind", "the kind's name")?;
        let scope_text = required("/spec/scope", "`Namespaced` or `Cluster`")?;
        let scope = ResourceScope::parse(scope_text).ok_or_else(|| {
            not_a_crd(
                "/spec/scope",
                format!("unknown scope `{scope_text}`"),
                "`spec.scope` is `Namespaced` or `Cluster`",
            )
        })?;
        let name = text("/metadata/name").unwrap_or_default().to_string();
        let versions = doc
            .pointer("/spec/versions")
            .and_then(Json::as_array)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                not_a_crd(
                    "/spec",
                    "the CustomResourceDefinition has no `spec.versions`",
                    "list the versions with their `name`, `served` and `schema.openAPIV3Schema`",
                )
            })?;
        let versions = versions
            .iter()
            .enumerate()
            .map(|(i, v)| CrdVersion::from_json(&format!("/spec/versions/{i}"), v))
            .collect::<Result<_, _>>()?;
        Ok(Crd {
            name,
            group: group.to_string(),
            kind: kind.to_string(),
            scope,
            versions,
            origin: None,
            defined_in: String::new(),
        })
    }

    /// The validator of the version named by `api_version`, if the CRD
    /// serves it; else the problem, listing the served versions.
    pub(super) fn served(&self, api_version: &str) -> Result<Arc<Compiled>, String> {
        let wanted = api_version.split_once('/').map_or("", |(_, v)| v);
        let version = self.versions.iter().find(|v| v.name == wanted);
        if let Some(v) = version.filter(|v| v.served) {
            return v.validator().map_err(|e| {
                format!(
                    "the schema of CustomResourceDefinition `{}` version `{}` cannot be used: {e}",
                    self.name, v.name
                )
            });
        }
        let served: Vec<String> = self
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| format!("`{}/{}`", self.group, v.name))
            .collect();
        let state = match version {
            Some(_) => "is not served",
            None => "is not a version of the CRD",
        };
        let served = match served.is_empty() {
            true => "none".to_string(),
            false => served.join(", "),
        };
        Err(format!("`{api_version}` {state}; served: {served}"))
    }
}

impl CrdVersion {
    fn from_json(pointer: &str, v: &Json) -> Result<CrdVersion, NotACrd> {
        let name = v.get("name").and_then(Json::as_str).ok_or_else(|| {
            not_a_crd(
                pointer,
                "a version of the CustomResourceDefinition has no `name`",
                "name each version (`v1`, `v1beta1`, ...)",
            )
        })?;
        let served = v.get("served").and_then(Json::as_bool).ok_or_else(|| {
            not_a_crd(
                pointer,
                format!("version `{name}` does not say whether it is `served`"),
                "set `served: true` or `served: false`",
            )
        })?;
        let schema = match served {
            false => None,
            true => Some(
                v.pointer("/schema/openAPIV3Schema")
                    .filter(|s| s.is_object())
                    .ok_or_else(|| {
                        not_a_crd(
                            pointer,
                            format!("served version `{name}` has no `schema.openAPIV3Schema`"),
                            "an apiextensions.k8s.io/v1 CRD has a schema for every version; export the CRD from the cluster",
                        )
                    })?
                    .clone(),
            ),
        };
        Ok(CrdVersion {
            name: name.to_string(),
            served,
            schema,
            validator: OnceLock::new(),
        })
    }

    /// The strict validator of this version, built once.
    fn validator(&self) -> Result<Arc<Compiled>, String> {
        self.validator
            .get_or_init(|| {
                let schema = self.schema.as_ref().ok_or("the version is not served")?;
                let document = root(schema);
                let validator = options().build(&document).map_err(|e| e.to_string())?;
                Ok(Arc::new(Compiled {
                    document,
                    validator,
                }))
            })
            .clone()
    }
}

/// How CRD schemas are compiled: formats checked, and patterns read as Go's
/// RE2 reads them (the API server's engine; the `regex` crate has its
/// syntax), not as ECMA-262.
fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_pattern_options(jsonschema::PatternOptions::regex())
}

/// Whether `pattern` compiles: one that does not (RE2 syntax the engine
/// lacks) is left out rather than making the whole CRD unusable.
fn readable_pattern(pattern: &Json) -> bool {
    options().build(&json!({"pattern": pattern})).is_ok()
}

/// The JSON Schema of a custom resource: the structural schema made strict,
/// with `apiVersion` and `kind` admitted and `metadata` left to ObjectMeta.
fn root(schema: &Json) -> Json {
    let mut out = strict(schema);
    let map = out.as_object_mut().expect("strict gives an object");
    map.insert("type".into(), json!("object"));
    let properties = map
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties is an object");
    properties.insert("apiVersion".into(), json!({"type": "string"}));
    properties.insert("kind".into(), json!({"type": "string"}));
    let metadata = schema
        .pointer("/properties/metadata")
        .map(loose)
        .unwrap_or_else(|| json!({}));
    properties.insert("metadata".into(), metadata);
    if schema.get("x-kubernetes-preserve-unknown-fields") != Some(&Json::Bool(true)) {
        map.insert("additionalProperties".into(), json!(false));
    }
    out
}

/// Value validations that carry over as they are.
const KEPT: [&str; 13] = [
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
];

/// Formats checked: those the validator knows as Kubernetes means them.
const FORMATS: [&str; 5] = ["date", "date-time", "ipv4", "ipv6", "uuid"];

/// How a node is read: in a branch of `allOf`, `anyOf`, `oneOf` or `not`
/// (which constrain values but declare no fields, so refuse none), or
/// below `x-kubernetes-preserve-unknown-fields` (which keeps unknown fields
/// down to the first node that declares `properties` or
/// `additionalProperties` again, as the API server's pruning does).
#[derive(Clone, Copy)]
struct Mode {
    junctor: bool,
    preserved: bool,
}

/// A node of a structural schema as a strict JSON Schema: fields not
/// declared are refused.
fn strict(schema: &Json) -> Json {
    convert(
        schema,
        Mode {
            junctor: false,
            preserved: false,
        },
    )
}

/// The same, for a branch of a junctor: no field is refused there.
fn loose(schema: &Json) -> Json {
    convert(
        schema,
        Mode {
            junctor: true,
            preserved: false,
        },
    )
}

fn convert(schema: &Json, mode: Mode) -> Json {
    let Some(s) = schema.as_object() else {
        return json!({});
    };
    let flag = |key: &str| s.get(key) == Some(&Json::Bool(true));
    let mut out = Map::new();
    for key in KEPT {
        if let Some(v) = s.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if out.get("pattern").is_some_and(|p| !readable_pattern(p)) {
        out.remove("pattern");
    }
    bounds(s, &mut out);
    match s.get("format").and_then(Json::as_str) {
        Some(f) if FORMATS.contains(&f) => {
            out.insert("format".into(), json!(f));
        }
        Some("int32") => integer_range(&mut out, i32::MIN.into(), i32::MAX.into()),
        _ => {}
    }
    if let Some(t) = s.get("type").and_then(Json::as_str) {
        out.insert("type".into(), json!(t));
    }
    let declares = s.contains_key("properties") || s.contains_key("additionalProperties");
    let mode = Mode {
        junctor: mode.junctor,
        preserved: flag("x-kubernetes-preserve-unknown-fields") || (mode.preserved && !declares),
    };
    fields(s, &mut out, mode, flag("x-kubernetes-embedded-resource"));
    if let Some(items) = s.get("items").filter(|i| i.is_object()) {
        out.insert("items".into(), convert(items, mode));
    }
    let mut junctors = Vec::new();
    if flag("x-kubernetes-int-or-string") {
        out.remove("type");
        junctors.push(json!({"anyOf": [{"type": "integer"}, {"type": "string"}]}));
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Json::as_array) {
            let branches: Vec<Json> = branches.iter().map(loose).collect();
            junctors.push(json!({ key: branches }));
        }
    }
    if let Some(not) = s.get("not") {
        junctors.push(json!({"not": loose(not)}));
    }
    if flag("nullable") {
        nullable(&mut out, &mut junctors);
    }
    match junctors.len() {
        0 => {}
        1 => out.extend(
            junctors
                .pop()
                .and_then(|j| j.as_object().cloned())
                .unwrap_or_default(),
        ),
        _ => {
            out.insert("allOf".into(), Json::Array(junctors));
        }
    }
    Json::Object(out)
}

/// `properties` and `additionalProperties`, and the fields an object refuses.
fn fields(s: &Map<String, Json>, out: &mut Map<String, Json>, mode: Mode, embedded: bool) {
    let mut properties: Map<String, Json> = s
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.clone(), convert(v, mode)))
                .collect()
        })
        .unwrap_or_default();
    if embedded {
        for key in ["apiVersion", "kind"] {
            properties
                .entry(key)
                .or_insert_with(|| json!({"type": "string"}));
        }
        properties
            .entry("metadata")
            .or_insert_with(|| json!({"type": "object"}));
    }
    let is_object = s.get("type").and_then(Json::as_str) == Some("object")
        || !properties.is_empty()
        || embedded;
    match s.get("additionalProperties") {
        Some(Json::Bool(allowed)) => {
            out.insert("additionalProperties".into(), json!(allowed));
        }
        Some(schema @ Json::Object(_)) => {
            out.insert("additionalProperties".into(), convert(schema, mode));
        }
        _ if is_object && !mode.junctor && !mode.preserved => {
            out.insert("additionalProperties".into(), json!(false));
            // Even empty: without `properties`, the validator reports each
            // field as "False schema does not allow", not as unknown.
            out.insert("properties".into(), Json::Object(properties));
            return;
        }
        _ => {}
    }
    if !properties.is_empty() {
        out.insert("properties".into(), Json::Object(properties));
    }
}

/// OpenAPI v3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` as the
/// numbers JSON Schema 2020-12 expects.
fn bounds(s: &Map<String, Json>, out: &mut Map<String, Json>) {
    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        if s.get(exclusive) == Some(&Json::Bool(true)) {
            if let Some(value) = out.remove(bound) {
                out.insert(exclusive.into(), value);
            }
        }
    }
}

fn integer_range(out: &mut Map<String, Json>, min: i64, max: i64) {
    out.entry("minimum").or_insert_with(|| json!(min));
    out.entry("maximum").or_insert_with(|| json!(max));
}

/// `nullable: true`: `null` is admitted besides the declared type and the
/// other constraints.
fn nullable(out: &mut Map<String, Json>, junctors: &mut [Json]) {
    if let Some(Json::String(t)) = out.get("type").cloned() {
        out.insert("type".into(), json!([t, "null"]));
    }
    if let Some(Json::Array(values)) = out.get_mut("enum") {
        if !values.contains(&Json::Null) {
            values.push(Json::Null);
        }
    }
    for junctor in junctors.iter_mut() {
        *junctor = json!({"anyOf": [{"type": "null"}, junctor.take()]});
    }
}

/// The CRDs a run knows, by group and kind.
#[derive(Default)]
pub struct Crds {
    by_group: HashMap<String, HashMap<String, Crd>>,
}

impl Crds {
    /// Adds `crds`; a group and kind already known is an error at the later
    /// definition, which is left out.
    pub fn register(&mut self, crds: Vec<Crd>, diagnostics: &mut Vec<Diagnostic>) {
        for crd in crds {
            let kinds = self.by_group.entry(crd.group.clone()).or_default();
            let Some(first) = kinds.get(&crd.kind) else {
                kinds.insert(crd.kind.clone(), crd);
                continue;
            };
            let d = Diagnostic::error(
                Code::Crd,
                format!(
                    "`{}` `{}` is defined by two CustomResourceDefinitions",
                    crd.group, crd.kind
                ),
            )
            .hint(format!(
                "it is also defined in {}; keep one of them",
                first.defined_in
            ));
            diagnostics.push(match crd.origin {
                Some((file, span)) => d.at(file, span),
                None => d,
            });
        }
    }

    /// The CRD of a custom resource, if one is registered.
    pub fn get(&self, api_version: &str, kind: &str) -> Option<&Crd> {
        self.by_group.get(api_group(api_version))?.get(kind)
    }

    /// Adds the scope of every registered kind to `scopes` (where a
    /// built-in kind keeps its own).
    pub fn scopes_into(&self, scopes: &mut Scopes) {
        for crd in self.by_group.values().flat_map(HashMap::values) {
            scopes.insert(&crd.group, &crd.kind, crd.scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{Problem, validate_with};

    /// A CRD of `example.com` `Widget` whose v1 has `schema`.
    fn widgets(schema: Json) -> Crds {
        let doc = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced",
                "versions": [
                    {"name": "v1", "served": true, "schema": {"openAPIV3Schema": schema}},
                    {"name": "v0", "served": false},
                ]
            }
        });
        let mut crds = Crds::default();
        let mut diagnostics = Vec::new();
        crds.register(vec![Crd::from_json(&doc).unwrap()], &mut diagnostics);
        assert!(diagnostics.is_empty());
        crds
    }

    fn check(crds: &Crds, spec: Json) -> Vec<(String, String)> {
        let object = json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "shop"},
            "spec": spec,
        });
        let verdict = validate_with("1.35", crds, &object);
        assert_eq!(verdict.crd.as_deref(), Some("widgets.example.com"));
        verdict
            .problems
            .into_iter()
            .map(|Problem { path, message, .. }| (path, message))
            .collect()
    }

    fn spec(properties: Json) -> Json {
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": properties}}})
    }

    #[test]
    fn unknown_fields_are_refused_with_the_closest_name() {
        let crds = widgets(spec(
            json!({"replicas": {"type": "integer"}, "empty": {"type": "object"}}),
        ));
        assert_eq!(check(&crds, json!({"replicas": 2})), vec![]);
        assert_eq!(
            check(&crds, json!({"replicas": 2, "replcas": 3})),
            vec![(
                "spec".into(),
                "unknown field `replcas`; did you mean `replicas`?".into()
            )]
        );
        // An object without properties keeps nothing: the API server would
        // prune every field.
        assert_eq!(
            check(&crds, json!({"empty": {"x": 1}})),
            vec![("spec.empty".into(), "unknown field `x`".into())]
        );
    }

    #[test]
    fn preserved_subtrees_take_any_key_until_a_node_declares_its_fields() {
        let crds = widgets(spec(json!({
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {
                "typed": {"type": "object", "properties": {"a": {"type": "string"}}},
                "open": {"type": "object"}
            }}
        })));
        assert_eq!(
            check(
                &crds,
                json!({"free": {"any": {"deep": [1, {"x": true}]}, "open": {"y": 1}}})
            ),
            vec![]
        );
        assert_eq!(
            check(&crds, json!({"free": {"typed": {"colour": "c"}}})),
            vec![("spec.free.typed".into(), "unknown field `colour`".into())]
        );
    }

    #[test]
    fn int_or_string_nullable_enum_and_bounds() {
        let crds = widgets(spec(json!({
            "surge": {"x-kubernetes-int-or-string": true},
            "note": {"type": "string", "nullable": true},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "size": {"type": "integer", "minimum": 0, "exclusiveMinimum": true, "format": "int32"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        })));
        let good =
            json!({"surge": "50%", "note": null, "mode": "a", "size": 1, "labels": {"x": "y"}});
        assert_eq!(check(&crds, good), vec![]);
        assert_eq!(check(&crds, json!({"surge": 50})), vec![]);
        let bad = check(
            &crds,
            json!({"surge": true, "mode": "c", "size": 0, "labels": {"x": 1}}),
        );
        assert_eq!(
            bad,
            vec![
                (
                    "spec.labels.x".to_string(),
                    "1 is not of type \"string\"".to_string()
                ),
                (
                    "spec.mode".into(),
                    "\"c\" is not one of \"a\" or \"b\"".into()
                ),
                (
                    "spec.size".into(),
                    "0 is less than or equal to the minimum of 0".into()
                ),
                (
                    "spec.surge".into(),
                    "true is neither an integer nor a string".into()
                ),
            ]
        );
        assert_eq!(
            check(&crds, json!({"size": 4_294_967_296_u64})),
            vec![(
                "spec.size".into(),
                "4294967296 is greater than the maximum of 2147483647".into()
            )]
        );
    }

    #[test]
    fn embedded_resources_admit_their_identity_and_junctors_refuse_nothing() {
        let crds = widgets(spec(json!({
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
            "source": {"type": "object", "properties": {"git": {"type": "string"}, "oci": {"type": "string"}},
                       "oneOf": [{"required": ["git"]}, {"required": ["oci"]}]},
        })));
        let template = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}});
        assert_eq!(
            check(&crds, json!({"template": template, "source": {"git": "x"}})),
            vec![]
        );
        let both = check(&crds, json!({"source": {"git": "x", "oci": "y"}}));
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].0, "spec.source");
        assert_eq!(
            check(&crds, json!({"template": {"status": {}}})),
            vec![("spec.template".into(), "unknown field `status`".into())]
        );
    }

    #[test]
    fn metadata_is_object_meta_and_versions_must_be_served() {
        let crds = widgets(spec(json!({})));
        let object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "labelz": {}}});
        let verdict = validate_with("1.35", &crds, &object);
        assert_eq!(verdict.problems[0].path, "metadata");
        assert_eq!(
            verdict.problems[0].message,
            "unknown field `labelz`; did you mean `labels`?"
        );
        for (version, state) in [
            ("v0", "is not served"),
            ("v2", "is not a version of the CRD"),
        ] {
            let object = json!({"apiVersion": format!("example.com/{version}"), "kind": "Widget"});
            let verdict = validate_with("1.35", &crds, &object);
            assert_eq!(
                verdict.problems[0].message,
                format!("`example.com/{version}` {state}; served: `example.com/v1`")
            );
        }
    }

    #[test]
    fn what_is_not_a_usable_crd_says_where() {
        let problem = |doc: Json| Crd::from_json(&doc).err().map(|e| (e.pointer, e.message));
        assert_eq!(
            problem(json!({"apiVersion": "v1", "kind": "ConfigMap"})),
            Some((
                "/kind".into(),
                "not a CustomResourceDefinition: kind `ConfigMap`".into()
            ))
        );
        let mut crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "names": {"kind": "W"}, "scope": "Namespaced",
                     "versions": [{"name": "v1", "served": true}]}
        });
        assert_eq!(
            problem(crd.clone()).unwrap(),
            (
                "/spec/versions/0".into(),
                "served version `v1` has no `schema.openAPIV3Schema`".into()
            )
        );
        crd["spec"]["names"] = json!({});
        assert_eq!(
            problem(crd).unwrap(),
            (
                "/spec/names".into(),
                "the CustomResourceDefinition has no `spec.names.kind`".into()
            )
        );
    }

    /// Patterns are RE2 (Go's engine, the API server's); one the engine
    /// cannot read is left out instead of making the CRD unusable.
    #[test]
    fn patterns_are_read_as_re2_and_unreadable_ones_are_left_out() {
        let crds = widgets(spec(json!({
            "name": {"type": "string", "pattern": "(?i)^[a-z]+$"},
            "odd": {"type": "string", "pattern": "(["},
        })));
        assert_eq!(check(&crds, json!({"name": "ABC", "odd": "x"})), vec![]);
        assert_eq!(
            check(&crds, json!({"name": "a1"})),
            vec![(
                "spec.name".into(),
                "\"a1\" does not match \"(?i)^[a-z]+$\"".into()
            )]
        );
    }

    /// A CRD cannot loosen the check of a built-in kind.
    #[test]
    fn built_in_kinds_keep_their_schema_and_scope() {
        let doc = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "deployments.apps"},
            "spec": {"group": "apps", "names": {"kind": "Deployment"}, "scope": "Cluster",
                     "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
        });
        let mut crds = Crds::default();
        crds.register(vec![Crd::from_json(&doc).unwrap()], &mut Vec::new());
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spek": {}});
        let verdict = validate_with("1.35", &crds, &object);
        assert_eq!(verdict.crd, None);
        assert_eq!(
            verdict.problems[0].message,
            "unknown field `spek`; did you mean `spec`?"
        );
        let mut scopes = crate::kube::builtin_scopes().clone();
        crds.scopes_into(&mut scopes);
        assert_eq!(
            scopes.of("apps/v1", "Deployment"),
            Some(ResourceScope::Namespaced)
        );
    }

    #[test]
    fn a_group_and_kind_is_registered_once() {
        let mut crds = widgets(spec(json!({})));
        let again = widgets(spec(json!({})))
            .by_group
            .into_values()
            .flat_map(HashMap::into_values)
            .collect();
        let mut diagnostics = Vec::new();
        crds.register(again, &mut diagnostics);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, Code::Crd);
        let mut scopes = Scopes::default();
        crds.scopes_into(&mut scopes);
        assert_eq!(
            scopes.of("example.com/v1", "Widget"),
            Some(ResourceScope::Namespaced)
        );
    }
}
