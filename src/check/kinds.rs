//! Keys that do not apply to the workload kind: a Service for a job, a
//! schedule for a deployment, a partition for anything but a statefulset, a
//! replica count or an autoscaler for a daemonset, a rollout strategy the
//! kind does not have, a claim per pod without a statefulset.
//!
//! Most keys are listed in [`RULES`]. A key that the environment's
//! `[defaults]` set is ignored where it does not apply, except for the
//! sections that only a long-running workload has, which are reported on a
//! job or cronjob wherever they come from (and `tracks`, on a daemonset too).

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic, one_of};
use crate::input::tree::Step;
use crate::model::WorkloadKind;

/// A key and the kinds it applies to.
struct Rule {
    /// The key, as a path of table keys.
    path: &'static [&'static str],
    applies: fn(WorkloadKind) -> bool,
    /// The kinds it is for, as the hint names them.
    allowed: &'static str,
    /// The kinds for which a value from `[defaults]` is reported too.
    from_defaults: fn(WorkloadKind) -> bool,
    /// The hint for a daemonset, when it needs its own reason.
    daemonset: Option<&'static str>,
}

const RUNS_FOREVER: &str = "a deployment, statefulset or daemonset";
const HAS_REPLICAS: &str = "a deployment or statefulset";

fn never(_: WorkloadKind) -> bool {
    false
}

fn always(_: WorkloadKind) -> bool {
    true
}

/// A section that only a long-running workload has; reported on a job or
/// cronjob wherever it comes from.
const fn long_running(path: &'static [&'static str]) -> Rule {
    Rule {
        path,
        applies: WorkloadKind::runs_forever,
        allowed: RUNS_FOREVER,
        from_defaults: always,
        daemonset: None,
    }
}

/// A key about how many pods or workloads run: not for a daemonset, which
/// runs one pod per node (`daemonset` says so in the hint). `from_defaults`
/// names the kinds on which a value from `[defaults]` is reported too.
const fn counted(
    path: &'static [&'static str],
    from_defaults: fn(WorkloadKind) -> bool,
    daemonset: &'static str,
) -> Rule {
    Rule {
        path,
        applies: WorkloadKind::has_replicas,
        allowed: HAS_REPLICAS,
        from_defaults,
        daemonset: Some(daemonset),
    }
}

/// A key for some kinds only, ignored where it does not apply when
/// `[defaults]` set it.
const fn only(
    path: &'static [&'static str],
    applies: fn(WorkloadKind) -> bool,
    allowed: &'static str,
) -> Rule {
    Rule {
        path,
        applies,
        allowed,
        from_defaults: never,
        daemonset: None,
    }
}

/// The keys that apply to some kinds only, in the order they are checked.
const RULES: &[Rule] = &[
    long_running(&["service"]),
    long_running(&["ingress"]),
    long_running(&["route"]),
    counted(
        &["autoscale"],
        WorkloadKind::runs_to_completion,
        "a daemonset runs one pod on every node its `placement` allows, a count no autoscaler changes; remove `[autoscale]`",
    ),
    counted(
        &["disruption"],
        WorkloadKind::runs_to_completion,
        "`kubectl drain` skips a daemonset's pods and its rolling update reads no PodDisruptionBudget; remove `[disruption]`, and limit the pods an update takes down with `rollout.max_unavailable`",
    ),
    counted(
        &["tracks"],
        always,
        "a track is a second DaemonSet, so every node would run a pod of each; remove `tracks`, and roll a new `version` out with `rollout` (`max_unavailable`, or `strategy = \"on-delete\"`)",
    ),
    long_running(&["extra_services"]),
    counted(
        &["replicas"],
        never,
        "a daemonset runs one pod on every node its `placement` allows; remove `replicas`, and choose the nodes with `placement`",
    ),
    only(&["cron"], |k| k == WorkloadKind::CronJob, "a cronjob"),
    only(
        &["job"],
        WorkloadKind::runs_to_completion,
        "a job or cronjob",
    ),
    only(
        &["rollout", "partition"],
        |k| k == WorkloadKind::StatefulSet,
        "a statefulset",
    ),
    only(
        &["rollout", "pod_management"],
        |k| k == WorkloadKind::StatefulSet,
        "a statefulset",
    ),
    only(
        &["rollout", "max_surge"],
        |k| k != WorkloadKind::StatefulSet,
        "a deployment or daemonset (a statefulset replaces pods one ordinal at a time)",
    ),
    only(
        &["rollout", "progress_deadline"],
        |k| !matches!(k, WorkloadKind::StatefulSet | WorkloadKind::DaemonSet),
        "a deployment (a statefulset or daemonset has no progress deadline)",
    ),
    long_running(&["selector"]),
    long_running(&["pod_labels"]),
    only(
        &["headless_service"],
        |k| k == WorkloadKind::StatefulSet,
        "a statefulset",
    ),
];

/// `what` is set on a workload of `kind`, but is only for `allowed`.
fn not_for(kind: WorkloadKind, what: &str, allowed: &str) -> Diagnostic {
    Diagnostic::error(
        Code::WrongKind,
        format!("`{what}` does not apply to a {}", kind.as_str()),
    )
    .hint(format!(
        "`{what}` is for {allowed}; remove it or change `kind`"
    ))
}

impl ServiceCheck<'_> {
    pub(super) fn kinds(&mut self) {
        self.keys_for_other_kinds();
        self.rollout_strategy();
        self.persistent_volumes();
    }

    fn keys_for_other_kinds(&mut self) {
        let kind = self.svc.kind;
        for rule in RULES {
            if (rule.applies)(kind) {
                continue;
            }
            let path: Vec<Step> = rule.path.iter().map(|k| key(k)).collect();
            if self.tree.at(&path).is_none()
                || (!(rule.from_defaults)(kind) && self.is_default_layer(&path))
            {
                continue;
            }
            let what = rule.path.join(".");
            let d = match rule.daemonset {
                Some(why) if kind == WorkloadKind::DaemonSet => not_for(kind, &what, rule.allowed)
                    .hint(format!("`{what}` is for {}: {why}", rule.allowed)),
                _ => not_for(kind, &what, rule.allowed),
            };
            self.report(&path, true, d);
        }
    }

    fn rollout_strategy(&mut self) {
        let kind = self.svc.kind;
        let strategies: &[&str] = match kind {
            WorkloadKind::Deployment => &["rolling", "recreate"],
            WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => &["rolling", "on-delete"],
            _ => &["rolling", "recreate", "on-delete"],
        };
        if let Some(s) = &self.svc.rollout.strategy {
            if !strategies.contains(&s.as_str()) {
                let d = Diagnostic::error(
                    Code::WrongKind,
                    format!(
                        "rollout strategy `{s}` does not apply to a {}",
                        kind.as_str()
                    ),
                )
                .hint(format!("use {}", one_of(strategies)));
                self.report(&[key("rollout"), key("strategy")], false, d);
            }
        }
    }

    /// A claim per pod (`persistent`) needs a statefulset.
    fn persistent_volumes(&mut self) {
        let kind = self.svc.kind;
        for (i, v) in self.svc.volumes.iter().enumerate() {
            if v.persistent.is_some() && kind != WorkloadKind::StatefulSet {
                let d = not_for(kind, "persistent", "a statefulset")
                    .hint("a claim per pod needs a statefulset; for a shared claim use `claim = \"<pvc name>\"`");
                self.report(
                    &[key("volumes"), Step::Index(i), key("persistent")],
                    true,
                    d,
                );
            }
        }
    }

    /// Whether the node at `path` was written by the environment's
    /// `[defaults]`: defaults may set keys that only some kinds use, and
    /// those are ignored where they do not apply.
    fn is_default_layer(&self, path: &[Step]) -> bool {
        let node = self.tree.nearest(path);
        node.origin.file != self.layers.service && Some(node.origin.file) != self.layers.overlay
    }
}
