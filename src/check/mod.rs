//! Semantic checks: what the schema cannot see.
//!
//! Runs on one merged service in one environment ([`ServiceCheck`]) and on a
//! whole environment (the capacity check, called by [`compile`]). Each
//! problem points at the merged node that caused it, so at the file and line
//! of the layer that wrote it. One file per concern:
//!
//! - `versions`: every service has an image version;
//! - `kinds`: keys that do not apply to the workload kind;
//! - `cron`: a cronjob's schedule, the cron grammar, schedules that never
//!   run, and the time zone;
//! - `jobs`: a job deleted after its TTL and created again by GitOps;
//! - `autoscale`: `min` <= `max`, and the requests it measures against;
//! - `placement`: group affinity needs a group;
//! - `ports`: container ports, and named references to them;
//! - `probes`: liveness, readiness and startup probes;
//! - `services`: `[service]`, `[extra_services]`, the Ingress, and the
//!   metrics and pre-stop ports;
//! - `route`: `[route]`, its Gateway, and canary traffic it can route;
//! - `tracks`: canaries and other tracks, and `serve`;
//! - `selector`: the kept selector of an adopted workload;
//! - `volumes`: volume sources and names, and mounts;
//! - `resources`: request <= limit, and memory written in bytes or
//!   thousandths;
//! - `env`: `$(VAR)` references and secrets written as literals;
//! - `containers`: extra and init containers;
//! - `objects`: Secrets among raw objects are encrypted;
//! - `config`: `[config]` keys that look like secrets;
//! - `files`: `[files]` paths that collide as ConfigMap keys;
//! - `network_policy`: peers and ports of `[network_policy]`;
//! - `images`: a registry and an image that repeat a path segment;
//! - `security`: settings the security profile forbids, and containers
//!   that must run as non-root with no numeric user;
//! - `names`: object names as composed, label and annotation keys, and the
//!   sizes Kubernetes limits (annotations, ConfigMaps); also the
//!   environment's labels and annotations;
//! - `capacity`: the environment's requests fit its capacity;
//! - `promotion`: the `promote_from` of every environment file names
//!   another environment, and the references go in no circle.
//!
//! A new check for a service is a method in its own file (one
//! `impl ServiceCheck<'_>` block) plus one line in the list of
//! [`ServiceCheck::run`].
//!
//! [`compile`]: crate::compile

use crate::diag::{Code, Diagnostic, did_you_mean, one_of};
use crate::input::merge::Layers;
use crate::input::tree::{Node, Step};
use crate::model::{Directory, Environment, Service};

mod autoscale;
mod capacity;
mod config;
mod containers;
mod cron;
mod env;
mod files;
mod images;
mod jobs;
mod kinds;
mod names;
mod network_policy;
mod objects;
mod placement;
mod ports;
mod probes;
mod promotion;
mod resources;
mod route;
mod security;
mod selector;
mod services;
mod tracks;
mod versions;
mod volumes;

pub(crate) use capacity::{Requests, capacity, requests};
pub(crate) use env::looks_secret;
pub(crate) use names::{
    bad_key, data_size, environment as environment_names, human, reserved_label,
};
pub(crate) use objects::{SECRET_HINT, clear_secret_values};
pub use promotion::{Promoted, promotion};

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

/// The environment a service is checked in.
#[derive(Clone, Copy)]
pub struct EnvContext<'a> {
    pub name: &'a str,
    pub settings: &'a Environment,
    /// The services of the environment, for references between services.
    pub directory: &'a Directory,
}

/// Checks one merged service. `tree` is the merged tree the service was read
/// from; `layers` are the files merged into it: the service file is where
/// problems that no key explains are shown.
pub struct ServiceCheck<'a> {
    svc: &'a Service,
    /// The service's name: `name`, or the file stem.
    name: &'a str,
    tree: &'a Node,
    layers: Layers,
    env: EnvContext<'a>,
    out: Vec<Diagnostic>,
}

impl<'a> ServiceCheck<'a> {
    pub fn new(
        svc: &'a Service,
        name: &'a str,
        tree: &'a Node,
        layers: Layers,
        env: EnvContext<'a>,
    ) -> Self {
        ServiceCheck {
            svc,
            name,
            tree,
            layers,
            env,
            out: Vec::new(),
        }
    }

    /// Reports at the node on `path`, or the nearest written ancestor: in
    /// the layer that set it, naming the lower layers whose value it
    /// replaced.
    fn report(&mut self, path: &[Step], prefer_key: bool, d: Diagnostic) {
        let node = self.tree.nearest(path);
        self.out.push(if std::ptr::eq(node, self.tree) {
            d.in_file(self.layers.service)
        } else {
            overridden(
                d.at(node.origin.file, node.span(prefer_key)),
                node,
                self.layers,
            )
        });
    }

    /// Runs every concern, in this order, and returns what they found.
    pub fn run(mut self) -> Vec<Diagnostic> {
        let concerns: &[fn(&mut Self)] = &[
            Self::versions,
            Self::kinds,
            Self::cron_schedule,
            Self::jobs,
            Self::autoscale,
            Self::placement,
            Self::ports,
            Self::probes,
            Self::services,
            Self::route,
            Self::tracks,
            Self::kept_selector,
            Self::volumes,
            Self::resources,
            Self::env,
            Self::containers,
            Self::objects,
            Self::config,
            Self::files,
            Self::network_policy,
            Self::images,
            Self::security,
            Self::names,
        ];
        for concern in concerns {
            concern(&mut self);
        }
        self.out
    }
}

/// Adds to `d` the values of lower layers that `node` replaced, named by
/// their layer: the value a finding is about was set there first.
pub(crate) fn overridden(mut d: Diagnostic, node: &Node, layers: Layers) -> Diagnostic {
    let by = layers.name(node.origin.file);
    for earlier in &node.overrode {
        let label = format!("set by {}, overridden by {by}", layers.name(earlier.file));
        d = d.related(earlier.file, earlier.span.clone(), label);
    }
    d
}

/// An unknown name where one of `known` was expected, with a suggestion when
/// one is close (in the hint only, which JSON records carry too: a label
/// saying it again under the caret would print it twice).
fn unknown_reference(what: &str, name: &str, known: &[&str], context: &str) -> Diagnostic {
    let d = Diagnostic::error(Code::UnknownReference, format!("unknown {what} `{name}`"));
    match did_you_mean(name, known.iter().copied()) {
        Some(better) => d.hint(format!("did you mean `{better}`? {context}")),
        None if known.is_empty() => d.hint(context.to_string()),
        None => d.hint(format!("{context}; declared: {}", one_of(known))),
    }
}
