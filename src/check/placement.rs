//! Placement: `placement.group_affinity` places pods on nodes labelled with
//! the service's `group`, so it needs one.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};

impl ServiceCheck<'_> {
    pub(super) fn placement(&mut self) {
        if self.svc.placement.group_affinity && self.svc.group.is_none() {
            let d = Diagnostic::error(
                Code::MissingKey,
                "`placement.group_affinity` needs a `group`",
            )
            .hint("set `group = \"...\"`: pods are placed on nodes labelled `group=<group>`");
            self.report(&[key("placement"), key("group_affinity")], true, d);
        }
    }
}
