//! A group of objects to a service file: the one place where Kubernetes
//! fields become typed keys. The workload gives `kind`, `replicas`, the
//! kept `selector`, `[rollout]`, `[cron]`, `[job]`; its pod gives the
//! service account, pull secrets, placement, volumes and `[security]`; its
//! first container the main container's keys (`map_container.rs`), the
//! others `containers` and `init_containers`. The Services, autoscaler,
//! budget and account map in `map_objects.rs`.
//!
//! A new typed key is one more line here: what it does not cover is
//! brought back by the patches the round trip derives, so the file stays
//! correct while the typed part grows.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::{Group, items, pod_template};
use super::map_container::{container, duration, strings};
use super::map_objects::{self, Target};
use super::toml::{Table, Toml};
use crate::check::reserved_label;

/// A service file being written, before its patches.
pub struct Mapped {
    pub name: String,
    pub table: Table,
    /// Which rendered object each input object of the group should become.
    pub targets: Vec<Target>,
}

/// The service of a group. `namespace` is the environment's.
pub fn service(g: &Group, namespace: &str, registry_off: bool) -> Mapped {
    let w = &g.workload().value;
    let kept = kept_selector(w);
    let name = match kept.get("app") {
        Some(app) => app.clone(),
        None => g.workload().name().to_string(),
    };
    let mut t = Table::new();
    t.set("name", name.as_str());
    if let Some(kind) = kind_key(g.workload().kind()) {
        t.set("kind", kind);
    }
    if let Some(ns) = g.namespace().filter(|ns| *ns != namespace) {
        t.set("namespace", ns);
    }
    let template = pod_template(w);
    let spec = &template["spec"];
    if let Some(main) = items(&spec["containers"]).next() {
        if main["name"].as_str() != Some(name.as_str()) {
            t.set_opt("container_name", main["name"].as_str());
        }
        container(main, &mut t, registry_off);
    }
    t.set_opt("replicas", w["spec"]["replicas"].as_i64());
    if !kept.is_empty() {
        t.set("selector", map_table(&kept));
        t.comment(
            "selector",
            "the live workload's selector, which cannot change: kept verbatim",
        );
    }
    t.set_opt("headless_service", w["spec"]["serviceName"].as_str());
    labels(g, &mut t);
    annotations(w, template, &mut t);
    pod(spec, &mut t);
    volumes(w, spec, &mut t);
    security(spec, &mut t);
    side_containers(spec, &mut t, registry_off);
    workload_settings(w, &mut t);
    let mut mapped = Mapped {
        name,
        table: t,
        targets: Vec::new(),
    };
    map_objects::objects(g, &kept, &mut mapped);
    mapped
}

fn kind_key(kind: &str) -> Option<&'static str> {
    match kind {
        "StatefulSet" => Some("statefulset"),
        "CronJob" => Some("cronjob"),
        "Job" => Some("job"),
        _ => None,
    }
}

/// The workload's `matchLabels`, for a Deployment or StatefulSet whose
/// selector has no expressions.
fn kept_selector(w: &Json) -> BTreeMap<String, String> {
    let sel = &w["spec"]["selector"];
    let keeps = matches!(w["kind"].as_str(), Some("Deployment" | "StatefulSet"))
        && sel["matchExpressions"].is_null();
    string_map(&sel["matchLabels"])
        .into_iter()
        .filter(|_| keeps)
        .collect()
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

/// `labels`: those every object of the group and its pods carry, except
/// the ones manifold sets itself.
fn labels(g: &Group, t: &mut Table) {
    let w = &g.workload().value;
    let mut sets = vec![
        string_map(&w["metadata"]["labels"]),
        string_map(&pod_template(w)["metadata"]["labels"]),
    ];
    for o in g
        .services
        .iter()
        .chain(&g.autoscalers)
        .chain(&g.budgets)
        .chain(&g.accounts)
    {
        sets.push(string_map(&o.value["metadata"]["labels"]));
    }
    let common: BTreeMap<String, String> = sets[0]
        .iter()
        .filter(|(k, v)| reserved_label(k).is_none() && sets.iter().all(|s| s.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !common.is_empty() {
        t.set("labels", map_table(&common));
    }
}

/// The workload's own annotations and its pods'.
fn annotations(w: &Json, template: &Json, t: &mut Table) {
    let workload = string_map(&w["metadata"]["annotations"]);
    if !workload.is_empty() {
        t.set("workload_annotations", map_table(&workload));
    }
    let pod = string_map(&template["metadata"]["annotations"]);
    if !pod.is_empty() {
        t.set("pod_annotations", map_table(&pod));
    }
}

/// Pod settings with a typed key.
fn pod(spec: &Json, t: &mut Table) {
    let account = spec["serviceAccountName"].as_str();
    t.set_opt("service_account", account);
    let pull: Vec<String> = items(&spec["imagePullSecrets"])
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    if !pull.is_empty() {
        t.set("pull_secrets", pull);
    }
    t.set_opt(
        "termination_grace",
        spec["terminationGracePeriodSeconds"].as_i64().map(duration),
    );
    let mut placement = Table::new();
    let nodes = string_map(&spec["nodeSelector"]);
    if !nodes.is_empty() {
        placement.set("node_selector", map_table(&nodes));
    }
    let tolerations: Vec<Toml> = items(&spec["tolerations"]).map(toleration).collect();
    if !tolerations.is_empty() {
        placement.set("tolerations", Toml::Array(tolerations));
    }
    t.set_table("placement", placement);
}

fn toleration(v: &Json) -> Toml {
    let mut t = Table::new();
    for (key, field) in [
        ("key", "key"),
        ("operator", "operator"),
        ("value", "value"),
        ("effect", "effect"),
    ] {
        t.set_opt(key, v[field].as_str());
    }
    t.set_opt("seconds", v["tolerationSeconds"].as_i64());
    Toml::Table(t)
}

/// The pod's volumes, with the main container's mounts; a StatefulSet's
/// claim templates as `persistent` volumes.
fn volumes(w: &Json, spec: &Json, t: &mut Table) {
    let main = items(&spec["containers"])
        .next()
        .cloned()
        .unwrap_or_default();
    let mounts: Vec<&Json> = items(&main["volumeMounts"]).collect();
    let mut out = Vec::new();
    let sources = items(&spec["volumes"]).filter_map(volume_source);
    let claims = items(&w["spec"]["volumeClaimTemplates"]).filter_map(claim);
    for (name, mut v) in sources.chain(claims) {
        let mine: Vec<&&Json> = mounts
            .iter()
            .filter(|m| m["name"] == name.as_str())
            .collect();
        if let [m] = mine.as_slice() {
            v.set_opt("mount", m["mountPath"].as_str());
            v.set_opt("sub_path", m["subPath"].as_str());
            v.set_opt("read_only", m["readOnly"].as_bool());
        }
        out.push(Toml::Table(v));
    }
    if !out.is_empty() {
        t.set("volumes", Toml::Array(out));
    }
}

/// A pod volume of a typed source.
fn volume_source(v: &Json) -> Option<(String, Table)> {
    // manifold's own files volume, when importing its output: no typed key.
    let name = v["name"].as_str().filter(|n| *n != "manifold-files")?;
    let mut t = Table::new();
    t.set("name", name);
    if let Some(e) = v["emptyDir"].as_object() {
        let mut dir = Table::new();
        if e.get("medium").and_then(Json::as_str) == Some("Memory") {
            dir.set("memory", true);
        }
        dir.set_opt("size_limit", e.get("sizeLimit").and_then(Json::as_str));
        t.set("empty_dir", dir);
    } else if let Some(cm) = v["configMap"]["name"].as_str() {
        t.set("config_map", cm);
    } else if let Some(s) = v["secret"]["secretName"].as_str() {
        t.set("secret", s);
    } else if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str() {
        t.set("claim", c);
    } else {
        return None;
    }
    Some((name.to_string(), t))
}

/// A claim template as a `persistent` volume.
fn claim(c: &Json) -> Option<(String, Table)> {
    let name = c["metadata"]["name"].as_str()?;
    let spec = &c["spec"];
    let mut p = Table::new();
    p.set("size", spec["resources"]["requests"]["storage"].as_str()?);
    p.set_opt("storage_class", spec["storageClassName"].as_str());
    if let Some(modes) = strings(&spec["accessModes"]) {
        if modes != ["ReadWriteOnce"] {
            p.set("access_modes", modes);
        }
    }
    let mut t = Table::new();
    t.set("name", name);
    t.set("persistent", p);
    Some((name.to_string(), t))
}

/// `[security]`: what the pod and its main container set, and for what
/// they leave unset, Kubernetes' own defaults instead of manifold's secure
/// ones (a pod that ran as root must go on doing so).
fn security(spec: &Json, t: &mut Table) {
    let pod = &spec["securityContext"];
    let main = items(&spec["containers"])
        .next()
        .cloned()
        .unwrap_or_default();
    let c = &main["securityContext"];
    let mut s = Table::new();
    s.set_opt("run_as_user", pod["runAsUser"].as_i64());
    s.set_opt("run_as_group", pod["runAsGroup"].as_i64());
    s.set_opt("fs_group", pod["fsGroup"].as_i64());
    s.set(
        "run_as_non_root",
        pod["runAsNonRoot"].as_bool().unwrap_or(false),
    );
    container_security(c, &mut s);
    t.set("security", s);
    t.comment(
        "security",
        "as the input's pods run: Kubernetes' defaults where they set nothing",
    );
}

/// A container's privilege settings, Kubernetes' defaults where unset.
fn container_security(c: &Json, s: &mut Table) {
    s.set(
        "read_only_root_filesystem",
        c["readOnlyRootFilesystem"].as_bool().unwrap_or(false),
    );
    s.set(
        "allow_privilege_escalation",
        c["allowPrivilegeEscalation"].as_bool().unwrap_or(true),
    );
    if let Some(add) = strings(&c["capabilities"]["add"]) {
        s.set("capabilities", add);
    }
}

/// `containers` and `init_containers`.
fn side_containers(spec: &Json, t: &mut Table, registry_off: bool) {
    for (key, field, skip) in [
        ("containers", "containers", 1),
        ("init_containers", "initContainers", 0),
    ] {
        let list: Vec<Toml> = items(&spec[field])
            .skip(skip)
            .map(|c| {
                let mut ct = Table::new();
                ct.set_opt("name", c["name"].as_str());
                container(c, &mut ct, registry_off);
                ct.set_opt("restart", c["restartPolicy"].as_str());
                let mut s = Table::new();
                s.set_opt("run_as_user", c["securityContext"]["runAsUser"].as_i64());
                s.set_opt("run_as_group", c["securityContext"]["runAsGroup"].as_i64());
                s.set_opt(
                    "run_as_non_root",
                    c["securityContext"]["runAsNonRoot"].as_bool(),
                );
                container_security(&c["securityContext"], &mut s);
                ct.set("security", s);
                mounts(c, &mut ct);
                Toml::Table(ct)
            })
            .collect();
        if !list.is_empty() {
            t.set(key, Toml::Array(list));
        }
    }
}

fn mounts(c: &Json, t: &mut Table) {
    let list: Vec<Toml> = items(&c["volumeMounts"])
        .filter_map(|m| {
            let mut mt = Table::new();
            mt.set("volume", m["name"].as_str()?);
            mt.set("path", m["mountPath"].as_str()?);
            mt.set_opt("sub_path", m["subPath"].as_str());
            mt.set_opt("read_only", m["readOnly"].as_bool());
            Some(Toml::Table(mt))
        })
        .collect();
    if !list.is_empty() {
        t.set("mounts", Toml::Array(list));
    }
}

/// `[rollout]`, `[cron]` and `[job]`.
fn workload_settings(w: &Json, t: &mut Table) {
    let spec = &w["spec"];
    let mut r = Table::new();
    let strategy = spec.get("strategy").or(spec.get("updateStrategy"));
    let strategy = strategy.unwrap_or(&Json::Null);
    match strategy["type"].as_str() {
        Some("Recreate") => r.set("strategy", "recreate"),
        Some("OnDelete") => r.set("strategy", "on-delete"),
        _ => {}
    }
    let rolling = &strategy["rollingUpdate"];
    r.set_opt("max_surge", int_or_percent(&rolling["maxSurge"]));
    if w["kind"] == "Deployment" {
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
    if w["kind"] == "CronJob" {
        t.set_table("cron", cron(spec));
        t.set_table("job", job(&spec["jobTemplate"]["spec"]));
    } else if w["kind"] == "Job" {
        t.set_table("job", job(spec));
    }
}

fn int_or_percent(v: &Json) -> Option<Toml> {
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
