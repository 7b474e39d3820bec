//! Placement: `placement.group_affinity` places pods on nodes labelled with
//! the service's `group`, so it needs one.

use super::{ServiceCheck, key};
use crate::diag::Diagnostic;

impl ServiceCheck<'_> {
    pub(super) fn placement(&mut self) {
        if self.svc.placement.group_affinity && self.svc.group.is_none() {
            let d = Diagnostic::error("missing-key", "`placement.group_affinity` needs a `group`")
                .hint("set `group = \"...\"`: pods are placed on nodes labelled `group=<group>`");
            self.report(&[key("placement"), key("group_affinity")], true, d);
        }
    }
}
