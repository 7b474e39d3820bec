//! Ingresses and Gateway API HTTPRoutes to `[ingress]` and `[route]`, and
//! the canary routing of tracks (`weight`, `header`, `header_value`,
//! `cookie`) back from what manifold renders for them: an ingress-nginx
//! canary Ingress `<name>-<track>`, or the backends and header rules of the
//! one HTTPRoute.
//!
//! An Ingress or route is typed when its shape is the one the keys render:
//! every host with the same paths, one path type, one backend (the
//! service's Service, by port name for an Ingress, by number for a route),
//! one TLS secret for every host, one parent Gateway. What the keys render
//! differently (a server default, a filter) comes back through the
//! patches; an Ingress or route of another shape is kept as written.

use serde_json::Value as Json;

use super::group::{Group, items};
use super::map::{Context, Mapped, string_map, target};
use super::map_container::strings;
use super::map_objects::{Naming, raw};
use super::toml::{Table, Toml};

/// The ingress-nginx annotations of a canary Ingress.
const CANARY: &str = "nginx.ingress.kubernetes.io/canary";

/// What a route or Ingress says: hosts, paths and their type, the backend
/// and its port.
#[derive(Debug, PartialEq)]
struct Shape {
    hosts: Vec<String>,
    paths: Vec<String>,
    path_type: String,
    backend: String,
    port: Json,
}

pub fn routes(g: &Group, naming: &Naming, cx: &Context<'_>, m: &mut Mapped) {
    let name = m.name.clone();
    let mut canaries = Vec::new();
    for i in &g.ingresses {
        let plain = naming.plain(i.name()).unwrap_or_default().to_string();
        let canary = i.value["metadata"]["annotations"][CANARY] == "true";
        if canary {
            canaries.push((i, plain));
            continue;
        }
        let typed = m.table.get("service").is_some() && m.table.get("ingress").is_none();
        match ingress_table(&i.value, &name, naming, &m.table).filter(|_| typed && plain == name) {
            Some(t) => {
                m.table.set("ingress", t);
                target(m, i, &name);
            }
            None => raw(
                m,
                i,
                "an Ingress that `[ingress]` does not render (its name, backend, rules or TLS)",
            ),
        }
    }
    for (i, plain) in canaries {
        let track = plain.strip_prefix(&format!("{name}-")).unwrap_or_default();
        if m.table.get("ingress").is_some() && set_canary(m, track, &i.value) {
            target(m, i, &plain);
        } else {
            raw(
                m,
                i,
                "a canary Ingress of no track (`<name>-<track>` of a typed `[ingress]`)",
            );
        }
    }
    for r in &g.routes {
        let plain = naming.plain(r.name()).unwrap_or_default().to_string();
        let cookie = canary_tracks(&m.table)
            .iter()
            .any(|t| track_has(&m.table, t, "cookie"));
        let typed = m.table.get("service").is_some()
            && m.table.get("route").is_none()
            && plain == name
            && !cookie;
        let table = if typed {
            route_table(&r.value, &name, cx, m)
        } else {
            None
        };
        match table {
            Some(t) => {
                m.table.set("route", t);
                target(m, r, &name);
            }
            None => raw(
                m,
                r,
                "an HTTPRoute that `[route]` does not render (its name, parents, rules or backends)",
            ),
        }
    }
}

/// The names of the tracks that take canary traffic.
pub fn canary_tracks(t: &Table) -> Vec<String> {
    let Some(Toml::Array(tracks)) = t.get("tracks") else {
        return Vec::new();
    };
    tracks
        .iter()
        .filter_map(|tr| match tr {
            Toml::Table(tr)
                if ["weight", "header", "cookie"]
                    .iter()
                    .any(|k| tr.get(k).is_some()) =>
            {
                match tr.get("name") {
                    Some(Toml::Str(n)) => Some(n.clone()),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

fn track_has(t: &Table, track: &str, key: &str) -> bool {
    let Some(Toml::Array(tracks)) = t.get("tracks") else {
        return false;
    };
    tracks.iter().any(|tr| {
        matches!(tr, Toml::Table(tr) if tr.get("name") == Some(&Toml::from(track)) && tr.get(key).is_some())
    })
}

/// The entry of `track` in `[[tracks]]`.
fn track_mut<'a>(t: &'a mut Table, track: &str) -> Option<&'a mut Table> {
    let Some(Toml::Array(tracks)) = t.get_mut("tracks") else {
        return None;
    };
    tracks.iter_mut().find_map(|tr| match tr {
        Toml::Table(tr) if tr.get("name") == Some(&Toml::from(track)) => Some(tr),
        _ => None,
    })
}

/// The hosts, paths and backend of an Ingress, if it has the shape
/// `[ingress]` renders.
fn ingress_shape(spec: &Json) -> Option<Shape> {
    if !spec["defaultBackend"].is_null() {
        return None;
    }
    let mut shape: Option<Shape> = None;
    for rule in items(&spec["rules"]) {
        let mut paths = Vec::new();
        let mut types = Vec::new();
        let mut backends = Vec::new();
        for p in items(&rule["http"]["paths"]) {
            paths.push(p["path"].as_str()?.to_string());
            types.push(p["pathType"].as_str()?.to_string());
            let service = &p["backend"]["service"];
            backends.push((
                service["name"].as_str()?.to_string(),
                service["port"].clone(),
            ));
        }
        let one = |v: &[String]| v.iter().all(|x| Some(x) == v.first());
        let same_backend = backends.iter().all(|b| Some(b) == backends.first());
        if paths.is_empty() || !one(&types) || !same_backend {
            return None;
        }
        let (backend, port) = backends.swap_remove(0);
        let this = Shape {
            hosts: vec![rule["host"].as_str()?.to_string()],
            paths,
            path_type: types.swap_remove(0),
            backend,
            port,
        };
        match &mut shape {
            None => shape = Some(this),
            Some(s)
                if s.paths == this.paths
                    && s.path_type == this.path_type
                    && s.backend == this.backend
                    && s.port == this.port =>
            {
                s.hosts.extend(this.hosts);
            }
            Some(_) => return None,
        }
    }
    shape
}

/// `[ingress]` from the service's Ingress.
fn ingress_table(i: &Json, name: &str, naming: &Naming, t: &Table) -> Option<Table> {
    let spec = &i["spec"];
    let shape = ingress_shape(spec)?;
    let port = shape.port["name"].as_str()?;
    if naming.plain(&shape.backend) != Some(name) || shape.port.as_object()?.len() != 1 {
        return None;
    }
    let mut out = Table::new();
    out.set_opt("class", spec["ingressClassName"].as_str());
    hosts_and_paths(&mut out, &shape, "Prefix");
    if first_port(t).as_deref() != Some(port) {
        out.set("port", port);
    }
    match spec["tls"].as_array().map(Vec::as_slice) {
        None => {}
        Some([tls]) if strings(&tls["hosts"]) == Some(shape.hosts.clone()) => {
            out.set("tls", tls["secretName"].as_str()?);
        }
        Some(_) => return None,
    }
    let annotations = string_map(&i["metadata"]["annotations"]);
    if !annotations.is_empty() {
        out.set("annotations", super::map::map_table(&annotations));
    }
    Some(out)
}

fn hosts_and_paths(out: &mut Table, shape: &Shape, default_type: &str) {
    let mut hosts = shape.hosts.iter();
    out.set_opt("host", hosts.next().map(String::as_str));
    let more: Vec<String> = hosts.cloned().collect();
    if !more.is_empty() {
        out.set("hosts", more);
    }
    if shape.paths != ["/"] {
        out.set("paths", shape.paths.clone());
    }
    if shape.path_type != default_type {
        out.set("path_type", shape.path_type.as_str());
    }
}

/// The name of the first port of `[service]`, which routes default to.
fn first_port(t: &Table) -> Option<String> {
    let Some(Toml::Table(service)) = t.get("service") else {
        return None;
    };
    let Some(Toml::Array(ports)) = service.get("ports") else {
        return None;
    };
    match ports.first() {
        Some(Toml::Table(p)) => match p.get("name") {
            Some(Toml::Str(n)) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The number of the `[service]` port named `name`, or of the first.
fn port_number(t: &Table, name: Option<&str>) -> Option<i64> {
    let Some(Toml::Table(service)) = t.get("service") else {
        return None;
    };
    let Some(Toml::Array(ports)) = service.get("ports") else {
        return None;
    };
    ports.iter().find_map(|p| match p {
        Toml::Table(p) if name.is_none() || p.get("name") == name.map(Toml::from).as_ref() => {
            match p.get("port") {
                Some(Toml::Int(n)) => Some(*n),
                _ => None,
            }
        }
        _ => None,
    })
}

/// A canary Ingress's weight, header or cookie on its track.
fn set_canary(m: &mut Mapped, track: &str, i: &Json) -> bool {
    let a = string_map(&i["metadata"]["annotations"]);
    let Some(tr) = track_mut(&mut m.table, track) else {
        return false;
    };
    let key = |k: &str| a.get(&format!("{CANARY}-{k}"));
    if let Some(w) = key("weight").and_then(|w| w.parse::<i64>().ok()) {
        tr.set("weight", w);
    }
    tr.set_opt("header", key("by-header").cloned());
    tr.set_opt("header_value", key("by-header-value").cloned());
    tr.set_opt("cookie", key("by-cookie").cloned());
    ["weight", "header", "cookie"]
        .iter()
        .any(|k| tr.get(k).is_some())
}

/// `[route]` from the service's HTTPRoute, with its tracks' weights and
/// headers.
fn route_table(r: &Json, name: &str, cx: &Context<'_>, m: &mut Mapped) -> Option<Table> {
    let spec = &r["spec"];
    let [parent] = spec["parentRefs"].as_array()?.as_slice() else {
        return None;
    };
    let rules = spec["rules"].as_array()?;
    let (default, headers) = rules.split_last()?;
    let (paths, path_type) = matches(default, None)?;
    let backends = items(&default["backendRefs"]).collect::<Vec<_>>();
    let port = backends.first()?["port"].as_i64()?;
    if backends.first()?["name"] != name {
        return None;
    }
    let port_name = match port_number(&m.table, None) {
        Some(first) if first == port => None,
        _ => Some(service_port_name(&m.table, port)?),
    };
    let mut out = Table::new();
    let mut parent_ref = Table::new();
    parent_ref.set("name", parent["name"].as_str()?);
    parent_ref.set_opt("namespace", parent["namespace"].as_str());
    parent_ref.set_opt("section", parent["sectionName"].as_str());
    let shape = Shape {
        hosts: strings(&spec["hostnames"]).unwrap_or_default(),
        paths,
        path_type,
        backend: name.to_string(),
        port: Json::from(port),
    };
    hosts_and_paths(&mut out, &shape, "PathPrefix");
    out.set_opt("port", port_name);
    if cx.gateway != Some(&gateway_json(parent)) {
        out.set("gateway", parent_ref);
    }
    let annotations = string_map(&r["metadata"]["annotations"]);
    if !annotations.is_empty() {
        out.set("annotations", super::map::map_table(&annotations));
    }
    // Weights as manifold writes them: percentages, the Service's the rest.
    let weights: Option<Vec<i64>> = backends[1..].iter().map(|b| b["weight"].as_i64()).collect();
    let total: i64 = weights.iter().flatten().sum();
    let first = backends.first()?["weight"].as_i64();
    if backends.len() > 1 && (total > 100 || first != Some(100 - total)) {
        return None;
    }
    // Every track's routing is read before any is set: a route that does
    // not fit leaves the tracks as they were.
    let track_of = |b: &Json| -> Option<String> {
        let track = b["name"].as_str()?.strip_prefix(&format!("{name}-"))?;
        canary_candidates(&m.table)
            .contains(&track.to_string())
            .then(|| track.to_string())
    };
    let mut sets: Vec<(String, &str, Toml)> = Vec::new();
    for b in &backends[1..] {
        sets.push((track_of(b)?, "weight", Toml::Int(b["weight"].as_i64()?)));
    }
    for rule in headers {
        let header = match_header(rule)?;
        let track = track_of(items(&rule["backendRefs"]).next()?)?;
        sets.push((track.clone(), "header", Toml::from(header.0.as_str())));
        if header.1 != "always" {
            sets.push((track, "header_value", Toml::from(header.1.as_str())));
        }
    }
    for (track, key, value) in sets {
        if let Some(tr) = track_mut(&mut m.table, &track) {
            tr.set(key, value);
        }
    }
    Some(out)
}

/// The names of `[[tracks]]`.
fn canary_candidates(t: &Table) -> Vec<String> {
    let Some(Toml::Array(tracks)) = t.get("tracks") else {
        return Vec::new();
    };
    tracks
        .iter()
        .filter_map(|tr| match tr {
            Toml::Table(tr) => match tr.get("name") {
                Some(Toml::Str(n)) => Some(n.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The paths and path type of a rule's matches (all of one type, with the
/// header given or none).
fn matches(rule: &Json, header: Option<&(String, String)>) -> Option<(Vec<String>, String)> {
    let mut paths = Vec::new();
    let mut types = Vec::new();
    for m in items(&rule["matches"]) {
        paths.push(m["path"]["value"].as_str()?.to_string());
        types.push(m["path"]["type"].as_str()?.to_string());
        let h = items(&m["headers"])
            .map(|h| {
                Some((
                    h["name"].as_str()?.to_string(),
                    h["value"].as_str()?.to_string(),
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        if h.as_slice() != header.map(std::slice::from_ref).unwrap_or_default() {
            return None;
        }
    }
    let first = types.first()?.clone();
    types.iter().all(|t| *t == first).then_some((paths, first))
}

/// The header a rule matches on each of its paths (exactly).
fn match_header(rule: &Json) -> Option<(String, String)> {
    let h = &rule["matches"][0]["headers"][0];
    let header = (
        h["name"].as_str()?.to_string(),
        h["value"].as_str()?.to_string(),
    );
    if h["type"].as_str().is_some_and(|t| t != "Exact") {
        return None;
    }
    matches(rule, Some(&header))?;
    Some(header)
}

/// The name of the `[service]` port numbered `port`.
fn service_port_name(t: &Table, port: i64) -> Option<String> {
    let Some(Toml::Table(service)) = t.get("service") else {
        return None;
    };
    let Some(Toml::Array(ports)) = service.get("ports") else {
        return None;
    };
    ports.iter().find_map(|p| match p {
        Toml::Table(p) if p.get("port") == Some(&Toml::Int(port)) => match p.get("name") {
            Some(Toml::Str(n)) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    })
}

/// A parent reference as the environment's `gateway` renders it.
pub fn gateway_json(parent: &Json) -> Json {
    let mut g = serde_json::Map::new();
    for (from, to) in [
        ("name", "name"),
        ("namespace", "namespace"),
        ("sectionName", "section"),
    ] {
        if let Some(v) = parent[from].as_str() {
            g.insert(to.to_string(), Json::from(v));
        }
    }
    Json::Object(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(host: &str, paths: &[&str]) -> Json {
        let paths: Vec<Json> = paths
            .iter()
            .map(|p| json!({"path": p, "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}))
            .collect();
        json!({"host": host, "http": {"paths": paths}})
    }

    #[test]
    fn an_ingress_has_the_typed_shape_when_every_host_routes_alike() {
        let spec = json!({"rules": [rule("a.example.com", &["/", "/x"]), rule("b.example.com", &["/", "/x"])]});
        let shape = ingress_shape(&spec).unwrap();
        assert_eq!(shape.hosts, ["a.example.com", "b.example.com"]);
        assert_eq!(shape.paths, ["/", "/x"]);
        assert_eq!(shape.backend, "web");
        let uneven =
            json!({"rules": [rule("a.example.com", &["/"]), rule("b.example.com", &["/x"])]});
        assert_eq!(ingress_shape(&uneven), None);
        let default = json!({"defaultBackend": {}, "rules": [rule("a.example.com", &["/"])]});
        assert_eq!(ingress_shape(&default), None);
    }
}
