//! The kept `selector` of an adopted workload: valid label keys (the schema
//! checks the values), `app` (when kept) equal to the service's name, which
//! manifold's own selectors and network policies use, and a selector that
//! the pods of the other tracks cannot match. Its kept `pod_labels`: valid
//! keys, every kept selector label among them, and, without `app`, none of
//! what selects the pods by `app` (network policy, spread, the headless
//! Service manifold renders).
//!
//! Which kinds may keep a selector or pod labels is checked in `kinds.rs`;
//! a peer's pods without `app` in `network_policy.rs`.

use super::{ServiceCheck, bad_key, key};
use crate::diag::{Code, Diagnostic};

impl ServiceCheck<'_> {
    pub(super) fn kept_selector(&mut self) {
        let svc = self.svc;
        for (k, v) in &svc.selector {
            let at = [key("selector"), key(k)];
            if let Some(d) = bad_key("label", k) {
                self.report(&at, true, d);
            } else if k == "app" && v != self.name {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("kept label `app = \"{v}\"` is not the service's name `{}`", self.name),
                )
                .hint(format!(
                    "manifold selects a service's pods of every track by `app`; set `name = \"{v}\"`"
                ));
                self.report(&at, false, d);
            }
        }
        self.kept_pod_labels();
        let only_app = svc.selector.keys().all(|k| k == "app");
        if !svc.selector.is_empty() && only_app && !svc.tracks.is_empty() {
            let d = Diagnostic::error(
                Code::InvalidValue,
                "the kept selector has only `app`, which the pods of every track carry",
            )
            .hint("the stable workload would also select the other tracks' pods; remove `[[tracks]]`, or adopt the workload by recreating it without `selector`");
            self.report(&[key("selector")], true, d);
        }
    }

    fn kept_pod_labels(&mut self) {
        let svc = self.svc;
        let labels = &svc.pod_labels;
        if labels.is_empty() {
            return;
        }
        for k in labels.keys() {
            if let Some(d) = bad_key("label", k) {
                self.report(&[key("pod_labels"), key(k)], true, d);
            }
        }
        let missing: Vec<String> = svc
            .selector
            .iter()
            .filter(|(k, v)| labels.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k} = \"{v}\""))
            .collect();
        if !missing.is_empty() {
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "the kept pod labels lack the kept selector's `{}`: the workload would not select its own pods",
                    missing.join("`, `")
                ),
            )
            .hint("add them to `pod_labels`: the pods of the stable track carry exactly these labels");
            self.report(&[key("pod_labels")], true, d);
        }
        if labels.get("app").is_some_and(|app| app == self.name) {
            return;
        }
        let uses_app = [
            (
                svc.network_policy.is_some(),
                &["network_policy"][..],
                "its network policy selects the service's pods by `app`",
            ),
            (
                svc.placement.spread,
                &["placement", "spread"][..],
                "`placement.spread` spreads the pods it finds by `app`",
            ),
            (
                svc.kind == crate::model::WorkloadKind::StatefulSet
                    && svc.headless_service.is_none(),
                &["pod_labels"][..],
                "the `<name>-headless` Service manifold renders selects the pods by `app`",
            ),
        ];
        for (used, at, why) in uses_app {
            if !used {
                continue;
            }
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!("the kept pod labels have no `app = \"{}\"`, and {why}", self.name),
            )
            .hint(format!(
                "add `app = \"{}\"` to `pod_labels` (the pods restart once), or remove `pod_labels`",
                self.name
            ));
            let path: Vec<_> = at.iter().map(|k| key(k)).collect();
            self.report(&path, true, d);
        }
    }
}
