//! The objects around a workload to typed keys: its Services (`[service]`
//! for the one named like the service, `[extra_services.<suffix>]` for
//! `<name>-<suffix>`), its autoscaler (`[autoscale]`), disruption budget
//! (`[disruption]`) and ServiceAccount (`service_account = true`). What has
//! no typed key (a Service selecting other pods or with an unnamed port,
//! Ingresses, ConfigMaps, anything else) goes to `objects` as written, with
//! a comment saying why.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::{Group, items};
use super::map::{Mapped, map_table, string_map};
use super::read::Object;
use super::toml::{Table, Toml};
use crate::check::reserved_label;

/// An input object and the rendered object it should become: its kind and
/// the name manifold gives it (a patch renames it when the input's differs).
#[derive(Clone, Debug)]
pub struct Target {
    pub input: Object,
    pub kind: String,
    pub rendered: String,
}

pub fn objects(g: &Group, kept: &BTreeMap<String, String>, m: &mut Mapped) {
    target(m, g.workload(), &m.name.clone());
    for s in &g.services {
        service(s, kept, m);
    }
    for h in &g.autoscalers {
        match autoscale(&h.value) {
            Some(t) if !m.table.keys().any(|k| k == "autoscale") => {
                m.table.set("autoscale", t);
                target(m, h, &m.name.clone());
            }
            _ => raw(
                m,
                h,
                "an autoscaler on other metrics than cpu and memory utilization",
            ),
        }
    }
    for b in &g.budgets {
        let sel = string_map(&b.value["spec"]["selector"]["matchLabels"]);
        if &sel == kept && !m.table.keys().any(|k| k == "disruption") {
            let mut d = Table::new();
            d.set_opt(
                "min_available",
                int_or_percent(&b.value["spec"]["minAvailable"]),
            );
            d.set_opt(
                "max_unavailable",
                int_or_percent(&b.value["spec"]["maxUnavailable"]),
            );
            m.table.set("disruption", d);
            target(m, b, &m.name.clone());
        } else {
            raw(
                m,
                b,
                "a budget that selects other pods than the workload's selector",
            );
        }
    }
    for a in &g.accounts {
        if a.name() == m.name {
            m.table.set("service_account", true);
            target(m, a, &m.name.clone());
        } else {
            raw(m, a, "a ServiceAccount named other than the service");
        }
    }
    for i in &g.ingresses {
        raw(
            m,
            i,
            "Ingresses are kept as written (typed `[ingress]` import is not done yet)",
        );
    }
    for c in &g.config_maps {
        raw(
            m,
            c,
            "a ConfigMap keeps its name (`[config]` names its ConfigMap by a hash)",
        );
    }
    for o in &g.others {
        raw(m, o, "no typed key for this object");
    }
}

fn target(m: &mut Mapped, o: &Object, rendered: &str) {
    m.targets.push(Target {
        input: o.clone(),
        kind: o.kind().to_string(),
        rendered: rendered.to_string(),
    });
}

/// A Service selecting the stable pods, with named ports, as `[service]`
/// or `[extra_services.<suffix>]`; any other as written.
fn service(s: &Object, kept: &BTreeMap<String, String>, m: &mut Mapped) {
    let spec = &s.value["spec"];
    let selector = string_map(&spec["selector"]);
    let named = items(&spec["ports"]).all(|p| p["name"].is_string());
    let kind = match (spec["type"].as_str(), spec["clusterIP"].as_str()) {
        (Some("ClusterIP") | None, Some("None")) => "Headless",
        (Some(t @ ("ClusterIP" | "NodePort" | "LoadBalancer")), _) => t,
        (None, _) => "ClusterIP",
        _ => "",
    };
    let key = if s.name() == m.name {
        Some(("service".to_string(), m.name.clone()))
    } else {
        s.name()
            .strip_prefix(&format!("{}-", m.name))
            .map(|suffix| (format!("extra_services.{suffix}"), s.name().to_string()))
    };
    let taken = key
        .as_ref()
        .is_some_and(|(k, _)| k == "service" && m.table.get("service").is_some());
    let Some((key, rendered)) =
        key.filter(|_| &selector == kept && named && !kind.is_empty() && !taken)
    else {
        return raw(
            m,
            s,
            "a Service that no typed key renders as written (its name, selector, type or an unnamed port)",
        );
    };
    let table = service_table(spec, kind, &s.value["metadata"]);
    match key.split_once('.') {
        Some((_, suffix)) => m.table.table_mut("extra_services").set(suffix, table),
        None => m.table.set("service", table),
    }
    target(m, s, &rendered);
}

fn service_table(spec: &Json, kind: &str, meta: &Json) -> Table {
    let mut t = Table::new();
    if kind != "ClusterIP" {
        t.set("type", kind);
    }
    let ports: Vec<Toml> = items(&spec["ports"])
        .map(|p| {
            let mut pt = Table::new();
            let name = p["name"].as_str().unwrap_or_default();
            pt.set("name", name);
            pt.set_opt("port", p["port"].as_i64());
            match &p["targetPort"] {
                Json::Number(n) => pt.set_opt("target_port", n.as_i64()),
                Json::String(s) if s != name => pt.set("target_port", s.as_str()),
                _ => {}
            }
            pt.set_opt("node_port", p["nodePort"].as_i64());
            Toml::Table(pt)
        })
        .collect();
    t.set("ports", Toml::Array(ports));
    t.set_opt("session_affinity", spec["sessionAffinity"].as_str());
    t.set_opt(
        "external_traffic_policy",
        spec["externalTrafficPolicy"].as_str(),
    );
    t.set_opt("load_balancer_class", spec["loadBalancerClass"].as_str());
    if let Some(ranges) = super::map_container::strings(&spec["loadBalancerSourceRanges"]) {
        t.set("source_ranges", ranges);
    }
    let labels: BTreeMap<String, String> = string_map(&meta["labels"])
        .into_iter()
        .filter(|(k, _)| reserved_label(k).is_none())
        .collect();
    if !labels.is_empty() {
        t.set("labels", map_table(&labels));
    }
    let annotations = string_map(&meta["annotations"]);
    if !annotations.is_empty() {
        t.set("annotations", map_table(&annotations));
    }
    t
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

fn int_or_percent(v: &Json) -> Option<Toml> {
    match v {
        Json::Number(n) => n.as_i64().map(Toml::Int),
        Json::String(s) => Some(Toml::Str(s.clone())),
        _ => None,
    }
}

/// An object as written, under `objects`, with why.
fn raw(m: &mut Mapped, o: &Object, why: &str) {
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
