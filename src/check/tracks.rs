//! Tracks (canaries and other variants of the workload): unique names other
//! than `stable`, an Ingress or HTTPRoute for canary traffic, `header` with
//! `header_value`, each track's environment variables, and `serve` naming a
//! track.

use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::STABLE;

impl ServiceCheck<'_> {
    pub(super) fn tracks(&mut self) {
        let svc = self.svc;
        let mut names = vec![STABLE];
        for (i, t) in svc.tracks.iter().enumerate() {
            let at = vec![key("tracks"), Step::Index(i), key("name")];
            if names.contains(&t.name.as_str()) {
                let d = Diagnostic::error(
                    Code::DuplicateName,
                    format!("track `{}` is defined twice", t.name),
                )
                .hint("`stable` is the main workload; give each track another name");
                self.report(&at, false, d);
            }
            names.push(&t.name);
            if t.takes_canary_traffic() && svc.ingress.is_none() && svc.route.is_none() {
                let d = Diagnostic::error(Code::MissingKey, format!("track `{}` takes canary traffic but the service has no `[ingress]` or `[route]`", t.name))
                    .hint("canary routing (weight, header, cookie) is done by the Ingress or the HTTPRoute; add `[ingress]` or `[route]`, or remove them");
                self.report(&[key("tracks"), Step::Index(i)], true, d);
            }
            if t.header_value.is_some() && t.header.is_none() {
                let d = Diagnostic::error(Code::MissingKey, "`header_value` needs `header`")
                    .hint("add `header = \"Version\"`");
                self.report(
                    &[key("tracks"), Step::Index(i), key("header_value")],
                    true,
                    d,
                );
            }
            self.track_env(i, t);
        }
        if let Some(serve) = &svc.serve {
            if !names.contains(&serve.as_str()) {
                let d = unknown_reference(
                    "track",
                    serve,
                    &names,
                    "`serve` names `stable` or one of `[[tracks]]`",
                );
                self.report(&[key("serve")], false, d);
            }
        }
    }
}
