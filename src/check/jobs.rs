//! A job published to a GitOps branch: `job.ttl_after_finished` deletes
//! the finished Job, but the Job is still on the branch, so Flux (at its
//! next reconciliation) and Argo CD (self-healing, or at its next sync)
//! create it again, and it runs again, once per TTL. A warning, since the
//! output may also be applied by other means; an Argo CD hook
//! (`argocd.argoproj.io/hook`), which Argo CD does not track, is exempt.
//!
//! The Jobs of a cronjob are made by the CronJob, not published: a TTL on
//! them is what it says.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::model::WorkloadKind;

/// The annotation that makes an object an Argo CD resource hook.
const ARGO_HOOK: &str = "argocd.argoproj.io/hook";

impl ServiceCheck<'_> {
    pub(super) fn jobs(&mut self) {
        let svc = self.svc;
        if svc.kind != WorkloadKind::Job || svc.job.ttl_after_finished.is_none() {
            return;
        }
        let hook = svc.annotations.contains_key(ARGO_HOOK)
            || svc.workload_annotations.contains_key(ARGO_HOOK);
        if hook {
            return;
        }
        let d = Diagnostic::warning(
            Code::JobTtl,
            "a Job deleted after `ttl_after_finished` is created again by Flux or Argo CD, and runs again",
        )
        .hint("remove `ttl_after_finished`: a changed job gets a new name, and pruning deletes the old Job");
        self.report(&[key("job"), key("ttl_after_finished")], true, d);
    }
}
