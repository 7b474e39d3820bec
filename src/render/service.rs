//! The Services: `[service]` for the serving track and one per canary track
//! that takes traffic, the `[extra_services]`, and a StatefulSet's governing
//! headless Service.
//!
//! Ingresses in front of them are in `ingress.rs`; the ports they forward to
//! are the container ports of `container.rs`.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;

use super::{Object, Scope, non_empty};
use crate::model::{self, STABLE, WorkloadKind};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    let svc = scope.svc;
    let name = scope.cx.name;
    let serve = svc.serve.as_deref().unwrap_or(STABLE);
    if svc.kind == WorkloadKind::StatefulSet && svc.headless_service.is_none() {
        out.push(scope.headless_service());
    }
    if let Some(spec) = &svc.service {
        out.push(scope.service(name, spec, serve));
        for track in svc.tracks.iter().filter(|t| t.takes_canary_traffic()) {
            out.push(scope.service(&format!("{name}-{}", track.name), spec, &track.name));
        }
    }
    for (suffix, spec) in &svc.extra_services {
        out.push(scope.service(&format!("{name}-{suffix}"), spec, serve));
    }
}

impl Scope<'_> {
    /// The Service `name`, selecting the pods of `track`.
    fn service(&self, name: &str, spec: &model::ServiceSpec, track: &str) -> Object {
        let headless = spec.kind.as_deref() == Some("Headless");
        let mut meta = self.meta(name);
        if !spec.labels.is_empty() {
            let mut labels = self.labels.clone();
            labels.extend(spec.labels.clone());
            meta.labels = Some(labels);
        }
        let mut annotations = self.annotations.clone();
        annotations.extend(spec.annotations.clone());
        meta.annotations = non_empty(annotations);
        let s = core::Service {
            metadata: meta,
            spec: Some(core::ServiceSpec {
                type_: Some(if headless {
                    "ClusterIP".into()
                } else {
                    spec.kind.clone().unwrap_or_else(|| "ClusterIP".into())
                }),
                cluster_ip: headless.then(|| "None".to_string()),
                selector: Some(self.selector(track)),
                ports: Some(self.service_ports(spec)),
                session_affinity: spec.session_affinity.clone(),
                external_traffic_policy: spec.external_traffic_policy.clone(),
                load_balancer_class: spec.load_balancer_class.clone(),
                load_balancer_source_ranges: spec.source_ranges.clone(),
                ..Default::default()
            }),
            status: None,
        };
        Object::new(&s, name, self.ns())
    }

    /// The Service's ports: the listed ones, or every named port of the
    /// main container (the checks refuse an unnamed one there, but in the
    /// headless Service of a statefulset, which lists the named ones).
    pub(super) fn service_ports(&self, spec: &model::ServiceSpec) -> Vec<core::ServicePort> {
        let listed: Vec<model::ServicePort> = if spec.ports.is_empty() {
            self.svc
                .ports
                .iter()
                .filter_map(|p| p.name.clone())
                .map(|name| model::ServicePort {
                    name,
                    port: None,
                    target_port: None,
                    node_port: None,
                })
                .collect()
        } else {
            spec.ports.clone()
        };
        listed
            .iter()
            .map(|sp| {
                let target = match &sp.target_port {
                    Some(model::PortRef::Number(n)) => IntOrString::Int(*n),
                    Some(model::PortRef::Name(name)) => IntOrString::String(name.clone()),
                    None => IntOrString::String(sp.name.clone()),
                };
                let container = self.all_ports().find(|p| match &target {
                    IntOrString::String(name) => p.name.as_ref() == Some(name),
                    IntOrString::Int(n) => p.port == Some(*n),
                });
                core::ServicePort {
                    name: Some(sp.name.clone()),
                    port: sp
                        .port
                        .or(container.and_then(|c| c.port))
                        .unwrap_or_default(),
                    target_port: Some(target),
                    node_port: sp.node_port,
                    protocol: Some(
                        container
                            .and_then(|c| c.protocol.clone())
                            .unwrap_or_else(|| "TCP".into()),
                    ),
                    ..Default::default()
                }
            })
            .collect()
    }

    /// The name of the StatefulSet's governing Service.
    pub(super) fn headless_service_name(&self) -> String {
        format!("{}-headless", self.cx.name)
    }

    fn headless_service(&self) -> Object {
        let name = self.headless_service_name();
        let spec = model::ServiceSpec {
            kind: Some("Headless".into()),
            ..Default::default()
        };
        let mut object = self.service(&name, &spec, STABLE);
        // The governing Service names every track's pods.
        object.value["spec"]["selector"] = serde_json::json!({ "app": self.cx.name });
        object.value["spec"]["publishNotReadyAddresses"] = Json::Bool(true);
        object
    }
}
