//! The official strict Kubernetes JSON schemas, vendored, for checking output.
//!
//! `schemas/kubernetes/v1.XX.json` hold the definitions of every built-in kind
//! for one Kubernetes version, generated from the `kubernetes-validate` package
//! by `scripts/vendor-kube-schemas.py` (descriptions removed). A file is
//! indexed, not parsed, when its version is first needed (`catalog.rs`), and
//! a validator per (version, apiVersion, kind) is compiled on first use from
//! the definitions that kind reaches, and shared by all threads. This module
//! knows nothing of services: it answers "is this object valid for that
//! version, and if not, where".
//!
//! Custom resources are checked against their CustomResourceDefinition when
//! one is registered (`crd.rs`), their `metadata` against the version's
//! ObjectMeta; those of a group Kubernetes does not serve without one pass.
//! Which built-in kinds are namespaced is read from
//! `schemas/kubernetes/scopes.json`, vendored by the same script. The Gateway
//! API's kinds are known from the CRDs vendored in `schemas/gateway-api/`
//! (`gateway_api.rs`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use crate::diag::did_you_mean;
use crate::input::tree::Step;
use crate::model::{ResourceScope, Scopes};

/// The Kubernetes versions whose schemas are vendored.
pub const VERSIONS: [&str; 5] = ["1.33", "1.34", "1.35", "1.36", "1.37"];

fn text(version: &str) -> Option<&'static str> {
    Some(match version {
        "1.33" => include_str!("../../schemas/kubernetes/v1.33.json"),
        "1.34" => include_str!("../../schemas/kubernetes/v1.34.json"),
        "1.35" => include_str!("../../schemas/kubernetes/v1.35.json"),
        "1.36" => include_str!("../../schemas/kubernetes/v1.36.json"),
        "1.37" => include_str!("../../schemas/kubernetes/v1.37.json"),
        _ => return None,
    })
}

mod catalog;
mod crd;
mod gateway_api;

use catalog::Catalog;
pub use crd::{Crd, Crds, NotACrd};

/// The scopes of the built-in kinds, from the vendored scope file (one
/// `"group/Kind":"Namespaced"|"Cluster"` line a kind, core kinds without a
/// group), shared by every version: a kind keeps its scope across versions.
pub fn builtin_scopes() -> &'static Scopes {
    static SCOPES: LazyLock<Scopes> = LazyLock::new(|| {
        let text = include_str!("../../schemas/kubernetes/scopes.json");
        let map: serde_json::Map<String, Json> =
            serde_json::from_str(text).expect("vendored scopes are JSON");
        let mut scopes = Scopes::default();
        for (key, scope) in map {
            let (group, kind) = key.rsplit_once('/').unwrap_or(("", &key));
            let scope = scope
                .as_str()
                .and_then(ResourceScope::parse)
                .expect("vendored scopes are Namespaced or Cluster");
            scopes.insert(group, kind, scope);
        }
        scopes
    });
    &SCOPES
}

fn catalog(version: &str) -> Option<&'static Catalog> {
    static CATALOGS: [OnceLock<Catalog>; VERSIONS.len()] =
        [const { OnceLock::new() }; VERSIONS.len()];
    let index = VERSIONS.iter().position(|v| *v == version)?;
    Some(CATALOGS[index].get_or_init(|| Catalog::index(text(version).expect("vendored version"))))
}

/// A kind's validator and the document it was built from: error schema paths
/// point into it.
struct Compiled {
    document: Json,
    validator: Validator,
}

type Key = (String, String);
type Cache = HashMap<Key, Arc<OnceLock<Arc<Compiled>>>>;

fn validator(version: &str, definition: &str) -> Arc<Compiled> {
    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));
    let cell = {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((version.to_string(), definition.to_string()))
            .or_default()
            .clone()
    };
    cell.get_or_init(|| {
        let catalog = catalog(version).expect("known version");
        // Only the definitions the kind reaches: compiling (which includes
        // checking the schema against the meta-schema) costs in proportion.
        let document = serde_json::json!({
            "$ref": format!("#/$defs/{definition}"),
            "$defs": catalog.reachable(definition),
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&document)
            .expect("vendored schema compiles");
        Arc::new(Compiled {
            document,
            validator,
        })
    })
    .clone()
}

/// Whether `api_version` belongs to an API group Kubernetes itself does not
/// serve, as the vendored schema of the version says: core (`v1`) and every
/// group with a kind there are Kubernetes'; any other group, `*.k8s.io` ones
/// included (the Gateway API is `gateway.networking.k8s.io`), is a custom
/// resource's.
fn is_custom_group(catalog: &Catalog, api_version: &str) -> bool {
    let Some((group, _)) = api_version.split_once('/') else {
        return false;
    };
    !catalog
        .kinds
        .keys()
        .any(|(a, _)| a.split_once('/').is_some_and(|(g, _)| g == group))
}

/// One reason an object is invalid.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    /// `spec.template.spec.containers[0].name`
    pub path: String,
    pub message: String,
    /// The path as steps, down to the unknown field when there is one: where
    /// the problem is best shown.
    pub steps: Vec<Step>,
}

impl Problem {
    fn at(path: &str, message: String) -> Problem {
        Problem {
            path: path.to_string(),
            message,
            steps: if path.is_empty() {
                Vec::new()
            } else {
                vec![Step::Key(path.to_string())]
            },
        }
    }
}

/// What an object was checked against, and the problems found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The name of the CRD the object was checked against; `None` for the
    /// schema of the Kubernetes version.
    pub crd: Option<String>,
    pub problems: Vec<Problem>,
}

/// An object's `apiVersion` and `kind` (empty when missing).
fn type_of(object: &Json) -> (&str, &str) {
    let field = |key| object.get(key).and_then(Json::as_str).unwrap_or_default();
    (field("apiVersion"), field("kind"))
}

/// Validates one object: against the strict schema of `version` when its
/// kind is built in, else against its CRD when `crds` has one for its group
/// and kind (else it passes, as `validate` says).
pub fn validate_with(version: &str, crds: &Crds, object: &Json) -> Verdict {
    let (api_version, kind) = type_of(object);
    // A built-in kind is Kubernetes' own, whatever a CRD would say.
    let built_in = catalog(version).is_some_and(|c| {
        c.kinds
            .contains_key(&(api_version.to_string(), kind.to_string()))
    });
    let Some(crd) = crds.get(api_version, kind).filter(|_| !built_in) else {
        return Verdict {
            crd: None,
            problems: validate(version, object),
        };
    };
    let problems = match crd.served(api_version) {
        Err(message) => vec![Problem::at("apiVersion", message)],
        Ok(compiled) => {
            let mut problems = problems(&compiled, object);
            problems.extend(metadata(version, object));
            problems
        }
    };
    Verdict {
        crd: Some(crd.name.clone()),
        problems,
    }
}

/// The `metadata` of a custom resource against the ObjectMeta of `version`,
/// as the API server checks it whatever the CRD says.
fn metadata(version: &str, object: &Json) -> Vec<Problem> {
    const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    let Some(meta) = object.get("metadata") else {
        return Vec::new();
    };
    if catalog(version).is_none() {
        return Vec::new();
    }
    let compiled = validator(version, OBJECT_META);
    problems(&compiled, meta)
        .into_iter()
        .map(|mut p| {
            p.path = match p.path.is_empty() {
                true => "metadata".to_string(),
                false => format!("metadata.{}", p.path),
            };
            p.steps.insert(0, Step::Key("metadata".into()));
            p
        })
        .collect()
}

/// Validates one object against the strict schema of `version`.
pub fn validate(version: &str, object: &Json) -> Vec<Problem> {
    let Some(catalog) = catalog(version) else {
        return vec![Problem::at(
            "",
            format!("no schemas for Kubernetes {version}"),
        )];
    };
    let (api_version, kind) = type_of(object);
    let Some(definition) = catalog
        .kinds
        .get(&(api_version.to_string(), kind.to_string()))
    else {
        let known: Vec<&str> = catalog
            .kinds
            .keys()
            .filter(|(_, k)| k == kind)
            .map(|(a, _)| a.as_str())
            .collect();
        if known.is_empty() && is_custom_group(catalog, api_version) {
            // A custom resource (Flux, Argo, cert-manager ...): its schema is
            // the cluster's CRD, which is not ours to know.
            return gateway_api::miscapitalized(api_version, kind)
                .map(|right| {
                    Problem::at(
                        "kind",
                        format!(
                            "`{kind}` is not a kind of `{api_version}`; kinds are case-sensitive: `{right}`"
                        ),
                    )
                })
                .into_iter()
                .collect();
        }
        let message = if known.is_empty() {
            format!("`{api_version}` `{kind}` is not a built-in kind of Kubernetes {version}")
        } else {
            format!(
                "`{kind}` is not served as `{api_version}` by Kubernetes {version}; use `{}`",
                known.join("` or `")
            )
        };
        return vec![Problem::at("apiVersion", message)];
    };
    problems(&validator(version, definition), object)
}

/// The problems of `object` against a compiled schema, unknown fields with
/// the closest declared name.
fn problems(compiled: &Compiled, object: &Json) -> Vec<Problem> {
    if compiled.validator.is_valid(object) {
        return Vec::new();
    }
    compiled
        .validator
        .iter_errors(object)
        .map(|e| {
            let path = dotted(e.instance_path());
            let mut steps = crate::schema::steps(e.instance_path());
            if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
                if let [one] = unexpected.as_slice() {
                    steps.push(Step::Key(one.clone()));
                }
            }
            let message = match e.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let parent = compiled
                        .document
                        .pointer(parent_of(e.schema_path().as_str()));
                    let known: Vec<&str> = parent
                        .and_then(|p| p.get("properties"))
                        .and_then(Json::as_object)
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    unexpected
                        .iter()
                        .map(|u| match did_you_mean(u, known.iter().copied()) {
                            Some(better) => {
                                format!("unknown field `{u}`; did you mean `{better}`?")
                            }
                            None => format!("unknown field `{u}`"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
                ValidationErrorKind::AnyOf { .. } if is_int_or_string(compiled, &e) => {
                    format!("{} is neither an integer nor a string", e.instance())
                }
                _ => e.to_string(),
            };
            Problem {
                path,
                message,
                steps,
            }
        })
        .collect()
}

/// Whether the `anyOf` an error comes from is a CRD's
/// `x-kubernetes-int-or-string` (see `crd.rs`).
fn is_int_or_string(compiled: &Compiled, e: &jsonschema::ValidationError<'_>) -> bool {
    compiled.document.pointer(e.schema_path().as_str())
        == Some(&serde_json::json!([{"type": "integer"}, {"type": "string"}]))
}

fn parent_of(pointer: &str) -> &str {
    // Error schema paths are relative to the wrapper: strip to the object
    // schema owning `additionalProperties`.
    pointer.rfind('/').map_or("", |i| &pointer[..i])
}

fn dotted(location: &jsonschema::paths::Location) -> String {
    let mut s = String::new();
    for segment in location {
        match segment {
            jsonschema::paths::LocationSegment::Property(p) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(&p);
            }
            jsonschema::paths::LocationSegment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Json {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "http"},
            "spec": {
                "selector": {"matchLabels": {"app": "http"}},
                "template": {
                    "metadata": {"labels": {"app": "http"}},
                    "spec": {"containers": [{"name": "http", "image": "nginx:1"}]}
                }
            }
        })
    }

    #[test]
    fn a_valid_deployment_passes_every_version() {
        for v in VERSIONS {
            assert_eq!(validate(v, &deployment()), vec![], "{v}");
        }
    }

    #[test]
    fn the_seed_typo_is_caught_in_rendered_output_with_a_suggestion() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] =
            json!({"httpGet": {"path": "/", "port": 81}, "periodSecods": 5});
        let problems = validate("1.35", &d);
        assert_eq!(
            problems,
            vec![Problem {
                path: "spec.template.spec.containers[0].readinessProbe".into(),
                message: "unknown field `periodSecods`; did you mean `periodSeconds`?".into(),
                steps: ["spec", "template", "spec", "containers"]
                    .map(|k| Step::Key(k.into()))
                    .into_iter()
                    .chain([
                        Step::Index(0),
                        Step::Key("readinessProbe".into()),
                        Step::Key("periodSecods".into())
                    ])
                    .collect(),
            }]
        );
    }

    #[test]
    fn retired_api_versions_are_named_with_the_current_one() {
        let mut d = deployment();
        d["apiVersion"] = json!("extensions/v1beta1");
        let problems = validate("1.35", &d);
        assert_eq!(
            problems[0].message,
            "`Deployment` is not served as `extensions/v1beta1` by Kubernetes 1.35; use `apps/v1`"
        );
    }

    #[test]
    fn custom_resources_pass_and_unknown_built_in_kinds_do_not() {
        let cr = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "db"}});
        assert_eq!(validate("1.35", &cr), vec![]);
        let typo =
            json!({"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}});
        assert_eq!(
            validate("1.35", &typo)[0].message,
            "`apps/v1` `Deploymnet` is not a built-in kind of Kubernetes 1.35"
        );
        let gone = json!({"apiVersion": "networking.k8s.io/v1beta1", "kind": "Foo"});
        assert_eq!(validate("1.35", &gone).len(), 1);
    }

    /// Every `*.k8s.io` group used to be taken for Kubernetes' own, so an
    /// HTTPRoute (Gateway API, a CRD) was refused as "not a built-in kind".
    #[test]
    fn groups_kubernetes_does_not_serve_are_custom_whatever_their_suffix() {
        let route = json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web"},
            "spec": {"parentRefs": [{"name": "edge"}]}
        });
        for version in VERSIONS {
            assert_eq!(validate(version, &route), vec![], "{version}");
        }
        let mut miscased = route.clone();
        miscased["kind"] = json!("HttpRoute");
        assert_eq!(
            validate("1.35", &miscased),
            vec![Problem::at(
                "kind",
                "`HttpRoute` is not a kind of `gateway.networking.k8s.io/v1`; kinds are case-sensitive: `HTTPRoute`".into()
            )]
        );
        let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"}, "spec": {"rulez": []}});
        assert_eq!(validate("1.35", &ingress).len(), 1);
    }

    /// Raw objects used to be namespaced unless their kind was in a list
    /// written by hand; the vendored scopes hold every one of those, and
    /// the cluster-scoped kinds the list missed.
    #[test]
    fn scopes_of_built_in_kinds_come_from_the_vendored_file() {
        let scopes = builtin_scopes();
        for (api_version, kind) in [
            ("v1", "Namespace"),
            ("v1", "PersistentVolume"),
            ("v1", "Node"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("scheduling.k8s.io/v1", "PriorityClass"),
            ("storage.k8s.io/v1", "StorageClass"),
            ("storage.k8s.io/v1", "CSIDriver"),
            ("storage.k8s.io/v1", "VolumeAttachment"),
            ("networking.k8s.io/v1", "IngressClass"),
            ("node.k8s.io/v1", "RuntimeClass"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingAdmissionPolicy",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingAdmissionPolicyBinding",
            ),
            ("apiregistration.k8s.io/v1", "APIService"),
        ] {
            assert_eq!(
                scopes.of(api_version, kind),
                Some(ResourceScope::Cluster),
                "{kind}"
            );
        }
        for (api_version, kind) in [
            ("apps/v1", "Deployment"),
            ("v1", "PersistentVolumeClaim"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("v1", "Event"),
            ("events.k8s.io/v1", "Event"),
        ] {
            assert_eq!(
                scopes.of(api_version, kind),
                Some(ResourceScope::Namespaced),
                "{kind}"
            );
        }
        // A kind is known by its group: a custom `ClusterRole` is not RBAC's.
        assert_eq!(scopes.of("example.com/v1", "ClusterRole"), None);
    }

    #[test]
    fn env_values_must_be_strings() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "C_FORCE_ROOT", "value": true}]);
        let problems = validate("1.35", &d);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].path,
            "spec.template.spec.containers[0].env[0].value"
        );
    }
}
