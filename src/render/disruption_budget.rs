//! The PodDisruptionBudget of `[disruption]`: how many of the main track's
//! pods must stay up, or may be down, during voluntary disruptions.
//!
//! Pods of extra tracks are not covered.

use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{Object, Scope, int_or_string};
use crate::model::{self, STABLE};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    // A daemonset's pods are not evicted by drains; `[defaults]` may still
    // set a budget.
    if let Some(pdb) = scope
        .svc
        .disruption
        .as_ref()
        .filter(|_| scope.svc.kind.has_replicas())
    {
        out.push(scope.disruption_budget(pdb));
    }
}

impl Scope<'_> {
    fn disruption_budget(&self, d: &model::Disruption) -> Object {
        let p = policy::PodDisruptionBudget {
            metadata: self.meta(self.cx.name),
            spec: Some(policy::PodDisruptionBudgetSpec {
                min_available: d.min_available.as_ref().map(int_or_string),
                max_unavailable: d.max_unavailable.as_ref().map(int_or_string),
                selector: Some(LabelSelector {
                    match_labels: Some(self.selector(STABLE)),
                    ..Default::default()
                }),
                unhealthy_pod_eviction_policy: None,
            }),
            status: None,
        };
        Object::new(&p, self.cx.name, self.ns())
    }
}
