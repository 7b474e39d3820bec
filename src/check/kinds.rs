//! Keys that do not apply to the workload kind, and the checks that depend
//! on the kind: a cronjob's schedule, the autoscaler, placement.

use super::cron::check_cron;
use super::{ServiceCheck, key};
use crate::diag::{Diagnostic, one_of};
use crate::input::tree::Step;
use crate::model::{self, WorkloadKind};

impl ServiceCheck<'_> {
    pub(super) fn kind_specific(&mut self) {
        let kind = self.svc.kind;
        let kind_name = match kind {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::CronJob => "cronjob",
            WorkloadKind::Job => "job",
        };
        let not_for = |what: &str, allowed: &str| {
            Diagnostic::error(
                "wrong-kind",
                format!("`{what}` does not apply to a {kind_name}"),
            )
            .hint(format!(
                "`{what}` is for {allowed}; remove it or change `kind`"
            ))
        };
        let runs_forever = kind.has_replicas();
        if !runs_forever {
            for what in [
                "service",
                "ingress",
                "autoscale",
                "disruption",
                "tracks",
                "extra_services",
            ] {
                if self.tree.get(what).is_some() {
                    self.report(
                        &[key(what)],
                        true,
                        not_for(what, "a deployment or statefulset"),
                    );
                }
            }
            if self.tree.get("replicas").is_some() && !self.is_default_layer(&[key("replicas")]) {
                self.report(
                    &[key("replicas")],
                    true,
                    not_for("replicas", "a deployment or statefulset"),
                );
            }
        }
        if kind != WorkloadKind::CronJob
            && self.tree.get("cron").is_some()
            && !self.is_default_layer(&[key("cron")])
        {
            self.report(&[key("cron")], true, not_for("cron", "a cronjob"));
        }
        if runs_forever && self.tree.get("job").is_some() && !self.is_default_layer(&[key("job")]) {
            self.report(&[key("job")], true, not_for("job", "a job or cronjob"));
        }
        let rollout = &self.svc.rollout;
        if kind != WorkloadKind::StatefulSet {
            for what in ["partition", "pod_management"] {
                let at = [key("rollout"), key(what)];
                if self.tree.at(&at).is_some() && !self.is_default_layer(&at) {
                    self.report(
                        &[key("rollout"), key(what)],
                        true,
                        not_for(&format!("rollout.{what}"), "a statefulset"),
                    );
                }
            }
        }
        if kind == WorkloadKind::StatefulSet
            && rollout.max_surge.is_some()
            && !self.is_default_layer(&[key("rollout"), key("max_surge")])
        {
            self.report(
                &[key("rollout"), key("max_surge")],
                true,
                not_for(
                    "rollout.max_surge",
                    "a deployment (a statefulset replaces pods one ordinal at a time)",
                ),
            );
        }
        let strategies: &[&str] = match kind {
            WorkloadKind::Deployment => &["rolling", "recreate"],
            WorkloadKind::StatefulSet => &["rolling", "on-delete"],
            _ => &["rolling", "recreate", "on-delete"],
        };
        if let Some(s) = &rollout.strategy {
            if !strategies.contains(&s.as_str()) {
                let d = Diagnostic::error(
                    "wrong-kind",
                    format!("rollout strategy `{s}` does not apply to a {kind_name}"),
                )
                .hint(format!("use {}", one_of(strategies)));
                self.report(&[key("rollout"), key("strategy")], false, d);
            }
        }
        if kind == WorkloadKind::CronJob {
            match &self.svc.cron.schedule {
                None => {
                    let d = Diagnostic::error("missing-key", "a cronjob needs `cron.schedule`")
                        .hint("add `[cron]` with `schedule = \"0 0 * * *\"`");
                    self.report(&[key("kind")], false, d);
                }
                Some(s) => {
                    if let Err(e) = check_cron(s) {
                        let d = Diagnostic::error("invalid-value", format!("invalid cron schedule `{s}`: {e}"))
                            .hint("write five fields: minute hour day-of-month month day-of-week, e.g. `0 0 * * *`, or a macro like `@daily`");
                        self.report(&[key("cron"), key("schedule")], false, d);
                    }
                }
            }
        }
        for (i, v) in self.svc.volumes.iter().enumerate() {
            if v.persistent.is_some() && kind != WorkloadKind::StatefulSet {
                let d = not_for("persistent", "a statefulset")
                    .hint("a claim per pod needs a statefulset; for a shared claim use `claim = \"<pvc name>\"`");
                self.out.push({
                    let node =
                        self.tree
                            .nearest(&[key("volumes"), Step::Index(i), key("persistent")]);
                    d.at(node.origin.file, node.span(true))
                });
            }
        }
        if let Some(a) = &self.svc.autoscale {
            if a.min.unwrap_or(1) > a.max {
                let d = Diagnostic::error(
                    "invalid-value",
                    format!(
                        "`autoscale.min` ({}) is above `autoscale.max` ({})",
                        a.min.unwrap_or(1),
                        a.max
                    ),
                )
                .hint("make `min` at most `max`");
                self.report(&[key("autoscale"), key("min")], false, d);
            }
            let requests =
                |r: &Option<model::Resource>| r.as_ref().and_then(|r| r.request()).is_some();
            if a.cpu.is_some() && !requests(&self.svc.resources.cpu) {
                let d = Diagnostic::error("missing-key", "autoscaling on cpu needs a cpu request")
                    .hint("set `resources.cpu`: utilization is measured against the request");
                self.report(&[key("autoscale"), key("cpu")], true, d);
            }
            if a.memory.is_some() && !requests(&self.svc.resources.memory) {
                let d = Diagnostic::error(
                    "missing-key",
                    "autoscaling on memory needs a memory request",
                )
                .hint("set `resources.memory`: utilization is measured against the request");
                self.report(&[key("autoscale"), key("memory")], true, d);
            }
        }
        if self.svc.placement.group_affinity && self.svc.group.is_none() {
            let d = Diagnostic::error("missing-key", "`placement.group_affinity` needs a `group`")
                .hint("set `group = \"...\"`: pods are placed on nodes labelled `group=<group>`");
            self.report(&[key("placement"), key("group_affinity")], true, d);
        }
    }

    /// Whether the node at `path` was written by the environment's
    /// `[defaults]`: defaults may set keys that only some kinds use, and
    /// those are ignored where they do not apply.
    fn is_default_layer(&self, path: &[Step]) -> bool {
        let node = self.tree.nearest(path);
        node.origin.file != self.file && Some(node.origin.file) != self.overlay
    }
}
