//! The autoscaler: `min` at most `max`, and a request for each resource it
//! scales on, since utilization is measured against the request.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::model;

impl ServiceCheck<'_> {
    pub(super) fn autoscale(&mut self) {
        // On other kinds it does not apply (see `kinds`).
        let Some(a) = self
            .svc
            .autoscale
            .as_ref()
            .filter(|_| self.svc.kind.has_replicas())
        else {
            return;
        };
        if a.min.unwrap_or(1) > a.max {
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "`autoscale.min` ({}) is above `autoscale.max` ({})",
                    a.min.unwrap_or(1),
                    a.max
                ),
            )
            .hint("make `min` at most `max`");
            self.report(&[key("autoscale"), key("min")], false, d);
        }
        let requests = |r: &Option<model::Resource>| r.as_ref().and_then(|r| r.request()).is_some();
        if a.cpu.is_some() && !requests(&self.svc.resources.cpu) {
            let d = Diagnostic::error(Code::MissingKey, "autoscaling on cpu needs a cpu request")
                .hint("set `resources.cpu`: utilization is measured against the request");
            self.report(&[key("autoscale"), key("cpu")], true, d);
        }
        if a.memory.is_some() && !requests(&self.svc.resources.memory) {
            let d = Diagnostic::error(
                Code::MissingKey,
                "autoscaling on memory needs a memory request",
            )
            .hint("set `resources.memory`: utilization is measured against the request");
            self.report(&[key("autoscale"), key("memory")], true, d);
        }
    }
}
