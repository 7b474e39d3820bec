//! The objects of the `manifests/` folders: plain Kubernetes YAML, such as
//! `helm template` output or an operator's release file, published to every
//! environment (`manifests/`) or to one (`environments/<env>/manifests/`).
//!
//! Each document (each item of a `List`) must be an object with
//! `apiVersion`, `kind` and `metadata.name`. It is checked like a raw
//! object: against the strict schema of the environment's Kubernetes
//! version or its CRD in `crds/`, its name by the rule of its kind, its
//! label and annotation keys and sizes, a Secret's values encrypted, no
//! namespace on a cluster-scoped kind. Nothing is added but the
//! environment's namespace, on a namespaced object that names none, and,
//! as on raw objects, the do-not-prune annotations on objects that hold
//! data; no variable is expanded. A SOPS-encrypted Secret is published byte for
//! byte, or SOPS' checksum would no longer match. Every problem is at its
//! line and column in the manifest file. Joining the objects to the rest of
//! the environment (identities, paths, namespaces) is `assemble`'s.

use std::borrow::Cow;
use std::ops::Range;

use rayon::prelude::*;
use serde_json::Value as Json;

use crate::check::{SECRET_HINT, bad_key, clear_secret_values, data_size, human};
use crate::diag::{Code, Diagnostic, FileId, Sources};
use crate::emit::to_yaml;
use crate::input::load::{ManifestInput, Project};
use crate::input::tree::Step;
use crate::input::yaml::Document;
use crate::kube;
use crate::model::names::{
    ANNOTATIONS_MAX, manifest_file, name_problem, name_rule, namespace_file,
};
use crate::model::{Environment, HOLDS_DATA, ResourceScope, Scopes, api_group};

use super::kinds::Kinds;
use super::pair::Emitted;

/// One object of a manifest file, checked, to be joined to its environment.
pub(super) struct Placed {
    pub(super) object: Emitted,
    /// Where its `metadata.name` is written: where a clash is shown.
    pub(super) file: FileId,
    pub(super) span: Range<usize>,
    /// `manifests/a.yaml:3:9`, to name it in a message about another object.
    pub(super) location: String,
}

/// One object as written: its file, its document, where it is in the
/// document (`/items/2` in a `List`, else empty) and its value.
struct Item<'a> {
    input: &'a ManifestInput,
    doc: &'a Document,
    prefix: String,
    value: &'a Json,
    /// The only object of its file.
    alone: bool,
}

impl Item<'_> {
    /// The span of the node at `pointer` (`/metadata/name`) of this object.
    fn at(&self, pointer: &str) -> Range<usize> {
        self.doc.span(&format!("{}{pointer}", self.prefix))
    }

    fn error(&self, code: Code, message: impl Into<String>, pointer: &str) -> Diagnostic {
        Diagnostic::error(code, message).at(self.input.file, self.at(pointer))
    }
}

/// What every object of an environment is checked with.
struct Site<'a> {
    env: &'a Environment,
    kinds: &'a Kinds,
    /// The project's scopes, and those of the CRDs among the manifests.
    scopes: &'a Scopes,
    sources: &'a Sources,
}

/// The objects of the manifest files of environment `env_name`, checked and
/// given their file in the environment's directory; and the problems.
pub(super) fn manifests(
    project: &Project,
    env_name: &str,
    env: &Environment,
    kinds: &Kinds,
) -> (Vec<Placed>, Vec<Diagnostic>) {
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let files = project
        .manifests
        .iter()
        .filter(|m| m.env.as_deref().is_none_or(|e| e == env_name));
    for input in files {
        let first = items.len();
        for doc in &input.documents {
            flatten(input, doc, String::new(), &doc.value, &mut items);
        }
        if items.len() == first + 1 {
            items[first].alone = true;
        }
    }
    let scopes = scopes_with_crds(&kinds.scopes, &items);
    let site = Site {
        env,
        kinds,
        scopes: &scopes,
        sources: &project.sources,
    };
    let checked: Vec<(Option<Placed>, Vec<Diagnostic>)> =
        items.par_iter().map(|item| check(item, &site)).collect();
    let mut placed = Vec::with_capacity(checked.len());
    for (object, diags) in checked {
        placed.extend(object);
        diagnostics.extend(diags);
    }
    (placed, diagnostics)
}

/// The objects of one document: itself, or the items of a `List` (any kind
/// that ends in `List` and has `items`, as kubectl reads them).
fn flatten<'a>(
    input: &'a ManifestInput,
    doc: &'a Document,
    prefix: String,
    value: &'a Json,
    items: &mut Vec<Item<'a>>,
) {
    let is_list = value
        .get("kind")
        .and_then(Json::as_str)
        .is_some_and(|k| k.ends_with("List"));
    match value.get("items").and_then(Json::as_array) {
        Some(list) if is_list => {
            for (i, item) in list.iter().enumerate() {
                flatten(input, doc, format!("{prefix}/items/{i}"), item, items);
            }
        }
        _ => items.push(Item {
            input,
            doc,
            prefix,
            value,
            alone: false,
        }),
    }
}

/// The project's scopes, plus the `spec.scope` of every
/// CustomResourceDefinition among the manifests: a custom resource
/// published with its CRD is namespaced or not as that CRD says.
fn scopes_with_crds<'a>(scopes: &'a Scopes, items: &[Item<'_>]) -> Cow<'a, Scopes> {
    let mut scopes = Cow::Borrowed(scopes);
    for item in items {
        let v = item.value;
        if v["apiVersion"] != "apiextensions.k8s.io/v1" || v["kind"] != "CustomResourceDefinition" {
            continue;
        }
        let spec = &v["spec"];
        let (Some(group), Some(kind), Some(scope)) = (
            spec["group"].as_str(),
            spec["names"]["kind"].as_str(),
            spec["scope"].as_str().and_then(ResourceScope::parse),
        ) else {
            continue;
        };
        scopes.to_mut().insert(group, kind, scope);
    }
    scopes
}

/// Checks one object; gives it its namespace and its file.
fn check(item: &Item<'_>, site: &Site<'_>) -> (Option<Placed>, Vec<Diagnostic>) {
    let (api_version, kind, name) = match identity(item) {
        Ok(identity) => identity,
        Err(d) => return (None, vec![d]),
    };
    let sops = item.value.get("sops").is_some();
    if sops {
        if let Some(d) = sops_problem(item, api_version, kind, name) {
            return (None, vec![d]);
        }
    }
    let mut value = item.value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove("sops");
    }
    let mut diagnostics = secret_problems(item, kind, name, sops);
    namespace(item, site, &mut value, &mut diagnostics);
    if api_version == "v1" && HOLDS_DATA.contains(&kind) {
        keep_on_prune(&mut value);
    }
    let verdict = kube::validate_with(&site.env.kube_version, &site.kinds.crds, &value);
    for problem in &verdict.problems {
        diagnostics.push(schema_problem(
            item, kind, name, problem, site.env, &verdict,
        ));
    }
    names_and_sizes(item, &value, kind, name, &mut diagnostics);
    let file = match manifest_file(&item.input.folder, kind, name) {
        Ok(file) => file,
        Err(problem) => {
            if !diagnostics.iter().any(|d| d.code == Code::InvalidName) {
                diagnostics.push(
                    item.error(
                        Code::InvalidName,
                        format!("{kind} `{}` cannot be written to a file: {problem}", name.escape_debug()),
                        "/metadata/name",
                    )
                    .hint("an object of a manifest file is written to `manifests/<the file's path without extension>/<kind>-<name>.yaml`: rename the file, or the object, without `/`, `%`, `..` or control characters"),
                );
            }
            return (None, diagnostics);
        }
    };
    let span = item.at("/metadata/name");
    let source = site.sources.get(item.input.file);
    let (line, col) = site.sources.line_col(item.input.file, span.start);
    let yaml = match sops {
        // SOPS' checksum covers every value in the order written.
        true => source.text.clone(),
        false => to_yaml(&value),
    };
    let placed = Placed {
        object: Emitted {
            file,
            group: api_group(api_version).to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: value["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            yaml,
        },
        file: item.input.file,
        span,
        location: format!("{}:{line}:{col}", source.path),
    };
    (Some(placed), diagnostics)
}

/// The `apiVersion`, `kind` and `metadata.name` every object has, or why
/// this is not an object.
fn identity<'a>(item: &Item<'a>) -> Result<(&'a str, &'a str, &'a str), Diagnostic> {
    const HINT: &str = "every document of a manifest file is a Kubernetes object with `apiVersion`, `kind` and `metadata.name`, as `kubectl apply -f` takes it";
    let value = item.value;
    if !value.is_object() {
        let what = match value {
            Json::Array(_) => "a list",
            Json::String(_) => "a text",
            _ => "a single value",
        };
        return Err(item
            .error(
                Code::Manifest,
                format!("not a Kubernetes object but {what}"),
                "",
            )
            .hint(HINT));
    }
    let text = |pointer: &str| value.pointer(pointer).and_then(Json::as_str);
    for (pointer, key) in [("/apiVersion", "apiVersion"), ("/kind", "kind")] {
        if text(pointer).is_none_or(str::is_empty) {
            return Err(item
                .error(
                    Code::Manifest,
                    format!("not a Kubernetes object: no `{key}`"),
                    pointer,
                )
                .hint(HINT));
        }
    }
    let (api_version, kind) = (text("/apiVersion").unwrap(), text("/kind").unwrap());
    let Some(name) = text("/metadata/name") else {
        let hint = match value.pointer("/metadata/generateName") {
            Some(_) => {
                "`generateName` makes a new object on every apply, and Flux and Argo CD could never prune them: give the object a `metadata.name`"
            }
            None => {
                "manifold publishes each object to a file named after its kind and name: give it a `metadata.name`"
            }
        };
        return Err(item
            .error(
                Code::Manifest,
                format!("{kind} has no `metadata.name`"),
                "/metadata",
            )
            .hint(hint));
    };
    Ok((api_version, kind, name))
}

/// Why an object with SOPS metadata cannot be published byte for byte:
/// SOPS' checksum covers every value, so manifold may neither add the
/// namespace nor write the object out of the file it shares.
fn sops_problem(item: &Item<'_>, api_version: &str, kind: &str, name: &str) -> Option<Diagnostic> {
    let (message, hint) = if kind.starts_with("ENC[") {
        (
            "the whole object is encrypted with SOPS, `kind` and `metadata` included".to_string(),
            "encrypt only the values of a Secret, as Flux expects: `sops --encrypt --encrypted-regex '^(data|stringData)$'`",
        )
    } else if api_version != "v1" || kind != "Secret" {
        (
            format!("only a Secret may be encrypted with SOPS, not {kind} `{name}`"),
            "Flux decrypts only Secrets: keep this object in clear, or make it a Secret",
        )
    } else if !item.alone {
        (
            format!("the SOPS-encrypted Secret `{name}` shares its file with other objects"),
            "manifold publishes an encrypted Secret byte for byte, so that SOPS' checksum still matches: give it a file of its own",
        )
    } else if item.value.pointer("/metadata/namespace").is_none() {
        (
            format!("the SOPS-encrypted Secret `{name}` names no namespace"),
            "manifold cannot add the environment's namespace without breaking SOPS' checksum: set `metadata.namespace` and encrypt the file again",
        )
    } else {
        return None;
    };
    Some(item.error(Code::Manifest, message, "/sops").hint(hint))
}

/// A Secret's values must be encrypted with SOPS, as in `objects`, and
/// encrypted values need the `sops` metadata that decrypts them.
fn secret_problems(item: &Item<'_>, kind: &str, name: &str, sops: bool) -> Vec<Diagnostic> {
    let clear = clear_secret_values(item.value);
    let mut diagnostics: Vec<Diagnostic> = clear
        .iter()
        .map(|(field, k)| {
            let pointer = format!("/{field}/{}", escape(k));
            item.error(
                Code::SecretLiteral,
                format!("`{field}.{k}` of Secret `{name}` is a secret value in clear"),
                &pointer,
            )
            .hint(SECRET_HINT)
        })
        .collect();
    let values = ["data", "stringData"]
        .iter()
        .filter_map(|f| item.value.get(*f).and_then(Json::as_object))
        .any(|values| !values.is_empty());
    if kind == "Secret" && clear.is_empty() && values && !sops {
        diagnostics.push(
            item.error(
                Code::Manifest,
                format!("the values of Secret `{name}` are encrypted, but the `sops` metadata that decrypts them is missing"),
                "/metadata/name",
            )
            .hint("commit the file as `sops --encrypt` writes it, with its `sops` key"),
        );
    }
    diagnostics
}

/// A namespaced object without a namespace gets the environment's; a
/// cluster-scoped one may not name one; a namespace must be a valid name.
fn namespace(
    item: &Item<'_>,
    site: &Site<'_>,
    value: &mut Json,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let api_version = value["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = value["kind"].as_str().unwrap_or_default().to_string();
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(meta) = value["metadata"].as_object_mut() else {
        return;
    };
    let cluster = site.scopes.is_cluster(&api_version, &kind);
    match meta.get("namespace").filter(|ns| !ns.is_null()) {
        None if !cluster => {
            meta.insert("namespace".into(), Json::String(site.env.namespace.clone()));
        }
        Some(Json::String(ns)) if cluster => {
            let from = match site.kinds.crds.get(&api_version, &kind) {
                Some(crd) => format!(
                    "its CustomResourceDefinition `{}` says `scope: Cluster`",
                    crd.name
                ),
                None if kube::builtin_scopes().is_cluster(&api_version, &kind) => {
                    "Kubernetes serves it outside namespaces".to_string()
                }
                None => "its CustomResourceDefinition among the manifests says `scope: Cluster`"
                    .to_string(),
            };
            diagnostics.push(
                item.error(
                    Code::ClusterScoped,
                    format!("{kind} `{name}` is cluster-scoped but sets namespace `{ns}`"),
                    "/metadata/namespace",
                )
                .hint(format!("remove `metadata.namespace`: {from}")),
            );
        }
        Some(Json::String(ns)) => {
            if let Err(problem) = namespace_file(ns) {
                diagnostics.push(
                    item.error(
                        Code::InvalidName,
                        format!("invalid namespace: {problem}"),
                        "/metadata/namespace",
                    )
                    .hint("namespaces are DNS-1123 labels: lowercase letters, digits and `-`"),
                );
            }
        }
        // Not a string: the schema says so.
        _ => {}
    }
}

/// The do-not-prune annotations of Flux and Argo CD, unless the object sets
/// them (`render::keep_on_prune`).
fn keep_on_prune(value: &mut Json) {
    if let Some(meta) = value["metadata"].as_object_mut() {
        crate::render::keep_on_prune(meta);
    }
}

/// A problem the Kubernetes schema or the object's CRD finds, at the field.
fn schema_problem(
    item: &Item<'_>,
    kind: &str,
    name: &str,
    problem: &kube::Problem,
    env: &Environment,
    verdict: &kube::Verdict,
) -> Diagnostic {
    let pointer: String = problem
        .steps
        .iter()
        .map(|step| match step {
            Step::Key(k) => format!("/{}", escape(k)),
            Step::Index(i) => format!("/{i}"),
        })
        .collect();
    let field = match problem.path.is_empty() {
        true => String::new(),
        false => format!(" at `{}`", problem.path),
    };
    match &verdict.crd {
        None => item
            .error(
                Code::KubernetesSchema,
                format!(
                    "{kind} `{name}` is invalid for Kubernetes {}{field}: {}",
                    env.kube_version, problem.message
                ),
                &pointer,
            )
            .hint("fix the field in the manifest file"),
        Some(crd) => item
            .error(
                Code::CrdSchema,
                format!(
                    "{kind} `{name}` does not match CustomResourceDefinition `{crd}`{field}: {}",
                    problem.message
                ),
                &pointer,
            )
            .hint(match problem.path.as_str() {
                "apiVersion" => "use a version the CRD serves, or update the CRD in `crds/`",
                _ => "fix the field, or update the CRD in `crds/` if the cluster's is newer",
            }),
    }
}

/// The limits of the API server no schema states, as for raw objects: the
/// name by its kind's rule, label and annotation keys, the annotations'
/// size, a ConfigMap's or Secret's size.
fn names_and_sizes(
    item: &Item<'_>,
    value: &Json,
    kind: &str,
    name: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(problem) = name_problem(kind, name) {
        let rule = name_rule(kind);
        diagnostics.push(
            item.error(
                Code::InvalidName,
                format!(
                    "invalid {kind} name `{}`: it {problem}",
                    name.escape_debug()
                ),
                "/metadata/name",
            )
            .hint(format!(
                "{kind} names are {}, at most {} characters",
                rule.grammar.describe(),
                rule.max
            )),
        );
    }
    let meta = &value["metadata"];
    for (table, what) in [("labels", "label"), ("annotations", "annotation")] {
        for k in meta[table]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if let Some(d) = bad_key(what, k) {
                let span = item.at(&format!("/metadata/{table}/{}", escape(k)));
                diagnostics.push(d.at(item.input.file, span));
            }
        }
    }
    let annotations = text_bytes(&meta["annotations"]);
    if annotations > ANNOTATIONS_MAX {
        diagnostics.push(
            item.error(
                Code::TooLarge,
                format!(
                    "the annotations of {kind} `{name}` hold {}; Kubernetes accepts at most 256 KiB",
                    human(annotations)
                ),
                "/metadata/annotations",
            )
            .hint("keep large content out of annotations"),
        );
    }
    if matches!(kind, "ConfigMap" | "Secret") {
        let bytes: usize = ["data", "binaryData", "stringData"]
            .iter()
            .map(|t| text_bytes(&value[*t]))
            .sum();
        if let Some(d) = data_size(&format!("{kind} `{name}`"), bytes) {
            diagnostics.push(d.at(item.input.file, item.at("/metadata/name")));
        }
    }
}

/// The bytes of the keys and text values of a mapping.
fn text_bytes(value: &Json) -> usize {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(k.len() + v.as_str()?.len()))
        .sum()
}

/// A key as a JSON pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
