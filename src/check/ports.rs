//! Container ports and references to them: port names and numbers are
//! unique, each port has a number, and a port named by a probe, the metrics
//! endpoint or a hook is declared. A port may have no name: a reference by
//! name cannot reach it, and the hint then says to use its number.

use std::collections::BTreeSet;

use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, PortRef, Service};

/// The ports of the main container and of the extra containers.
fn all_ports(svc: &Service) -> impl Iterator<Item = &model::Port> {
    svc.ports
        .iter()
        .chain(svc.containers.iter().flat_map(|c| c.ports.iter()))
}

/// The names of the ports of the main container and of the extra
/// containers; unnamed ports have none.
pub(super) fn port_names(svc: &Service) -> Vec<&str> {
    all_ports(svc).filter_map(|p| p.name.as_deref()).collect()
}

/// `context` for a reference by name that matches no port, and, when some
/// ports have no name, how to refer to those (by number, `place`).
pub(super) fn by_name_or_number(svc: &Service, context: &str, place: &str) -> String {
    let unnamed: Vec<String> = all_ports(svc)
        .filter(|p| p.name.is_none())
        .filter_map(|p| p.port)
        .map(|n| format!("`{n}`"))
        .collect();
    if unnamed.is_empty() {
        context.to_string()
    } else {
        format!(
            "{context}; a port without a name is referred to by its number{place}: {}",
            unnamed.join(", ")
        )
    }
}

impl ServiceCheck<'_> {
    /// Container ports: unique names and numbers, and a number for each.
    pub(super) fn ports(&mut self) {
        let mut all: Vec<(Vec<Step>, &model::Port)> = Vec::new();
        for (i, p) in self.svc.ports.iter().enumerate() {
            all.push((vec![key("ports"), Step::Index(i)], p));
        }
        for (ci, c) in self.svc.containers.iter().enumerate() {
            for (i, p) in c.ports.iter().enumerate() {
                all.push((
                    vec![
                        key("containers"),
                        Step::Index(ci),
                        key("ports"),
                        Step::Index(i),
                    ],
                    p,
                ));
            }
        }
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        let mut found = Vec::new();
        for (path, p) in &all {
            if let Some(name) = &p.name
                && !names.insert(name.as_str())
            {
                found.push((
                    path.clone(),
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("port name `{name}` is used twice"),
                    )
                    .hint("give each port a unique name"),
                ));
            }
            match p.port {
                None => found.push((
                    path.clone(),
                    Diagnostic::error(
                        Code::MissingKey,
                        match &p.name {
                            Some(name) => format!("port `{name}` has no number"),
                            None => "a port has neither a name nor a number".to_string(),
                        },
                    )
                    .hint("add `port = <number>`"),
                )),
                Some(n) => {
                    if !numbers.insert((n, p.protocol.clone())) {
                        found.push((
                            path.clone(),
                            Diagnostic::error(
                                Code::DuplicateName,
                                format!("port {n} is declared twice"),
                            )
                            .hint("each container port number may appear once per protocol"),
                        ));
                    }
                }
            }
        }
        for (path, d) in found {
            self.report(&path, false, d);
        }
    }

    /// A named port reference must name a declared port.
    pub(super) fn port_ref(&mut self, path: &[Step], r: &PortRef) {
        let PortRef::Name(name) = r else { return };
        let names = port_names(self.svc);
        if names.contains(&name.as_str()) {
            return;
        }
        let context = by_name_or_number(
            self.svc,
            "declare it in `[[ports]]` or use a port number",
            "",
        );
        let d = unknown_reference("port", name, &names, &context);
        self.report(path, false, d);
    }
}
