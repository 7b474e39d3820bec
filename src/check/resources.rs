//! Resources: a request may not be above its limit, for the main container
//! and for each extra container; memory and ephemeral storage written as a
//! bare number of bytes or in thousandths (`512`, `"512m"`) where `512Mi`
//! was meant are a warning.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, Quantity, Resource, quantity_value};

impl ServiceCheck<'_> {
    pub(super) fn resources(&mut self) {
        let svc = self.svc;
        self.resources_at(&[], &svc.resources);
    }

    /// The resources of one container; `base` is the path of the container.
    pub(super) fn resources_at(&mut self, base: &[Step], r: &model::Resources) {
        self.byte_units(base, r);
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

impl ServiceCheck<'_> {
    /// Memory and ephemeral storage below 1Mi written without a unit (bytes)
    /// or in thousandths (`m`): the unit `Mi` or `M` was left out.
    fn byte_units(&mut self, base: &[Step], r: &model::Resources) {
        for (name, res) in [
            ("memory", &r.memory),
            ("ephemeral_storage", &r.ephemeral_storage),
        ] {
            let written: Vec<(Option<&str>, &Quantity)> = match res {
                None => continue,
                Some(Resource::Both(q)) => vec![(None, q)],
                Some(Resource::Split { request, limit }) => {
                    [("request", request), ("limit", limit)]
                        .into_iter()
                        .filter_map(|(k, q)| q.as_ref().map(|q| (Some(k), q)))
                        .collect()
                }
            };
            for (part, q) in written {
                if let Some(d) = too_few_bytes(name, q) {
                    let mut at = base.to_vec();
                    at.extend([key("resources"), key(name)]);
                    at.extend(part.map(key));
                    self.report(&at, false, d);
                }
            }
        }
    }
}

/// A warning for a byte quantity under 1Mi with no unit or with `m`, with
/// the units that were likely meant.
fn too_few_bytes(name: &str, q: &Quantity) -> Option<Diagnostic> {
    let text = q.render();
    let bytes = quantity_value(q)?;
    let number = text.strip_suffix('m').unwrap_or(&text);
    if bytes <= 0.0 || bytes >= 1_048_576.0 || number.parse::<f64>().is_err() {
        return None;
    }
    let why = if number.len() < text.len() {
        "`m` means thousandths (millicores, for cpu)"
    } else {
        "a quantity without a unit counts bytes"
    };
    Some(
        Diagnostic::warning(
            Code::ByteUnits,
            format!("{name} `{text}` is {bytes} bytes, too little for a container to start"),
        )
        .hint(format!(
            "{why}: write `\"{number}Mi\"` (mebibytes, 1024² bytes) or `\"{number}M\"` (megabytes, 1000² bytes)"
        )),
    )
}
