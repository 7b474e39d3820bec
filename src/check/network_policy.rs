//! `[network_policy]`: every peer service is a service of the environment
//! whose pods carry `app`, every ingress port is one of the service's
//! ports, every egress port name
//! is declared by each peer service of its rule, and `namespace` comes with
//! `groups`, the only peers it applies to.

use super::ports::{by_name_or_number, port_names};
use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{NetworkRule, PortRef};

impl ServiceCheck<'_> {
    pub(super) fn network_policy(&mut self) {
        let Some(policy) = &self.svc.network_policy else {
            return;
        };
        for (i, rule) in policy.ingress.iter().enumerate() {
            self.network_rule("ingress", i, rule);
        }
        for (i, rule) in policy.egress.iter().flatten().enumerate() {
            self.network_rule("egress", i, rule);
        }
    }

    fn network_rule(&mut self, direction: &str, i: usize, rule: &NetworkRule) {
        let at = |field: &str, j: Option<usize>| {
            let mut path = vec![
                key("network_policy"),
                key(direction),
                Step::Index(i),
                key(field),
            ];
            path.extend(j.map(Step::Index));
            path
        };
        let known: Vec<&str> = self.env.directory.keys().map(String::as_str).collect();
        for (j, name) in rule.services.iter().enumerate() {
            if self.env.directory.get(name).is_some_and(|p| p.unlabelled) {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("the pods of service `{name}` keep `pod_labels` without `app`, which policies select peers by"),
                )
                .hint(format!(
                    "add `app = \"{name}\"` to the `pod_labels` of `{name}` (its pods restart once), or remove its `pod_labels`"
                ));
                self.report(&at("services", Some(j)), false, d);
            }
            if !self.env.directory.contains_key(name) {
                let d = unknown_reference(
                    "service",
                    name,
                    &known,
                    &format!("peers are services of environment `{}`", self.env.name),
                );
                self.report(&at("services", Some(j)), false, d);
            }
        }
        if rule.namespace.is_some() && rule.groups.is_empty() {
            let d = Diagnostic::error(
                Code::MissingKey,
                "`namespace` selects where the `groups` peers run, and this rule has no `groups`",
            )
            .hint("add `groups`, or remove `namespace`: peer services are found in their own namespace");
            self.report(&at("namespace", None), true, d);
        }
        for (j, port) in rule.ports.iter().enumerate() {
            let PortRef::Name(port) = port else { continue };
            let problem = if direction == "ingress" {
                let own = port_names(self.svc);
                (!own.contains(&port.as_str())).then(|| {
                    let context = by_name_or_number(
                        self.svc,
                        "ingress ports are this service's own; declare it in `[[ports]]` or use a number",
                        "",
                    );
                    unknown_reference("port", port, &own, &context)
                })
            } else {
                self.peer_port_problem(rule, port)
            };
            if let Some(d) = problem {
                self.report(&at("ports", Some(j)), false, d);
            }
        }
    }

    /// An egress port name that a peer service of the rule does not declare.
    fn peer_port_problem(&self, rule: &NetworkRule, port: &str) -> Option<Diagnostic> {
        rule.services.iter().find_map(|name| {
            let peer = self.env.directory.get(name)?;
            let ports: Vec<&str> = peer.ports.iter().map(String::as_str).collect();
            (!ports.contains(&port)).then(|| {
                unknown_reference(
                    "port",
                    port,
                    &ports,
                    &format!("egress ports are the peers'; `{name}` does not declare it, so use a number or one of its ports"),
                )
            })
        })
    }
}
