//! The DaemonSet of `kind = "daemonset"`: one pod on every node its
//! `placement` allows (node agents, log shippers), replaced node by node as
//! `[rollout]` says: `rolling` with `max_unavailable` and `max_surge`, or
//! `on-delete`.
//!
//! It has no replica count, autoscaler, disruption budget or tracks (the
//! checks refuse them); its pod template is the one every workload gets,
//! built in `workload.rs` and `pod.rs`.

use k8s_openapi::api::apps::v1 as apps;

use super::workload::Parts;
use super::{Scope, int_or_string, secs32};

impl Scope<'_> {
    pub(super) fn daemon_set(&self, parts: Parts) -> apps::DaemonSet {
        let rollout = &self.svc.rollout;
        apps::DaemonSet {
            metadata: parts.meta,
            spec: apps::DaemonSetSpec {
                selector: parts.selector,
                template: parts.template,
                update_strategy: self.daemon_set_strategy(),
                min_ready_seconds: rollout.min_ready.as_deref().map(secs32),
                revision_history_limit: rollout.history,
            },
            status: None,
        }
    }

    /// The update strategy `[rollout]` asks for; `None` when it sets none
    /// of `strategy`, `max_surge` and `max_unavailable` (the API server's
    /// default is a rolling update, one node at a time).
    fn daemon_set_strategy(&self) -> Option<apps::DaemonSetUpdateStrategy> {
        let rollout = &self.svc.rollout;
        let rolling = rollout.max_surge.is_some() || rollout.max_unavailable.is_some();
        match rollout.strategy.as_deref() {
            None if !rolling => None,
            Some("on-delete") => Some(apps::DaemonSetUpdateStrategy {
                type_: Some("OnDelete".into()),
                rolling_update: None,
            }),
            _ => Some(apps::DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: rolling.then(|| apps::RollingUpdateDaemonSet {
                    max_surge: rollout.max_surge.as_ref().map(int_or_string),
                    max_unavailable: rollout.max_unavailable.as_ref().map(int_or_string),
                }),
            }),
        }
    }
}
