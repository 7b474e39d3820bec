//! The objects around a workload to typed keys: its Services (`[service]`
//! for the one named like the service, `serve` for the track it selects,
//! `[extra_services.<suffix>]` for `<name>-<suffix>`, and the ones manifold
//! renders itself: a statefulset's `<name>-headless` and a canary track's
//! `<name>-<track>`), its Ingresses and HTTPRoutes (`map_routing.rs`), its
//! autoscaler (`[autoscale]`), disruption budget (`[disruption]`),
//! ServiceAccount (`service_account = true`) and the ConfigMaps manifold
//! generated for it. What has no typed key (a Service selecting other pods
//! or with an unnamed port, other ConfigMaps, anything else) goes to
//! `objects` as written, with a comment saying why.
//!
//! Names: when the workload's name is the service's with a prefix or a
//! suffix around it (`kustomize`'s `namePrefix`), the other objects are
//! matched by their names without it, and the patches give them back their
//! names.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::items;
use super::map::{Context, Mapped, int_or_percent, map_table, own_headless, string_map, target};
use super::map_routing;
use super::read::Object;
use super::toml::{Table, Toml};
use super::tracks::App;
use crate::check::reserved_label;
use crate::model::STABLE;

/// An input object and the rendered object it should become: its kind and
/// the name manifold gives it (a patch renames it when the input's differs).
#[derive(Clone, Debug)]
pub struct Target {
    pub input: Object,
    pub kind: String,
    pub rendered: String,
}

/// How the input names the service's objects: `<prefix><name><suffix>`.
pub struct Naming {
    prefix: String,
    suffix: String,
}

impl Naming {
    fn of(workload: &str, name: &str) -> Self {
        let (prefix, suffix) = match workload.find(name) {
            Some(at) => (&workload[..at], &workload[at + name.len()..]),
            None => ("", ""),
        };
        Naming {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        }
    }

    /// An input name as manifold would write it.
    pub fn plain<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_prefix(&self.prefix)?.strip_suffix(&self.suffix)
    }
}

/// The selectors of the service's tracks, and which one its Services
/// select.
pub struct Selectors<'a> {
    pub name: &'a str,
    kept: &'a BTreeMap<String, String>,
    pub tracks: Vec<String>,
}

impl Selectors<'_> {
    /// The selector of a track's pods, as manifold renders it.
    pub fn of(&self, track: &str) -> BTreeMap<String, String> {
        if track == STABLE && !self.kept.is_empty() {
            return self.kept.clone();
        }
        BTreeMap::from([
            ("app".to_string(), self.name.to_string()),
            ("track".to_string(), track.to_string()),
        ])
    }
}

pub fn objects(
    app: &App,
    kept: &BTreeMap<String, String>,
    generated: &[&str],
    cx: &Context<'_>,
    m: &mut Mapped,
) {
    let g = &app.stable;
    let name = m.name.clone();
    let naming = Naming::of(g.workload().name(), &name);
    target(m, g.workload(), &name);
    for (track, w) in &app.tracks {
        target(m, w, &format!("{name}-{track}"));
    }
    let selectors = Selectors {
        name: &name,
        kept,
        tracks: app.tracks.iter().map(|(t, _)| t.clone()).collect(),
    };
    let pending = services(&g.services, &selectors, &naming, cx, m);
    map_routing::routes(g, &naming, cx, m);
    canary_services(pending, &selectors, &naming, m);
    for h in &g.autoscalers {
        let typed = autoscale(&h.value)
            .filter(|t| m.table.get("autoscale").is_none() && requests(&m.table, t));
        match typed {
            Some(t) => {
                // The autoscaler owns the count, and manifold writes none;
                // tracks that took the service's count take it as their own.
                if let Some(replicas) = m.table.remove("replicas") {
                    if let Some(Toml::Array(tracks)) = m.table.get_mut("tracks") {
                        for track in tracks {
                            if let Toml::Table(track) = track {
                                if track.get("replicas").is_none() {
                                    track.set("replicas", replicas.clone());
                                }
                            }
                        }
                    }
                }
                m.table.set("autoscale", t);
                target(m, h, &name);
            }
            None => raw(
                m,
                h,
                "an autoscaler that `[autoscale]` does not render (other metrics than cpu and memory utilization, or a resource the pods do not request)",
            ),
        }
    }
    for b in &g.budgets {
        let sel = string_map(&b.value["spec"]["selector"]["matchLabels"]);
        if sel == selectors.of(STABLE) && m.table.get("disruption").is_none() {
            let mut d = Table::new();
            let spec = &b.value["spec"];
            d.set_opt("min_available", any_int_or_percent(&spec["minAvailable"]));
            d.set_opt(
                "max_unavailable",
                any_int_or_percent(&spec["maxUnavailable"]),
            );
            m.table.set("disruption", d);
            target(m, b, &name);
        } else {
            raw(
                m,
                b,
                "a budget that selects other pods than the stable track",
            );
        }
    }
    for a in &g.accounts {
        if naming.plain(a.name()) == Some(name.as_str()) {
            m.table.set("service_account", true);
            target(m, a, &name);
        } else {
            raw(m, a, "a ServiceAccount named other than the service");
        }
    }
    for c in &g.config_maps {
        if generated.contains(&c.name()) {
            target(m, c, c.name());
        } else {
            raw(
                m,
                c,
                "a ConfigMap keeps its name (`[config]` names its ConfigMap by a hash of its content)",
            );
        }
    }
    for o in &g.others {
        raw(m, o, "no typed key for this object");
    }
}

/// `[service]`, `serve`, `[extra_services]` and manifold's own headless
/// Service; returns the Services left (canary ones, or raw).
fn services<'a>(
    services: &'a [Object],
    selectors: &Selectors<'_>,
    naming: &Naming,
    cx: &Context<'_>,
    m: &mut Mapped,
) -> Vec<&'a Object> {
    let name = selectors.name.to_string();
    let selects =
        |s: &Object, track: &str| string_map(&s.value["spec"]["selector"]) == selectors.of(track);
    let main = services
        .iter()
        .find(|s| naming.plain(s.name()) == Some(name.as_str()));
    let serve = std::iter::once(STABLE.to_string())
        .chain(selectors.tracks.iter().cloned())
        .find(|t| main.is_some_and(|s| selects(s, t)))
        .unwrap_or_else(|| STABLE.to_string());
    if serve != STABLE {
        m.table.set("serve", serve.as_str());
    }
    let headless_own = m.table.get("kind") == Some(&Toml::from("statefulset"))
        && m.table.get("headless_service").is_none();
    // What every object of the service carries already.
    let mut labels = cx.labels.clone();
    if let Some(Toml::Table(t)) = m.table.get("labels") {
        for k in t.keys() {
            if let Some(Toml::Str(v)) = t.get(k) {
                labels.insert(k.to_string(), v.clone());
            }
        }
    }
    let mut pending = Vec::new();
    for s in services {
        let plain = naming.plain(s.name()).unwrap_or_default().to_string();
        let suffix = plain.strip_prefix(&format!("{name}-")).unwrap_or_default();
        let table = service_table(&s.value, &labels);
        if plain == name && selects(s, &serve) && m.table.get("service").is_none() {
            if let Some(t) = table {
                m.table.set("service", t);
                target(m, s, &name);
                continue;
            }
        } else if suffix == "headless" && headless_own && own_headless(&s.value, &name) {
            target(m, s, &plain);
            continue;
        } else if !suffix.is_empty()
            && !selectors.tracks.iter().any(|t| t == suffix)
            && selects(s, &serve)
            && is_label(suffix)
        {
            if let Some(t) = table {
                m.table.table_mut("extra_services").set(suffix, t);
                target(m, s, &plain);
                continue;
            }
        }
        pending.push(s);
    }
    pending
}

/// The Services of the tracks that take canary traffic (manifold renders
/// `<name>-<track>` for each), and the rest as written.
fn canary_services(
    pending: Vec<&Object>,
    selectors: &Selectors<'_>,
    naming: &Naming,
    m: &mut Mapped,
) {
    let canaries = map_routing::canary_tracks(&m.table);
    for s in pending {
        let plain = naming.plain(s.name()).unwrap_or_default().to_string();
        let track = plain.strip_prefix(&format!("{}-", selectors.name));
        let canary = track.filter(|t| {
            canaries.iter().any(|c| c == t)
                && string_map(&s.value["spec"]["selector"]) == selectors.of(t)
        });
        if canary.is_some() && m.table.get("service").is_some() {
            target(m, s, &plain);
        } else {
            raw(
                m,
                s,
                "a Service that no typed key renders as written (its name, selector, type or an unnamed port)",
            );
        }
    }
}

/// A Service's keys, when its type and ports have them.
fn service_table(s: &Json, common: &BTreeMap<String, String>) -> Option<Table> {
    let spec = &s["spec"];
    let kind = match (spec["type"].as_str(), spec["clusterIP"].as_str()) {
        (Some("ClusterIP") | None, Some("None")) => "Headless",
        (Some(t @ ("ClusterIP" | "NodePort" | "LoadBalancer")), _) => t,
        (None, _) => "ClusterIP",
        _ => return None,
    };
    let mut t = Table::new();
    if kind != "ClusterIP" {
        t.set("type", kind);
    }
    let ports: Option<Vec<Toml>> = items(&spec["ports"]).map(service_port).collect();
    t.set("ports", Toml::Array(ports.filter(|p| !p.is_empty())?));
    t.set_opt("session_affinity", spec["sessionAffinity"].as_str());
    t.set_opt(
        "external_traffic_policy",
        spec["externalTrafficPolicy"].as_str(),
    );
    t.set_opt("load_balancer_class", spec["loadBalancerClass"].as_str());
    if let Some(ranges) = super::map_container::strings(&spec["loadBalancerSourceRanges"]) {
        t.set("source_ranges", ranges);
    }
    let labels: BTreeMap<String, String> = string_map(&s["metadata"]["labels"])
        .into_iter()
        .filter(|(k, v)| reserved_label(k).is_none() && common.get(k) != Some(v))
        .collect();
    if !labels.is_empty() {
        t.set("labels", map_table(&labels));
    }
    let annotations = string_map(&s["metadata"]["annotations"]);
    if !annotations.is_empty() {
        t.set("annotations", map_table(&annotations));
    }
    Some(t)
}

/// A named Service port: its number, its target (a number, or a port name
/// other than its own; the API server's default, the port itself, where it
/// has none) and node port.
fn service_port(p: &Json) -> Option<Toml> {
    let mut t = Table::new();
    let name = p["name"].as_str()?;
    t.set("name", name);
    let port = p["port"].as_i64()?;
    t.set("port", port);
    match &p["targetPort"] {
        Json::Number(n) => t.set_opt("target_port", n.as_i64()),
        Json::String(s) if s != name => t.set("target_port", s.as_str()),
        Json::Null => t.set("target_port", port),
        _ => {}
    }
    // One outside the default range is the cluster's (the checks refuse
    // it): the patch brings it.
    let node_port = p["nodePort"]
        .as_i64()
        .filter(|n| (30000..=32767).contains(n));
    t.set_opt("node_port", node_port);
    Some(Toml::Table(t))
}

/// `[autoscale]` from an autoscaling/v2 HPA on cpu and memory utilization.
fn autoscale(h: &Json) -> Option<Table> {
    let spec = &h["spec"];
    if h["apiVersion"] != "autoscaling/v2" {
        return None;
    }
    let mut t = Table::new();
    t.set_opt("min", spec["minReplicas"].as_i64());
    t.set("max", spec["maxReplicas"].as_i64()?);
    for metric in items(&spec["metrics"]) {
        let r = &metric["resource"];
        let name = r["name"].as_str()?;
        let ok = metric["type"] == "Resource" && r["target"]["type"] == "Utilization";
        if !ok || !matches!(name, "cpu" | "memory") {
            return None;
        }
        t.set(name, r["target"]["averageUtilization"].as_i64()?);
    }
    Some(t)
}

/// Whether the service requests each resource the autoscaler measures
/// (utilization is relative to the request; manifold refuses it without).
fn requests(t: &Table, autoscale: &Table) -> bool {
    let Some(Toml::Table(resources)) = t.get("resources") else {
        return false;
    };
    ["cpu", "memory"].iter().all(|r| {
        autoscale.get(r).is_none()
            || match resources.get(r) {
                Some(Toml::Str(_)) => true,
                Some(Toml::Table(split)) => split.get("request").is_some(),
                _ => false,
            }
    })
}

fn any_int_or_percent(v: &Json) -> Option<Toml> {
    int_or_percent(v).or_else(|| v.as_str().map(Toml::from))
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An object as written, under `objects`, with why.
pub fn raw(m: &mut Mapped, o: &Object, why: &str) {
    let objects = m.table.table_mut("objects");
    let plain = o.name().to_string();
    let key = if objects.get(&plain).is_none() {
        plain
    } else {
        format!("{}-{}", o.kind().to_lowercase(), o.name())
    };
    if let Some(value) = Toml::from_json(&o.value) {
        objects.set(&key, value);
        objects.comment(&key, &format!("{}: {why}", o.id()));
    }
    target(m, o, o.name());
}
