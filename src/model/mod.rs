//! Typed service and environment definitions.
//!
//! These mirror `schemas/*.schema.json` key for key and are deserialized from a
//! tree that already passed the schema, so a mismatch here is a bug, not a user
//! error. Defaults that the schema documents live here as `serde` defaults:
//! they are the lowest layer of the merge order. `names` holds the
//! Kubernetes name grammars and the paths of output files; `scopes` which
//! kinds are namespaced; `version` the forms of an image version (tags and
//! digests); `security` the security profiles; `promotion` the order of
//! environments a release goes through; `date` the calendar dates of policy
//! exceptions.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

mod date;
pub mod names;
mod promotion;
mod scopes;
mod security;
mod units;
mod version;

pub use date::Date;
pub use promotion::{promotion_circles, promotion_order};
pub use scopes::{ResourceScope, Scopes, api_group};
pub use security::{BASELINE_CAPABILITIES, Profile, RESTRICTED_CAPABILITY, Setting};
pub use units::{duration_seconds, is_image_host, parse_quantity, quantity_value};
pub use version::{digest_problem, image_suffix, version_label};

/// The track every service has: the main workload.
pub const STABLE: &str = "stable";

/// The ConfigMap key of a file: its path without the leading `/`, with `/`
/// written as `_`.
pub fn file_key(path: &str) -> String {
    path.trim_start_matches('/').replace('/', "_")
}

/// The branch environments are published to unless they name their own.
pub const DEFAULT_BRANCH: &str = "gitops";

/// Files manifold writes at the root of every gitops branch.
pub const ROOT_FILES: [&str; 2] = [".gitattributes", "README.md"];

/// Annotations that keep an object when it leaves the gitops branch: Flux
/// and Argo CD prune what leaves, and these objects hold what nobody can
/// render again (everything made in a namespace, the data on a volume).
pub const KEEP_ON_PRUNE: [(&str, &str); 2] = [
    ("argocd.argoproj.io/sync-options", "Prune=false"),
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
];

/// Kinds that hold data and so carry [`KEEP_ON_PRUNE`].
pub const HOLDS_DATA: [&str; 3] = ["Namespace", "PersistentVolume", "PersistentVolumeClaim"];

pub type Map = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    #[default]
    Deployment,
    StatefulSet,
    /// One pod on every node its placement allows: node agents, log
    /// shippers.
    DaemonSet,
    CronJob,
    Job,
}

impl WorkloadKind {
    /// The word the kind is written as in a service file (`kind = "..."`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::CronJob => "cronjob",
            WorkloadKind::Job => "job",
        }
    }

    /// Kinds whose pod count is chosen: `replicas`, an autoscaler.
    pub fn has_replicas(self) -> bool {
        matches!(self, WorkloadKind::Deployment | WorkloadKind::StatefulSet)
    }

    /// Kinds whose pods run until replaced, so can be served by a Service.
    pub fn runs_forever(self) -> bool {
        self.has_replicas() || self == WorkloadKind::DaemonSet
    }

    /// Kinds whose pods run to completion: `[job]` applies.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::CronJob | WorkloadKind::Job)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    pub name: Option<String>,
    pub container_name: Option<String>,
    pub enabled: Option<bool>,
    pub kind: WorkloadKind,
    pub group: Option<String>,
    pub namespace: Option<String>,
    pub registry: Option<Registry>,
    pub image: Option<String>,
    pub version: Option<String>,
    pub replicas: Option<i32>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub image_pull_policy: Option<String>,
    pub env: Env,
    pub env_from: Vec<EnvFrom>,
    pub ports: Vec<Port>,
    pub probes: Probes,
    pub resources: Resources,
    pub volumes: Vec<Volume>,
    pub config: BTreeMap<String, Scalar>,
    pub files: BTreeMap<String, String>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub service: Option<ServiceSpec>,
    pub extra_services: BTreeMap<String, ServiceSpec>,
    pub ingress: Option<Ingress>,
    pub route: Option<Route>,
    pub tracks: Vec<Track>,
    pub serve: Option<String>,
    pub rollout: Rollout,
    pub cron: Cron,
    pub job: Job,
    pub placement: Placement,
    pub metrics: Option<Metrics>,
    pub security: Security,
    pub service_account: Option<AccountRef>,
    pub pull_secrets: Option<Vec<String>>,
    pub termination_grace: Option<String>,
    pub pre_stop: Option<Handler>,
    pub autoscale: Option<Autoscale>,
    pub disruption: Option<Disruption>,
    pub network_policy: Option<NetworkPolicy>,
    pub labels: Map,
    /// Kept selector labels of an adopted workload: the stable track's
    /// selector, verbatim.
    pub selector: Map,
    /// The stable track's pod labels, verbatim, for an adopted workload
    /// whose pod template must not change.
    pub pod_labels: Map,
    /// A StatefulSet's governing Service, when it is not `<name>-headless`.
    pub headless_service: Option<String>,
    pub annotations: Map,
    pub workload_annotations: Map,
    pub pod_annotations: Map,
    pub patches: BTreeMap<String, Json>,
    pub objects: BTreeMap<String, Json>,
    /// Policy checks waived for this service (`[[exceptions]]`).
    pub exceptions: Vec<Exception>,
}

/// One `[[exceptions]]` entry: a policy check this service is excused
/// from, why, and until when.
#[derive(Clone, Debug, Deserialize)]
pub struct Exception {
    /// The policy id, as in `diag::Code::POLICIES`.
    pub check: String,
    pub reason: String,
    /// A TOML date (`2027-01-31`), kept as written; the last day the
    /// exception holds, in UTC.
    pub expires: Option<String>,
}

/// A service's or container's `registry`: a prefix, or `false` for images
/// used as written.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Registry {
    Prefix(String),
    /// Always `false` (the schema allows nothing else).
    Off(bool),
}

/// The image reference of a container: the repository with the registry in
/// front, unless the image names its own host or the registry is off, then
/// `:tag`, `:tag@sha256:...` or `@sha256:...` (see [`image_suffix`]).
/// `container` overrides `service`, which overrides the environment's `env`
/// registry.
pub fn image_reference(
    image: &str,
    version: &str,
    container: Option<&Registry>,
    service: Option<&Registry>,
    env: Option<&str>,
) -> String {
    let suffix = image_suffix(version);
    match effective_registry(container, service, env) {
        Some(r) if !is_image_host(image) => {
            format!("{}/{image}{suffix}", r.trim_end_matches('/'))
        }
        _ => format!("{image}{suffix}"),
    }
}

/// The registry that applies, if any.
pub fn effective_registry<'a>(
    container: Option<&'a Registry>,
    service: Option<&'a Registry>,
    env: Option<&'a str>,
) -> Option<&'a str> {
    match container.or(service) {
        Some(Registry::Prefix(r)) => Some(r),
        Some(Registry::Off(_)) => None,
        None => env,
    }
}

/// A literal that is rendered as a string whatever its TOML type.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

impl Scalar {
    pub fn render(&self) -> String {
        match self {
            Scalar::String(s) => s.clone(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Boolean(b) => b.to_string(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum EnvValue {
    Literal(Scalar),
    Field {
        field: String,
    },
    Resource {
        resource: String,
        divisor: Option<Quantity>,
    },
    Secret {
        secret: String,
        key: String,
        optional: Option<bool>,
    },
    ConfigMap {
        config_map: String,
        key: String,
        optional: Option<bool>,
    },
}

/// Environment variables in written order, the order they are rendered in:
/// Kubernetes expands `$(VAR)` in a value only from `envFrom` and the
/// variables before it. Across layers a variable keeps the place where it was
/// first written and takes the value written last (see [`Env::set`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Env(Vec<(String, EnvValue)>);

impl Env {
    /// The variables in rendering order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &EnvValue)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    pub fn get(&self, name: &str) -> Option<&EnvValue> {
        self.position(name).map(|i| &self.0[i].1)
    }

    /// The place of `name` in rendering order.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|(n, _)| n == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets a variable: a new one goes last, an existing one keeps its place.
    pub fn set(&mut self, name: String, value: EnvValue) {
        match self.position(&name) {
            Some(i) => self.0[i].1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// These variables with `over`'s set over them, in `over`'s order (a
    /// track's variables over the service's).
    pub fn overlaid(&self, over: &Env) -> Env {
        let mut env = self.clone();
        for (name, value) in over.iter() {
            env.set(name.to_string(), value.clone());
        }
        env
    }
}

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Env;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of environment variables")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Env, A::Error> {
                let mut env = Env::default();
                while let Some((name, value)) = map.next_entry::<String, EnvValue>()? {
                    env.set(name, value);
                }
                Ok(env)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum EnvFrom {
    ConfigMap {
        config_map: String,
        prefix: Option<String>,
        optional: Option<bool>,
    },
    Secret {
        secret: String,
        prefix: Option<String>,
        optional: Option<bool>,
    },
}

/// A quantity as written: TOML numbers are accepted and rendered as text.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Quantity {
    Text(String),
    Number(f64),
}

impl Quantity {
    pub fn render(&self) -> String {
        match self {
            Quantity::Text(s) => s.clone(),
            Quantity::Number(n) => n.to_string(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Port {
    /// `None`: an unnamed port, referred to by its number.
    pub name: Option<String>,
    pub port: Option<i32>,
    pub protocol: Option<String>,
}

/// A port number, or the name of a declared port.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PortRef {
    Number(i32),
    Name(String),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Probe {
    pub http: Option<HttpCheck>,
    pub tcp: Option<TcpCheck>,
    pub grpc: Option<GrpcCheck>,
    pub exec: Option<Vec<String>>,
    pub initial_delay: Option<String>,
    pub period: Option<String>,
    pub timeout: Option<String>,
    pub failure_threshold: Option<i32>,
    pub success_threshold: Option<i32>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct HttpCheck {
    pub path: Option<String>,
    pub port: PortRef,
    pub scheme: Option<String>,
    #[serde(default)]
    pub headers: Map,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TcpCheck {
    pub port: PortRef,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GrpcCheck {
    pub port: i32,
    pub service: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub cpu: Option<Resource>,
    pub memory: Option<Resource>,
    pub ephemeral_storage: Option<Resource>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Resource {
    Both(Quantity),
    Split {
        request: Option<Quantity>,
        limit: Option<Quantity>,
    },
}

impl Resource {
    pub fn request(&self) -> Option<&Quantity> {
        match self {
            Resource::Both(q) => Some(q),
            Resource::Split { request, .. } => request.as_ref(),
        }
    }

    pub fn limit(&self) -> Option<&Quantity> {
        match self {
            Resource::Both(q) => Some(q),
            Resource::Split { limit, .. } => limit.as_ref(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct Volume {
    pub name: String,
    pub mount: Option<String>,
    pub sub_path: Option<String>,
    pub read_only: Option<bool>,
    pub empty_dir: Option<EmptyDir>,
    pub config_map: Option<String>,
    pub secret: Option<String>,
    pub claim: Option<String>,
    /// A path on the node (hostPath).
    pub host_path: Option<String>,
    pub persistent: Option<Persistent>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmptyDir {
    pub memory: bool,
    pub size_limit: Option<Quantity>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Persistent {
    pub size: Quantity,
    pub storage_class: Option<String>,
    #[serde(default)]
    pub access_modes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Mount {
    pub volume: String,
    pub path: String,
    pub sub_path: Option<String>,
    pub read_only: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub registry: Option<Registry>,
    pub version: Option<String>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub image_pull_policy: Option<String>,
    #[serde(default)]
    pub env: Env,
    #[serde(default)]
    pub env_from: Vec<EnvFrom>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub probes: Probes,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default)]
    pub security: ContainerSecurity,
    pub restart: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub ports: Vec<ServicePort>,
    pub annotations: Map,
    pub labels: Map,
    pub session_affinity: Option<String>,
    pub external_traffic_policy: Option<String>,
    pub load_balancer_class: Option<String>,
    pub source_ranges: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ServicePort {
    pub name: String,
    pub port: Option<i32>,
    /// `None`: the container port named `name`.
    pub target_port: Option<PortRef>,
    pub node_port: Option<i32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Ingress {
    pub class: Option<String>,
    pub host: Option<String>,
    pub hosts: Vec<String>,
    pub paths: Option<Vec<String>>,
    pub path_type: Option<String>,
    pub port: Option<String>,
    pub tls: Option<String>,
    pub annotations: Map,
}

impl Ingress {
    pub fn all_hosts(&self) -> Vec<&str> {
        all_hosts(&self.host, &self.hosts)
    }
}

/// `host` first, then each of `hosts` not already named.
fn all_hosts<'a>(host: &'a Option<String>, more: &'a [String]) -> Vec<&'a str> {
    let mut hosts: Vec<&str> = host.iter().map(String::as_str).collect();
    for h in more {
        if !hosts.contains(&h.as_str()) {
            hosts.push(h);
        }
    }
    hosts
}

/// `[route]`: an HTTPRoute of the Gateway API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Route {
    /// `None`: the environment's `gateway`.
    pub gateway: Option<Gateway>,
    pub host: Option<String>,
    pub hosts: Vec<String>,
    pub paths: Option<Vec<String>>,
    pub path_type: Option<String>,
    pub port: Option<String>,
    pub annotations: Map,
}

impl Route {
    pub fn all_hosts(&self) -> Vec<&str> {
        all_hosts(&self.host, &self.hosts)
    }
}

/// A Gateway (Gateway API) that routes attach to: an environment's
/// `gateway`, or a route's own.
#[derive(Clone, Debug, Deserialize)]
pub struct Gateway {
    pub name: String,
    /// `None`: the route's namespace.
    pub namespace: Option<String>,
    /// The listener (`sectionName`); `None`: every listener.
    pub section: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Track {
    pub name: String,
    pub version: Option<String>,
    pub replicas: Option<i32>,
    #[serde(default)]
    pub env: Env,
    pub weight: Option<i32>,
    pub header: Option<String>,
    pub header_value: Option<String>,
    pub cookie: Option<String>,
}

impl Track {
    pub fn takes_canary_traffic(&self) -> bool {
        self.weight.is_some() || self.header.is_some() || self.cookie.is_some()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum IntOrPercent {
    Int(i32),
    Percent(String),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Rollout {
    pub strategy: Option<String>,
    pub max_surge: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    pub min_ready: Option<String>,
    pub history: Option<i32>,
    pub progress_deadline: Option<String>,
    pub partition: Option<i32>,
    pub pod_management: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Cron {
    pub schedule: Option<String>,
    pub time_zone: Option<String>,
    pub concurrency: Option<String>,
    pub keep_successful: Option<i32>,
    pub keep_failed: Option<i32>,
    pub starting_deadline: Option<String>,
    pub suspend: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Job {
    pub backoff_limit: Option<i32>,
    pub completions: Option<i32>,
    pub parallelism: Option<i32>,
    pub active_deadline: Option<String>,
    pub ttl_after_finished: Option<String>,
    pub restart: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Placement {
    pub group_affinity: bool,
    pub node_selector: Map,
    pub tolerations: Vec<Toleration>,
    pub spread: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub seconds: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Metrics {
    pub port: PortRef,
    pub path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Security {
    /// `None` is the default profile, [`Profile::Hardened`].
    pub profile: Option<Profile>,
    pub privileged: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub read_only_root_filesystem: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub capabilities: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContainerSecurity {
    pub privileged: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub read_only_root_filesystem: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub capabilities: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum AccountRef {
    Create(bool),
    Existing(String),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handler {
    Exec(Vec<String>),
    Sleep(String),
    Http { path: Option<String>, port: PortRef },
}

#[derive(Clone, Debug, Deserialize)]
pub struct Autoscale {
    pub min: Option<i32>,
    pub max: i32,
    pub cpu: Option<i32>,
    pub memory: Option<i32>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Disruption {
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
}

/// What a service of an environment shows the others: the namespace its
/// pods run in, the names of the ports they declare and whether its pods
/// carry `app`. Built for every
/// service of an environment before any is checked or rendered, so one
/// service can refer to another (network policies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    pub namespace: String,
    pub ports: Vec<String>,
    /// Its stable pods carry `pod_labels` without `app`, which policies
    /// select peers by.
    pub unlabelled: bool,
}

/// The services of one environment, by name.
pub type Directory = BTreeMap<String, Peer>;

/// `[network_policy]`: who may connect to the service's pods, and where
/// they may connect.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkPolicy {
    pub ingress: Vec<NetworkRule>,
    /// `None` leaves outgoing traffic unrestricted.
    pub egress: Option<Vec<NetworkRule>>,
}

/// One rule of a network policy: some peers, on some ports.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetworkRule {
    /// Services of the same environment, by name.
    pub services: Vec<String>,
    /// Every pod with one of these `group` labels.
    pub groups: Vec<String>,
    /// Namespace of the group peers; `*` for every namespace.
    pub namespace: Option<String>,
    /// Empty: every port.
    pub ports: Vec<PortRef>,
    /// Of the ports given by number; `None` is TCP.
    pub protocol: Option<String>,
}

/// `environments/<env>.toml`, without its `[defaults]` (merged separately).
#[derive(Clone, Debug, Deserialize)]
pub struct Environment {
    /// The environment releases reach this one from (`manifold status`).
    pub promote_from: Option<String>,
    pub namespace: String,
    pub kube_version: String,
    pub registry: Option<String>,
    #[serde(default)]
    pub pull_secrets: Vec<String>,
    #[serde(default)]
    pub labels: Map,
    #[serde(default)]
    pub annotations: Map,
    #[serde(default)]
    pub capacity: Capacity,
    #[serde(default)]
    pub gitops: GitOps,
    /// Where every `[route]` attaches, unless it names its own.
    pub gateway: Option<Gateway>,
    /// Whether the environment serves production: the policy checks meant
    /// for production (`disruption-budget`) run only here.
    #[serde(default)]
    pub production: bool,
    #[serde(default)]
    pub policy: Policy,
}

/// An environment's `[policy]`: the severity of each policy check, and
/// the settings some checks need.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Every image must name a `@sha256:` digest (`no-digest`).
    pub require_digest: bool,
    /// The registries images may come from (`registry`); `None` allows any.
    pub registries: Option<Vec<String>>,
    /// `<policy id> = "error" | "warning" | "off"`.
    #[serde(flatten)]
    pub levels: BTreeMap<String, Level>,
}

/// What a policy check's findings are in one environment.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Off,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Capacity {
    pub cpu: Option<Quantity>,
    pub memory: Option<Quantity>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct GitOps {
    pub branch: Option<String>,
    pub path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(s: &str) -> EnvValue {
        EnvValue::Literal(Scalar::String(s.into()))
    }

    #[test]
    fn env_keeps_the_written_order_and_sets_in_place() {
        let env: Env = serde_json::from_str(r#"{"Z": "1", "A": "2"}"#).unwrap();
        let names = |env: &Env| env.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&env), ["Z", "A"]);
        let mut over = Env::default();
        over.set("B".into(), literal("3"));
        over.set("Z".into(), literal("4"));
        let both = env.overlaid(&over);
        assert_eq!(names(&both), ["Z", "A", "B"]);
        assert_eq!(both.get("Z"), Some(&literal("4")));
        assert_eq!(both.position("B"), Some(2));
        assert_eq!(both.get("C"), None);
    }
}
