//! Probes (liveness, readiness, startup) of the main container and of the
//! extra containers: exactly one action each, a declared port, and a period
//! of at least a second.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, duration_seconds};

impl ServiceCheck<'_> {
    pub(super) fn probes(&mut self) {
        let svc = self.svc;
        self.probe_set(&[], &svc.probes);
        for (i, c) in svc.containers.iter().enumerate() {
            self.probe_set(&[key("containers"), Step::Index(i)], &c.probes);
        }
    }

    /// The probes of one container; `base` is the path of the container.
    fn probe_set(&mut self, base: &[Step], probes: &model::Probes) {
        for (which, probe) in [
            ("liveness", &probes.liveness),
            ("readiness", &probes.readiness),
            ("startup", &probes.startup),
        ] {
            let Some(p) = probe else { continue };
            let mut path = base.to_vec();
            path.extend([key("probes"), key(which)]);
            let actions = [
                p.http.is_some(),
                p.tcp.is_some(),
                p.grpc.is_some(),
                p.exec.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if actions != 1 {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("the {which} probe needs exactly one of `http`, `tcp`, `grpc` and `exec`, found {actions}"),
                )
                .hint("e.g. `http = { path = \"/healthz\", port = \"http\" }`");
                self.report(&path, true, d);
            }
            if let Some(h) = &p.http {
                let mut at = path.clone();
                at.extend([key("http"), key("port")]);
                self.port_ref(&at, &h.port);
            }
            if let Some(t) = &p.tcp {
                let mut at = path.clone();
                at.extend([key("tcp"), key("port")]);
                self.port_ref(&at, &t.port);
            }
            if let Some(period) = &p.period {
                if duration_seconds(period) == 0 {
                    let mut at = path.clone();
                    at.push(key("period"));
                    self.report(
                        &at,
                        false,
                        Diagnostic::error(Code::InvalidValue, "a probe period must be at least 1s")
                            .hint("write e.g. `period = \"5s\"`"),
                    );
                }
            }
        }
    }
}
