//! The Ingresses: one for the `[ingress]` of a service with a `[service]`,
//! and one per canary track that takes traffic, marked as an ingress-nginx
//! canary (by weight, header or cookie).
//!
//! The Services they route to are in `service.rs`. Ingress classes and TLS
//! secrets are only referred to, not rendered.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1 as networking;

use super::{Object, Scope, non_empty};
use crate::model;

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    let svc = scope.svc;
    let name = scope.cx.name;
    if let (Some(ingress), Some(spec)) = (&svc.ingress, &svc.service) {
        out.push(scope.ingress(name, name, ingress, spec, None));
        for track in svc.tracks.iter().filter(|t| t.takes_canary_traffic()) {
            let name = format!("{name}-{}", track.name);
            out.push(scope.ingress(&name, &name, ingress, spec, Some(track)));
        }
    }
}

impl Scope<'_> {
    /// The Ingress `name` to the Service `service`; a canary one for `track`.
    fn ingress(
        &self,
        name: &str,
        service: &str,
        ing: &model::Ingress,
        spec: &model::ServiceSpec,
        track: Option<&model::Track>,
    ) -> Object {
        let ports = self.service_ports(spec);
        let port_name = ing
            .port
            .clone()
            .or_else(|| ports.first().and_then(|p| p.name.clone()))
            .unwrap_or_default();
        let hosts = ing.all_hosts();
        let rules = hosts
            .iter()
            .map(|host| rule(ing, host, service, &port_name))
            .collect();
        let mut annotations = self.annotations.clone();
        annotations.extend(ing.annotations.clone());
        if let Some(t) = track {
            annotations.extend(canary_annotations(t));
        }
        let mut meta = self.meta(name);
        meta.annotations = non_empty(annotations);
        let i = networking::Ingress {
            metadata: meta,
            spec: Some(networking::IngressSpec {
                ingress_class_name: ing.class.clone(),
                rules: Some(rules),
                tls: ing.tls.as_ref().map(|secret| {
                    vec![networking::IngressTLS {
                        hosts: Some(hosts.iter().map(|h| h.to_string()).collect()),
                        secret_name: Some(secret.clone()),
                    }]
                }),
                default_backend: None,
            }),
            status: None,
        };
        Object::new(&i, name, self.ns())
    }
}

/// The rule for one host: each of the paths to the Service's port.
fn rule(
    ing: &model::Ingress,
    host: &str,
    service: &str,
    port_name: &str,
) -> networking::IngressRule {
    let paths = ing.paths.clone().unwrap_or_else(|| vec!["/".into()]);
    let path_type = ing.path_type.clone().unwrap_or_else(|| "Prefix".into());
    networking::IngressRule {
        host: Some(host.to_string()),
        http: Some(networking::HTTPIngressRuleValue {
            paths: paths
                .iter()
                .map(|path| networking::HTTPIngressPath {
                    path: Some(path.clone()),
                    path_type: path_type.clone(),
                    backend: networking::IngressBackend {
                        service: Some(networking::IngressServiceBackend {
                            name: service.to_string(),
                            port: Some(networking::ServiceBackendPort {
                                name: Some(port_name.to_string()),
                                number: None,
                            }),
                        }),
                        resource: None,
                    },
                })
                .collect(),
        }),
    }
}

/// The ingress-nginx annotations that make an Ingress the canary of a track.
fn canary_annotations(t: &model::Track) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    annotations.insert("nginx.ingress.kubernetes.io/canary".into(), "true".into());
    if let Some(w) = t.weight {
        annotations.insert(
            "nginx.ingress.kubernetes.io/canary-weight".into(),
            w.to_string(),
        );
    }
    if let Some(h) = &t.header {
        annotations.insert(
            "nginx.ingress.kubernetes.io/canary-by-header".into(),
            h.clone(),
        );
        if let Some(v) = &t.header_value {
            annotations.insert(
                "nginx.ingress.kubernetes.io/canary-by-header-value".into(),
                v.clone(),
            );
        }
    }
    if let Some(c) = &t.cookie {
        annotations.insert(
            "nginx.ingress.kubernetes.io/canary-by-cookie".into(),
            c.clone(),
        );
    }
    annotations
}
