//! The pod template of a workload: its annotations (Prometheus scraping and
//! `pod_annotations`), and the pod spec around the containers: volumes and
//! mounts, the files volume, the service account, pull secrets, placement
//! (node selector, tolerations, group affinity, spread) and the pod security
//! context. Also the StatefulSet's claim templates for `persistent` volumes.
//!
//! The containers themselves are built in `container.rs`; the workload that
//! holds the template in `workload.rs`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{Scope, non_empty, non_empty_vec};
use crate::model::{self, duration_seconds, file_key};

/// The volume of the generated `files` ConfigMap.
pub const FILES_VOLUME: &str = "manifold-files";

impl Scope<'_> {
    /// The pod template of one track, whose pods carry `labels`.
    pub(super) fn pod_template(
        &self,
        labels: BTreeMap<String, String>,
        version: &str,
        track_env: &model::Env,
    ) -> core::PodTemplateSpec {
        core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels),
                annotations: non_empty(self.pod_annotations()),
                ..Default::default()
            }),
            spec: Some(self.pod_spec(version, track_env)),
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
                    .find(|p| p.name.as_ref() == Some(name))
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

    fn pod_spec(&self, version: &str, track_env: &model::Env) -> core::PodSpec {
        let svc = self.svc;
        let image = svc.image.clone().unwrap_or_default();
        let mut containers = vec![self.main_container(&image, version, track_env)];
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
        let pull_secrets = svc
            .pull_secrets
            .clone()
            .unwrap_or_else(|| self.cx.env.pull_secrets.clone());
        core::PodSpec {
            containers,
            init_containers: non_empty_vec(init),
            volumes: non_empty_vec(self.volumes()),
            service_account_name: self.service_account_name(),
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
            topology_spread_constraints: svc.placement.spread.then(|| self.spread()),
            security_context: self.pod_security(),
            ..Default::default()
        }
    }

    /// The pod's volumes: the listed ones and the files volume.
    fn volumes(&self) -> Vec<core::Volume> {
        let mut volumes: Vec<core::Volume> = self.svc.volumes.iter().filter_map(volume).collect();
        if let Some(cm) = &self.wiring.files {
            volumes.push(core::Volume {
                name: FILES_VOLUME.into(),
                config_map: Some(core::ConfigMapVolumeSource {
                    name: cm.name.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        volumes
    }

    /// The main container's mounts: the volumes with a `mount` path, then
    /// each of the `files` at its path.
    pub(super) fn main_mounts(&self) -> Vec<core::VolumeMount> {
        let svc = self.svc;
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
        if self.wiring.files.is_some() {
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
        mounts
    }

    /// `placement.spread`: pods spread over nodes, as a preference.
    fn spread(&self) -> Vec<core::TopologySpreadConstraint> {
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
    }

    /// The pod's security context: the `run_as_*` settings and `fs_group`,
    /// and, under the restricting profiles, non-root and the
    /// `RuntimeDefault` seccomp profile unless the input says otherwise.
    /// `None` when empty (`baseline` and `privileged` with nothing set).
    fn pod_security(&self) -> Option<core::PodSecurityContext> {
        let sec = &self.svc.security;
        let strict = sec.profile.unwrap_or_default().restricts();
        let context = core::PodSecurityContext {
            run_as_non_root: sec.run_as_non_root.or(strict.then_some(true)),
            run_as_user: sec.run_as_user,
            run_as_group: sec.run_as_group,
            fs_group: sec.fs_group,
            seccomp_profile: strict.then(|| core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..Default::default()
        };
        (context != core::PodSecurityContext::default()).then_some(context)
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

    /// The StatefulSet's claim templates: one per `persistent` volume.
    pub(super) fn claim_templates(&self) -> Vec<core::PersistentVolumeClaim> {
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
    } else if let Some(path) = &v.host_path {
        out.host_path = Some(core::HostPathVolumeSource {
            path: path.clone(),
            type_: None,
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
