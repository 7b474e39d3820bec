//! The workload of each track: a Deployment, StatefulSet, DaemonSet, CronJob
//! or Job, as `kind` says, for the main track and one per extra `[[tracks]]`
//! entry, with its `[rollout]` strategy or its `[cron]` and `[job]` settings.
//!
//! The pod template inside is built in `pod.rs` and its containers in
//! `container.rs`; the DaemonSet in `daemon_set.rs`; the StatefulSet's
//! governing headless Service is in `service.rs`, the replica count of an
//! autoscaled workload is left to the HorizontalPodAutoscaler of
//! `autoscaler.rs`, and a Job's name gets its hash in `job_name.rs`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{Object, Scope, int_or_string, non_empty_vec, secs32};
use crate::model::{self, STABLE, WorkloadKind, duration_seconds, version_label};

pub(super) fn render(scope: &Scope<'_>, out: &mut Vec<Object>) {
    let svc = scope.svc;
    let name = scope.cx.name;
    let version = svc.version.clone().unwrap_or_default();
    out.push(scope.workload(name, STABLE, &version, svc.replicas, &model::Env::default()));
    for track in &svc.tracks {
        let name = format!("{name}-{}", track.name);
        let version = track.version.clone().unwrap_or_else(|| version.clone());
        let replicas = track.replicas.or(svc.replicas);
        out.push(scope.workload(&name, &track.name, &version, replicas, &track.env));
    }
}

/// What the workload kinds share.
pub(super) struct Parts {
    pub(super) meta: ObjectMeta,
    pub(super) selector: LabelSelector,
    pub(super) template: core::PodTemplateSpec,
    /// `None` when the autoscaler owns the count.
    replicas: Option<i32>,
}

impl Scope<'_> {
    /// The workload `name` of one track.
    fn workload(
        &self,
        name: &str,
        track: &str,
        version: &str,
        replicas: Option<i32>,
        track_env: &model::Env,
    ) -> Object {
        let parts = self.parts(name, track, version, replicas, track_env);
        match self.svc.kind {
            WorkloadKind::Deployment => Object::new(&self.deployment(parts), name, self.ns()),
            WorkloadKind::StatefulSet => Object::new(&self.stateful_set(parts), name, self.ns()),
            WorkloadKind::DaemonSet => Object::new(&self.daemon_set(parts), name, self.ns()),
            WorkloadKind::CronJob => Object::new(&self.cron_job(parts), name, self.ns()),
            WorkloadKind::Job => Object::new(&self.job(parts), name, self.ns()),
        }
    }

    fn parts(
        &self,
        name: &str,
        track: &str,
        version: &str,
        replicas: Option<i32>,
        track_env: &model::Env,
    ) -> Parts {
        let labels = self.track_labels(track, version);
        let mut meta = self.meta(name);
        meta.labels = Some(labels.clone());
        // An adopted workload's pods keep the labels they have.
        let kept = &self.svc.pod_labels;
        let template_labels = if track == STABLE && !kept.is_empty() {
            kept.clone()
        } else {
            labels
        };
        if !self.svc.workload_annotations.is_empty() {
            let mut annotations = self.annotations.clone();
            annotations.extend(self.svc.workload_annotations.clone());
            meta.annotations = Some(annotations);
        }
        // The autoscaler owns the replica count of the main track.
        let replicas = if self.svc.autoscale.is_some() && track == STABLE {
            None
        } else {
            Some(replicas.unwrap_or(1))
        };
        Parts {
            meta,
            selector: LabelSelector {
                match_labels: Some(self.selector(track)),
                ..Default::default()
            },
            template: self.pod_template(template_labels, version, track_env),
            replicas,
        }
    }

    /// The labels of a track's workload and pods: the service's, `track`
    /// and `version`; the kept `selector` over them on the stable track, and
    /// none of its keys but `app` on the others, so their pods never match
    /// the stable workload's selector.
    fn track_labels(&self, track: &str, version: &str) -> BTreeMap<String, String> {
        let mut labels = self.labels.clone();
        labels.insert("track".into(), track.into());
        // A label value holds the tag, or a short digest: never `@sha256:`.
        let label = version_label(version);
        labels.insert("version".into(), label.into());
        labels.insert("app.kubernetes.io/version".into(), label.into());
        let kept = &self.svc.selector;
        if track == STABLE {
            labels.extend(kept.clone());
        } else {
            labels.retain(|k, _| k == "app" || k == "track" || !kept.contains_key(k));
        }
        labels
    }

    fn deployment(&self, parts: Parts) -> apps::Deployment {
        let rollout = &self.svc.rollout;
        apps::Deployment {
            metadata: parts.meta,
            spec: apps::DeploymentSpec {
                replicas: parts.replicas,
                selector: parts.selector,
                template: parts.template,
                strategy: self.deployment_strategy(),
                min_ready_seconds: rollout.min_ready.as_deref().map(secs32),
                revision_history_limit: rollout.history,
                progress_deadline_seconds: rollout.progress_deadline.as_deref().map(secs32),
                paused: None,
            },
            status: None,
        }
    }

    /// The strategy `[rollout]` asks for; `None` when it sets none of
    /// `strategy`, `max_surge` and `max_unavailable`, so the API server's
    /// default applies (RollingUpdate, 25% and 25%), as for a Deployment
    /// written without one.
    fn deployment_strategy(&self) -> Option<apps::DeploymentStrategy> {
        let rollout = &self.svc.rollout;
        let rolling = rollout.max_surge.is_some() || rollout.max_unavailable.is_some();
        match rollout.strategy.as_deref() {
            None if !rolling => None,
            Some("recreate") => Some(apps::DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            }),
            _ => Some(apps::DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: rolling.then(|| apps::RollingUpdateDeployment {
                    max_surge: rollout.max_surge.as_ref().map(int_or_string),
                    max_unavailable: rollout.max_unavailable.as_ref().map(int_or_string),
                }),
            }),
        }
    }

    fn stateful_set(&self, parts: Parts) -> apps::StatefulSet {
        let rollout = &self.svc.rollout;
        apps::StatefulSet {
            metadata: parts.meta,
            spec: apps::StatefulSetSpec {
                replicas: parts.replicas,
                selector: parts.selector,
                template: parts.template,
                service_name: Some(
                    self.svc
                        .headless_service
                        .clone()
                        .unwrap_or_else(|| self.headless_service_name()),
                ),
                update_strategy: self.stateful_set_strategy(),
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
        }
    }

    /// The update strategy `[rollout]` asks for; `None` when it sets
    /// neither `strategy` nor `partition` (the API server's default is a
    /// rolling update of every pod).
    fn stateful_set_strategy(&self) -> Option<apps::StatefulSetUpdateStrategy> {
        let rollout = &self.svc.rollout;
        match rollout.strategy.as_deref() {
            None if rollout.partition.is_none() => None,
            Some("on-delete") => Some(apps::StatefulSetUpdateStrategy {
                type_: Some("OnDelete".into()),
                rolling_update: None,
            }),
            _ => Some(apps::StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: rollout
                    .partition
                    .map(|p| apps::RollingUpdateStatefulSetStrategy {
                        partition: Some(p),
                        max_unavailable: None,
                    }),
            }),
        }
    }

    fn cron_job(&self, parts: Parts) -> batch::CronJob {
        let cron = &self.svc.cron;
        batch::CronJob {
            metadata: parts.meta,
            spec: batch::CronJobSpec {
                schedule: cron.schedule.clone().unwrap_or_default(),
                time_zone: cron.time_zone.clone(),
                concurrency_policy: cron.concurrency.as_deref().map(capitalize),
                successful_jobs_history_limit: cron.keep_successful,
                failed_jobs_history_limit: cron.keep_failed,
                starting_deadline_seconds: cron.starting_deadline.as_deref().map(duration_seconds),
                suspend: cron.suspend,
                job_template: batch::JobTemplateSpec {
                    metadata: None,
                    spec: Some(self.job_spec(parts.template)),
                },
            },
            status: None,
        }
    }

    fn job(&self, parts: Parts) -> batch::Job {
        batch::Job {
            metadata: parts.meta,
            spec: Some(self.job_spec(parts.template)),
            status: None,
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
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
