//! Services and the Ingress of a long-running workload: the main `[service]`
//! and `[extra_services]` route to declared container ports (node ports only
//! on NodePort and LoadBalancer Services; an unnamed container port only
//! through a numeric `target_port`), the Ingress has hosts and routes to a
//! port of `[service]`, and the metrics and pre-stop ports are declared.

use super::ports::{by_name_or_number, port_names};
use super::{ServiceCheck, key, unknown_reference};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model;

impl ServiceCheck<'_> {
    pub(super) fn services(&mut self) {
        if !self.svc.kind.runs_forever() {
            // Reported as not applying to the kind; nothing more to say.
            return;
        }
        self.service_ports();
        self.ingress();
        self.endpoint_ports();
    }

    /// The ports of `[service]` and of each of `[extra_services]`.
    fn service_ports(&mut self) {
        let svc = self.svc;
        let mut specs: Vec<(Vec<Step>, &model::ServiceSpec)> = Vec::new();
        if let Some(s) = &svc.service {
            specs.push((vec![key("service")], s));
        }
        for (name, s) in &svc.extra_services {
            specs.push((vec![key("extra_services"), key(name)], s));
        }
        for (path, spec) in specs {
            let port_names = port_names(svc);
            if spec.ports.is_empty() && svc.ports.is_empty() {
                let d = Diagnostic::error(
                    Code::MissingKey,
                    "a Service needs ports, and the service declares none",
                )
                .hint("declare `[[ports]]` with a name and number");
                self.report(&path, true, d);
            }
            if spec.ports.is_empty() {
                self.default_service_ports(&path);
            }
            let kind = spec.kind.as_deref().unwrap_or("ClusterIP");
            for (i, p) in spec.ports.iter().enumerate() {
                let mut at = path.clone();
                at.extend([key("ports"), Step::Index(i)]);
                if let Some(target) = &p.target_port {
                    let mut target_at = at.clone();
                    target_at.push(key("target_port"));
                    self.port_ref(&target_at, target);
                    let declared = |n: i32| {
                        let containers = svc.containers.iter().flat_map(|c| c.ports.iter());
                        svc.ports
                            .iter()
                            .chain(containers)
                            .any(|c| c.port == Some(n))
                    };
                    if let model::PortRef::Number(n) = target
                        && p.port.is_none()
                        && !declared(*n)
                    {
                        let d = Diagnostic::error(
                            Code::MissingKey,
                            format!("Service port `{}` has no `port`, and no container port is {n}", p.name),
                        )
                        .hint("set `port`: with a numeric `target_port` of no declared port, there is no container port to take it from");
                        self.report(&at, false, d);
                    }
                } else if !port_names.contains(&p.name.as_str()) {
                    let mut name_at = at.clone();
                    name_at.push(key("name"));
                    let context = by_name_or_number(
                        svc,
                        "Service ports name a container port from `[[ports]]`",
                        " in `target_port`",
                    );
                    let d = unknown_reference("port", &p.name, &port_names, &context);
                    self.report(&name_at, false, d);
                }
                if let Some(np) = p.node_port {
                    let mut np_at = at.clone();
                    np_at.push(key("node_port"));
                    if kind != "NodePort" && kind != "LoadBalancer" {
                        let d = Diagnostic::error(Code::InvalidValue, format!("`node_port` needs a NodePort or LoadBalancer Service, this one is {kind}"))
                            .hint("set `type = \"NodePort\"` or remove `node_port`");
                        self.report(&np_at, true, d);
                    } else if !(30000..=32767).contains(&np) {
                        let d = Diagnostic::error(
                            Code::InvalidValue,
                            format!("node port {np} is outside the default range 30000-32767"),
                        )
                        .hint("pick a port from 30000 to 32767");
                        self.report(&np_at, false, d);
                    }
                }
            }
        }
    }

    /// A Service without `ports` gets one for each port of the main
    /// container, by name: an unnamed one cannot be among them.
    fn default_service_ports(&mut self, path: &[Step]) {
        let unnamed = self.svc.ports.iter().find(|p| p.name.is_none());
        if let Some(n) = unnamed.and_then(|p| p.port) {
            let d = Diagnostic::error(
                Code::MissingKey,
                format!("the Service's ports are the container's, by name, and port {n} has none"),
            )
            .hint(format!(
                "name the port in `[[ports]]`, or list the Service's ports: `ports = [{{ name = \"web\", port = 80, target_port = {n} }}]`"
            ));
            self.report(path, true, d);
        }
    }

    fn ingress(&mut self) {
        let svc = self.svc;
        if let Some(ing) = &svc.ingress {
            self.needs_service("ingress", "Ingress");
            if ing.all_hosts().is_empty() {
                let d = Diagnostic::error(Code::MissingKey, "an Ingress needs `host` or `hosts`")
                    .hint("add `host = \"app.example.com\"`");
                self.report(&[key("ingress")], true, d);
            }
            self.routed_port("ingress", "Ingress", ing.port.as_deref());
        }
    }

    /// `[table]`, which renders the `kind` in front of the Service, has one.
    pub(super) fn needs_service(&mut self, table: &str, kind: &str) {
        if self.svc.service.is_none() {
            let d = Diagnostic::error(
                Code::MissingKey,
                format!("an {kind} needs the service's `[service]`"),
            )
            .hint(format!(
                "add `[service]` so the {kind} has a Service to route to"
            ));
            self.report(&[key(table)], true, d);
        }
    }

    /// `table.port`, the port of `[service]` that the `kind` routes to.
    pub(super) fn routed_port(&mut self, table: &str, kind: &str, port: Option<&str>) {
        let svc = self.svc;
        let (Some(port), Some(spec)) = (port, &svc.service) else {
            return;
        };
        let service_ports: Vec<&str> = if spec.ports.is_empty() {
            svc.ports.iter().filter_map(|p| p.name.as_deref()).collect()
        } else {
            spec.ports.iter().map(|p| p.name.as_str()).collect()
        };
        if !service_ports.contains(&port) {
            let d = unknown_reference(
                "Service port",
                port,
                &service_ports,
                &format!("the {kind} routes to a port of `[service]`"),
            );
            self.report(&[key(table), key("port")], false, d);
        }
    }

    /// The ports named by the metrics endpoint and the pre-stop hook.
    fn endpoint_ports(&mut self) {
        let svc = self.svc;
        if let Some(m) = &svc.metrics {
            self.port_ref(&[key("metrics"), key("port")], &m.port);
        }
        if let Some(model::Handler::Http { port, .. }) = &svc.pre_stop {
            self.port_ref(&[key("pre_stop"), key("http"), key("port")], port);
        }
    }
}
