//! Resources: a request may not be above its limit, for the main container
//! and for each extra container.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, quantity_value};

impl ServiceCheck<'_> {
    pub(super) fn resources(&mut self) {
        let svc = self.svc;
        self.resources_at(&[], &svc.resources);
    }

    /// The resources of one container; `base` is the path of the container.
    pub(super) fn resources_at(&mut self, base: &[Step], r: &model::Resources) {
        for (name, res) in [
            ("cpu", &r.cpu),
            ("memory", &r.memory),
            ("ephemeral_storage", &r.ephemeral_storage),
        ] {
            let Some(res) = res else { continue };
            let (Some(req), Some(lim)) = (res.request(), res.limit()) else {
                continue;
            };
            let (Some(rv), Some(lv)) = (quantity_value(req), quantity_value(lim)) else {
                continue;
            };
            if rv > lv {
                let mut at = base.to_vec();
                at.extend([key("resources"), key(name), key("request")]);
                let d = Diagnostic::error(Code::RequestAboveLimit, format!("{name} request `{}` is above its limit `{}`", req.render(), lim.render()))
                    .hint("raise the limit or lower the request: a container cannot be guaranteed more than it may use");
                self.report(&at, false, d);
            }
        }
    }
}
