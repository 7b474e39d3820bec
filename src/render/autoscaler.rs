//! The HorizontalPodAutoscaler of `[autoscale]`: scales the main track's
//! Deployment or StatefulSet on CPU and memory utilization.
//!
//! Extra tracks are not autoscaled, and the workload it scales (whose replica
//! count it then owns) is rendered in `workload.rs`.

use k8s_openapi::api::autoscaling::v2 as autoscaling;

use super::{Object, Scope, non_empty_vec};
use crate::model::{self, WorkloadKind};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    // A daemonset has no count to scale; `[defaults]` may still set one.
    if let Some(hpa) = scope
        .svc
        .autoscale
        .as_ref()
        .filter(|_| scope.svc.kind.has_replicas())
    {
        out.push(scope.autoscaler(hpa));
    }
}

impl Scope<'_> {
    fn autoscaler(&self, a: &model::Autoscale) -> Object {
        let kind = match self.svc.kind {
            WorkloadKind::StatefulSet => "StatefulSet",
            _ => "Deployment",
        };
        let mut metrics = Vec::new();
        if let Some(cpu) = a.cpu {
            metrics.push(utilization("cpu", cpu));
        }
        if let Some(memory) = a.memory {
            metrics.push(utilization("memory", memory));
        }
        let h = autoscaling::HorizontalPodAutoscaler {
            metadata: self.meta(self.cx.name),
            spec: autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: kind.into(),
                    name: self.cx.name.into(),
                },
                min_replicas: Some(a.min.unwrap_or(1)),
                max_replicas: a.max,
                metrics: non_empty_vec(metrics),
                behavior: None,
            },
            status: None,
        };
        Object::new(&h, self.cx.name, self.ns())
    }
}

/// A target average utilization of `resource`, in percent.
fn utilization(resource: &str, target: i32) -> autoscaling::MetricSpec {
    autoscaling::MetricSpec {
        type_: "Resource".into(),
        resource: Some(autoscaling::ResourceMetricSource {
            name: resource.into(),
            target: autoscaling::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(target),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}
