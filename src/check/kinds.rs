//! Keys that do not apply to the workload kind: a Service for a job, a
//! schedule for a deployment, a partition for anything but a statefulset, a
//! rollout strategy the kind does not have, a claim per pod without a
//! statefulset.
//!
//! Most keys are listed in [`RULES`]. A key that the environment's
//! `[defaults]` set is ignored where it does not apply, except for the
//! sections that only a long-running workload has.

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
    /// Whether a value from `[defaults]` is reported too.
    even_from_defaults: bool,
}

const RUNS_FOREVER: &str = "a deployment or statefulset";

/// A section that only a long-running workload has; reported wherever it
/// comes from.
const fn long_running(path: &'static [&'static str]) -> Rule {
    Rule {
        path,
        applies: WorkloadKind::has_replicas,
        allowed: RUNS_FOREVER,
        even_from_defaults: true,
    }
}

/// The keys that apply to some kinds only, in the order they are checked.
const RULES: &[Rule] = &[
    long_running(&["service"]),
    long_running(&["ingress"]),
    long_running(&["autoscale"]),
    long_running(&["disruption"]),
    long_running(&["tracks"]),
    long_running(&["extra_services"]),
    Rule {
        path: &["replicas"],
        applies: WorkloadKind::has_replicas,
        allowed: RUNS_FOREVER,
        even_from_defaults: false,
    },
    Rule {
        path: &["cron"],
        applies: |k| k == WorkloadKind::CronJob,
        allowed: "a cronjob",
        even_from_defaults: false,
    },
    Rule {
        path: &["job"],
        applies: |k| !k.has_replicas(),
        allowed: "a job or cronjob",
        even_from_defaults: false,
    },
    Rule {
        path: &["rollout", "partition"],
        applies: |k| k == WorkloadKind::StatefulSet,
        allowed: "a statefulset",
        even_from_defaults: false,
    },
    Rule {
        path: &["rollout", "pod_management"],
        applies: |k| k == WorkloadKind::StatefulSet,
        allowed: "a statefulset",
        even_from_defaults: false,
    },
    long_running(&["selector"]),
    Rule {
        path: &["headless_service"],
        applies: |k| k == WorkloadKind::StatefulSet,
        allowed: "a statefulset",
        even_from_defaults: false,
    },
    Rule {
        path: &["rollout", "max_surge"],
        applies: |k| k != WorkloadKind::StatefulSet,
        allowed: "a deployment (a statefulset replaces pods one ordinal at a time)",
        even_from_defaults: false,
    },
];

fn kind_name(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "deployment",
        WorkloadKind::StatefulSet => "statefulset",
        WorkloadKind::CronJob => "cronjob",
        WorkloadKind::Job => "job",
    }
}

/// `what` is set on a workload of `kind`, but is only for `allowed`.
fn not_for(kind: WorkloadKind, what: &str, allowed: &str) -> Diagnostic {
    Diagnostic::error(
        Code::WrongKind,
        format!("`{what}` does not apply to a {}", kind_name(kind)),
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
                || (!rule.even_from_defaults && self.is_default_layer(&path))
            {
                continue;
            }
            let d = not_for(kind, &rule.path.join("."), rule.allowed);
            self.report(&path, true, d);
        }
    }

    fn rollout_strategy(&mut self) {
        let kind = self.svc.kind;
        let strategies: &[&str] = match kind {
            WorkloadKind::Deployment => &["rolling", "recreate"],
            WorkloadKind::StatefulSet => &["rolling", "on-delete"],
            _ => &["rolling", "recreate", "on-delete"],
        };
        if let Some(s) = &self.svc.rollout.strategy {
            if !strategies.contains(&s.as_str()) {
                let d = Diagnostic::error(
                    Code::WrongKind,
                    format!(
                        "rollout strategy `{s}` does not apply to a {}",
                        kind_name(kind)
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
                self.out.push({
                    let node =
                        self.tree
                            .nearest(&[key("volumes"), Step::Index(i), key("persistent")]);
                    d.at(node.origin.file, node.span(true))
                });
            }
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
