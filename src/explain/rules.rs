//! The table that leads a rendered field back to the typed keys that
//! produced it: `spec.template.spec.containers[0].resources.limits.cpu`
//! comes from `resources.cpu.limit` (or `resources.cpu`, request and limit
//! at once).
//!
//! A rule is a field pattern, the kinds it is for, groups of candidate
//! keys and, for a field manifold computes from several keys or shapes from
//! one, a sentence saying how. In each group the first key some layer sets
//! is the one that counts (a container's own key before the service's, a
//! track's before the service's). Fields no rule names are computed by
//! manifold from the service as a whole, and `explain` says so.
//!
//! Patterns: keys joined by `.`; `POD.` is the pod spec of any workload,
//! `TPL.` the pod template and `JOB.` the job spec (a CronJob's is inside
//! its `jobTemplate`); `containers[C]` is a container or init container;
//! `[N]` an item of a list, named by its `name`; `{K}` any key; `**` the
//! rest of the path. Keys: `C.` is the container's own table (nothing for
//! the main container, `containers.<name>.` or `init_containers.<name>.`
//! for the others), `SC.` the same for a side or init container only,
//! `T.` the object's track (`tracks.<name>.`), `MT.` the same for the main
//! container only (a track's `env` is the main container's), `S.` the
//! Service's table (`service.` or `extra_services.<key>.`), `N` and `K`
//! what the pattern named, `F` the `files` key whose ConfigMap key is `K`,
//! and `@env.` the environment file outside `[defaults]`.

/// One rule.
pub struct Rule {
    /// The kinds it is for; empty: every kind.
    pub kinds: &'static [&'static str],
    pub field: &'static str,
    pub keys: &'static [&'static [&'static str]],
    /// How manifold computes the field; `None` when it is the value of the
    /// key as written (a duration in seconds, a quantity as text).
    pub how: Option<&'static str>,
    /// `how` applies only when no layer sets the keys (a label manifold
    /// sets itself where no layer writes one).
    pub otherwise: bool,
}

const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"];

const fn rule(
    kinds: &'static [&'static str],
    field: &'static str,
    keys: &'static [&'static [&'static str]],
) -> Rule {
    Rule {
        kinds,
        field,
        keys,
        how: None,
        otherwise: false,
    }
}

const fn computed(
    kinds: &'static [&'static str],
    field: &'static str,
    keys: &'static [&'static [&'static str]],
    how: &'static str,
) -> Rule {
    Rule {
        kinds,
        field,
        keys,
        how: Some(how),
        otherwise: false,
    }
}

/// The value of the keys when a layer sets one, else computed as `how`
/// says.
const fn or_else(
    kinds: &'static [&'static str],
    field: &'static str,
    keys: &'static [&'static [&'static str]],
    how: &'static str,
) -> Rule {
    Rule {
        kinds,
        field,
        keys,
        how: Some(how),
        otherwise: true,
    }
}

/// The rules, most specific first: the first that matches a field is the
/// one that counts.
pub const RULES: &[Rule] = &[
    // Every object.
    rule(
        &[],
        "metadata.namespace",
        &[&["namespace", "@env.namespace"]],
    ),
    computed(
        &[],
        "metadata.name",
        &[&["name"]],
        "the service's name (the file name unless `name` is set), with the track, the extra Service's key or the content hash of a ConfigMap or Job after it",
    ),
    or_else(
        &[],
        "metadata.labels.{K}",
        &[&["labels.K", "@env.labels.K"]],
        "the labels of the service and of the environment, and those manifold sets itself (`app`, `env`, `track`, `version`, `group` and their `app.kubernetes.io/` forms)",
    ),
    rule(
        &["Service"],
        "metadata.annotations.{K}",
        &[&["S.annotations.K", "annotations.K", "@env.annotations.K"]],
    ),
    rule(
        &["Ingress"],
        "metadata.annotations.{K}",
        &[&[
            "ingress.annotations.K",
            "annotations.K",
            "@env.annotations.K",
        ]],
    ),
    rule(
        &["HTTPRoute"],
        "metadata.annotations.{K}",
        &[&["route.annotations.K", "annotations.K", "@env.annotations.K"]],
    ),
    rule(
        WORKLOADS,
        "metadata.annotations.{K}",
        &[&[
            "workload_annotations.K",
            "annotations.K",
            "@env.annotations.K",
        ]],
    ),
    rule(
        &[],
        "metadata.annotations.{K}",
        &[&["annotations.K", "@env.annotations.K"]],
    ),
    // Workloads.
    rule(WORKLOADS, "spec.replicas", &[&["T.replicas", "replicas"]]),
    computed(
        WORKLOADS,
        "spec.selector.**",
        &[&["selector"]],
        "`app` and `track`, or the kept `selector` of an adopted workload",
    ),
    or_else(
        WORKLOADS,
        "TPL.metadata.labels.{K}",
        &[&["labels.K", "@env.labels.K"]],
        "the labels of the service and of the environment, and `app`, `track`, `version` and `group` set by manifold",
    ),
    computed(
        WORKLOADS,
        "TPL.metadata.annotations.{K}",
        &[
            &["pod_annotations.K", "annotations.K", "@env.annotations.K"],
            &["metrics"],
        ],
        "`pod_annotations` over the service's and environment's `annotations`, and the Prometheus annotations of `[metrics]`",
    ),
    computed(
        &["Deployment"],
        "spec.strategy.type",
        &[&["rollout.strategy"]],
        "`rolling` is `RollingUpdate`, `recreate` is `Recreate`",
    ),
    rule(
        &[],
        "spec.strategy.rollingUpdate.maxSurge",
        &[&["rollout.max_surge"]],
    ),
    rule(
        &[],
        "spec.strategy.rollingUpdate.maxUnavailable",
        &[&["rollout.max_unavailable"]],
    ),
    computed(
        &["StatefulSet", "DaemonSet"],
        "spec.updateStrategy.type",
        &[&["rollout.strategy"]],
        "`rolling` is `RollingUpdate`, `on-delete` is `OnDelete`",
    ),
    rule(
        &[],
        "spec.updateStrategy.rollingUpdate.partition",
        &[&["rollout.partition"]],
    ),
    rule(
        &[],
        "spec.updateStrategy.rollingUpdate.maxSurge",
        &[&["rollout.max_surge"]],
    ),
    rule(
        &[],
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        &[&["rollout.max_unavailable"]],
    ),
    rule(WORKLOADS, "spec.minReadySeconds", &[&["rollout.min_ready"]]),
    rule(
        WORKLOADS,
        "spec.revisionHistoryLimit",
        &[&["rollout.history"]],
    ),
    rule(
        WORKLOADS,
        "spec.progressDeadlineSeconds",
        &[&["rollout.progress_deadline"]],
    ),
    computed(
        &["StatefulSet"],
        "spec.podManagementPolicy",
        &[&["rollout.pod_management"]],
        "`ordered` is `OrderedReady`, `parallel` is `Parallel`",
    ),
    or_else(
        &["StatefulSet"],
        "spec.serviceName",
        &[&["headless_service"]],
        "`<name>-headless`, the Service manifold renders for the pods",
    ),
    computed(
        &["StatefulSet"],
        "spec.volumeClaimTemplates.**",
        &[&["volumes"]],
        "the `persistent` volumes",
    ),
    rule(&["CronJob"], "spec.schedule", &[&["cron.schedule"]]),
    rule(&["CronJob"], "spec.timeZone", &[&["cron.time_zone"]]),
    computed(
        &["CronJob"],
        "spec.concurrencyPolicy",
        &[&["cron.concurrency"]],
        "`allow`, `forbid` or `replace`, capitalised",
    ),
    rule(
        &["CronJob"],
        "spec.successfulJobsHistoryLimit",
        &[&["cron.keep_successful"]],
    ),
    rule(
        &["CronJob"],
        "spec.failedJobsHistoryLimit",
        &[&["cron.keep_failed"]],
    ),
    rule(
        &["CronJob"],
        "spec.startingDeadlineSeconds",
        &[&["cron.starting_deadline"]],
    ),
    rule(&["CronJob"], "spec.suspend", &[&["cron.suspend"]]),
    rule(
        &["CronJob", "Job"],
        "JOB.backoffLimit",
        &[&["job.backoff_limit"]],
    ),
    rule(
        &["CronJob", "Job"],
        "JOB.completions",
        &[&["job.completions"]],
    ),
    rule(
        &["CronJob", "Job"],
        "JOB.parallelism",
        &[&["job.parallelism"]],
    ),
    rule(
        &["CronJob", "Job"],
        "JOB.activeDeadlineSeconds",
        &[&["job.active_deadline"]],
    ),
    rule(
        &["CronJob", "Job"],
        "JOB.ttlSecondsAfterFinished",
        &[&["job.ttl_after_finished"]],
    ),
    // Containers.
    computed(
        WORKLOADS,
        "POD.containers[C].name",
        &[&["SC.name", "container_name", "name"]],
        "a side container's `name`; the main container's is `container_name`, else the service's name",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].image",
        &[
            &["SC.image", "image"],
            &["SC.version", "T.version", "version"],
            &["SC.registry", "registry", "@env.registry"],
        ],
        "the registry, then the image, then `:version` (or `@sha256:...` for a digest); a side container without its own image or version takes the service's",
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].imagePullPolicy",
        &[&["C.image_pull_policy"]],
    ),
    rule(WORKLOADS, "POD.containers[C].command.**", &[&["C.command"]]),
    rule(WORKLOADS, "POD.containers[C].args.**", &[&["C.args"]]),
    rule(
        WORKLOADS,
        "POD.containers[C].workingDir",
        &[&["C.working_dir"]],
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].env[N].**",
        &[&["MT.env.N", "C.env.N"]],
        "the variable `N`: a literal as text, or a reference to a field, a resource, a Secret or a ConfigMap; a track's `env` is set over the service's",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].envFrom.**",
        &[&["C.env_from"], &["config"]],
        "the `env_from` sources, then the generated `config` ConfigMap of the main container",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].ports[N].**",
        &[&["C.ports.N"]],
        "the port `N`",
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.limits.cpu",
        &[&["C.resources.cpu.limit", "C.resources.cpu"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.requests.cpu",
        &[&["C.resources.cpu.request", "C.resources.cpu"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.limits.memory",
        &[&["C.resources.memory.limit", "C.resources.memory"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.requests.memory",
        &[&["C.resources.memory.request", "C.resources.memory"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.limits.ephemeral-storage",
        &[&[
            "C.resources.ephemeral_storage.limit",
            "C.resources.ephemeral_storage",
        ]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].resources.requests.ephemeral-storage",
        &[&[
            "C.resources.ephemeral_storage.request",
            "C.resources.ephemeral_storage",
        ]],
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].livenessProbe.**",
        &[&["C.probes.liveness"]],
        "the probe `probes.liveness`: durations in seconds, ports by number or name",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].readinessProbe.**",
        &[&["C.probes.readiness"]],
        "the probe `probes.readiness`: durations in seconds, ports by number or name",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].startupProbe.**",
        &[&["C.probes.startup"]],
        "the probe `probes.startup`: durations in seconds, ports by number or name",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].lifecycle.**",
        &[&["pre_stop"]],
        "the `pre_stop` handler",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].volumeMounts.**",
        &[&["SC.mounts"], &["volumes"], &["files"]],
        "the main container mounts the `volumes` that have a `mount` and the `files`; a side container its `mounts`",
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].securityContext.runAsUser",
        &[&["C.security.run_as_user"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].securityContext.runAsGroup",
        &[&["C.security.run_as_group"]],
    ),
    rule(
        WORKLOADS,
        "POD.containers[C].securityContext.privileged",
        &[&["C.security.privileged", "security.privileged"]],
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].securityContext.runAsNonRoot",
        &[
            &["C.security.run_as_non_root", "security.run_as_non_root"],
            &["security.profile"],
        ],
        "the key when a layer sets it, else `true` under the `hardened` and `restricted` profiles",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].securityContext.readOnlyRootFilesystem",
        &[
            &[
                "C.security.read_only_root_filesystem",
                "security.read_only_root_filesystem",
            ],
            &["security.profile"],
        ],
        "the key when a layer sets it, else `true` under the `hardened` profile",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].securityContext.allowPrivilegeEscalation",
        &[
            &[
                "C.security.allow_privilege_escalation",
                "security.allow_privilege_escalation",
            ],
            &["security.profile"],
        ],
        "the key when a layer sets it, else `false` under the `hardened` and `restricted` profiles",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].securityContext.capabilities.add",
        &[&["C.security.capabilities", "security.capabilities"]],
        "the `capabilities` added back",
    ),
    computed(
        WORKLOADS,
        "POD.containers[C].securityContext.**",
        &[&["security.profile"]],
        "the security profile: `hardened` and `restricted` drop every capability and use the `RuntimeDefault` seccomp profile",
    ),
    // The pod.
    rule(
        WORKLOADS,
        "POD.securityContext.runAsUser",
        &[&["security.run_as_user"]],
    ),
    rule(
        WORKLOADS,
        "POD.securityContext.runAsGroup",
        &[&["security.run_as_group"]],
    ),
    rule(
        WORKLOADS,
        "POD.securityContext.fsGroup",
        &[&["security.fs_group"]],
    ),
    computed(
        WORKLOADS,
        "POD.securityContext.runAsNonRoot",
        &[&["security.run_as_non_root"], &["security.profile"]],
        "the key when a layer sets it, else `true` under the `hardened` and `restricted` profiles",
    ),
    computed(
        WORKLOADS,
        "POD.securityContext.**",
        &[&["security.profile"]],
        "the security profile: `hardened` and `restricted` use the `RuntimeDefault` seccomp profile",
    ),
    computed(
        WORKLOADS,
        "POD.serviceAccountName",
        &[&["service_account"]],
        "`service_account`: an account's name, or the service's own account for `true`",
    ),
    computed(
        WORKLOADS,
        "POD.imagePullSecrets.**",
        &[&["pull_secrets", "@env.pull_secrets"]],
        "the service's `pull_secrets`, else the environment's",
    ),
    rule(
        WORKLOADS,
        "POD.terminationGracePeriodSeconds",
        &[&["termination_grace"]],
    ),
    rule(
        WORKLOADS,
        "POD.nodeSelector.{K}",
        &[&["placement.node_selector.K"]],
    ),
    computed(
        WORKLOADS,
        "POD.tolerations.**",
        &[&["placement.tolerations"]],
        "`placement.tolerations`",
    ),
    computed(
        WORKLOADS,
        "POD.affinity.**",
        &[&["placement.group_affinity"], &["group"]],
        "`placement.group_affinity`: the pods of the same `group` on the same nodes",
    ),
    computed(
        WORKLOADS,
        "POD.topologySpreadConstraints.**",
        &[&["placement.spread"]],
        "`placement.spread`: the pods spread over nodes and zones",
    ),
    computed(
        WORKLOADS,
        "POD.volumes[N].**",
        &[&["volumes.N"], &["files"]],
        "the volume `N`, or the volume of the generated `files` ConfigMap",
    ),
    rule(
        &["CronJob", "Job"],
        "POD.restartPolicy",
        &[&["job.restart"]],
    ),
    // Services.
    rule(&["Service"], "spec.type", &[&["S.type"]]),
    computed(
        &["Service"],
        "spec.clusterIP",
        &[&["S.type"]],
        "`None` for a headless Service",
    ),
    rule(&["Service"], "spec.ports[N].name", &[&["S.ports.N.name"]]),
    or_else(
        &["Service"],
        "spec.ports[N].port",
        &[&["S.ports.N.port"]],
        "the number of the container port `N`",
    ),
    or_else(
        &["Service"],
        "spec.ports[N].targetPort",
        &[&["S.ports.N.target_port"]],
        "the container port named like the Service port `N`",
    ),
    rule(
        &["Service"],
        "spec.ports[N].nodePort",
        &[&["S.ports.N.node_port"]],
    ),
    computed(
        &["Service"],
        "spec.ports[N].**",
        &[&["S.ports.N"]],
        "the Service port `N`",
    ),
    computed(
        &["Service"],
        "spec.selector.**",
        &[&["serve"]],
        "`app`, and the track `serve` names (the track of a track's own Service)",
    ),
    rule(
        &["Service"],
        "spec.sessionAffinity",
        &[&["S.session_affinity"]],
    ),
    rule(
        &["Service"],
        "spec.externalTrafficPolicy",
        &[&["S.external_traffic_policy"]],
    ),
    rule(
        &["Service"],
        "spec.loadBalancerClass",
        &[&["S.load_balancer_class"]],
    ),
    rule(
        &["Service"],
        "spec.loadBalancerSourceRanges",
        &[&["S.source_ranges"]],
    ),
    rule(&["Ingress"], "spec.ingressClassName", &[&["ingress.class"]]),
    computed(
        &["Ingress"],
        "spec.rules.**",
        &[
            &["ingress.host"],
            &["ingress.hosts"],
            &["ingress.paths"],
            &["ingress.path_type"],
            &["ingress.port"],
        ],
        "a rule a host, a path a `paths` entry, to the Service's port",
    ),
    computed(
        &["Ingress"],
        "spec.tls.**",
        &[&["ingress.tls"], &["ingress.host"], &["ingress.hosts"]],
        "the `tls` Secret for every host",
    ),
    computed(
        &["HTTPRoute"],
        "spec.parentRefs.**",
        &[&["route.gateway", "@env.gateway"]],
        "the route's `gateway`, else the environment's",
    ),
    computed(
        &["HTTPRoute"],
        "spec.hostnames.**",
        &[&["route.host"], &["route.hosts"]],
        "`host`, then each of `hosts`",
    ),
    computed(
        &["HTTPRoute"],
        "spec.rules.**",
        &[
            &["route.paths"],
            &["route.path_type"],
            &["route.port"],
            &["tracks"],
        ],
        "a match a path; canary tracks add rules and weights",
    ),
    rule(
        &["HorizontalPodAutoscaler"],
        "spec.minReplicas",
        &[&["autoscale.min"]],
    ),
    rule(
        &["HorizontalPodAutoscaler"],
        "spec.maxReplicas",
        &[&["autoscale.max"]],
    ),
    computed(
        &["HorizontalPodAutoscaler"],
        "spec.metrics.**",
        &[&["autoscale.cpu"], &["autoscale.memory"]],
        "a metric a target: average utilization of the requests, in percent",
    ),
    rule(
        &["PodDisruptionBudget"],
        "spec.minAvailable",
        &[&["disruption.min_available"]],
    ),
    rule(
        &["PodDisruptionBudget"],
        "spec.maxUnavailable",
        &[&["disruption.max_unavailable"]],
    ),
    computed(
        &["ConfigMap"],
        "data.{K}",
        &[&["config.K", "files.F"]],
        "a `[config]` value as text, or the content of the file whose path is `K` with `/` as `_`",
    ),
    computed(
        &["NetworkPolicy"],
        "spec.**",
        &[&["network_policy"]],
        "`[network_policy]`: its rules, services and groups as pod and namespace selectors",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::path::parse;
    use crate::explain::schema::{Found, find};

    /// A rule that names a key the schema does not have would send a
    /// reader to a key that cannot be written.
    #[test]
    fn every_key_a_rule_names_is_a_key_of_the_service_schema() {
        for rule in RULES {
            for key in rule.keys.iter().flat_map(|g| g.iter()) {
                if key.starts_with("@env.") {
                    continue;
                }
                // `C.` is the main container's (the service) or a side
                // container's table; `SC.` only a side container's.
                for main in [true, false] {
                    let concrete: Vec<&str> = key
                        .split('.')
                        .flat_map(|part| match part {
                            "C" if main => vec![],
                            "C" | "SC" => vec!["containers", "x"],
                            "T" | "MT" => vec!["tracks", "canary"],
                            "S" => vec!["service"],
                            "N" | "K" | "F" => vec!["x"],
                            other => vec![other],
                        })
                        .collect();
                    let segs = parse(&concrete.join(".")).unwrap();
                    assert!(
                        !matches!(find(&segs), Found::Unknown { .. }),
                        "{}: `{key}` is not a key of the service schema",
                        rule.field
                    );
                }
            }
        }
    }

    #[test]
    fn environment_keys_are_keys_of_the_environment_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::schema::ENVIRONMENT_SCHEMA).unwrap();
        for rule in RULES {
            for key in rule.keys.iter().flat_map(|g| g.iter()) {
                if let Some(rest) = key.strip_prefix("@env.") {
                    let top = rest.split('.').next().unwrap();
                    assert!(
                        schema["properties"].get(top).is_some(),
                        "{}: `{top}` is not a key of environment files",
                        rule.field
                    );
                }
            }
        }
    }
}
