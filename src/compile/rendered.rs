//! The policy checks that read the rendered objects of a pair, after the
//! patches, so that what `patches` and `objects` write is checked like
//! what the typed keys write: readiness probes behind a Service, requests
//! and limits, floating tags, digests and registries of images, the host
//! settings of the security profile, disruption budgets in production,
//! and the concurrency policy of CronJobs.
//!
//! Each finding is shown where the input wrote it (see
//! `Policy::locate`). The settings of the security profile that typed
//! keys write are checked in `check/security.rs`; here only those written
//! by patches and raw objects, with the same rule (`Profile::allows`).

use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic, one_of};
use crate::input::tree::Step;
use crate::model::{Setting, is_image_host};
use crate::render::Object;

use super::policy::Policy;

/// Tags that name a branch or a channel, not a release.
const FLOATING_TAGS: [&str; 12] = [
    "latest",
    "stable",
    "main",
    "master",
    "dev",
    "develop",
    "development",
    "edge",
    "nightly",
    "head",
    "trunk",
    "canary",
];

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

fn path(keys: &[&str]) -> Vec<Step> {
    keys.iter().map(|k| key(k)).collect()
}

/// The path of the pod spec in an object of `kind`, for the kinds that
/// run pods.
fn pod_spec_path(kind: &str) -> Option<Vec<Step>> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            path(&["spec", "template", "spec"])
        }
        "CronJob" => path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => path(&["spec"]),
        _ => return None,
    })
}

fn get<'a>(value: &'a Json, steps: &[Step]) -> Option<&'a Json> {
    steps.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

/// One container of a rendered pod, and the keys of the input it came
/// from.
struct Container<'o> {
    value: &'o Json,
    name: &'o str,
    /// Its path in the object.
    field: Vec<Step>,
    /// Its table in the service: the service itself for the main
    /// container, `containers[i]` or `init_containers[i]` for the others.
    input: Vec<Step>,
    init: bool,
}

impl Container<'_> {
    fn field(&self, keys: &[&str]) -> Vec<Step> {
        let mut p = self.field.clone();
        p.extend(path(keys));
        p
    }

    /// The service keys that set `what` for this container, first found
    /// first; a side container falls back to the service's own.
    fn keys(&self, what: &[&str]) -> Vec<Vec<Step>> {
        let mut all: Vec<Vec<Step>> = what
            .iter()
            .map(|k| {
                let mut p = self.input.clone();
                p.push(key(k));
                p
            })
            .collect();
        if !self.input.is_empty() {
            all.extend(what.iter().map(|k| vec![key(k)]));
            all.push(self.input.clone());
        }
        all
    }
}

fn containers<'o>(object: &'o Object, pod: &[Step]) -> Vec<Container<'o>> {
    let mut out = Vec::new();
    for (list, input, init) in [
        ("containers", "containers", false),
        ("initContainers", "init_containers", true),
    ] {
        let mut at = pod.to_vec();
        at.push(key(list));
        let Some(Json::Array(items)) = get(&object.value, &at) else {
            continue;
        };
        for (i, value) in items.iter().enumerate() {
            let mut field = at.clone();
            field.push(Step::Index(i));
            let input = match (init, i) {
                (false, 0) => Vec::new(),
                (false, i) => vec![key(input), Step::Index(i - 1)],
                (true, i) => vec![key(input), Step::Index(i)],
            };
            out.push(Container {
                value,
                name: value["name"].as_str().unwrap_or_default(),
                field,
                input,
                init,
            });
        }
    }
    out
}

/// An image reference taken apart: where it comes from (host and path,
/// `docker.io/library/...` spelled out), its tag and whether it has a
/// digest.
struct Image<'a> {
    repository: String,
    tag: Option<&'a str>,
    digest: bool,
}

impl<'a> Image<'a> {
    fn parse(image: &'a str) -> Self {
        let (name, digest) = match image.split_once('@') {
            Some((name, _)) => (name, true),
            None => (image, false),
        };
        let last = name.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match name[last..].find(':') {
            Some(j) => (&name[..last + j], Some(&name[last + j + 1..])),
            None => (name, None),
        };
        let repository = if is_image_host(repo) {
            repo.to_string()
        } else if repo.contains('/') {
            format!("docker.io/{repo}")
        } else {
            format!("docker.io/library/{repo}")
        };
        Image {
            repository,
            tag,
            digest,
        }
    }

    fn host(&self) -> &str {
        self.repository.split('/').next().unwrap_or_default()
    }
}

impl Policy<'_> {
    /// Every policy finding in the rendered objects of the pair.
    pub(super) fn rendered(&self, objects: &[Object]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for object in objects {
            let Some(pod) = pod_spec_path(&object.kind) else {
                continue;
            };
            let containers = containers(object, &pod);
            for c in &containers {
                if let Some(image) = c.value["image"].as_str() {
                    self.image(object, c, image, &mut out);
                }
                self.resources(object, c, &mut out);
                self.privileged(object, c, &mut out);
            }
            self.readiness(object, objects, &pod, &containers, &mut out);
            self.host(object, &pod, &mut out);
            self.disruption_budget(object, objects, &mut out);
            self.cron_concurrency(object, &mut out);
        }
        out
    }

    fn image(&self, object: &Object, c: &Container<'_>, image: &str, out: &mut Vec<Diagnostic>) {
        let parsed = Image::parse(image);
        let field = c.field(&["image"]);
        let owned = field.len();
        let floating = match parsed.tag {
            _ if parsed.digest => None,
            None => Some(format!(
                "image `{image}` has no tag: it runs whatever `latest` is when the pod starts"
            )),
            Some(tag) if FLOATING_TAGS.contains(&tag.to_ascii_lowercase().as_str()) => {
                Some(format!(
                    "image `{image}` has the floating tag `{tag}`: it runs whatever the tag points to when the pod starts"
                ))
            }
            Some(_) => None,
        };
        if let Some(message) = floating {
            let d = Diagnostic::warning(Code::FloatingTag, message).hint(
                "pin a release (`version = \"1.4.2\"`) or a digest (`version = \"1.4.2@sha256:...\"`), or waive it: `[[exceptions]] check = \"floating-tag\"` with a reason",
            );
            let keys = self.version_keys(c, parsed.tag);
            out.push(self.locate(object, &field, owned, &keys, d));
        }
        if self.env.policy.require_digest && !parsed.digest {
            let d = Diagnostic::error(
                Code::NoDigest,
                format!(
                    "image `{image}` has no digest, and environment `{}` requires one",
                    self.env_name
                ),
            )
            .hint("add the digest to the version: `version = \"1.4.2@sha256:<64 hex digits>\"`, as the registry reports it");
            let keys = self.version_keys(c, parsed.tag);
            out.push(self.locate(object, &field, owned, &keys, d));
        }
        if let Some(allowed) = &self.env.policy.registries {
            let fits = allowed.iter().any(|r| {
                let r = r.trim_end_matches('/');
                parsed.repository == r || parsed.repository.starts_with(&format!("{r}/"))
            });
            if !fits {
                let d = Diagnostic::error(
                    Code::Registry,
                    format!(
                        "image `{image}` comes from `{}`, a registry environment `{}` does not allow",
                        parsed.host(),
                        self.env_name
                    ),
                )
                .hint(format!(
                    "pull it from {} (set `registry`, or the environment's), or add its registry to `[policy] registries`",
                    one_of(allowed)
                ));
                let keys = c.keys(&["registry", "image"]);
                out.push(self.locate(object, &field, owned, &keys, d));
            }
        }
    }

    /// Where an image's tag is written: the track that set it, the
    /// container's or service's `version`, its `image`.
    fn version_keys(&self, c: &Container<'_>, tag: Option<&str>) -> Vec<Vec<Step>> {
        let mut keys = Vec::new();
        if let (true, Some(tag), Some(crate::input::tree::Value::Array(tracks))) = (
            c.input.is_empty(),
            tag,
            self.tree.get("tracks").map(|n| &n.value),
        ) {
            for (i, track) in tracks.iter().enumerate() {
                if track.get("version").and_then(|v| v.as_str()) == Some(tag) {
                    keys.push(vec![key("tracks"), Step::Index(i), key("version")]);
                }
            }
        }
        keys.extend(c.keys(&["version", "image"]));
        keys
    }

    fn resources(&self, object: &Object, c: &Container<'_>, out: &mut Vec<Diagnostic>) {
        let r = &c.value["resources"];
        let missing: Vec<String> = [("requests", "request"), ("limits", "limit")]
            .iter()
            .flat_map(|(group, word)| {
                ["cpu", "memory"]
                    .into_iter()
                    .filter(move |what| r[group][what].is_null())
                    .map(move |what| format!("{what} {word}"))
            })
            .collect();
        let what = match missing.len() {
            0 => return,
            4 => "cpu or memory request or limit".to_string(),
            _ => or_list(&missing),
        };
        let container = if c.init {
            "init container"
        } else {
            "container"
        };
        let d = Diagnostic::warning(
            Code::Resources,
            format!("{container} `{}` sets no {what}", c.name),
        )
        .hint("set both in `[resources]`: `cpu = { request = \"100m\", limit = \"1\" }` and `memory = \"256Mi\"` (one value is the request and the limit)");
        let field = c.field(&["resources"]);
        let keys = c.keys(&["resources", "image"]);
        out.push(self.locate(object, &field, c.field.len(), &keys, d));
    }
}

/// The checks of a whole pod or workload.
impl Policy<'_> {
    /// Containers a Service of the pair sends traffic to that have no
    /// readiness probe.
    fn readiness(
        &self,
        object: &Object,
        objects: &[Object],
        pod: &[Step],
        containers: &[Container<'_>],
        out: &mut Vec<Diagnostic>,
    ) {
        if matches!(object.kind.as_str(), "Job" | "CronJob") {
            return;
        }
        let mut template = pod.to_vec();
        template.pop();
        template.extend(path(&["metadata", "labels"]));
        let labels = get(&object.value, &template);
        for service in objects.iter().filter(|o| o.kind == "Service") {
            let spec = &service.value["spec"];
            let Some(selector) = spec["selector"].as_object().filter(|s| !s.is_empty()) else {
                continue;
            };
            if !selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            {
                continue;
            }
            let targets: Vec<&Json> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p.get("targetPort").unwrap_or(&p["port"]))
                .collect();
            for c in containers.iter().filter(|c| !c.init) {
                let serves = c.value["ports"].as_array().into_iter().flatten().any(|p| {
                    targets
                        .iter()
                        .any(|t| **t == p["containerPort"] || (t.is_string() && **t == p["name"]))
                });
                if !serves || !c.value["readinessProbe"].is_null() {
                    continue;
                }
                let d = Diagnostic::warning(
                    Code::ReadinessProbe,
                    format!(
                        "container `{}` gets traffic from Service `{}` but has no readiness probe",
                        c.name, service.name
                    ),
                )
                .hint("add `[probes.readiness]` (`http = { path = \"/healthz\", port = \"http\" }`): the Service then sends requests only to pods that answer");
                let field = c.field(&["readinessProbe"]);
                let keys = c.keys(&["probes", "service", "ports"]);
                out.push(self.locate(object, &field, c.field.len(), &keys, d));
            }
            // One Service is enough to say it.
            break;
        }
    }

    fn privileged(&self, object: &Object, c: &Container<'_>, out: &mut Vec<Diagnostic>) {
        if c.value["securityContext"]["privileged"] == Json::Bool(true) {
            let what = format!("`privileged: true` in container `{}`", c.name);
            let field = c.field(&["securityContext", "privileged"]);
            self.profile(object, &field, what, Setting::Privileged, out);
        }
    }

    /// The node's namespaces and files in the pod spec.
    fn host(&self, object: &Object, pod: &[Step], out: &mut Vec<Diagnostic>) {
        for name in ["hostNetwork", "hostPID", "hostIPC"] {
            let mut field = pod.to_vec();
            field.push(key(name));
            if get(&object.value, &field) == Some(&Json::Bool(true)) {
                let what = format!("`{name}: true`");
                self.profile(object, &field, what, Setting::HostNamespace(name), out);
            }
        }
        let mut volumes = pod.to_vec();
        volumes.push(key("volumes"));
        let Some(Json::Array(items)) = get(&object.value, &volumes) else {
            return;
        };
        for (i, v) in items.iter().enumerate() {
            if v.get("hostPath").is_none() {
                continue;
            }
            let mut field = volumes.clone();
            field.extend([Step::Index(i), key("hostPath")]);
            let what = format!(
                "`hostPath` volume `{}`",
                v["name"].as_str().unwrap_or_default()
            );
            self.profile(object, &field, what, Setting::HostPath, out);
        }
    }

    /// A setting of the security profile, when a patch or a raw object
    /// wrote it (the typed keys are checked before rendering) and the
    /// service's profile forbids it.
    fn profile(
        &self,
        object: &Object,
        field: &[Step],
        what: String,
        setting: Setting<'_>,
        out: &mut Vec<Diagnostic>,
    ) {
        let profile = self.svc.security.profile.unwrap_or_default();
        let Err(needs) = profile.allows(setting) else {
            return;
        };
        let Some((depth, node, raw)) = super::pair::written_depth(object, field, self.tree) else {
            return;
        };
        if !raw && depth < field.len() {
            return;
        }
        let d = Diagnostic::error(
            Code::SecurityProfile,
            format!(
                "{what} in {} `{}` is not allowed by security profile `{}`",
                object.kind,
                object.name,
                profile.as_str()
            ),
        )
        .hint(format!(
            "set `security.profile = \"{}\"`, which allows it, or remove it",
            needs.as_str()
        ));
        out.push(d.at(node.origin.file, node.span(true)));
    }

    fn disruption_budget(&self, object: &Object, objects: &[Object], out: &mut Vec<Diagnostic>) {
        if !self.env.production || !matches!(object.kind.as_str(), "Deployment" | "StatefulSet") {
            return;
        }
        let autoscaler = objects.iter().find(|o| {
            o.kind == "HorizontalPodAutoscaler"
                && o.value["spec"]["scaleTargetRef"]["name"].as_str() == Some(&object.name)
        });
        let replicas = match autoscaler {
            Some(a) => a.value["spec"]["minReplicas"].as_i64().unwrap_or(1),
            None => object.value["spec"]["replicas"].as_i64().unwrap_or(1),
        };
        if replicas <= 1 {
            return;
        }
        let labels = &object.value["spec"]["template"]["metadata"]["labels"];
        let covered = objects.iter().any(|o| {
            o.kind == "PodDisruptionBudget"
                && o.value["spec"]["selector"]["matchLabels"]
                    .as_object()
                    .is_some_and(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
        });
        if covered {
            return;
        }
        let d = Diagnostic::warning(
            Code::DisruptionBudget,
            format!(
                "{} `{}` runs {replicas} replicas in production environment `{}` with no PodDisruptionBudget: draining nodes may stop them all at once",
                object.kind, object.name, self.env_name
            ),
        )
        .hint("add `[disruption]` with `max_unavailable = 1` (or `min_available`), which renders a PodDisruptionBudget");
        let field = path(&["spec", "replicas"]);
        let keys = [
            path(&["disruption"]),
            path(&["autoscale"]),
            path(&["replicas"]),
        ];
        out.push(self.locate(object, &field, field.len(), &keys, d));
    }

    fn cron_concurrency(&self, object: &Object, out: &mut Vec<Diagnostic>) {
        if object.kind != "CronJob" || !object.value["spec"]["concurrencyPolicy"].is_null() {
            return;
        }
        let d = Diagnostic::warning(
            Code::CronConcurrency,
            format!(
                "CronJob `{}` has no concurrency policy: Kubernetes starts a run while the previous one still runs",
                object.name
            ),
        )
        .hint("set `cron.concurrency = \"forbid\"` (skip a run while one runs) or `\"replace\"`; `\"allow\"` says overlapping runs are wanted");
        let field = path(&["spec", "concurrencyPolicy"]);
        let keys = [path(&["cron", "schedule"]), path(&["cron"])];
        out.push(self.locate(object, &field, field.len(), &keys, d));
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_give_their_registry_tag_and_digest() {
        let i = Image::parse("nginx");
        assert_eq!(
            (i.repository.as_str(), i.tag, i.digest),
            ("docker.io/library/nginx", None, false)
        );
        let i = Image::parse("registry.example.com:5000/team/web:1.2@sha256:abc");
        assert_eq!(
            (i.repository.as_str(), i.tag, i.digest, i.host()),
            (
                "registry.example.com:5000/team/web",
                Some("1.2"),
                true,
                "registry.example.com:5000"
            )
        );
        let i = Image::parse("bitnami/redis:latest");
        assert_eq!(
            (i.repository.as_str(), i.tag),
            ("docker.io/bitnami/redis", Some("latest"))
        );
    }
}
