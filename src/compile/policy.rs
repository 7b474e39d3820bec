//! Policies: the severity an environment's `[policy]` gives each policy
//! check, the `[[exceptions]]` of a service that waive them, and the
//! problems of those exceptions themselves (an expiry date that is past
//! or less than two weeks away; the schema refuses ids that are no policy
//! check, with the closest one).
//!
//! The policy checks are diagnostic codes like any other
//! (`Code::POLICIES`); what finds them is elsewhere: the security profile in
//! `check`, the rest on the rendered objects in `rendered.rs`. This file
//! only settles what each finding becomes in one environment, and where an
//! input key is shown when a rendered object has no line of its own.

use crate::check::overridden;
use crate::diag::{Code, Diagnostic, Severity};
use crate::input::merge::Layers;
use crate::input::tree::{Node, Step, Value};
use crate::model::{Date, Environment, Level, Service};
use crate::render::Object;

use super::pair::written_depth;

/// How many days before its expiry an exception is reported as ending.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// What the policies of one (environment, service) pair read.
pub(super) struct Policy<'a> {
    pub(super) svc: &'a Service,
    pub(super) tree: &'a Node,
    pub(super) layers: Layers,
    pub(super) env_name: &'a str,
    pub(super) env: &'a Environment,
    /// Today in UTC; `None` checks no expiry.
    pub(super) today: Option<Date>,
}

impl Policy<'_> {
    /// Gives each policy finding the severity of this environment's
    /// `[policy]` (or the check's default), and drops those turned `off`
    /// or waived by an exception that holds today.
    pub(super) fn settle(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain_mut(|d| {
            let Some(default) = d.code.policy_default() else {
                return true;
            };
            d.severity = match self.env.policy.levels.get(d.code.as_str()) {
                Some(Level::Off) => return false,
                Some(Level::Error) => Severity::Error,
                Some(Level::Warning) => Severity::Warning,
                None => default,
            };
            !self.waived(d.code)
        });
    }

    /// Whether an exception for `code` holds today.
    fn waived(&self, code: Code) -> bool {
        self.svc.exceptions.iter().any(|e| {
            e.check == code.as_str()
                && match (&e.expires, self.today) {
                    (Some(expires), Some(today)) => {
                        Date::parse(expires).is_none_or(|last| today <= last)
                    }
                    _ => true,
                }
        })
    }

    /// The problems of the service's `[[exceptions]]`: an id that is no
    /// policy check, an exception that expired, one about to.
    pub(super) fn exception_problems(&self) -> Vec<Diagnostic> {
        let Some(Value::Array(entries)) = self.tree.get("exceptions").map(|n| &n.value) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries {
            let Some(check) = entry.get("check") else {
                continue;
            };
            // The schema refused ids that are no policy check.
            let id = check.as_str().unwrap_or_default();
            let (Some(node), Some(today)) = (entry.get("expires"), self.today) else {
                continue;
            };
            let (Value::Datetime(text) | Value::String(text)) = &node.value else {
                continue;
            };
            let Some(last) = Date::parse(text) else {
                continue;
            };
            let left = today.days_until(last);
            let d = if left < 0 {
                Diagnostic::error(
                    Code::Exception,
                    format!("the exception for `{id}` expired on {last}"),
                )
                .hint(format!(
                    "fix what `{id}` finds and remove the exception, or, if it must stay, give it a later `expires` with a reason reviewed again"
                ))
            } else if left <= EXPIRY_WARNING_DAYS {
                let when = match left {
                    0 => "today".to_string(),
                    1 => "tomorrow".to_string(),
                    n => format!("in {n} days"),
                };
                Diagnostic::warning(
                    Code::Exception,
                    format!("the exception for `{id}` ends {when}, on {last}"),
                )
                .hint(format!(
                    "fix what `{id}` finds before then, or give the exception a later `expires`"
                ))
            } else {
                continue;
            };
            out.push(d.at(node.origin.file, node.span(false)));
        }
        out
    }

    /// Shows a finding about `field` of a rendered object where the input
    /// wrote it: in the raw object it came from, in the patch that wrote at
    /// least `owned` steps of `field` (the whole field, or the container
    /// it is in), else at the first of `keys` the service has, else at the
    /// nearest table above the last of them.
    pub(super) fn locate(
        &self,
        object: &Object,
        field: &[Step],
        owned: usize,
        keys: &[Vec<Step>],
        d: Diagnostic,
    ) -> Diagnostic {
        if let Some((depth, node, raw)) = written_depth(object, field, self.tree) {
            if raw || depth >= owned.min(field.len()) {
                return d.at(node.origin.file, node.span(true));
            }
        }
        let found = keys.iter().find_map(|k| self.tree.at(k));
        let node = match (found, keys.last()) {
            (Some(node), _) => node,
            (None, Some(last)) => self.tree.nearest(last),
            (None, None) => self.tree,
        };
        if std::ptr::eq(node, self.tree) {
            return d.in_file(self.layers.service);
        }
        overridden(d.at(node.origin.file, node.span(true)), node, self.layers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Sources;
    use crate::input::tree::parse;
    use crate::model::Exception;

    fn policy_diags(env: &Environment, svc: &Service, today: &str) -> Vec<Diagnostic> {
        let mut sources = Sources::default();
        let file = sources.add("services/web.toml".into(), String::new());
        let tree = parse(file, "").unwrap();
        let policy = Policy {
            svc,
            tree: &tree,
            layers: Layers {
                environment: file,
                service: file,
                overlay: None,
            },
            env_name: "prod",
            env,
            today: Date::parse(today),
        };
        let mut diags = vec![
            Diagnostic::warning(Code::FloatingTag, "floating"),
            Diagnostic::error(Code::SecurityProfile, "privileged"),
            Diagnostic::warning(Code::RunAsUser, "not a policy"),
        ];
        policy.settle(&mut diags);
        diags
    }

    fn summary(diags: &[Diagnostic]) -> Vec<(Code, Severity)> {
        diags.iter().map(|d| (d.code, d.severity)).collect()
    }

    #[test]
    fn levels_change_severities_and_off_drops_findings() {
        let env: Environment = serde_json::from_value(serde_json::json!({
            "namespace": "shop", "kube_version": "1.35",
            "policy": {"floating-tag": "error", "security-profile": "off"}
        }))
        .unwrap();
        let svc = Service::default();
        assert_eq!(
            summary(&policy_diags(&env, &svc, "2026-11-27")),
            [
                (Code::FloatingTag, Severity::Error),
                (Code::RunAsUser, Severity::Warning)
            ]
        );
    }

    #[test]
    fn an_exception_waives_its_check_until_the_end_of_its_last_day() {
        let env: Environment = serde_json::from_value(
            serde_json::json!({"namespace": "shop", "kube_version": "1.35"}),
        )
        .unwrap();
        let svc = Service {
            exceptions: vec![Exception {
                check: "floating-tag".into(),
                reason: "vendor image".into(),
                expires: Some("2026-11-27".into()),
            }],
            ..Service::default()
        };
        let on_the_day = summary(&policy_diags(&env, &svc, "2026-11-27"));
        assert_eq!(on_the_day[0], (Code::SecurityProfile, Severity::Error));
        assert_eq!(on_the_day.len(), 2);
        let after = summary(&policy_diags(&env, &svc, "2026-11-28"));
        assert_eq!(after[0], (Code::FloatingTag, Severity::Warning));
        assert_eq!(after.len(), 3);
    }
}
