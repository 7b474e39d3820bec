//! Semantic checks: what the schema cannot see.
//!
//! Runs on one merged service in one environment (`check_service`) and on a
//! whole environment (`check_environment`): references between keys (probe,
//! Service, Ingress and metrics ports, volume mounts, tracks), values with a
//! grammar (cron, quantities), request <= limit, keys that do not apply to the
//! workload kind, secrets written as literals, and the environment's capacity.
//! Each problem points at the merged node that caused it, so at the file and
//! line of the layer that wrote it.

use std::collections::BTreeSet;

use crate::diag::FileId;
use crate::diag::{Diagnostic, did_you_mean, one_of};
use crate::input::tree::{Node, Step};
use crate::model::{
    self, EnvValue, PortRef, STABLE, Service, WorkloadKind, duration_seconds, file_key,
    quantity_value,
};

mod capacity;

pub(crate) use capacity::{capacity, requests};

/// Environment variable names that must never carry a literal value.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "SECRET_KEY",
        "CREDENTIALS",
    ]
    .iter()
    .any(|s| upper.ends_with(s))
}

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

/// Checks one merged service. `tree` is the merged tree the service was read
/// from; `file` is the service file, for problems that no key explains.
pub struct ServiceCheck<'a> {
    pub svc: &'a Service,
    pub tree: &'a Node,
    pub file: FileId,
    /// The overlay of this service in this environment, if any.
    pub overlay: Option<FileId>,
    pub env_name: &'a str,
    pub out: Vec<Diagnostic>,
}

impl<'a> ServiceCheck<'a> {
    pub fn new(
        svc: &'a Service,
        tree: &'a Node,
        file: FileId,
        overlay: Option<FileId>,
        env_name: &'a str,
    ) -> Self {
        ServiceCheck {
            svc,
            tree,
            file,
            overlay,
            env_name,
            out: Vec::new(),
        }
    }

    /// Reports at the node on `path`, or the nearest written ancestor.
    fn report(&mut self, path: &[Step], prefer_key: bool, d: Diagnostic) {
        let node = self.tree.nearest(path);
        self.out.push(if std::ptr::eq(node, self.tree) {
            d.in_file(self.file)
        } else {
            d.at(node.origin.file, node.span(prefer_key))
        });
    }

    pub fn run(mut self) -> Vec<Diagnostic> {
        self.versions();
        self.kind_specific();
        self.ports();
        let svc: &'a Service = self.svc;
        self.probes(&[], &svc.probes);
        for (i, c) in svc.containers.iter().enumerate() {
            self.probes(&[key("containers"), Step::Index(i)], &c.probes);
        }
        self.services();
        self.tracks();
        self.volumes();
        self.resources(&[], &svc.resources);
        self.env(&[], &svc.env);
        self.containers();
        self.misc();
        self.out
    }

    fn versions(&mut self) {
        if self.svc.version.is_none() {
            let d = Diagnostic::error("missing-key", format!("service has no `version` in environment `{}`", self.env_name))
                .hint(format!(
                    "set `version = \"...\"` in the service file or in `environments/{}/<service>.toml`",
                    self.env_name
                ));
            self.report(&[], false, d);
        }
    }

    fn kind_specific(&mut self) {
        let kind = self.svc.kind;
        let kind_name = match kind {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::CronJob => "cronjob",
            WorkloadKind::Job => "job",
        };
        let not_for = |what: &str, allowed: &str| {
            Diagnostic::error(
                "wrong-kind",
                format!("`{what}` does not apply to a {kind_name}"),
            )
            .hint(format!(
                "`{what}` is for {allowed}; remove it or change `kind`"
            ))
        };
        let runs_forever = kind.has_replicas();
        if !runs_forever {
            for what in [
                "service",
                "ingress",
                "autoscale",
                "disruption",
                "tracks",
                "extra_services",
            ] {
                if self.tree.get(what).is_some() {
                    self.report(
                        &[key(what)],
                        true,
                        not_for(what, "a deployment or statefulset"),
                    );
                }
            }
            if self.tree.get("replicas").is_some() && !self.is_default_layer(&[key("replicas")]) {
                self.report(
                    &[key("replicas")],
                    true,
                    not_for("replicas", "a deployment or statefulset"),
                );
            }
        }
        if kind != WorkloadKind::CronJob
            && self.tree.get("cron").is_some()
            && !self.is_default_layer(&[key("cron")])
        {
            self.report(&[key("cron")], true, not_for("cron", "a cronjob"));
        }
        if runs_forever && self.tree.get("job").is_some() && !self.is_default_layer(&[key("job")]) {
            self.report(&[key("job")], true, not_for("job", "a job or cronjob"));
        }
        let rollout = &self.svc.rollout;
        if kind != WorkloadKind::StatefulSet {
            for what in ["partition", "pod_management"] {
                let at = [key("rollout"), key(what)];
                if self.tree.at(&at).is_some() && !self.is_default_layer(&at) {
                    self.report(
                        &[key("rollout"), key(what)],
                        true,
                        not_for(&format!("rollout.{what}"), "a statefulset"),
                    );
                }
            }
        }
        if kind == WorkloadKind::StatefulSet
            && rollout.max_surge.is_some()
            && !self.is_default_layer(&[key("rollout"), key("max_surge")])
        {
            self.report(
                &[key("rollout"), key("max_surge")],
                true,
                not_for(
                    "rollout.max_surge",
                    "a deployment (a statefulset replaces pods one ordinal at a time)",
                ),
            );
        }
        let strategies: &[&str] = match kind {
            WorkloadKind::Deployment => &["rolling", "recreate"],
            WorkloadKind::StatefulSet => &["rolling", "on-delete"],
            _ => &["rolling", "recreate", "on-delete"],
        };
        if let Some(s) = &rollout.strategy {
            if !strategies.contains(&s.as_str()) {
                let d = Diagnostic::error(
                    "wrong-kind",
                    format!("rollout strategy `{s}` does not apply to a {kind_name}"),
                )
                .hint(format!("use {}", one_of(strategies)));
                self.report(&[key("rollout"), key("strategy")], false, d);
            }
        }
        if kind == WorkloadKind::CronJob {
            match &self.svc.cron.schedule {
                None => {
                    let d = Diagnostic::error("missing-key", "a cronjob needs `cron.schedule`")
                        .hint("add `[cron]` with `schedule = \"0 0 * * *\"`");
                    self.report(&[key("kind")], false, d);
                }
                Some(s) => {
                    if let Err(e) = check_cron(s) {
                        let d = Diagnostic::error("invalid-value", format!("invalid cron schedule `{s}`: {e}"))
                            .hint("write five fields: minute hour day-of-month month day-of-week, e.g. `0 0 * * *`, or a macro like `@daily`");
                        self.report(&[key("cron"), key("schedule")], false, d);
                    }
                }
            }
        }
        for (i, v) in self.svc.volumes.iter().enumerate() {
            if v.persistent.is_some() && kind != WorkloadKind::StatefulSet {
                let d = not_for("persistent", "a statefulset")
                    .hint("a claim per pod needs a statefulset; for a shared claim use `claim = \"<pvc name>\"`");
                self.out.push({
                    let node =
                        self.tree
                            .nearest(&[key("volumes"), Step::Index(i), key("persistent")]);
                    d.at(node.origin.file, node.span(true))
                });
            }
        }
        if let Some(a) = &self.svc.autoscale {
            if a.min.unwrap_or(1) > a.max {
                let d = Diagnostic::error(
                    "invalid-value",
                    format!(
                        "`autoscale.min` ({}) is above `autoscale.max` ({})",
                        a.min.unwrap_or(1),
                        a.max
                    ),
                )
                .hint("make `min` at most `max`");
                self.report(&[key("autoscale"), key("min")], false, d);
            }
            let requests =
                |r: &Option<model::Resource>| r.as_ref().and_then(|r| r.request()).is_some();
            if a.cpu.is_some() && !requests(&self.svc.resources.cpu) {
                let d = Diagnostic::error("missing-key", "autoscaling on cpu needs a cpu request")
                    .hint("set `resources.cpu`: utilization is measured against the request");
                self.report(&[key("autoscale"), key("cpu")], true, d);
            }
            if a.memory.is_some() && !requests(&self.svc.resources.memory) {
                let d = Diagnostic::error(
                    "missing-key",
                    "autoscaling on memory needs a memory request",
                )
                .hint("set `resources.memory`: utilization is measured against the request");
                self.report(&[key("autoscale"), key("memory")], true, d);
            }
        }
        if self.svc.placement.group_affinity && self.svc.group.is_none() {
            let d = Diagnostic::error("missing-key", "`placement.group_affinity` needs a `group`")
                .hint("set `group = \"...\"`: pods are placed on nodes labelled `group=<group>`");
            self.report(&[key("placement"), key("group_affinity")], true, d);
        }
    }

    /// Whether the node at `path` was written by the environment's
    /// `[defaults]`: defaults may set keys that only some kinds use, and
    /// those are ignored where they do not apply.
    fn is_default_layer(&self, path: &[Step]) -> bool {
        let node = self.tree.nearest(path);
        node.origin.file != self.file && Some(node.origin.file) != self.overlay
    }

    /// Container ports: unique names and numbers, and a number for each.
    fn ports(&mut self) {
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
                        "duplicate-name",
                        format!("port name `{}` is used twice", p.name),
                    )
                    .hint("give each port a unique name"),
                ));
            }
            match p.port {
                None => found.push((
                    path.clone(),
                    Diagnostic::error("missing-key", format!("port `{}` has no number", p.name))
                        .hint("add `port = <number>`"),
                )),
                Some(n) => {
                    if !numbers.insert((n, p.protocol.clone())) {
                        found.push((
                            path.clone(),
                            Diagnostic::error(
                                "duplicate-name",
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

    fn port_names(&self) -> Vec<&'a str> {
        let svc: &'a Service = self.svc;
        svc.ports
            .iter()
            .chain(self.svc.containers.iter().flat_map(|c| c.ports.iter()))
            .map(|p| p.name.as_str())
            .collect()
    }

    /// A named port reference must name a declared port.
    fn port_ref(&mut self, path: &[Step], r: &PortRef) {
        let PortRef::Name(name) = r else { return };
        let names = self.port_names();
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

    fn probes(&mut self, base: &[Step], probes: &model::Probes) {
        for (which, probe) in [
            ("liveness", &probes.liveness),
            ("readiness", &probes.readiness),
            ("startup", &probes.startup),
        ] {
            let Some(p) = probe else { continue };
            let mut path = base.to_vec();
            path.extend([key("probes"), key(which)]);
            let actions = [
                p.http.is_some(),
                p.tcp.is_some(),
                p.grpc.is_some(),
                p.exec.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if actions != 1 {
                let d = Diagnostic::error(
                    "invalid-value",
                    format!("the {which} probe needs exactly one of `http`, `tcp`, `grpc` and `exec`, found {actions}"),
                )
                .hint("e.g. `http = { path = \"/healthz\", port = \"http\" }`");
                self.report(&path, true, d);
            }
            if let Some(h) = &p.http {
                let mut at = path.clone();
                at.extend([key("http"), key("port")]);
                self.port_ref(&at, &h.port);
            }
            if let Some(t) = &p.tcp {
                let mut at = path.clone();
                at.extend([key("tcp"), key("port")]);
                self.port_ref(&at, &t.port);
            }
            if let Some(period) = &p.period {
                if duration_seconds(period) == 0 {
                    let mut at = path.clone();
                    at.push(key("period"));
                    self.report(
                        &at,
                        false,
                        Diagnostic::error("invalid-value", "a probe period must be at least 1s")
                            .hint("write e.g. `period = \"5s\"`"),
                    );
                }
            }
        }
    }

    fn services(&mut self) {
        let svc = self.svc;
        if !svc.kind.has_replicas() {
            // Reported as not applying to the kind; nothing more to say.
            return;
        }
        let mut specs: Vec<(Vec<Step>, &model::ServiceSpec)> = Vec::new();
        if let Some(s) = &svc.service {
            specs.push((vec![key("service")], s));
        }
        for (name, s) in &svc.extra_services {
            specs.push((vec![key("extra_services"), key(name)], s));
        }
        for (path, spec) in specs {
            let port_names = self.port_names();
            if spec.ports.is_empty() && svc.ports.is_empty() {
                let d = Diagnostic::error(
                    "missing-key",
                    "a Service needs ports, and the service declares none",
                )
                .hint("declare `[[ports]]` with a name and number");
                self.report(&path, true, d);
            }
            let kind = spec.kind.as_deref().unwrap_or("ClusterIP");
            for (i, p) in spec.ports.iter().enumerate() {
                let mut at = path.clone();
                at.extend([key("ports"), Step::Index(i)]);
                if !port_names.contains(&p.name.as_str()) {
                    let mut name_at = at.clone();
                    name_at.push(key("name"));
                    let d = unknown_reference(
                        "port",
                        &p.name,
                        &port_names,
                        "Service ports name a container port from `[[ports]]`",
                    );
                    self.report(&name_at, false, d);
                }
                if let Some(np) = p.node_port {
                    let mut np_at = at.clone();
                    np_at.push(key("node_port"));
                    if kind != "NodePort" && kind != "LoadBalancer" {
                        let d = Diagnostic::error("invalid-value", format!("`node_port` needs a NodePort or LoadBalancer Service, this one is {kind}"))
                            .hint("set `type = \"NodePort\"` or remove `node_port`");
                        self.report(&np_at, true, d);
                    } else if !(30000..=32767).contains(&np) {
                        let d = Diagnostic::error(
                            "invalid-value",
                            format!("node port {np} is outside the default range 30000-32767"),
                        )
                        .hint("pick a port from 30000 to 32767");
                        self.report(&np_at, false, d);
                    }
                }
            }
        }
        if let Some(ing) = &svc.ingress {
            if svc.service.is_none() {
                let d =
                    Diagnostic::error("missing-key", "an Ingress needs the service's `[service]`")
                        .hint("add `[service]` so the Ingress has a Service to route to");
                self.report(&[key("ingress")], true, d);
            }
            if ing.all_hosts().is_empty() {
                let d = Diagnostic::error("missing-key", "an Ingress needs `host` or `hosts`")
                    .hint("add `host = \"app.example.com\"`");
                self.report(&[key("ingress")], true, d);
            }
            if let (Some(port), Some(spec)) = (&ing.port, &svc.service) {
                let service_ports: Vec<&str> = if spec.ports.is_empty() {
                    svc.ports.iter().map(|p| p.name.as_str()).collect()
                } else {
                    spec.ports.iter().map(|p| p.name.as_str()).collect()
                };
                if !service_ports.contains(&port.as_str()) {
                    let d = unknown_reference(
                        "Service port",
                        port,
                        &service_ports,
                        "the Ingress routes to a port of `[service]`",
                    );
                    self.report(&[key("ingress"), key("port")], false, d);
                }
            }
        }
        if let Some(m) = &svc.metrics {
            self.port_ref(&[key("metrics"), key("port")], &m.port);
        }
        if let Some(model::Handler::Http { port, .. }) = &svc.pre_stop {
            self.port_ref(&[key("pre_stop"), key("http"), key("port")], port);
        }
    }

    fn tracks(&mut self) {
        let svc = self.svc;
        let mut names = vec![STABLE];
        for (i, t) in svc.tracks.iter().enumerate() {
            let at = vec![key("tracks"), Step::Index(i), key("name")];
            if names.contains(&t.name.as_str()) {
                let d = Diagnostic::error(
                    "duplicate-name",
                    format!("track `{}` is defined twice", t.name),
                )
                .hint("`stable` is the main workload; give each track another name");
                self.report(&at, false, d);
            }
            names.push(&t.name);
            if t.takes_canary_traffic() && svc.ingress.is_none() {
                let d = Diagnostic::error("missing-key", format!("track `{}` takes canary traffic but the service has no `[ingress]`", t.name))
                    .hint("canary routing (weight, header, cookie) is done by the ingress; add `[ingress]` or remove them");
                self.report(&[key("tracks"), Step::Index(i)], true, d);
            }
            if t.header_value.is_some() && t.header.is_none() {
                let d = Diagnostic::error("missing-key", "`header_value` needs `header`")
                    .hint("add `header = \"Version\"`");
                self.report(
                    &[key("tracks"), Step::Index(i), key("header_value")],
                    true,
                    d,
                );
            }
            self.env(&[key("tracks"), Step::Index(i)], &t.env);
        }
        if let Some(serve) = &svc.serve {
            if !names.contains(&serve.as_str()) {
                let d = unknown_reference(
                    "track",
                    serve,
                    &names,
                    "`serve` names `stable` or one of `[[tracks]]`",
                );
                self.report(&[key("serve")], false, d);
            }
        }
    }

    fn volumes(&mut self) {
        let svc = self.svc;
        let mut names: Vec<&str> = Vec::new();
        for (i, v) in svc.volumes.iter().enumerate() {
            let at = vec![key("volumes"), Step::Index(i)];
            let sources = [
                v.empty_dir.is_some(),
                v.config_map.is_some(),
                v.secret.is_some(),
                v.claim.is_some(),
                v.persistent.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if sources != 1 {
                let d = Diagnostic::error("invalid-value", format!("volume `{}` needs exactly one of `empty_dir`, `config_map`, `secret`, `claim` and `persistent`, found {sources}", v.name))
                    .hint("e.g. `empty_dir = {}` for scratch space");
                self.report(&at, true, d);
            }
            if names.contains(&v.name.as_str()) || v.name == "manifold-files" {
                let d = Diagnostic::error(
                    "duplicate-name",
                    format!("volume name `{}` is used twice", v.name),
                )
                .hint("give each volume a unique name");
                let mut name_at = at.clone();
                name_at.push(key("name"));
                self.report(&name_at, false, d);
            }
            names.push(&v.name);
        }
        for (ci, c) in svc
            .containers
            .iter()
            .chain(svc.init_containers.iter())
            .enumerate()
        {
            let (list, idx) = if ci < svc.containers.len() {
                ("containers", ci)
            } else {
                ("init_containers", ci - svc.containers.len())
            };
            for (mi, m) in c.mounts.iter().enumerate() {
                if !names.contains(&m.volume.as_str()) {
                    let d = unknown_reference(
                        "volume",
                        &m.volume,
                        &names,
                        "mounts name a volume from `[[volumes]]`",
                    );
                    self.report(
                        &[
                            key(list),
                            Step::Index(idx),
                            key("mounts"),
                            Step::Index(mi),
                            key("volume"),
                        ],
                        false,
                        d,
                    );
                }
            }
        }
    }

    fn resources(&mut self, base: &[Step], r: &model::Resources) {
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
                let d = Diagnostic::error("request-above-limit", format!("{name} request `{}` is above its limit `{}`", req.render(), lim.render()))
                    .hint("raise the limit or lower the request: a container cannot be guaranteed more than it may use");
                self.report(&at, false, d);
            }
        }
    }

    fn env(&mut self, base: &[Step], env: &std::collections::BTreeMap<String, EnvValue>) {
        for (name, value) in env {
            if let EnvValue::Literal(model::Scalar::String(text)) = value {
                // Kubernetes expands `$(VAR)` only for variables listed
                // earlier, and variables are rendered sorted by name.
                for var in references(text) {
                    if env.contains_key(var) && var >= name.as_str() {
                        let mut at = base.to_vec();
                        at.extend([key("env"), key(name)]);
                        let d = Diagnostic::error(
                            "env-order",
                            format!("`$({var})` in `{name}` will not be expanded: `{var}` is rendered after `{name}`"),
                        )
                        .hint(format!(
                            "variables are rendered sorted by name and Kubernetes expands only earlier ones; rename `{name}` or `{var}` so that `{var}` sorts first"
                        ));
                        self.report(&at, false, d);
                    }
                }
            }
            if let EnvValue::Literal(_) = value {
                if looks_secret(name) {
                    let mut at = base.to_vec();
                    at.extend([key("env"), key(name)]);
                    let d = Diagnostic::error("secret-literal", format!("`{name}` looks like a secret but has a literal value"))
                        .hint(format!("reference a Secret instead: `{name} = {{ secret = \"<secret name>\", key = \"<key>\" }}`"));
                    self.report(&at, false, d);
                }
            }
        }
    }

    fn containers(&mut self) {
        let svc = self.svc;
        let main = self
            .tree
            .get("name")
            .and_then(Node::as_str)
            .map(str::to_string);
        let mut names: Vec<String> = main.into_iter().collect();
        for (list, containers) in [
            ("containers", &svc.containers),
            ("init_containers", &svc.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let at = vec![key(list), Step::Index(i)];
                if names.contains(&c.name) {
                    let d = Diagnostic::error("duplicate-name", format!("container name `{}` is used twice", c.name))
                        .hint("the main container is named after the service; give each container a unique name");
                    let mut name_at = at.clone();
                    name_at.push(key("name"));
                    self.report(&name_at, false, d);
                }
                names.push(c.name.clone());
                if c.restart.is_some() && list == "containers" {
                    let d = Diagnostic::error(
                        "wrong-kind",
                        "`restart` applies to init containers only",
                    )
                    .hint("move this container to `init_containers` to make it a native sidecar");
                    let mut r = at.clone();
                    r.push(key("restart"));
                    self.report(&r, true, d);
                }
                self.resources(&at, &c.resources);
                self.env(&at, &c.env);
            }
        }
    }

    fn misc(&mut self) {
        for (name, object) in &self.svc.objects {
            if object.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
                continue;
            }
            // A Secret may live in git only encrypted (SOPS, which Flux
            // decrypts on apply): every value must be `ENC[...]`.
            for field in ["data", "stringData"] {
                let Some(values) = object.get(field).and_then(|v| v.as_object()) else {
                    continue;
                };
                for (k, v) in values {
                    if v.as_str().is_some_and(|s| s.starts_with("ENC[")) {
                        continue;
                    }
                    let d = Diagnostic::error(
                        "secret-literal",
                        format!("`objects.{name}.{field}.{k}` is a secret value in clear"),
                    )
                    .hint("encrypt it with SOPS (Flux decrypts it on apply), or create the Secret outside git (SealedSecret, ExternalSecret) and reference it");
                    self.report(&[key("objects"), key(name), key(field), key(k)], false, d);
                }
            }
        }
        for (k, v) in &self.svc.config {
            if let model::Scalar::String(_) = v {
                if looks_secret(k) {
                    let d = Diagnostic::error("secret-literal", format!("config key `{k}` looks like a secret"))
                        .hint(format!("ConfigMaps are not secret; reference a Secret from `[env]`: `{k} = {{ secret = \"<name>\", key = \"<key>\" }}`"));
                    self.report(&[key("config"), key(k)], true, d);
                }
            }
        }
        let mut keys = BTreeSet::new();
        for path in self.svc.files.keys() {
            if !keys.insert(file_key(path)) {
                let d = Diagnostic::error(
                    "duplicate-name",
                    format!("file `{path}` collides with another file's ConfigMap key"),
                )
                .hint("paths are stored with `/` as `_`; rename one of the files");
                self.report(&[key("files"), key(path)], true, d);
            }
        }
    }
}

/// The names of `$(NAME)` references in a value (`$$(` is a literal `$(`).
fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("$(") {
        if rest[..i].ends_with('$') {
            rest = &rest[i + 2..];
            continue;
        }
        let after = &rest[i + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

pub fn unknown_reference(what: &str, name: &str, known: &[&str], context: &str) -> Diagnostic {
    let d = Diagnostic::error("unknown-reference", format!("unknown {what} `{name}`"));
    match did_you_mean(name, known.iter().copied()) {
        Some(better) => d
            .label(format!("did you mean `{better}`?"))
            .hint(format!("did you mean `{better}`? {context}")),
        None if known.is_empty() => d.hint(context.to_string()),
        None => d.hint(format!("{context}; declared: {}", one_of(known))),
    }
}

/// Checks a five-field cron expression or a macro.
pub fn check_cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let s = s.trim();
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown macro, expected {}", one_of(&MACROS)))
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected 5 fields, found {}", fields.len()));
    }
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day of week", 0, 7, &DAYS),
    ];
    for (field, (what, lo, hi, names)) in fields.iter().zip(specs) {
        for part in field.split(',') {
            check_cron_part(part, lo, hi, names).map_err(|e| format!("{what} `{field}`: {e}"))?;
        }
    }
    Ok(())
}

fn check_cron_part(part: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n > 0 => {}
            _ => return Err(format!("invalid step `{step}`")),
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let value = |v: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            // Month names count from 1, day names from 0.
            return Ok(i as u32 + lo);
        }
        let n: u32 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
        if n < lo || n > hi {
            return Err(format!("{n} is outside {lo}-{hi}"));
        }
        Ok(n)
    };
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("range {a}-{b} is backwards"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_accepts_the_seed_schedule_and_macros() {
        assert_eq!(check_cron("0 0 * * *"), Ok(()));
        assert_eq!(check_cron("*/15 9-18 * JAN-MAR mon-fri"), Ok(()));
        assert_eq!(check_cron("@daily"), Ok(()));
    }

    #[test]
    fn cron_rejects_what_kubernetes_would() {
        assert_eq!(
            check_cron("0 0 * *"),
            Err("expected 5 fields, found 4".into())
        );
        assert_eq!(
            check_cron("61 0 * * *"),
            Err("minute `61`: 61 is outside 0-59".into())
        );
        assert_eq!(
            check_cron("0 0 * * */0"),
            Err("day of week `*/0`: invalid step `0`".into())
        );
        assert!(check_cron("@sometimes").is_err());
    }

    #[test]
    fn variable_references_are_found_and_escapes_skipped() {
        assert_eq!(references("http://$(HOST):$(PORT)/x"), vec!["HOST", "PORT"]);
        assert_eq!(references("cost: $$(not) $5 $(A"), Vec::<&str>::new());
    }

    #[test]
    fn secret_looking_names() {
        assert!(looks_secret("DB_PASSWORD"));
        assert!(looks_secret("MYSQL_ROOT_PASSWORD"));
        assert!(looks_secret("GITHUB_TOKEN"));
        assert!(!looks_secret("PASSWORD_MIN_LENGTH"));
        assert!(!looks_secret("NODE_ENV"));
    }
}
