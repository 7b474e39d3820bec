//! The kept `selector` of an adopted workload: valid label keys (the schema
//! checks the values), `app` (when kept) equal to the service's name, which
//! manifold's own selectors and network policies use, and a selector that
//! the pods of the other tracks cannot match.
//!
//! Which kinds may keep a selector is checked in `kinds.rs`.

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
}
