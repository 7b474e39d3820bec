//! Container fields to typed keys: image and version, command, args,
//! working directory, pull policy, `env` (in written order), `env_from`,
//! named ports, probes and resources. The same for the main container (keys
//! at the top of the service) and side and init containers (`containers`,
//! `init_containers`).
//!
//! A field is typed here only when the typed key renders it exactly; the
//! rest is left to the patches the round trip derives (`compare.rs`).

use serde_json::Value as Json;

use super::group::items;
use super::toml::{Table, Toml};
use crate::model::is_image_host;

/// The typed keys of a container, written into `t`.
pub fn container(c: &Json, t: &mut Table, registry_off: bool) {
    image(c["image"].as_str().unwrap_or_default(), t, registry_off);
    t.set_opt("command", strings(&c["command"]));
    t.set_opt("args", strings(&c["args"]));
    t.set_opt("working_dir", c["workingDir"].as_str());
    t.set_opt("image_pull_policy", c["imagePullPolicy"].as_str());
    t.set_table("env", env(&c["env"]));
    let from: Vec<Toml> = items(&c["envFrom"]).filter_map(env_from).collect();
    if !from.is_empty() {
        t.set("env_from", Toml::Array(from));
    }
    let ports: Vec<Toml> = items(&c["ports"]).filter_map(port).collect();
    if !ports.is_empty() {
        t.set("ports", Toml::Array(ports));
    }
    let mut probes = Table::new();
    for (key, field) in [
        ("liveness", "livenessProbe"),
        ("readiness", "readinessProbe"),
        ("startup", "startupProbe"),
    ] {
        probes.set_opt(key, probe(&c[field]));
    }
    t.set_table("probes", probes);
    t.set_table("resources", resources(&c["resources"]));
}

/// `image` and `version` from a reference: the tag is the version; an
/// image without a tag or with a digest gets `latest`, and its exact
/// reference comes back through a patch.
fn image(reference: &str, t: &mut Table, registry_off: bool) {
    let name_end = reference.find('@').unwrap_or(reference.len());
    let name = &reference[..name_end];
    let (image, version) = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], &name[i + 1..]),
        _ => (name, "latest"),
    };
    t.set("image", image);
    t.set("version", version);
    if registry_off && !is_image_host(image) {
        t.set("registry", false);
    }
}

pub fn strings(v: &Json) -> Option<Vec<String>> {
    let items = v.as_array()?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect()
}

/// Variables in written order; a form without a typed key is skipped (the
/// patch brings it back, in place, since `env` merges by name).
fn env(list: &Json) -> Table {
    let mut t = Table::new();
    for e in items(list) {
        let Some(name) = e["name"].as_str() else {
            continue;
        };
        if let Some(v) = e["value"]
            .as_str()
            .or(e.get("valueFrom").is_none().then_some(""))
        {
            t.set(name, v);
            continue;
        }
        let from = &e["valueFrom"];
        let mut v = Table::new();
        if let Some(path) = from["fieldRef"]["fieldPath"].as_str() {
            v.set("field", path);
        } else if let Some(r) = from["resourceFieldRef"]["resource"].as_str() {
            v.set("resource", r);
            v.set_opt("divisor", from["resourceFieldRef"]["divisor"].as_str());
        } else if let Some(s) = from["secretKeyRef"].as_object() {
            reference(&mut v, "secret", s);
        } else if let Some(c) = from["configMapKeyRef"].as_object() {
            reference(&mut v, "config_map", c);
        }
        if !v.is_empty() {
            t.set(name, v);
        }
    }
    t
}

fn reference(v: &mut Table, key: &str, r: &serde_json::Map<String, Json>) {
    v.set_opt(key, r.get("name").and_then(Json::as_str));
    v.set_opt("key", r.get("key").and_then(Json::as_str));
    v.set_opt("optional", r.get("optional").and_then(Json::as_bool));
}

fn env_from(e: &Json) -> Option<Toml> {
    let mut t = Table::new();
    let (key, source) = if e["configMapRef"].is_object() {
        ("config_map", &e["configMapRef"])
    } else {
        ("secret", &e["secretRef"])
    };
    t.set(key, source["name"].as_str()?);
    t.set_opt("prefix", e["prefix"].as_str());
    t.set_opt("optional", source["optional"].as_bool());
    Some(Toml::Table(t))
}

/// A named port; an unnamed one has no typed key.
fn port(p: &Json) -> Option<Toml> {
    let mut t = Table::new();
    t.set("name", p["name"].as_str()?);
    t.set("port", p["containerPort"].as_i64()?);
    match p["protocol"].as_str() {
        Some("TCP") | None => {}
        Some(other) => t.set("protocol", other),
    }
    Some(Toml::Table(t))
}

fn probe(p: &Json) -> Option<Toml> {
    if !p.is_object() {
        return None;
    }
    let mut t = Table::new();
    if let Some(h) = p["httpGet"].as_object() {
        let mut http = Table::new();
        http.set_opt("path", h.get("path").and_then(Json::as_str));
        http.set("port", port_ref(h.get("port")?)?);
        http.set_opt("scheme", h.get("scheme").and_then(Json::as_str));
        let mut headers = Table::new();
        for header in items(h.get("httpHeaders").unwrap_or(&Json::Null)) {
            if let (Some(n), Some(v)) = (header["name"].as_str(), header["value"].as_str()) {
                headers.set(n, v);
            }
        }
        http.set_table("headers", headers);
        t.set("http", http);
    } else if let Some(r) = p["tcpSocket"].get("port").and_then(port_ref) {
        t.set("tcp", Toml::Table(one("port", r)));
    } else if let Some(g) = p["grpc"].as_object() {
        let mut grpc = Table::new();
        grpc.set("port", g.get("port")?.as_i64()?);
        grpc.set_opt("service", g.get("service").and_then(Json::as_str));
        t.set("grpc", grpc);
    } else if let Some(command) = strings(&p["exec"]["command"]) {
        t.set("exec", command);
    }
    for (key, field) in [
        ("initial_delay", "initialDelaySeconds"),
        ("period", "periodSeconds"),
        ("timeout", "timeoutSeconds"),
    ] {
        t.set_opt(key, p[field].as_i64().map(duration));
    }
    t.set_opt("failure_threshold", p["failureThreshold"].as_i64());
    t.set_opt("success_threshold", p["successThreshold"].as_i64());
    Some(Toml::Table(t))
}

fn one(key: &str, value: Toml) -> Table {
    let mut t = Table::new();
    t.set(key, value);
    t
}

fn port_ref(v: &Json) -> Option<Toml> {
    match v {
        Json::Number(n) => n.as_i64().map(Toml::Int),
        Json::String(s) => Some(Toml::Str(s.clone())),
        _ => None,
    }
}

/// Seconds as a typed duration.
pub fn duration(seconds: i64) -> Toml {
    Toml::Str(if seconds == 0 {
        "0".to_string()
    } else {
        format!("{seconds}s")
    })
}

/// cpu, memory and ephemeral storage: one value when the request is the
/// limit, else `{ request, limit }`. Other resources come from the patch.
fn resources(r: &Json) -> Table {
    let mut t = Table::new();
    for (key, name) in [
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("ephemeral_storage", "ephemeral-storage"),
    ] {
        let request = quantity(&r["requests"][name]);
        let limit = quantity(&r["limits"][name]);
        match (request, limit) {
            (Some(q), Some(l)) if q == l => t.set(key, q),
            (None, None) => {}
            (request, limit) => {
                let mut split = Table::new();
                split.set_opt("request", request);
                split.set_opt("limit", limit);
                t.set(key, split);
            }
        }
    }
    t
}

/// A quantity in the typed grammar (`100m`, `1Gi`, `0.5`); others are
/// left to the patch.
fn quantity(v: &Json) -> Option<String> {
    let s = match v {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    let units = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let number = match digits.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && (a.to_string() + b).bytes().all(|c| c.is_ascii_digit())
        }
        None => !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()),
    };
    (number && units.contains(&suffix)).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_into_image_and_version() {
        for (reference, image, version) in [
            ("nginx:1.27", "nginx", "1.27"),
            ("host:5000/team/app:v2", "host:5000/team/app", "v2"),
            ("host:5000/team/app", "host:5000/team/app", "latest"),
            ("redis@sha256:abc", "redis", "latest"),
        ] {
            let mut t = Table::new();
            image_of(reference, &mut t);
            assert_eq!(t.get("image"), Some(&Toml::from(image)), "{reference}");
            assert_eq!(t.get("version"), Some(&Toml::from(version)), "{reference}");
        }
    }

    fn image_of(reference: &str, t: &mut Table) {
        image(reference, t, false);
    }

    #[test]
    fn quantities_in_the_typed_grammar_only() {
        for (q, ok) in [
            ("100m", true),
            ("1Gi", true),
            ("0.5", true),
            ("1e3", false),
            ("1.", false),
        ] {
            assert_eq!(quantity(&Json::from(q)).is_some(), ok, "{q}");
        }
    }
}
