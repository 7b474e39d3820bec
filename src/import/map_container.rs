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
use crate::check::looks_secret;
use crate::model::{digest_problem, is_image_host};

/// The typed keys of a container, written into `t`. `config` names the
/// ConfigMap of the service's `[config]`, whose `envFrom` entry manifold
/// writes itself.
pub fn container(c: &Json, t: &mut Table, registry_off: bool, config: Option<&str>) {
    image(c["image"].as_str().unwrap_or_default(), t, registry_off);
    t.set_opt("command", strings(&c["command"]));
    t.set_opt("args", strings(&c["args"]));
    t.set_opt("working_dir", c["workingDir"].as_str());
    t.set_opt("image_pull_policy", c["imagePullPolicy"].as_str());
    t.set_table("env", env(&c["env"]));
    let from: Vec<Toml> = items(&c["envFrom"])
        .filter(|e| config.is_none() || e["configMapRef"]["name"].as_str() != config)
        .filter_map(env_from)
        .collect();
    if !from.is_empty() {
        t.set("env_from", Toml::Array(from));
    }
    let ports: Vec<Toml> = items(&c["ports"]).filter_map(port).collect();
    if !ports.is_empty() {
        t.set("ports", Toml::Array(ports));
    }
    let own: Vec<&str> = items(&c["ports"])
        .filter_map(|p| p["name"].as_str())
        .collect();
    let mut probes = Table::new();
    for (key, field) in [
        ("liveness", "livenessProbe"),
        ("readiness", "readinessProbe"),
        ("startup", "startupProbe"),
    ] {
        probes.set_opt(key, probe(&c[field], &own));
    }
    t.set_table("probes", probes);
    t.set_table("resources", resources(&c["resources"]));
}

/// `image` and `version` from a reference: the tag, the tag and its
/// digest, or the digest alone is the version. Without either, or with one
/// `version` cannot take, the version is `latest` and the exact reference
/// comes back through a patch.
fn image(reference: &str, t: &mut Table, registry_off: bool) {
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    let (image, tag) = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    };
    let version = match (tag, digest) {
        (Some(tag), Some(digest)) => format!("{tag}@{digest}"),
        (Some(tag), None) => tag.to_string(),
        (None, Some(digest)) => digest.to_string(),
        (None, None) => String::new(),
    };
    let valid = tag.is_none_or(is_tag) && digest.is_none_or(|d| digest_problem(d).is_none());
    t.set("image", image);
    t.set(
        "version",
        if valid && !version.is_empty() {
            version
        } else {
            "latest".to_string()
        },
    );
    if registry_off && !is_image_host(image) {
        t.set("registry", false);
    }
}

/// A tag as `version` takes it (and as a label value can hold it).
fn is_tag(tag: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    tag.len() <= 63
        && edge(tag.chars().next())
        && edge(tag.chars().last())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub fn strings(v: &Json) -> Option<Vec<String>> {
    let items = v.as_array()?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect()
}

/// Variables in written order, up to the first that no typed key renders
/// (a form without a key, a name the keys cannot hold, a name written
/// twice) or that the checks refuse (a literal value of a name that looks
/// like a secret, a `$(VAR)` reference to a variable not above it): the
/// patch adds that one and the rest after the typed ones, in their order,
/// as `env` merges by name.
fn env(list: &Json) -> Table {
    let mut t = Table::new();
    for e in items(list) {
        let fits = |name: &str, v: &Toml| {
            let literal = match v {
                Toml::Str(s) => Some(s.as_str()),
                _ => None,
            };
            is_env_name(name)
                && t.get(name).is_none()
                && !(literal.is_some() && looks_secret(name))
                && literal.is_none_or(|s| references(s).iter().all(|r| t.get(r).is_some()))
        };
        match env_value(e) {
            Some((name, v)) if fits(name, &v) => t.set(name, v),
            _ => break,
        }
    }
    t
}

/// The names a value refers to as Kubernetes expands them: `$(NAME)`, but
/// not `$$(NAME)`, which is a literal `$(NAME)`.
fn references(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(') {
            let end = tail.find(')').unwrap_or(tail.len());
            let name = &tail[..end];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                out.push(name);
            }
            rest = &tail[end..];
        } else {
            rest = after;
        }
    }
    out
}

fn env_value(e: &Json) -> Option<(&str, Toml)> {
    let name = e["name"].as_str()?;
    let known = ["name", "value", "valueFrom"];
    if e.as_object()?.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    if let Some(v) = e["value"].as_str() {
        return Some((name, Toml::from(v)));
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
    (!v.is_empty()).then_some((name, Toml::Table(v)))
}

/// A variable name as the `env` table's keys take it.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
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

/// A port, named or not.
fn port(p: &Json) -> Option<Toml> {
    let mut t = Table::new();
    t.set_opt("name", p["name"].as_str());
    t.set("port", p["containerPort"].as_i64()?);
    match p["protocol"].as_str() {
        Some("TCP") | None => {}
        Some(other) => t.set("protocol", other),
    }
    Some(Toml::Table(t))
}

/// A probe, when its action has a key: a port named in it must be one of
/// the container's own (the checks refuse others), and headers are typed
/// when written in the order the key renders them (by name).
fn probe(p: &Json, own: &[&str]) -> Option<Toml> {
    if !p.is_object() {
        return None;
    }
    let port = |v: Option<&Json>| -> Option<Toml> {
        match port_ref(v?)? {
            Toml::Str(name) if !own.contains(&name.as_str()) => None,
            r => Some(r),
        }
    };
    let mut t = Table::new();
    if let Some(h) = p["httpGet"].as_object() {
        let mut http = Table::new();
        http.set_opt("path", h.get("path").and_then(Json::as_str));
        http.set("port", port(h.get("port"))?);
        http.set_opt("scheme", h.get("scheme").and_then(Json::as_str));
        let list: Vec<(&str, &str)> = items(h.get("httpHeaders").unwrap_or(&Json::Null))
            .filter_map(|h| Some((h["name"].as_str()?, h["value"].as_str()?)))
            .collect();
        if list.windows(2).all(|w| w[0].0 < w[1].0) {
            let mut headers = Table::new();
            for (n, v) in list {
                headers.set(n, v);
            }
            http.set_table("headers", headers);
        }
        t.set("http", http);
    } else if p["tcpSocket"].is_object() {
        t.set(
            "tcp",
            Toml::Table(one("port", port(p["tcpSocket"].get("port"))?)),
        );
    } else if let Some(g) = p["grpc"].as_object() {
        let mut grpc = Table::new();
        grpc.set("port", g.get("port")?.as_i64()?);
        grpc.set_opt("service", g.get("service").and_then(Json::as_str));
        t.set("grpc", grpc);
    } else if let Some(command) = strings(&p["exec"]["command"]) {
        t.set("exec", command);
    } else {
        return None;
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

/// `pre_stop` from a container's `lifecycle.preStop`: a command, a pause
/// or an HTTP GET; what else the handler says comes from the patch.
pub fn pre_stop(c: &Json) -> Option<Toml> {
    let h = &c["lifecycle"]["preStop"];
    let mut t = Table::new();
    if let Some(command) = strings(&h["exec"]["command"]) {
        t.set("exec", command);
    } else if let Some(seconds) = h["sleep"]["seconds"].as_i64() {
        t.set("sleep", duration(seconds));
    } else if let Some(port) = h["httpGet"].get("port").and_then(port_ref) {
        let mut http = Table::new();
        http.set_opt("path", h["httpGet"]["path"].as_str());
        http.set("port", port);
        t.set("http", http);
    } else {
        return None;
    }
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

/// A quantity in the typed grammar (`100m`, `1Gi`, `0.5`), written as
/// text as manifold renders it; others (and numbers) are left to the patch.
fn quantity(v: &Json) -> Option<String> {
    let s = v.as_str()?.to_string();
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
            (
                "redis:7@sha256:9b2e35a9e0f4c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00",
                "redis",
                "7@sha256:9b2e35a9e0f4c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00",
            ),
            (
                "redis@sha256:9b2e35a9e0f4c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00",
                "redis",
                "sha256:9b2e35a9e0f4c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00",
            ),
            ("app:-weird", "app", "latest"),
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
