//! The containers of a pod: the main container (named after the service) and
//! the side and init `containers`, with their image, environment (`env`,
//! `env_from`, the generated `config` ConfigMap), ports, resources, probes,
//! `pre_stop` handler, mounts and security context.
//!
//! The pod around them (volumes, placement, pod security context) is built in
//! `pod.rs`, and so are the main container's mounts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Scope, non_empty, non_empty_vec, secs32};
use crate::model::{self, duration_seconds};

impl Scope<'_> {
    /// The ports of the main and side containers, the main container's first.
    pub(super) fn all_ports(&self) -> impl Iterator<Item = &model::Port> {
        self.svc
            .ports
            .iter()
            .chain(self.svc.containers.iter().flat_map(|c| c.ports.iter()))
    }

    fn image(&self, image: &str, version: &str, container: Option<&model::Registry>) -> String {
        let env = self.cx.env.registry.as_deref();
        model::image_reference(image, version, container, self.svc.registry.as_ref(), env)
    }

    /// The main container, whose environment is the service's `env` with
    /// the track's set over it. Its `run_as_*` settings are the pod's.
    pub(super) fn main_container(
        &self,
        image: &str,
        version: &str,
        track_env: &model::Env,
    ) -> core::Container {
        let svc = self.svc;
        let sec = &svc.security;
        let env = svc.env.overlaid(track_env);
        core::Container {
            name: svc
                .container_name
                .as_deref()
                .unwrap_or(self.cx.name)
                .to_string(),
            image: Some(self.image(image, version, None)),
            image_pull_policy: svc.image_pull_policy.clone(),
            command: svc.command.clone(),
            args: svc.args.clone(),
            working_dir: svc.working_dir.clone(),
            env: non_empty_vec(env_vars(&env)),
            env_from: non_empty_vec(self.main_env_from()),
            ports: non_empty_vec(container_ports(&svc.ports)),
            resources: resources(&svc.resources),
            liveness_probe: self.probe(svc.probes.liveness.as_ref()),
            readiness_probe: self.probe(svc.probes.readiness.as_ref()),
            startup_probe: self.probe(svc.probes.startup.as_ref()),
            lifecycle: svc.pre_stop.as_ref().map(|h| core::Lifecycle {
                pre_stop: Some(handler(h)),
                post_start: None,
                stop_signal: None,
            }),
            volume_mounts: non_empty_vec(self.main_mounts()),
            security_context: self.container_security(
                core::SecurityContext {
                    read_only_root_filesystem: sec.read_only_root_filesystem,
                    allow_privilege_escalation: sec.allow_privilege_escalation,
                    privileged: sec.privileged,
                    ..Default::default()
                },
                sec.capabilities.as_ref(),
            ),
            ..Default::default()
        }
    }

    /// The main container's `envFrom`: the listed sources, then the
    /// generated `config` ConfigMap.
    fn main_env_from(&self) -> Vec<core::EnvFromSource> {
        let mut sources = self.svc.env_from.iter().map(env_from).collect::<Vec<_>>();
        if let Some(cm) = &self.wiring.config {
            sources.push(core::EnvFromSource {
                config_map_ref: Some(core::ConfigMapEnvSource {
                    name: cm.name.clone(),
                    optional: None,
                }),
                ..Default::default()
            });
        }
        sources
    }

    /// A side or init container: the service's image, version and security
    /// settings unless it sets its own.
    pub(super) fn side_container(
        &self,
        c: &model::Container,
        image: &str,
        version: &str,
    ) -> core::Container {
        let s = &c.security;
        let base = &self.svc.security;
        let security = self.container_security(
            core::SecurityContext {
                read_only_root_filesystem: s
                    .read_only_root_filesystem
                    .or(base.read_only_root_filesystem),
                allow_privilege_escalation: s
                    .allow_privilege_escalation
                    .or(base.allow_privilege_escalation),
                privileged: s.privileged.or(base.privileged),
                run_as_non_root: s.run_as_non_root,
                run_as_user: s.run_as_user,
                run_as_group: s.run_as_group,
                ..Default::default()
            },
            s.capabilities.as_ref().or(base.capabilities.as_ref()),
        );
        core::Container {
            name: c.name.clone(),
            image: Some(self.image(
                c.image.as_deref().unwrap_or(image),
                c.version.as_deref().unwrap_or(version),
                c.registry.as_ref(),
            )),
            image_pull_policy: c.image_pull_policy.clone(),
            command: c.command.clone(),
            args: c.args.clone(),
            working_dir: c.working_dir.clone(),
            env: non_empty_vec(env_vars(&c.env)),
            env_from: non_empty_vec(c.env_from.iter().map(env_from).collect()),
            ports: non_empty_vec(container_ports(&c.ports)),
            resources: resources(&c.resources),
            liveness_probe: self.probe(c.probes.liveness.as_ref()),
            readiness_probe: self.probe(c.probes.readiness.as_ref()),
            startup_probe: self.probe(c.probes.startup.as_ref()),
            volume_mounts: non_empty_vec(
                c.mounts
                    .iter()
                    .map(|m| core::VolumeMount {
                        name: m.volume.clone(),
                        mount_path: m.path.clone(),
                        sub_path: m.sub_path.clone(),
                        read_only: m.read_only,
                        ..Default::default()
                    })
                    .collect(),
            ),
            restart_policy: c.restart.clone(),
            security_context: security,
            ..Default::default()
        }
    }

    /// A container's security context: `explicit` holds what the input
    /// sets, `added` the capabilities it adds, and the profile fills in the
    /// rest. `None` when that leaves it empty, as `baseline` and
    /// `privileged` do for a container that sets nothing.
    fn container_security(
        &self,
        explicit: core::SecurityContext,
        added: Option<&Vec<String>>,
    ) -> Option<core::SecurityContext> {
        let profile = self.svc.security.profile.unwrap_or_default();
        let strict = profile.restricts();
        let added = added.filter(|c| !c.is_empty()).cloned();
        let context = core::SecurityContext {
            allow_privilege_escalation: explicit
                .allow_privilege_escalation
                .or(strict.then_some(false)),
            read_only_root_filesystem: explicit
                .read_only_root_filesystem
                .or(profile.read_only_root().then_some(true)),
            // The restricting profiles drop every capability first; the
            // others leave the runtime's default set and add to it.
            capabilities: (strict || added.is_some()).then(|| core::Capabilities {
                drop: strict.then(|| vec!["ALL".to_string()]),
                add: added,
            }),
            ..explicit
        };
        (context != core::SecurityContext::default()).then_some(context)
    }

    fn probe(&self, p: Option<&model::Probe>) -> Option<core::Probe> {
        let p = p?;
        Some(core::Probe {
            http_get: p.http.as_ref().map(|h| core::HTTPGetAction {
                path: Some(h.path.clone().unwrap_or_else(|| "/".into())),
                port: port_ref(&h.port),
                scheme: h.scheme.clone(),
                http_headers: non_empty_vec(
                    h.headers
                        .iter()
                        .map(|(name, value)| core::HTTPHeader {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            tcp_socket: p.tcp.as_ref().map(|t| core::TCPSocketAction {
                port: port_ref(&t.port),
                host: None,
            }),
            grpc: p.grpc.as_ref().map(|g| core::GRPCAction {
                port: g.port,
                service: g.service.clone(),
                ..Default::default()
            }),
            exec: p.exec.as_ref().map(|command| core::ExecAction {
                command: Some(command.clone()),
            }),
            initial_delay_seconds: p.initial_delay.as_deref().map(secs32),
            period_seconds: p.period.as_deref().map(secs32),
            timeout_seconds: p.timeout.as_deref().map(secs32),
            failure_threshold: p.failure_threshold,
            success_threshold: p.success_threshold,
            termination_grace_period_seconds: None,
        })
    }
}

/// The variables in written order: Kubernetes expands `$(VAR)` only from
/// earlier ones.
fn env_vars(env: &model::Env) -> Vec<core::EnvVar> {
    env.iter()
        .map(|(name, value)| {
            let (value, value_from) = match value {
                model::EnvValue::Literal(s) => (Some(s.render()), None),
                model::EnvValue::Field { field } => (
                    None,
                    Some(core::EnvVarSource {
                        field_ref: Some(core::ObjectFieldSelector {
                            field_path: field.clone(),
                            api_version: None,
                        }),
                        ..Default::default()
                    }),
                ),
                model::EnvValue::Resource { resource, divisor } => (
                    None,
                    Some(core::EnvVarSource {
                        resource_field_ref: Some(core::ResourceFieldSelector {
                            resource: resource.clone(),
                            divisor: divisor.as_ref().map(|d| KQuantity(d.render())),
                            container_name: None,
                        }),
                        ..Default::default()
                    }),
                ),
                model::EnvValue::Secret {
                    secret,
                    key,
                    optional,
                } => (
                    None,
                    Some(core::EnvVarSource {
                        secret_key_ref: Some(core::SecretKeySelector {
                            name: secret.clone(),
                            key: key.clone(),
                            optional: *optional,
                        }),
                        ..Default::default()
                    }),
                ),
                model::EnvValue::ConfigMap {
                    config_map,
                    key,
                    optional,
                } => (
                    None,
                    Some(core::EnvVarSource {
                        config_map_key_ref: Some(core::ConfigMapKeySelector {
                            name: config_map.clone(),
                            key: key.clone(),
                            optional: *optional,
                        }),
                        ..Default::default()
                    }),
                ),
            };
            core::EnvVar {
                name: name.to_string(),
                value,
                value_from,
            }
        })
        .collect()
}

fn env_from(e: &model::EnvFrom) -> core::EnvFromSource {
    match e {
        model::EnvFrom::ConfigMap {
            config_map,
            prefix,
            optional,
        } => core::EnvFromSource {
            config_map_ref: Some(core::ConfigMapEnvSource {
                name: config_map.clone(),
                optional: *optional,
            }),
            prefix: prefix.clone(),
            secret_ref: None,
        },
        model::EnvFrom::Secret {
            secret,
            prefix,
            optional,
        } => core::EnvFromSource {
            secret_ref: Some(core::SecretEnvSource {
                name: secret.clone(),
                optional: *optional,
            }),
            prefix: prefix.clone(),
            config_map_ref: None,
        },
    }
}

fn container_ports(ports: &[model::Port]) -> Vec<core::ContainerPort> {
    ports
        .iter()
        .map(|p| core::ContainerPort {
            name: p.name.clone(),
            container_port: p.port.unwrap_or_default(),
            protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
            ..Default::default()
        })
        .collect()
}

fn resources(r: &model::Resources) -> Option<core::ResourceRequirements> {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for (name, res) in [
        ("cpu", &r.cpu),
        ("memory", &r.memory),
        ("ephemeral-storage", &r.ephemeral_storage),
    ] {
        if let Some(res) = res {
            if let Some(q) = res.request() {
                requests.insert(name.to_string(), KQuantity(q.render()));
            }
            if let Some(q) = res.limit() {
                limits.insert(name.to_string(), KQuantity(q.render()));
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return None;
    }
    Some(core::ResourceRequirements {
        requests: non_empty(requests),
        limits: non_empty(limits),
        claims: None,
    })
}

fn handler(h: &model::Handler) -> core::LifecycleHandler {
    match h {
        model::Handler::Exec(command) => core::LifecycleHandler {
            exec: Some(core::ExecAction {
                command: Some(command.clone()),
            }),
            ..Default::default()
        },
        model::Handler::Sleep(d) => core::LifecycleHandler {
            sleep: Some(core::SleepAction {
                seconds: duration_seconds(d),
            }),
            ..Default::default()
        },
        model::Handler::Http { path, port } => core::LifecycleHandler {
            http_get: Some(core::HTTPGetAction {
                path: path.clone(),
                port: port_ref(port),
                ..Default::default()
            }),
            ..Default::default()
        },
    }
}

fn port_ref(p: &model::PortRef) -> IntOrString {
    match p {
        model::PortRef::Number(n) => IntOrString::Int(*n),
        model::PortRef::Name(s) => IntOrString::String(s.clone()),
    }
}
