//! The pod around the main container to typed keys: the service account,
//! pull secrets, grace period, placement (node selector, tolerations,
//! manifold's group affinity and spread), Prometheus annotations
//! (`[metrics]`), side and init containers, and the volumes with the main
//! container's mounts, a StatefulSet's claim templates as `persistent`
//! volumes and manifold's own files volume as `[files]`.
//!
//! Order is material: pod volumes, claim templates and mounts render in
//! the order of `volumes`, and what a patch adds comes after what the keys
//! render. So a volume or mount is typed only where the rendered order can
//! be the input's; from the first one that cannot, the rest come from the
//! patch, in their own order.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::items;
use super::map::{map_table, string_map};
use super::map_container::{container, duration, strings};
use super::security::Plan;
use super::toml::{Table, Toml};
use crate::model::file_key;
use crate::render::FILES_VOLUME;

/// What the environment gives every pod.
pub struct PodContext<'a> {
    pub pull_secrets: &'a [String],
    /// The service's `group`, for its node affinity.
    pub group: Option<&'a str>,
    pub name: &'a str,
}

/// Pod settings with a typed key.
pub fn pod(spec: &Json, template: &Json, cx: &PodContext<'_>, t: &mut Table) {
    t.set_opt("service_account", spec["serviceAccountName"].as_str());
    let pull: Vec<String> = items(&spec["imagePullSecrets"])
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    if pull != cx.pull_secrets {
        t.set("pull_secrets", pull);
    }
    t.set_opt(
        "termination_grace",
        spec["terminationGracePeriodSeconds"].as_i64().map(duration),
    );
    t.set_table("placement", placement(spec, cx));
    metrics(spec, template, t);
}

fn placement(spec: &Json, cx: &PodContext<'_>) -> Table {
    let mut placement = Table::new();
    if let Some(group) = cx.group {
        let term = serde_json::json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "group", "operator": "In", "values": [group]}]}]
        }}});
        if spec["affinity"] == term {
            placement.set("group_affinity", true);
        }
    }
    let nodes = string_map(&spec["nodeSelector"]);
    if !nodes.is_empty() {
        placement.set("node_selector", map_table(&nodes));
    }
    let tolerations: Option<Vec<Toml>> = items(&spec["tolerations"]).map(toleration).collect();
    if let Some(list) = tolerations.filter(|l| !l.is_empty()) {
        placement.set("tolerations", Toml::Array(list));
    }
    let spread = serde_json::json!([{
        "labelSelector": {"matchLabels": {"app": cx.name}},
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
    }]);
    if spec["topologySpreadConstraints"] == spread {
        placement.set("spread", true);
    }
    placement
}

/// A toleration, if its values are the ones the typed key takes (else the
/// whole list comes from the patch).
fn toleration(v: &Json) -> Option<Toml> {
    let mut t = Table::new();
    let known = ["key", "operator", "value", "effect", "tolerationSeconds"];
    if v.as_object()?.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let operator = v["operator"].as_str();
    let effect = v["effect"].as_str();
    let ok = operator.is_none_or(|o| matches!(o, "Equal" | "Exists"))
        && effect.is_none_or(|e| matches!(e, "NoSchedule" | "PreferNoSchedule" | "NoExecute"));
    if !ok {
        return None;
    }
    t.set_opt("key", v["key"].as_str());
    t.set_opt("operator", operator);
    t.set_opt("value", v["value"].as_str());
    t.set_opt("effect", effect);
    t.set_opt("seconds", v["tolerationSeconds"].as_i64());
    Some(Toml::Table(t))
}

/// `[metrics]` from the Prometheus annotations manifold writes, and the
/// other pod annotations as `pod_annotations`.
fn metrics(spec: &Json, template: &Json, t: &mut Table) {
    let mut annotations = string_map(&template["metadata"]["annotations"]);
    let scrape = annotations.get("prometheus.io/scrape").map(String::as_str);
    let port = annotations
        .get("prometheus.io/port")
        .and_then(|p| p.parse::<i64>().ok());
    let path = annotations.get("prometheus.io/path").cloned();
    if let (Some("true"), Some(port), Some(path)) = (scrape, port, path) {
        let named = items(&spec["containers"])
            .flat_map(|c| items(&c["ports"]))
            .find(|p| p["containerPort"] == port)
            .and_then(|p| p["name"].as_str());
        let mut m = Table::new();
        match named {
            Some(name) => m.set("port", name),
            None => m.set("port", port),
        }
        if path != "/metrics" {
            m.set("path", path);
        }
        t.set("metrics", m);
        for k in ["scrape", "port", "path"] {
            annotations.remove(&format!("prometheus.io/{k}"));
        }
    }
    if !annotations.is_empty() {
        t.set("pod_annotations", map_table(&annotations));
    }
}

/// `containers` and `init_containers`, with their `security` from the
/// plan.
pub fn side_containers(spec: &Json, plan: &Plan, registry_off: bool, t: &mut Table) {
    let volumes = typed_volumes(t);
    for (key, field, skip, security) in [
        ("containers", "containers", 1, &plan.containers),
        (
            "init_containers",
            "initContainers",
            0,
            &plan.init_containers,
        ),
    ] {
        let list: Vec<Toml> = items(&spec[field])
            .skip(skip)
            .enumerate()
            .map(|(i, c)| {
                let mut ct = Table::new();
                ct.set_opt("name", c["name"].as_str());
                container(c, &mut ct, registry_off, None);
                ct.set_opt("restart", c["restartPolicy"].as_str());
                if let Some(s) = security.get(i) {
                    ct.set_table("security", s.clone());
                }
                mounts(c, &volumes, &mut ct);
                Toml::Table(ct)
            })
            .collect();
        if !list.is_empty() {
            t.set(key, Toml::Array(list));
        }
    }
}

/// A side container's `mounts`, up to the first of a volume that has no
/// typed key (the checks refuse a mount of an undeclared volume): the
/// patch adds the rest, in order.
fn mounts(c: &Json, volumes: &[String], t: &mut Table) {
    let list: Vec<Toml> = items(&c["volumeMounts"])
        .map_while(|m| {
            let volume = m["name"]
                .as_str()
                .filter(|v| volumes.iter().any(|x| x == v))?;
            let mut mt = Table::new();
            mt.set("volume", volume);
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

/// The names of the typed `volumes`.
fn typed_volumes(t: &Table) -> Vec<String> {
    let Some(Toml::Array(list)) = t.get("volumes") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|v| match v {
            Toml::Table(v) => match v.get("name") {
                Some(Toml::Str(n)) => Some(n.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A pod volume or a claim template, as a `volumes` entry.
struct Entry {
    name: String,
    table: Table,
}

/// `volumes` and `[files]`: the typed volumes in an order that renders
/// the input's, each with the main container's mount where that keeps the
/// order too. `files` is the ConfigMap data of manifold's files volume, when
/// the input has one whose name is the one manifold gives it.
pub fn volumes(
    w: &Json,
    spec: &Json,
    files_data: Option<&BTreeMap<String, String>>,
    t: &mut Table,
) -> bool {
    let main = items(&spec["containers"]).next().unwrap_or(&Json::Null);
    let mounts: Vec<&Json> = items(&main["volumeMounts"]).collect();
    let files = files_data.and_then(|data| files_table(&mounts, data));
    let pod = pod_volumes(spec, files.is_some());
    let claims: Vec<Entry> = items(&w["spec"]["volumeClaimTemplates"])
        .map_while(claim)
        .collect();
    let mut order = ordered(pod, claims, &mounts);
    let files_first = mounts
        .iter()
        .position(|m| m["name"] == FILES_VOLUME)
        .unwrap_or(mounts.len());
    // Typed mounts render in the order of `volumes`, then the files', then
    // what the patch adds: a mount is typed while that order holds.
    let mut last = None;
    let mut open = true;
    for (at, m) in mounts.iter().enumerate().take(files_first) {
        let name = m["name"].as_str().unwrap_or_default();
        let slot = order.iter().position(|e| e.name == name);
        let earlier = mounts[..at].iter().any(|x| x["name"] == name);
        let fits = open && slot > last && !earlier;
        match slot.filter(|_| fits) {
            Some(i) if mount_keys(&mut order[i], m, spec) => last = Some(i),
            _ => open = false,
        }
    }
    let list: Vec<Toml> = order.into_iter().map(|e| Toml::Table(e.table)).collect();
    if !list.is_empty() {
        t.set("volumes", Toml::Array(list));
    }
    match files {
        Some(f) if open => {
            t.set("files", f);
            true
        }
        _ => false,
    }
}

/// The mount keys of a volume; `false` when the mount has what they cannot
/// say alike for the volume (a claim's `readOnly` is the mount's too).
fn mount_keys(e: &mut Entry, m: &Json, spec: &Json) -> bool {
    let read_only = m["readOnly"].as_bool();
    let claim_source = items(&spec["volumes"])
        .find(|v| v["name"] == e.name.as_str())
        .map(|v| &v["persistentVolumeClaim"]);
    if let Some(source) = claim_source.filter(|s| s.is_object()) {
        if source["readOnly"].as_bool() != read_only {
            return false;
        }
    }
    e.table.set_opt("mount", m["mountPath"].as_str());
    e.table.set_opt("sub_path", m["subPath"].as_str());
    e.table.set_opt("read_only", read_only);
    true
}

/// The pod's volumes with a typed source, up to the first without one
/// (what follows comes from the patch, in order). Manifold's files volume
/// renders after the typed ones.
fn pod_volumes(spec: &Json, files: bool) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut after_files = false;
    for v in items(&spec["volumes"]) {
        if v["name"] == FILES_VOLUME {
            // Manifold's own, or a name the checks refuse for any other.
            if !files {
                break;
            }
            after_files = true;
            continue;
        }
        match volume_source(v).filter(|_| !after_files) {
            Some(e) => out.push(e),
            None => break,
        }
    }
    out
}

/// The pod volumes and claim templates in one order: each keeps its own
/// list's order, and the claims go where the main container mounts them.
fn ordered(pod: Vec<Entry>, claims: Vec<Entry>, mounts: &[&Json]) -> Vec<Entry> {
    let mut pod = std::collections::VecDeque::from(pod);
    let mut claims = std::collections::VecDeque::from(claims);
    let mut out = Vec::new();
    for m in mounts {
        let name = m["name"].as_str().unwrap_or_default();
        for list in [&mut pod, &mut claims] {
            if let Some(at) = list.iter().position(|e| e.name == name) {
                out.extend(list.drain(..=at));
            }
        }
    }
    out.extend(pod);
    out.extend(claims);
    out
}

/// A pod volume of a typed source.
fn volume_source(v: &Json) -> Option<Entry> {
    let name = v["name"].as_str()?;
    let mut t = Table::new();
    t.set("name", name);
    if let Some(e) = v["emptyDir"].as_object() {
        let mut dir = Table::new();
        match e.get("medium").and_then(Json::as_str) {
            Some("Memory") => dir.set("memory", true),
            None | Some("") => {}
            Some(_) => return None,
        }
        dir.set_opt("size_limit", e.get("sizeLimit").and_then(Json::as_str));
        t.set("empty_dir", dir);
    } else if let Some(cm) = v["configMap"]["name"].as_str() {
        t.set("config_map", cm);
    } else if let Some(s) = v["secret"]["secretName"].as_str() {
        t.set("secret", s);
    } else if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str() {
        t.set("claim", c);
    } else if let Some(p) = v["hostPath"]["path"].as_str() {
        t.set("host_path", p);
    } else {
        return None;
    }
    Some(Entry {
        name: name.to_string(),
        table: t,
    })
}

/// A claim template as a `persistent` volume, when the keys render it
/// (else the templates come from the patch).
fn claim(c: &Json) -> Option<Entry> {
    let name = c["metadata"]["name"].as_str()?;
    let spec = &c["spec"];
    let mut p = Table::new();
    p.set("size", spec["resources"]["requests"]["storage"].as_str()?);
    p.set_opt("storage_class", spec["storageClassName"].as_str());
    let modes = strings(&spec["accessModes"])?;
    if modes != ["ReadWriteOnce"] {
        p.set("access_modes", modes);
    }
    let mut t = Table::new();
    t.set("name", name);
    t.set("persistent", p);
    Some(Entry {
        name: name.to_string(),
        table: t,
    })
}

/// `[files]` from manifold's files volume: each mount of it is a file at
/// its path, whose key is the path's (as manifold names keys) and whose
/// content is the ConfigMap's; the mounts must come in the order manifold
/// renders them (by path) and read-only.
fn files_table(mounts: &[&Json], data: &BTreeMap<String, String>) -> Option<Table> {
    let at: Vec<usize> = (0..mounts.len())
        .filter(|i| mounts[*i]["name"] == FILES_VOLUME)
        .collect();
    if at.windows(2).any(|w| w[1] != w[0] + 1) {
        return None;
    }
    let files: Vec<&&Json> = at.iter().map(|i| &mounts[*i]).collect();
    let mut t = Table::new();
    let mut previous = "";
    for m in &files {
        let path = m["mountPath"].as_str()?;
        let key = file_key(path);
        let plain = m.as_object()?.len() == 4 && m["readOnly"] == true;
        if m["subPath"] != key.as_str() || !plain || path <= previous {
            return None;
        }
        t.set(path, data.get(&key)?.as_str());
        previous = path;
    }
    (files.len() == data.len() && !files.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(t: &Table) -> Vec<(String, Option<String>)> {
        let Some(Toml::Array(list)) = t.get("volumes") else {
            return Vec::new();
        };
        list.iter()
            .map(|v| match v {
                Toml::Table(v) => {
                    let s = |k: &str| match v.get(k) {
                        Some(Toml::Str(s)) => Some(s.clone()),
                        _ => None,
                    };
                    (s("name").unwrap_or_default(), s("mount"))
                }
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn claims_go_where_they_are_mounted_and_the_order_is_kept() {
        let w = json!({"spec": {"volumeClaimTemplates": [
            {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
        ]}});
        let spec = json!({
            "volumes": [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
            "containers": [{"name": "db", "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "run", "mountPath": "/run"},
                {"name": "tmp", "mountPath": "/tmp"}
            ]}]
        });
        let mut t = Table::new();
        volumes(&w, &spec, None, &mut t);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            names(&t),
            [
                ("data".to_string(), some("/data")),
                ("run".to_string(), some("/run")),
                ("tmp".to_string(), some("/tmp"))
            ]
        );
    }

    #[test]
    fn after_an_untyped_volume_or_a_mount_out_of_order_the_patch_takes_over() {
        let spec = json!({
            "volumes": [
                {"name": "a", "emptyDir": {}},
                {"name": "b", "projected": {"sources": []}},
                {"name": "c", "emptyDir": {}}
            ],
            "containers": [{"name": "web", "volumeMounts": [
                {"name": "a", "mountPath": "/a"},
                {"name": "b", "mountPath": "/b"},
                {"name": "a", "mountPath": "/a2"}
            ]}]
        });
        let mut t = Table::new();
        volumes(&json!({}), &spec, None, &mut t);
        assert_eq!(names(&t), [("a".to_string(), Some("/a".to_string()))]);
    }
}
