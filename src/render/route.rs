//! The HTTPRoute (Gateway API, `gateway.networking.k8s.io/v1`) of a
//! service with `[route]` and `[service]`: its parent is the route's or the
//! environment's Gateway, and its rules send the hosts and paths to the
//! Service `<name>` (which selects the track named by `serve`).
//!
//! Tracks that take canary traffic are backends of the same route, not
//! objects of their own: a `header` track gets a rule of its own, placed
//! before the default one, matching the header on every path; `weight`
//! tracks share the default rule with the Service `<name>`, which gets what
//! the tracks leave of 100. Cookie tracks have no Gateway API equivalent and
//! are refused by `check`. The per-track Services `<name>-<track>` the
//! backends name are rendered by `service.rs`. The Gateway is only referred
//! to, never rendered.
//!
//! The Gateway API is a custom resource, outside `k8s-openapi`: the types
//! below are the subset of the HTTPRoute that manifold writes, checked in the
//! tests against the vendored CRD (`schemas/gateway-api/`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::{Object, Scope, non_empty};
use crate::model;

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    let svc = scope.svc;
    let (Some(route), Some(spec)) = (&svc.route, &svc.service) else {
        return;
    };
    // Without a Gateway `check` has reported the route.
    if let Some(gateway) = route.gateway.as_ref().or(scope.cx.env.gateway.as_ref()) {
        out.push(scope.http_route(route, spec, gateway));
    }
}

/// `gateway.networking.k8s.io/v1` `HTTPRoute`, as far as manifold writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRoute {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: HttpRouteSpec,
}

impl k8s_openapi::Resource for HttpRoute {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const GROUP: &'static str = "gateway.networking.k8s.io";
    const KIND: &'static str = "HTTPRoute";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "httproutes";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRouteSpec {
    parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hostnames: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentRef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    matches: Vec<Match>,
    backend_refs: Vec<BackendRef>,
}

#[derive(Serialize)]
struct Match {
    path: PathMatch,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    headers: Vec<HeaderMatch>,
}

#[derive(Serialize)]
struct PathMatch {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

#[derive(Clone, Serialize)]
struct HeaderMatch {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

/// One of the service's Services, and its port by number.
#[derive(Serialize)]
struct BackendRef {
    name: String,
    port: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<i32>,
}

/// What a track's `header` matches when it has no `header_value`, as with
/// ingress-nginx's canary by header.
const HEADER_ALWAYS: &str = "always";

impl Scope<'_> {
    fn http_route(
        &self,
        route: &model::Route,
        spec: &model::ServiceSpec,
        gateway: &model::Gateway,
    ) -> Object {
        let name = self.cx.name;
        let ports = self.service_ports(spec);
        let port = route
            .port
            .as_ref()
            .and_then(|p| ports.iter().find(|sp| sp.name.as_ref() == Some(p)))
            .or(ports.first())
            .map_or(0, |p| p.port);
        let mut annotations = self.annotations.clone();
        annotations.extend(route.annotations.clone());
        let mut metadata = self.meta(name);
        metadata.annotations = non_empty(annotations);
        let r = HttpRoute {
            api_version: <HttpRoute as k8s_openapi::Resource>::API_VERSION,
            kind: <HttpRoute as k8s_openapi::Resource>::KIND,
            metadata,
            spec: HttpRouteSpec {
                parent_refs: vec![ParentRef {
                    name: gateway.name.clone(),
                    namespace: gateway.namespace.clone(),
                    section_name: gateway.section.clone(),
                }],
                hostnames: route.all_hosts().into_iter().map(String::from).collect(),
                rules: self.route_rules(route, port),
            },
        };
        Object::new(&r, name, self.ns())
    }

    /// A rule for each track routed by `header`, then the default rule: the
    /// Service `<name>` and the tracks routed by `weight`, weighted.
    fn route_rules(&self, route: &model::Route, port: i32) -> Vec<Rule> {
        let name = self.cx.name;
        let paths = route.paths.clone().unwrap_or_else(|| vec!["/".into()]);
        let path_type = route.path_type.as_deref().unwrap_or("PathPrefix");
        let matches = |header: Option<&HeaderMatch>| {
            paths
                .iter()
                .map(|p| Match {
                    path: PathMatch {
                        kind: path_type.to_string(),
                        value: p.clone(),
                    },
                    headers: header.into_iter().cloned().collect(),
                })
                .collect()
        };
        let backend = |name: String, weight: Option<i32>| BackendRef { name, port, weight };
        let canaries = self.svc.tracks.iter().filter(|t| t.takes_canary_traffic());
        let mut rules = Vec::new();
        for t in canaries.clone() {
            if let Some(header) = &t.header {
                let header = HeaderMatch {
                    name: header.clone(),
                    kind: "Exact",
                    value: t.header_value.clone().unwrap_or(HEADER_ALWAYS.into()),
                };
                rules.push(Rule {
                    matches: matches(Some(&header)),
                    backend_refs: vec![backend(format!("{name}-{}", t.name), None)],
                });
            }
        }
        let weighted: Vec<(&model::Track, i32)> =
            canaries.filter_map(|t| Some((t, t.weight?))).collect();
        let mut backends = Vec::new();
        if weighted.is_empty() {
            backends.push(backend(name.into(), None));
        } else {
            // `check` refuses weights that add up to more than 100.
            let rest = 100 - weighted.iter().map(|(_, w)| w).sum::<i32>();
            backends.push(backend(name.into(), Some(rest.max(0))));
            for (t, w) in weighted {
                backends.push(backend(format!("{name}-{}", t.name), Some(w)));
            }
        }
        rules.push(Rule {
            matches: matches(None),
            backend_refs: backends,
        });
        rules
    }
}
