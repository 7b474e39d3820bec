//! An app (a workload, its tracks and the objects around them) to a
//! service file: the one place where Kubernetes fields become typed keys.
//! The workload gives `kind`, `replicas`, the kept `selector`, `group`,
//! labels and annotations, `[rollout]`, `[cron]`, `[job]`; its pod gives
//! the rest (`map_pod.rs`, `security.rs`); its first container the main
//! container's keys (`map_container.rs`), and manifold's own generated
//! ConfigMaps `[config]` and `[files]`. The tracks get their `version`,
//! `replicas` and `env`; the Services, routes, autoscaler, budget and
//! account map in `map_objects.rs` and `map_routing.rs`.
//!
//! A new typed key is one more line here: what it does not cover is
//! brought back by the patches the round trip derives, so the file stays
//! correct while the typed part grows.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::{Group, items, pod_template};
use super::map_container::{container, duration, pre_stop};
use super::map_objects::{self, Target};
use super::map_pod::{self, PodContext};
use super::read::Object;
use super::security;
use super::toml::{Table, Toml};
use super::tracks::{App, service_name};
use crate::check::reserved_label;
use crate::model::{STABLE, Security};
use crate::render::{FILES_VOLUME, generated_name};

/// A service file being written, before its patches.
pub struct Mapped {
    pub name: String,
    pub table: Table,
    /// Which rendered object each input object of the group should become.
    pub targets: Vec<Target>,
}

/// What the environment the services are compiled for gives each of them:
/// a typed key must not write it again, and where the input lacks it, the
/// key must take it away if it can.
pub struct Context<'a> {
    pub namespace: &'a str,
    /// The environment has a `registry`.
    pub registry: bool,
    pub pull_secrets: &'a [String],
    /// The environment's `labels`.
    pub labels: &'a BTreeMap<String, String>,
    /// The environment's `[defaults.security]`.
    pub security: &'a Security,
    /// The environment's `gateway`, as an HTTPRoute's parent.
    pub gateway: Option<&'a Json>,
}

/// The service of an app.
pub fn service(app: &App, cx: &Context<'_>) -> Mapped {
    let g = &app.stable;
    let w = &g.workload().value;
    let name = service_name(w);
    let kept = kept_selector(w, &name);
    let mut t = Table::new();
    t.set("name", name.as_str());
    if let Some(kind) = kind_key(g.workload().kind()) {
        t.set("kind", kind);
    }
    let group = group_label(w);
    t.set_opt("group", group.as_deref());
    if let Some(ns) = g.namespace().filter(|ns| *ns != cx.namespace) {
        t.set("namespace", ns);
    }
    let template = pod_template(w);
    let spec = &template["spec"];
    let main = items(&spec["containers"]).next().unwrap_or(&Json::Null);
    let config = generated(g, &name, "config", config_source(main));
    let files = generated(g, &name, "files", files_source(spec));
    if main["name"].as_str() != Some(name.as_str()) {
        t.set_opt("container_name", main["name"].as_str());
    }
    let registry_off = cx.registry;
    container(
        main,
        &mut t,
        registry_off,
        config.as_ref().map(|c| c.0.as_str()),
    );
    t.set_opt("pre_stop", pre_stop(main));
    t.set_opt("replicas", w["spec"]["replicas"].as_i64());
    if !kept.is_empty() {
        t.set("selector", map_table(&kept));
        t.comment(
            "selector",
            "the live workload's selector, which cannot change: kept verbatim",
        );
        let pod = string_map(&template["metadata"]["labels"]);
        t.set("pod_labels", map_table(&pod));
        t.comment(
            "pod_labels",
            "its pods' labels, kept verbatim so that taking it over restarts no pod",
        );
    }
    t.set_opt("headless_service", headless(g, &name));
    labels(app, cx, !kept.is_empty(), &mut t);
    let workload = string_map(&w["metadata"]["annotations"]);
    if !workload.is_empty() {
        t.set("workload_annotations", map_table(&workload));
    }
    let pod_cx = PodContext {
        pull_secrets: cx.pull_secrets,
        group: group.as_deref(),
        name: &name,
    };
    map_pod::pod(spec, template, &pod_cx, &mut t);
    let files_typed = map_pod::volumes(w, spec, files.as_ref().map(|f| &f.1), &mut t);
    if let Some((_, data)) = &config {
        t.set("config", map_table(data));
    }
    let plan = security::plan(spec, cx.security);
    t.set("security", plan.service.clone());
    t.comment("security", security::comment(plan.profile));
    map_pod::side_containers(spec, &plan, registry_off, &mut t);
    workload_settings(w, &mut t);
    tracks(app, &mut t);
    let mut mapped = Mapped {
        name,
        table: t,
        targets: Vec::new(),
    };
    let generated: Vec<&str> = [config.as_ref().map(|c| c.0.as_str())]
        .into_iter()
        .chain([files.as_ref().filter(|_| files_typed).map(|f| f.0.as_str())])
        .flatten()
        .collect();
    map_objects::objects(app, &kept, &generated, cx, &mut mapped);
    mapped
}

fn kind_key(kind: &str) -> Option<&'static str> {
    match kind {
        "StatefulSet" => Some("statefulset"),
        "DaemonSet" => Some("daemonset"),
        "CronJob" => Some("cronjob"),
        "Job" => Some("job"),
        _ => None,
    }
}

/// The workload's `matchLabels` to keep: for a Deployment, StatefulSet or
/// DaemonSet whose selector has no expressions and is not manifold's own
/// (`app` and `track: stable`, which needs no key).
fn kept_selector(w: &Json, name: &str) -> BTreeMap<String, String> {
    let sel = &w["spec"]["selector"];
    let keeps = matches!(
        w["kind"].as_str(),
        Some("Deployment" | "StatefulSet" | "DaemonSet")
    ) && sel["matchExpressions"].is_null();
    let labels = string_map(&sel["matchLabels"]);
    let own = BTreeMap::from([
        ("app".to_string(), name.to_string()),
        ("track".to_string(), STABLE.to_string()),
    ]);
    if !keeps || labels == own {
        return BTreeMap::new();
    }
    labels
}

/// `headless_service`: a StatefulSet's `serviceName`, unless it is the
/// Service manifold renders itself.
fn headless(g: &Group, name: &str) -> Option<String> {
    let service = g.workload().value["spec"]["serviceName"].as_str()?;
    let own = format!("{name}-headless");
    let rendered = g
        .services
        .iter()
        .any(|s| s.name() == own && own_headless(&s.value, name));
    (service != own || !rendered).then(|| service.to_string())
}

/// Whether a Service is the headless one manifold renders for statefulset
/// `name` (as `<name>-headless`): selecting every track by `app`,
/// publishing pods that are not ready.
pub fn own_headless(s: &Json, name: &str) -> bool {
    string_map(&s["spec"]["selector"]) == BTreeMap::from([("app".to_string(), name.to_string())])
        && s["spec"]["publishNotReadyAddresses"] == true
        && s["spec"]["clusterIP"] == "None"
}

/// `group`: the workload's `group` label, else its
/// `app.kubernetes.io/part-of`.
fn group_label(w: &Json) -> Option<String> {
    let labels = &w["metadata"]["labels"];
    labels["group"]
        .as_str()
        .or(labels["app.kubernetes.io/part-of"].as_str())
        .map(str::to_string)
}

pub fn string_map(v: &Json) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

pub fn map_table(m: &BTreeMap<String, String>) -> Table {
    let mut t = Table::new();
    for (k, v) in m {
        t.set(k, v.as_str());
    }
    t
}

/// The ConfigMap the main container's last `envFrom` names, as manifold
/// wires `[config]`.
fn config_source(main: &Json) -> Option<&str> {
    let last = items(&main["envFrom"]).last()?;
    let plain = last.as_object()?.len() == 1 && last["configMapRef"].as_object()?.len() == 1;
    plain.then(|| last["configMapRef"]["name"].as_str())?
}

/// The ConfigMap of manifold's files volume.
fn files_source(spec: &Json) -> Option<&str> {
    let v = items(&spec["volumes"]).find(|v| v["name"] == FILES_VOLUME)?;
    let plain = v.as_object()?.len() == 2 && v["configMap"].as_object()?.len() == 1;
    plain.then(|| v["configMap"]["name"].as_str())?
}

/// The name and data of a ConfigMap manifold generated for the service
/// (`what` is `config` or `files`): one of the group whose name is the one
/// manifold gives its data, and that holds nothing but text data.
fn generated(
    g: &Group,
    name: &str,
    what: &str,
    source: Option<&str>,
) -> Option<(String, BTreeMap<String, String>)> {
    let cm = g.config_maps.iter().find(|c| Some(c.name()) == source)?;
    let keys = ["apiVersion", "kind", "metadata", "data"];
    if cm
        .value
        .as_object()?
        .keys()
        .any(|k| !keys.contains(&k.as_str()))
    {
        return None;
    }
    let data = string_map(&cm.value["data"]);
    let whole = cm.value["data"].as_object().map_or(0, |d| d.len()) == data.len();
    let expected = generated_name(name, what, data.clone())?;
    (whole && expected == cm.name()).then_some((expected, data))
}

/// `labels`: those every object of the service and its pods carry (but
/// the stable pods when they keep their own), but manifold's own and what
/// the environment's `labels` give them already.
fn labels(app: &App, cx: &Context<'_>, kept_pods: bool, t: &mut Table) {
    let g = &app.stable;
    let mut sets = Vec::new();
    let stable = std::iter::once(g.workload()).filter(|_| !kept_pods);
    for w in stable.chain(app.tracks.iter().map(|(_, w)| w)) {
        sets.push(string_map(&pod_template(&w.value)["metadata"]["labels"]));
    }
    for o in g.objects().chain(app.tracks.iter().map(|(_, w)| w)) {
        sets.push(string_map(&o.value["metadata"]["labels"]));
    }
    let common: BTreeMap<String, String> = sets[0]
        .iter()
        .filter(|(k, v)| reserved_label(k).is_none() && sets.iter().all(|s| s.get(*k) == Some(*v)))
        .filter(|(k, v)| cx.labels.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !common.is_empty() {
        t.set("labels", map_table(&common));
    }
}

/// `[rollout]`, `[cron]` and `[job]`.
fn workload_settings(w: &Json, t: &mut Table) {
    let spec = &w["spec"];
    let kind = w["kind"].as_str().unwrap_or_default();
    let mut r = Table::new();
    let strategy = spec.get("strategy").or(spec.get("updateStrategy"));
    let strategy = strategy.unwrap_or(&Json::Null);
    let rolling = &strategy["rollingUpdate"];
    match strategy["type"].as_str() {
        Some("Recreate") => r.set("strategy", "recreate"),
        Some("OnDelete") => r.set("strategy", "on-delete"),
        // Said without any of its parameters (which manifold writes
        // otherwise): the strategy alone.
        Some("RollingUpdate") if rolling.is_null() => r.set("strategy", "rolling"),
        _ => {}
    }
    if kind != "StatefulSet" {
        r.set_opt("max_surge", int_or_percent(&rolling["maxSurge"]));
        r.set_opt(
            "max_unavailable",
            int_or_percent(&rolling["maxUnavailable"]),
        );
    }
    r.set_opt("partition", rolling["partition"].as_i64());
    r.set_opt("min_ready", spec["minReadySeconds"].as_i64().map(duration));
    r.set_opt("history", spec["revisionHistoryLimit"].as_i64());
    r.set_opt(
        "progress_deadline",
        spec["progressDeadlineSeconds"].as_i64().map(duration),
    );
    match spec["podManagementPolicy"].as_str() {
        Some("Parallel") => r.set("pod_management", "parallel"),
        Some("OrderedReady") => r.set("pod_management", "ordered"),
        _ => {}
    }
    t.set_table("rollout", r);
    if kind == "CronJob" {
        t.set_table("cron", cron(spec));
        t.set_table("job", job(&spec["jobTemplate"]["spec"]));
    } else if kind == "Job" {
        t.set_table("job", job(spec));
    }
}

pub fn int_or_percent(v: &Json) -> Option<Toml> {
    match v {
        Json::Number(n) => n.as_i64().map(Toml::Int),
        Json::String(s) if s.ends_with('%') => Some(Toml::Str(s.clone())),
        _ => None,
    }
}

fn cron(spec: &Json) -> Table {
    let mut c = Table::new();
    c.set_opt("schedule", spec["schedule"].as_str());
    c.set_opt("time_zone", spec["timeZone"].as_str());
    c.set_opt(
        "concurrency",
        spec["concurrencyPolicy"].as_str().map(str::to_lowercase),
    );
    c.set_opt(
        "keep_successful",
        spec["successfulJobsHistoryLimit"].as_i64(),
    );
    c.set_opt("keep_failed", spec["failedJobsHistoryLimit"].as_i64());
    c.set_opt(
        "starting_deadline",
        spec["startingDeadlineSeconds"].as_i64().map(duration),
    );
    c.set_opt("suspend", spec["suspend"].as_bool());
    c
}

fn job(spec: &Json) -> Table {
    let mut j = Table::new();
    j.set_opt("backoff_limit", spec["backoffLimit"].as_i64());
    j.set_opt("completions", spec["completions"].as_i64());
    j.set_opt("parallelism", spec["parallelism"].as_i64());
    j.set_opt(
        "active_deadline",
        spec["activeDeadlineSeconds"].as_i64().map(duration),
    );
    j.set_opt(
        "ttl_after_finished",
        spec["ttlSecondsAfterFinished"].as_i64().map(duration),
    );
    if let Some(restart @ ("OnFailure" | "Never")) =
        spec["template"]["spec"]["restartPolicy"].as_str()
    {
        j.set("restart", restart);
    }
    j
}

/// `[[tracks]]`: each track's version, replica count and the variables
/// its main container sets over the stable one's, in order.
fn tracks(app: &App, t: &mut Table) {
    let stable = &app.stable.workload().value;
    let main = |w: &Json| {
        items(&pod_template(w)["spec"]["containers"])
            .next()
            .cloned()
    };
    let mut base = Table::new();
    if let Some(c) = main(stable) {
        container(&c, &mut base, false, None);
    }
    let mut list = Vec::new();
    for (track, w) in &app.tracks {
        let mut tt = Table::new();
        tt.set("name", track.as_str());
        let mut own = Table::new();
        if let Some(c) = main(&w.value) {
            container(&c, &mut own, false, None);
        }
        if own.get("version") != base.get("version") {
            tt.set_opt("version", own.get("version").cloned());
        }
        let replicas = w.value["spec"]["replicas"].as_i64();
        if replicas != stable["spec"]["replicas"].as_i64() {
            tt.set_opt("replicas", replicas);
        }
        tt.set_table("env", track_env(base.get("env"), own.get("env")));
        list.push(Toml::Table(tt));
    }
    if !list.is_empty() {
        t.set("tracks", Toml::Array(list));
    }
}

/// The variables of a track's container that differ from the stable
/// one's: set over them, they keep the stable ones' places and new ones
/// follow (what differs in order comes from the patch).
fn track_env(stable: Option<&Toml>, track: Option<&Toml>) -> Table {
    let mut out = Table::new();
    let (Some(Toml::Table(track)), stable) = (track, stable) else {
        return out;
    };
    for k in track.keys() {
        let value = track.get(k);
        let same = matches!(stable, Some(Toml::Table(s)) if s.get(k) == value);
        if let (false, Some(v)) = (same, value) {
            out.set(k, v.clone());
        }
    }
    out
}

/// An object's target: the rendered object it should become.
pub fn target(m: &mut Mapped, o: &Object, rendered: &str) {
    m.targets.push(Target {
        input: o.clone(),
        kind: o.kind().to_string(),
        rendered: rendered.to_string(),
    });
}
