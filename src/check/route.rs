//! `[route]`, the Gateway API HTTPRoute: it needs `[service]` and a Gateway
//! (its own `gateway` or the environment's), its `port` names a port of
//! `[service]`, and the tracks' canary traffic must be expressible in the
//! Gateway API: weights that add up to at most 100, and no cookie.

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;

impl ServiceCheck<'_> {
    pub(super) fn route(&mut self) {
        let svc = self.svc;
        let Some(route) = &svc.route else {
            return;
        };
        if !svc.kind.has_replicas() {
            // Reported as not applying to the kind; nothing more to say.
            return;
        }
        self.needs_service("route", "HTTPRoute");
        if route.gateway.is_none() && self.env.settings.gateway.is_none() {
            let env = self.env.name;
            let d = Diagnostic::error(
                Code::MissingKey,
                format!("`[route]` has no Gateway to attach to: environment `{env}` declares no `gateway`"),
            )
            .hint(format!("add `gateway = {{ name = \"public\", namespace = \"gateway-system\" }}` to environments/{env}.toml, or set `route.gateway` for this service"));
            self.report(&[key("route")], true, d);
        }
        self.routed_port("route", "HTTPRoute", route.port.as_deref());
        self.route_canaries();
    }

    /// Cookie tracks, header names, and weights above 100 in all.
    fn route_canaries(&mut self) {
        let mut total = 0;
        let mut over = false;
        for (i, t) in self.svc.tracks.iter().enumerate() {
            let at = |k: &str| [key("tracks"), Step::Index(i), key(k)];
            if t.cookie.is_some() {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("track `{}` is routed by cookie, which an HTTPRoute cannot match", t.name),
                )
                .label("the Gateway API matches paths, headers and query parameters, not cookies")
                .hint("route this track by `header` (and `header_value`) or by `weight`; or keep the cookie canary on `[ingress]` and remove `[route]`");
                self.report(&at("cookie"), true, d);
            }
            if let Some(header) = &t.header
                && !is_header_name(header)
            {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not an HTTP header name", header.escape_debug()),
                )
                .hint("an HTTPRoute matches header names made of letters, digits and the characters !#$%&'*+-.^_`|~, without spaces, such as `X-Canary`");
                self.report(&at("header"), false, d);
            }
            let Some(weight) = t.weight else {
                continue;
            };
            total += weight;
            if total > 100 && !over {
                over = true;
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("the tracks' weights add up to {total}, more than 100"),
                )
                .hint("`weight` is the percent of the traffic a track takes, the Service gets the rest: lower the weights so they add up to 100 at most");
                self.report(&at("weight"), false, d);
            }
        }
    }
}

/// An HTTP header name (a token of RFC 9110), as the Gateway API accepts.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}
