//! Rendering: one merged, checked service in one environment becomes typed
//! Kubernetes objects.
//!
//! Objects are built as `k8s-openapi` types and serialized once to JSON, where
//! the escape-hatch patches are merged and raw objects joined. Rendering is a
//! pure function of its inputs and assumes the `check` stage passed: it does
//! not report problems, except patches that match no object.
//!
//! The files of an environment rather than a service are built by
//! `namespace.rs` (Namespaces) and `kustomization.rs`.

mod kustomization;
mod namespace;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::input::merge::merge_json;
use crate::model::{
    self, Environment, STABLE, Service, WorkloadKind, duration_seconds, file_key, is_image_host,
};

pub use kustomization::kustomization;
pub use namespace::namespace;

/// A rendered object.
#[derive(Clone, Debug)]
pub struct Object {
    /// `Deployment`, `Service`, ...
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Json,
    /// The key in `objects` this came from, for raw objects.
    pub raw_key: Option<String>,
}

impl Object {
    fn new<T: serde::Serialize + k8s_openapi::Resource>(
        value: &T,
        name: &str,
        namespace: Option<&str>,
    ) -> Self {
        Object {
            kind: T::KIND.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            value: serde_json::to_value(value).expect("k8s-openapi objects serialize"),
            raw_key: None,
        }
    }

    /// `deployment/http`: how patches name their target.
    pub fn patch_key(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }
}

pub struct Rendered {
    pub objects: Vec<Object>,
    /// Patch keys that matched no object.
    pub unmatched_patches: Vec<String>,
}

/// Everything render needs that is not in the service itself.
pub struct Context<'a> {
    pub env_name: &'a str,
    pub env: &'a Environment,
    /// The service's name (file stem unless `name` is set).
    pub name: &'a str,
}

struct Scope<'a> {
    svc: &'a Service,
    cx: &'a Context<'a>,
    namespace: String,
    /// Labels on every object of the service.
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

pub fn render(svc: &Service, cx: &Context<'_>) -> Rendered {
    let namespace = svc
        .namespace
        .clone()
        .unwrap_or_else(|| cx.env.namespace.clone());
    let mut labels = cx.env.labels.clone();
    labels.extend(svc.labels.clone());
    labels.insert("app".into(), cx.name.into());
    labels.insert("app.kubernetes.io/name".into(), cx.name.into());
    labels.insert("app.kubernetes.io/managed-by".into(), "manifold".into());
    labels.insert("env".into(), cx.env_name.into());
    if let Some(group) = &svc.group {
        labels.insert("group".into(), group.clone());
        labels.insert("app.kubernetes.io/part-of".into(), group.clone());
    }
    let mut annotations = cx.env.annotations.clone();
    annotations.extend(svc.annotations.clone());
    let scope = Scope {
        svc,
        cx,
        namespace,
        labels,
        annotations,
    };
    let mut objects = Vec::new();
    scope.render_all(&mut objects);
    let unmatched_patches = apply_patches(&mut objects, &svc.patches);
    Rendered {
        objects,
        unmatched_patches,
    }
}

fn apply_patches(objects: &mut [Object], patches: &BTreeMap<String, Json>) -> Vec<String> {
    let mut unmatched = Vec::new();
    for (key, patch) in patches {
        match objects.iter_mut().find(|o| &o.patch_key() == key) {
            Some(object) => merge_json(&mut object.value, patch),
            None => unmatched.push(key.clone()),
        }
    }
    unmatched
}

impl Scope<'_> {
    fn ns(&self) -> Option<&str> {
        Some(&self.namespace)
    }

    fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels.clone()),
            annotations: non_empty(self.annotations.clone()),
            ..Default::default()
        }
    }

    fn selector(&self, track: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app".to_string(), self.cx.name.to_string()),
            ("track".to_string(), track.to_string()),
        ])
    }

    fn render_all(&self, out: &mut Vec<Object>) {
        let svc = self.svc;
        let config = self.config_map(
            "config",
            svc.config
                .iter()
                .map(|(k, v)| (k.clone(), v.render()))
                .collect(),
        );
        let files = self.config_map("files", file_data(&svc.files));
        let config_name = config.as_ref().map(|c| c.name.clone());
        let files_name = files.as_ref().map(|c| c.name.clone());
        out.extend(config);
        out.extend(files);
        if let Some(model::AccountRef::Create(true)) = svc.service_account {
            let sa = core::ServiceAccount {
                metadata: self.meta(self.cx.name),
                ..Default::default()
            };
            out.push(Object::new(&sa, self.cx.name, self.ns()));
        }
        let wiring = Wiring {
            config: config_name,
            files: files_name,
        };
        let version = svc.version.clone().unwrap_or_default();
        self.workload(
            self.cx.name,
            STABLE,
            &version,
            svc.replicas,
            &BTreeMap::new(),
            &wiring,
            out,
        );
        for track in &svc.tracks {
            let name = format!("{}-{}", self.cx.name, track.name);
            let version = track.version.clone().unwrap_or_else(|| version.clone());
            let replicas = track.replicas.or(svc.replicas);
            self.workload(
                &name,
                &track.name,
                &version,
                replicas,
                &track.env,
                &wiring,
                out,
            );
        }
        let serve = svc.serve.as_deref().unwrap_or(STABLE);
        if svc.kind == WorkloadKind::StatefulSet {
            out.push(self.headless_service());
        }
        if let Some(spec) = &svc.service {
            out.push(self.service(self.cx.name, spec, serve));
            for track in svc.tracks.iter().filter(|t| t.takes_canary_traffic()) {
                out.push(self.service(
                    &format!("{}-{}", self.cx.name, track.name),
                    spec,
                    &track.name,
                ));
            }
        }
        for (suffix, spec) in &svc.extra_services {
            out.push(self.service(&format!("{}-{suffix}", self.cx.name), spec, serve));
        }
        if let (Some(ingress), Some(spec)) = (&svc.ingress, &svc.service) {
            out.push(self.ingress(self.cx.name, self.cx.name, ingress, spec, None));
            for track in svc.tracks.iter().filter(|t| t.takes_canary_traffic()) {
                let name = format!("{}-{}", self.cx.name, track.name);
                out.push(self.ingress(&name, &name, ingress, spec, Some(track)));
            }
        }
        if let Some(hpa) = &svc.autoscale {
            out.push(self.autoscaler(hpa));
        }
        if let Some(pdb) = &svc.disruption {
            out.push(self.disruption_budget(pdb));
        }
        for (key, raw) in &svc.objects {
            out.push(self.raw_object(key, raw));
        }
    }

    fn config_map(&self, what: &str, data: BTreeMap<String, String>) -> Option<Object> {
        if data.is_empty() {
            return None;
        }
        let name = format!("{}-{what}-{}", self.cx.name, content_hash(&data));
        let cm = core::ConfigMap {
            metadata: self.meta(&name),
            data: Some(data),
            ..Default::default()
        };
        Some(Object::new(&cm, &name, self.ns()))
    }

    #[allow(clippy::too_many_arguments)]
    fn workload(
        &self,
        name: &str,
        track: &str,
        version: &str,
        replicas: Option<i32>,
        track_env: &BTreeMap<String, model::EnvValue>,
        wiring: &Wiring,
        out: &mut Vec<Object>,
    ) {
        let svc = self.svc;
        let mut template_labels = self.labels.clone();
        template_labels.insert("track".into(), track.into());
        template_labels.insert("version".into(), version.into());
        template_labels.insert("app.kubernetes.io/version".into(), version.into());
        let mut meta = self.meta(name);
        meta.labels = Some(template_labels.clone());
        let template = core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(template_labels),
                annotations: non_empty(self.pod_annotations()),
                ..Default::default()
            }),
            spec: Some(self.pod_spec(version, track_env, wiring)),
        };
        let selector = LabelSelector {
            match_labels: Some(self.selector(track)),
            ..Default::default()
        };
        // The autoscaler owns the replica count of the main track.
        let replicas = if svc.autoscale.is_some() && track == STABLE {
            None
        } else {
            Some(replicas.unwrap_or(1))
        };
        let rollout = &svc.rollout;
        match svc.kind {
            WorkloadKind::Deployment => {
                let strategy = match rollout.strategy.as_deref() {
                    Some("recreate") => apps::DeploymentStrategy {
                        type_: Some("Recreate".into()),
                        rolling_update: None,
                    },
                    _ => apps::DeploymentStrategy {
                        type_: Some("RollingUpdate".into()),
                        rolling_update: Some(apps::RollingUpdateDeployment {
                            max_surge: rollout.max_surge.as_ref().map(int_or_string),
                            max_unavailable: rollout.max_unavailable.as_ref().map(int_or_string),
                        }),
                    },
                };
                let d = apps::Deployment {
                    metadata: meta,
                    spec: apps::DeploymentSpec {
                        replicas,
                        selector,
                        template,
                        strategy: Some(strategy),
                        min_ready_seconds: rollout.min_ready.as_deref().map(secs32),
                        revision_history_limit: rollout.history,
                        progress_deadline_seconds: rollout.progress_deadline.as_deref().map(secs32),
                        paused: None,
                    },
                    status: None,
                };
                out.push(Object::new(&d, name, self.ns()));
            }
            WorkloadKind::StatefulSet => {
                let strategy = match rollout.strategy.as_deref() {
                    Some("on-delete") => apps::StatefulSetUpdateStrategy {
                        type_: Some("OnDelete".into()),
                        rolling_update: None,
                    },
                    _ => apps::StatefulSetUpdateStrategy {
                        type_: Some("RollingUpdate".into()),
                        rolling_update: rollout.partition.map(|p| {
                            apps::RollingUpdateStatefulSetStrategy {
                                partition: Some(p),
                                max_unavailable: None,
                            }
                        }),
                    },
                };
                let s = apps::StatefulSet {
                    metadata: meta,
                    spec: apps::StatefulSetSpec {
                        replicas,
                        selector,
                        template,
                        service_name: Some(format!("{}-headless", self.cx.name)),
                        update_strategy: Some(strategy),
                        pod_management_policy: rollout.pod_management.as_deref().map(|p| match p {
                            "parallel" => "Parallel".to_string(),
                            _ => "OrderedReady".to_string(),
                        }),
                        min_ready_seconds: rollout.min_ready.as_deref().map(secs32),
                        revision_history_limit: rollout.history,
                        volume_claim_templates: non_empty_vec(self.claim_templates()),
                        ..Default::default()
                    },
                    status: None,
                };
                out.push(Object::new(&s, name, self.ns()));
            }
            WorkloadKind::CronJob => {
                let cron = &svc.cron;
                let c = batch::CronJob {
                    metadata: meta,
                    spec: batch::CronJobSpec {
                        schedule: cron.schedule.clone().unwrap_or_default(),
                        time_zone: cron.time_zone.clone(),
                        concurrency_policy: cron.concurrency.as_deref().map(capitalize),
                        successful_jobs_history_limit: cron.keep_successful,
                        failed_jobs_history_limit: cron.keep_failed,
                        starting_deadline_seconds: cron
                            .starting_deadline
                            .as_deref()
                            .map(duration_seconds),
                        suspend: cron.suspend,
                        job_template: batch::JobTemplateSpec {
                            metadata: None,
                            spec: Some(self.job_spec(template)),
                        },
                    },
                    status: None,
                };
                out.push(Object::new(&c, name, self.ns()));
            }
            WorkloadKind::Job => {
                let j = batch::Job {
                    metadata: meta,
                    spec: Some(self.job_spec(template)),
                    status: None,
                };
                out.push(Object::new(&j, name, self.ns()));
            }
        }
    }

    fn job_spec(&self, mut template: core::PodTemplateSpec) -> batch::JobSpec {
        let job = &self.svc.job;
        if let Some(spec) = template.spec.as_mut() {
            spec.restart_policy = Some(job.restart.clone().unwrap_or_else(|| "OnFailure".into()));
        }
        batch::JobSpec {
            template,
            backoff_limit: job.backoff_limit,
            completions: job.completions,
            parallelism: job.parallelism,
            active_deadline_seconds: job.active_deadline.as_deref().map(duration_seconds),
            ttl_seconds_after_finished: job.ttl_after_finished.as_deref().map(secs32),
            ..Default::default()
        }
    }

    fn pod_annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        if let Some(m) = &self.svc.metrics {
            a.insert("prometheus.io/scrape".into(), "true".into());
            let port = match &m.port {
                model::PortRef::Number(n) => n.to_string(),
                model::PortRef::Name(name) => self
                    .all_ports()
                    .find(|p| &p.name == name)
                    .and_then(|p| p.port)
                    .map_or_else(|| name.clone(), |n| n.to_string()),
            };
            a.insert("prometheus.io/port".into(), port);
            a.insert(
                "prometheus.io/path".into(),
                m.path.clone().unwrap_or_else(|| "/metrics".into()),
            );
        }
        a.extend(self.svc.pod_annotations.clone());
        a
    }

    fn all_ports(&self) -> impl Iterator<Item = &model::Port> {
        self.svc
            .ports
            .iter()
            .chain(self.svc.containers.iter().flat_map(|c| c.ports.iter()))
    }

    fn image(&self, image: &str, version: &str) -> String {
        let registry = self.svc.registry.as_ref().or(self.cx.env.registry.as_ref());
        let repo = match registry {
            Some(r) if !is_image_host(image) => format!("{}/{image}", r.trim_end_matches('/')),
            _ => image.to_string(),
        };
        format!("{repo}:{version}")
    }

    fn pod_spec(
        &self,
        version: &str,
        track_env: &BTreeMap<String, model::EnvValue>,
        wiring: &Wiring,
    ) -> core::PodSpec {
        let svc = self.svc;
        let sec = &svc.security;
        let mut env = svc.env.clone();
        env.extend(track_env.clone());
        let mut env_from = svc.env_from.iter().map(env_from).collect::<Vec<_>>();
        if let Some(cm) = &wiring.config {
            env_from.push(core::EnvFromSource {
                config_map_ref: Some(core::ConfigMapEnvSource {
                    name: cm.clone(),
                    optional: None,
                }),
                ..Default::default()
            });
        }
        let mut mounts: Vec<core::VolumeMount> = svc
            .volumes
            .iter()
            .filter_map(|v| {
                v.mount.as_ref().map(|path| core::VolumeMount {
                    name: v.name.clone(),
                    mount_path: path.clone(),
                    sub_path: v.sub_path.clone(),
                    read_only: v.read_only,
                    ..Default::default()
                })
            })
            .collect();
        let mut volumes: Vec<core::Volume> = svc.volumes.iter().filter_map(volume).collect();
        if let Some(cm) = &wiring.files {
            volumes.push(core::Volume {
                name: FILES_VOLUME.into(),
                config_map: Some(core::ConfigMapVolumeSource {
                    name: cm.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            });
            for path in svc.files.keys() {
                mounts.push(core::VolumeMount {
                    name: FILES_VOLUME.into(),
                    mount_path: path.clone(),
                    sub_path: Some(file_key(path)),
                    read_only: Some(true),
                    ..Default::default()
                });
            }
        }
        let image = svc.image.clone().unwrap_or_default();
        let main = core::Container {
            name: self.cx.name.to_string(),
            image: Some(self.image(&image, version)),
            image_pull_policy: svc.image_pull_policy.clone(),
            command: svc.command.clone(),
            args: svc.args.clone(),
            working_dir: svc.working_dir.clone(),
            env: non_empty_vec(env_vars(&env)),
            env_from: non_empty_vec(env_from),
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
            volume_mounts: non_empty_vec(mounts),
            security_context: Some(container_security(
                sec.read_only_root_filesystem,
                sec.allow_privilege_escalation,
                sec.capabilities.as_ref(),
                None,
            )),
            ..Default::default()
        };
        let mut containers = vec![main];
        containers.extend(
            svc.containers
                .iter()
                .map(|c| self.side_container(c, &image, version)),
        );
        let init: Vec<core::Container> = svc
            .init_containers
            .iter()
            .map(|c| self.side_container(c, &image, version))
            .collect();
        let account = match &svc.service_account {
            Some(model::AccountRef::Create(true)) => Some(self.cx.name.to_string()),
            Some(model::AccountRef::Existing(name)) => Some(name.clone()),
            _ => None,
        };
        let pull_secrets = svc
            .pull_secrets
            .clone()
            .unwrap_or_else(|| self.cx.env.pull_secrets.clone());
        core::PodSpec {
            containers,
            init_containers: non_empty_vec(init),
            volumes: non_empty_vec(volumes),
            service_account_name: account,
            image_pull_secrets: non_empty_vec(
                pull_secrets
                    .into_iter()
                    .map(|name| core::LocalObjectReference { name })
                    .collect(),
            ),
            termination_grace_period_seconds: svc
                .termination_grace
                .as_deref()
                .map(duration_seconds),
            node_selector: non_empty(svc.placement.node_selector.clone()),
            tolerations: non_empty_vec(svc.placement.tolerations.iter().map(toleration).collect()),
            affinity: self.affinity(),
            topology_spread_constraints: svc.placement.spread.then(|| {
                vec![core::TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: "kubernetes.io/hostname".into(),
                    when_unsatisfiable: "ScheduleAnyway".into(),
                    label_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([(
                            "app".to_string(),
                            self.cx.name.to_string(),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]
            }),
            security_context: Some(core::PodSecurityContext {
                run_as_non_root: Some(sec.run_as_non_root.unwrap_or(true)),
                run_as_user: sec.run_as_user,
                run_as_group: sec.run_as_group,
                fs_group: sec.fs_group,
                seccomp_profile: Some(core::SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    localhost_profile: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn side_container(&self, c: &model::Container, image: &str, version: &str) -> core::Container {
        let s = &c.security;
        let base = &self.svc.security;
        let mut security = container_security(
            s.read_only_root_filesystem
                .or(base.read_only_root_filesystem),
            s.allow_privilege_escalation
                .or(base.allow_privilege_escalation),
            s.capabilities.as_ref().or(base.capabilities.as_ref()),
            s.run_as_non_root,
        );
        security.run_as_user = s.run_as_user;
        security.run_as_group = s.run_as_group;
        core::Container {
            name: c.name.clone(),
            image: Some(self.image(
                c.image.as_deref().unwrap_or(image),
                c.version.as_deref().unwrap_or(version),
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
            security_context: Some(security),
            ..Default::default()
        }
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

    fn affinity(&self) -> Option<core::Affinity> {
        let group = self
            .svc
            .group
            .as_ref()
            .filter(|_| self.svc.placement.group_affinity)?;
        Some(core::Affinity {
            node_affinity: Some(core::NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(core::NodeSelector {
                    node_selector_terms: vec![core::NodeSelectorTerm {
                        match_expressions: Some(vec![core::NodeSelectorRequirement {
                            key: "group".into(),
                            operator: "In".into(),
                            values: Some(vec![group.clone()]),
                        }]),
                        match_fields: None,
                    }],
                }),
                preferred_during_scheduling_ignored_during_execution: None,
            }),
            ..Default::default()
        })
    }

    fn claim_templates(&self) -> Vec<core::PersistentVolumeClaim> {
        self.svc
            .volumes
            .iter()
            .filter_map(|v| {
                let p = v.persistent.as_ref()?;
                let modes = if p.access_modes.is_empty() {
                    vec!["ReadWriteOnce".to_string()]
                } else {
                    p.access_modes.clone()
                };
                Some(core::PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some(v.name.clone()),
                        ..Default::default()
                    },
                    spec: Some(core::PersistentVolumeClaimSpec {
                        access_modes: Some(modes),
                        storage_class_name: p.storage_class.clone(),
                        resources: Some(core::VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([(
                                "storage".to_string(),
                                KQuantity(p.size.render()),
                            )])),
                            limits: None,
                        }),
                        ..Default::default()
                    }),
                    status: None,
                })
            })
            .collect()
    }

    fn service(&self, name: &str, spec: &model::ServiceSpec, track: &str) -> Object {
        let headless = spec.kind.as_deref() == Some("Headless");
        let mut meta = self.meta(name);
        if !spec.labels.is_empty() {
            let mut labels = self.labels.clone();
            labels.extend(spec.labels.clone());
            meta.labels = Some(labels);
        }
        let mut annotations = self.annotations.clone();
        annotations.extend(spec.annotations.clone());
        meta.annotations = non_empty(annotations);
        let s = core::Service {
            metadata: meta,
            spec: Some(core::ServiceSpec {
                type_: Some(if headless {
                    "ClusterIP".into()
                } else {
                    spec.kind.clone().unwrap_or_else(|| "ClusterIP".into())
                }),
                cluster_ip: headless.then(|| "None".to_string()),
                selector: Some(self.selector(track)),
                ports: Some(self.service_ports(spec)),
                session_affinity: spec.session_affinity.clone(),
                external_traffic_policy: spec.external_traffic_policy.clone(),
                load_balancer_class: spec.load_balancer_class.clone(),
                load_balancer_source_ranges: spec.source_ranges.clone(),
                ..Default::default()
            }),
            status: None,
        };
        Object::new(&s, name, self.ns())
    }

    /// The Service's ports: the listed ones, or every port of the main container.
    fn service_ports(&self, spec: &model::ServiceSpec) -> Vec<core::ServicePort> {
        let listed: Vec<model::ServicePort> = if spec.ports.is_empty() {
            self.svc
                .ports
                .iter()
                .map(|p| model::ServicePort {
                    name: p.name.clone(),
                    port: None,
                    node_port: None,
                })
                .collect()
        } else {
            spec.ports.clone()
        };
        listed
            .iter()
            .map(|sp| {
                let container = self.all_ports().find(|p| p.name == sp.name);
                core::ServicePort {
                    name: Some(sp.name.clone()),
                    port: sp
                        .port
                        .or(container.and_then(|c| c.port))
                        .unwrap_or_default(),
                    target_port: Some(IntOrString::String(sp.name.clone())),
                    node_port: sp.node_port,
                    protocol: Some(
                        container
                            .and_then(|c| c.protocol.clone())
                            .unwrap_or_else(|| "TCP".into()),
                    ),
                    ..Default::default()
                }
            })
            .collect()
    }

    fn headless_service(&self) -> Object {
        let name = format!("{}-headless", self.cx.name);
        let spec = model::ServiceSpec {
            kind: Some("Headless".into()),
            ..Default::default()
        };
        let mut object = self.service(&name, &spec, STABLE);
        // The governing Service names every track's pods.
        object.value["spec"]["selector"] = serde_json::json!({ "app": self.cx.name });
        object.value["spec"]["publishNotReadyAddresses"] = Json::Bool(true);
        object
    }

    fn ingress(
        &self,
        name: &str,
        service: &str,
        ing: &model::Ingress,
        spec: &model::ServiceSpec,
        track: Option<&model::Track>,
    ) -> Object {
        let ports = self.service_ports(spec);
        let port_name = ing
            .port
            .clone()
            .or_else(|| ports.first().and_then(|p| p.name.clone()))
            .unwrap_or_default();
        let paths = ing.paths.clone().unwrap_or_else(|| vec!["/".into()]);
        let path_type = ing.path_type.clone().unwrap_or_else(|| "Prefix".into());
        let hosts = ing.all_hosts();
        let rules = hosts
            .iter()
            .map(|host| networking::IngressRule {
                host: Some(host.to_string()),
                http: Some(networking::HTTPIngressRuleValue {
                    paths: paths
                        .iter()
                        .map(|path| networking::HTTPIngressPath {
                            path: Some(path.clone()),
                            path_type: path_type.clone(),
                            backend: networking::IngressBackend {
                                service: Some(networking::IngressServiceBackend {
                                    name: service.to_string(),
                                    port: Some(networking::ServiceBackendPort {
                                        name: Some(port_name.clone()),
                                        number: None,
                                    }),
                                }),
                                resource: None,
                            },
                        })
                        .collect(),
                }),
            })
            .collect();
        let mut annotations = self.annotations.clone();
        annotations.extend(ing.annotations.clone());
        if let Some(t) = track {
            annotations.insert("nginx.ingress.kubernetes.io/canary".into(), "true".into());
            if let Some(w) = t.weight {
                annotations.insert(
                    "nginx.ingress.kubernetes.io/canary-weight".into(),
                    w.to_string(),
                );
            }
            if let Some(h) = &t.header {
                annotations.insert(
                    "nginx.ingress.kubernetes.io/canary-by-header".into(),
                    h.clone(),
                );
                if let Some(v) = &t.header_value {
                    annotations.insert(
                        "nginx.ingress.kubernetes.io/canary-by-header-value".into(),
                        v.clone(),
                    );
                }
            }
            if let Some(c) = &t.cookie {
                annotations.insert(
                    "nginx.ingress.kubernetes.io/canary-by-cookie".into(),
                    c.clone(),
                );
            }
        }
        let mut meta = self.meta(name);
        meta.annotations = non_empty(annotations);
        let i = networking::Ingress {
            metadata: meta,
            spec: Some(networking::IngressSpec {
                ingress_class_name: ing.class.clone(),
                rules: Some(rules),
                tls: ing.tls.as_ref().map(|secret| {
                    vec![networking::IngressTLS {
                        hosts: Some(hosts.iter().map(|h| h.to_string()).collect()),
                        secret_name: Some(secret.clone()),
                    }]
                }),
                default_backend: None,
            }),
            status: None,
        };
        Object::new(&i, name, self.ns())
    }

    fn autoscaler(&self, a: &model::Autoscale) -> Object {
        let kind = match self.svc.kind {
            WorkloadKind::StatefulSet => "StatefulSet",
            _ => "Deployment",
        };
        let metric = |resource: &str, target: i32| autoscaling::MetricSpec {
            type_: "Resource".into(),
            resource: Some(autoscaling::ResourceMetricSource {
                name: resource.into(),
                target: autoscaling::MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: Some(target),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let mut metrics = Vec::new();
        if let Some(cpu) = a.cpu {
            metrics.push(metric("cpu", cpu));
        }
        if let Some(memory) = a.memory {
            metrics.push(metric("memory", memory));
        }
        let h = autoscaling::HorizontalPodAutoscaler {
            metadata: self.meta(self.cx.name),
            spec: autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: kind.into(),
                    name: self.cx.name.into(),
                },
                min_replicas: Some(a.min.unwrap_or(1)),
                max_replicas: a.max,
                metrics: non_empty_vec(metrics),
                behavior: None,
            },
            status: None,
        };
        Object::new(&h, self.cx.name, self.ns())
    }

    fn disruption_budget(&self, d: &model::Disruption) -> Object {
        let p = policy::PodDisruptionBudget {
            metadata: self.meta(self.cx.name),
            spec: Some(policy::PodDisruptionBudgetSpec {
                min_available: d.min_available.as_ref().map(int_or_string),
                max_unavailable: d.max_unavailable.as_ref().map(int_or_string),
                selector: Some(LabelSelector {
                    match_labels: Some(self.selector(STABLE)),
                    ..Default::default()
                }),
                unhealthy_pod_eviction_policy: None,
            }),
            status: None,
        };
        Object::new(&p, self.cx.name, self.ns())
    }

    fn raw_object(&self, key: &str, raw: &Json) -> Object {
        let mut value = raw.clone();
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let meta = value
            .as_object_mut()
            .expect("raw objects are tables")
            .entry("metadata")
            .or_insert_with(|| Json::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            meta.entry("name")
                .or_insert_with(|| Json::String(key.to_string()));
            if !is_cluster_scoped(&kind) {
                meta.entry("namespace")
                    .or_insert_with(|| Json::String(self.namespace.clone()));
            }
            let labels = meta
                .entry("labels")
                .or_insert_with(|| Json::Object(Default::default()));
            if let Some(labels) = labels.as_object_mut() {
                for (k, v) in &self.labels {
                    labels
                        .entry(k.clone())
                        .or_insert_with(|| Json::String(v.clone()));
                }
            }
        }
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or(key)
            .to_string();
        let namespace = value["metadata"]["namespace"].as_str().map(str::to_string);
        Object {
            kind,
            name,
            namespace,
            value,
            raw_key: Some(key.to_string()),
        }
    }
}

struct Wiring {
    config: Option<String>,
    files: Option<String>,
}

const FILES_VOLUME: &str = "manifold-files";

/// Kinds that live outside namespaces, for raw objects.
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "PriorityClass"
            | "StorageClass"
            | "PersistentVolume"
            | "IngressClass"
            | "RuntimeClass"
            | "CustomResourceDefinition"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "CSIDriver"
            | "APIService"
    )
}

fn file_data(files: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(path, content)| (file_key(path), content.clone()))
        .collect()
}

/// The first 10 hex digits of a SHA-256 over the data: in the ConfigMap's
/// name, so a change of content is a change of name and rolls the pods.
fn content_hash(data: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in data {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    let digest = h.finalize();
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

fn env_vars(env: &BTreeMap<String, model::EnvValue>) -> Vec<core::EnvVar> {
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
                name: name.clone(),
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
            name: Some(p.name.clone()),
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

fn volume(v: &model::Volume) -> Option<core::Volume> {
    let mut out = core::Volume {
        name: v.name.clone(),
        ..Default::default()
    };
    if let Some(e) = &v.empty_dir {
        out.empty_dir = Some(core::EmptyDirVolumeSource {
            medium: e.memory.then(|| "Memory".to_string()),
            size_limit: e.size_limit.as_ref().map(|q| KQuantity(q.render())),
            ..Default::default()
        });
    } else if let Some(name) = &v.config_map {
        out.config_map = Some(core::ConfigMapVolumeSource {
            name: name.clone(),
            ..Default::default()
        });
    } else if let Some(name) = &v.secret {
        out.secret = Some(core::SecretVolumeSource {
            secret_name: Some(name.clone()),
            ..Default::default()
        });
    } else if let Some(claim) = &v.claim {
        out.persistent_volume_claim = Some(core::PersistentVolumeClaimVolumeSource {
            claim_name: claim.clone(),
            read_only: v.read_only,
        });
    } else {
        // `persistent` volumes are claim templates, not pod volumes.
        return None;
    }
    Some(out)
}

fn toleration(t: &model::Toleration) -> core::Toleration {
    core::Toleration {
        key: t.key.clone(),
        operator: t.operator.clone(),
        value: t.value.clone(),
        effect: t.effect.clone(),
        toleration_seconds: t.seconds,
    }
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

fn container_security(
    read_only_root: Option<bool>,
    escalation: Option<bool>,
    capabilities: Option<&Vec<String>>,
    non_root: Option<bool>,
) -> core::SecurityContext {
    core::SecurityContext {
        allow_privilege_escalation: Some(escalation.unwrap_or(false)),
        read_only_root_filesystem: Some(read_only_root.unwrap_or(true)),
        run_as_non_root: non_root,
        capabilities: Some(core::Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: capabilities.filter(|c| !c.is_empty()).cloned(),
        }),
        ..Default::default()
    }
}

fn port_ref(p: &model::PortRef) -> IntOrString {
    match p {
        model::PortRef::Number(n) => IntOrString::Int(*n),
        model::PortRef::Name(s) => IntOrString::String(s.clone()),
    }
}

fn int_or_string(v: &model::IntOrPercent) -> IntOrString {
    match v {
        model::IntOrPercent::Int(n) => IntOrString::Int(*n),
        model::IntOrPercent::Percent(s) => IntOrString::String(s.clone()),
    }
}

fn secs32(d: &str) -> i32 {
    i32::try_from(duration_seconds(d)).unwrap_or(i32::MAX)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn non_empty<K, V>(m: BTreeMap<K, V>) -> Option<BTreeMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

fn non_empty_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_changes_with_content_and_is_stable() {
        let a = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let b = BTreeMap::from([("A".to_string(), "2".to_string())]);
        assert_eq!(content_hash(&a), content_hash(&a.clone()));
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(content_hash(&a).len(), 10);
    }

    #[test]
    fn file_keys_are_valid_configmap_keys() {
        assert_eq!(
            file_key("/etc/petclinic/application.properties"),
            "etc_petclinic_application.properties"
        );
    }
}
