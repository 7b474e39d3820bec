//! The image version: every service needs one in every environment, from
//! the service file or from its overlay.

use super::ServiceCheck;
use crate::diag::{Code, Diagnostic};

impl ServiceCheck<'_> {
    pub(super) fn versions(&mut self) {
        if self.svc.version.is_none() {
            let d = Diagnostic::error(Code::MissingKey, format!("service has no `version` in environment `{}`", self.env.name))
                .hint(format!(
                    "set `version = \"...\"` in the service file or in `environments/{}/<service>.toml`",
                    self.env.name
                ));
            self.report(&[], false, d);
        }
    }
}
