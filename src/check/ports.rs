//! Container ports and references to them: port names and numbers are
//! unique, each port has a number, and a port named by a probe, the metrics
//! endpoint or a hook is declared.

use std::collections::BTreeSet;

use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, PortRef, Service};

/// The names of the ports of the main container and of the extra containers.
pub(super) fn port_names(svc: &Service) -> Vec<&str> {
    svc.ports
        .iter()
        .chain(svc.containers.iter().flat_map(|c| c.ports.iter()))
        .map(|p| p.name.as_str())
        .collect()
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
            if !names.insert(p.name.as_str()) {
                found.push((
                    path.clone(),
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("port name `{}` is used twice", p.name),
                    )
                    .hint("give each port a unique name"),
                ));
            }
            match p.port {
                None => found.push((
                    path.clone(),
                    Diagnostic::error(Code::MissingKey, format!("port `{}` has no number", p.name))
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
        let d = unknown_reference(
            "port",
            name,
            &names,
            "declare it in `[[ports]]` or use a port number",
        );
        self.report(path, false, d);
    }
}
