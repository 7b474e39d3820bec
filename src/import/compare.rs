//! Comparing a rendered object with the input it should reproduce, field
//! by field, and deriving the patch that brings the input's values back.
//!
//! Both follow the merge rules of `patches` (`input::merge`): tables
//! compare key by key, arrays whose items all have a `name` compare item by
//! item by name (reported as `containers[web]`), other arrays and values
//! compare whole. A patch can add and change, never remove: what the
//! rendered object has and the input has not stays a difference.

use serde_json::{Map, Value as Json};

/// Labels manifold writes on objects and pods: a difference in them is
/// allowed, whether manifold adds one, gives it its own value, or does not
/// write it on that kind of object (`version` on a Service).
pub const MANIFOLD_LABELS: [&str; 9] = [
    "app",
    "app.kubernetes.io/name",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
    "app.kubernetes.io/part-of",
    "env",
    "group",
    "track",
    "version",
];

/// One field that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// `Deployment/web`.
    pub object: String,
    /// `spec.template.spec.containers[web].image`; empty for the object.
    pub path: String,
    pub input: Option<Json>,
    pub output: Option<Json>,
    /// Manifold's own: listed in README, not an error under `--strict`.
    pub allowed: bool,
    /// Why no service file can remove it, when something else renders it
    /// (the environment's `[defaults]`).
    pub cause: Option<String>,
}

impl Difference {
    /// A whole object on one side only.
    pub fn whole(object: String, in_input: bool) -> Self {
        let it = Some(Json::String("the object".into()));
        Difference {
            object,
            path: String::new(),
            input: if in_input { it.clone() } else { None },
            output: if in_input { None } else { it },
            allowed: false,
            cause: None,
        }
    }

    /// One line: the object, the path, and the two sides.
    pub fn describe(&self) -> String {
        let at = if self.path.is_empty() {
            self.object.clone()
        } else {
            format!("{} {}", self.object, self.path)
        };
        let show = |v: &Json| serde_json::to_string(v).unwrap_or_default();
        match (&self.input, &self.output) {
            (Some(i), Some(o)) => format!("{at}: input {}, output {}", show(i), show(o)),
            (Some(i), None) => format!("{at}: only in the input: {}", show(i)),
            (None, Some(o)) => format!("{at}: only in the output: {}", show(o)),
            (None, None) => format!("{at}: in another order"),
        }
    }
}

/// The patch that sets the input's values over the rendered object, if
/// any value differs.
pub fn patch(input: &Json, rendered: &Json) -> Option<Json> {
    if input == rendered {
        return None;
    }
    match (input, rendered) {
        (Json::Object(i), Json::Object(r)) => {
            let mut p = Map::new();
            for (k, iv) in i {
                let sub = match r.get(k) {
                    None => Some(iv.clone()),
                    Some(rv) => patch(iv, rv),
                };
                if let Some(sub) = sub {
                    p.insert(k.clone(), sub);
                }
            }
            (!p.is_empty()).then_some(Json::Object(p))
        }
        (Json::Array(i), Json::Array(r)) if named(i) && named(r) => {
            let mut items = Vec::new();
            for item in i {
                match r.iter().find(|x| x["name"] == item["name"]) {
                    None => items.push(item.clone()),
                    Some(existing) => {
                        if let Some(Json::Object(mut sub)) = patch(item, existing) {
                            sub.insert("name".into(), item["name"].clone());
                            items.push(Json::Object(sub));
                        }
                    }
                }
            }
            (!items.is_empty()).then_some(Json::Array(items))
        }
        _ => Some(input.clone()),
    }
}

/// Whether the items of an array merge by name.
fn named(items: &[Json]) -> bool {
    !items.is_empty() && items.iter().all(|i| i["name"].is_string())
}

/// The fields where `output` differs from `input`, under `path`.
pub fn differences(
    object: &str,
    path: &str,
    input: &Json,
    output: &Json,
    out: &mut Vec<Difference>,
) {
    if input == output {
        return;
    }
    match (input, output) {
        (Json::Object(i), Json::Object(o)) => {
            let keys: std::collections::BTreeSet<&String> = i.keys().chain(o.keys()).collect();
            for k in keys {
                let sub = join(path, k);
                match (i.get(k), o.get(k)) {
                    (Some(a), Some(b)) => differences(object, &sub, a, b, out),
                    // A Service port's target is its port unless it says.
                    (None, Some(b)) if k == "targetPort" && Some(b) == o.get("port") => {
                        push(out, object, sub, None, Some(b));
                        if let Some(last) = out.last_mut() {
                            last.allowed = true;
                        }
                    }
                    (a, b) => push(out, object, sub, a, b),
                }
            }
        }
        (Json::Array(i), Json::Array(o)) if named(i) && named(o) => {
            named_items(object, path, i, o, out)
        }
        _ => push(out, object, path.to_string(), Some(input), Some(output)),
    }
}

fn push(out: &mut Vec<Difference>, object: &str, path: String, i: Option<&Json>, o: Option<&Json>) {
    out.push(Difference {
        object: object.to_string(),
        allowed: all_allowed(&path, i, o),
        path,
        input: i.cloned(),
        output: o.cloned(),
        cause: None,
    });
}

/// Arrays of named items: each name on both sides, then the order.
fn named_items(object: &str, path: &str, i: &[Json], o: &[Json], out: &mut Vec<Difference>) {
    let name = |v: &Json| v["name"].as_str().unwrap_or_default().to_string();
    let mut names: Vec<String> = i.iter().map(name).collect();
    names.extend(
        o.iter()
            .map(name)
            .filter(|n| !i.iter().any(|x| x["name"] == n.as_str())),
    );
    // An item named twice (a volume mounted twice) is compared once, with
    // every item of its name when the two sides have not as many.
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.clone()));
    for n in &names {
        let sub = format!("{path}[{n}]");
        let named = |list: &[Json]| -> Vec<Json> {
            list.iter()
                .filter(|x| x["name"] == n.as_str())
                .cloned()
                .collect()
        };
        let (a, b) = (named(i), named(o));
        match (a.as_slice(), b.as_slice()) {
            ([a], [b]) => differences(object, &sub, a, b, out),
            ([], [b]) => push(out, object, sub, None, Some(b)),
            ([a], []) => push(out, object, sub, Some(a), None),
            _ if a != b => push(out, object, sub, Some(&Json::from(a)), Some(&Json::from(b))),
            _ => {}
        }
    }
    let order = |list: &[Json]| -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        list.iter()
            .map(name)
            .filter(|n| {
                i.iter().any(|x| x["name"] == n.as_str())
                    && o.iter().any(|x| x["name"] == n.as_str())
                    && seen.insert(n.clone())
            })
            .collect()
    };
    if order(i) != order(o) {
        out.push(Difference {
            object: object.to_string(),
            path: path.to_string(),
            input: None,
            output: None,
            allowed: false,
            cause: None,
        });
    }
}

fn join(path: &str, key: &str) -> String {
    let key = if key.contains('.') || key.contains('/') {
        format!("\"{key}\"")
    } else {
        key.to_string()
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// Whether a table on one side only holds nothing but allowed differences
/// (pod template metadata that is manifold's labels only), or a value is
/// an allowed difference.
fn all_allowed(path: &str, input: Option<&Json>, output: Option<&Json>) -> bool {
    if allowed(path, input, output) {
        return true;
    }
    match (input, output) {
        (None, Some(Json::Object(m))) => {
            !m.is_empty()
                && m.iter()
                    .all(|(k, v)| all_allowed(&join(path, k), None, Some(v)))
        }
        (Some(Json::Object(m)), None) => {
            !m.is_empty()
                && m.iter()
                    .all(|(k, v)| all_allowed(&join(path, k), Some(v), None))
        }
        _ => false,
    }
}

/// The differences README lists as manifold's own: its labels on objects
/// and pod templates, the namespace where the input named none, the
/// replica count of an autoscaled workload, the do-not-prune annotations
/// of objects that hold data, and a field the input leaves out that
/// manifold writes with the value the API server gives it anyway.
fn allowed(path: &str, input: Option<&Json>, output: Option<&Json>) -> bool {
    let label_parents = [
        "metadata.labels.",
        "spec.template.metadata.labels.",
        "spec.jobTemplate.spec.template.metadata.labels.",
    ];
    let is_label = label_parents.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|k| MANIFOLD_LABELS.contains(&k.trim_matches('"')))
    });
    let prune = crate::model::KEEP_ON_PRUNE
        .iter()
        .any(|(k, _)| path == format!("metadata.annotations.\"{k}\""));
    match (input, output) {
        _ if is_label => true,
        (None, Some(v)) => path == "metadata.namespace" || prune || server_default(path, v),
        (Some(_), None) => path == "spec.replicas",
        _ => false,
    }
}

/// Whether an absent field is `value` once the API server has it: a
/// port's protocol, a Service's type, an HTTP probe's path, a workload's
/// replica count and an autoscaler's minimum. (A Service port's
/// `targetPort`, which defaults to its `port`, is found in
/// [`differences`].)
fn server_default(path: &str, value: &Json) -> bool {
    let last = path.rsplit('.').next().unwrap_or_default();
    let in_ports = path.contains("ports[");
    match last {
        "protocol" => in_ports && value == "TCP",
        "type" => path == "spec.type" && value == "ClusterIP",
        "path" => path.ends_with("httpGet.path") && value == "/",
        "replicas" | "minReplicas" => {
            path.starts_with("spec.") && !path[5..].contains('.') && value == 1
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_follows_the_merge_rules() {
        let input =
            json!({"spec": {"containers": [{"name": "web", "image": "a", "x": [1]}], "dns": "D"}});
        let rendered =
            json!({"spec": {"containers": [{"name": "web", "image": "a", "x": [2], "y": 1}]}});
        let p = patch(&input, &rendered).unwrap();
        assert_eq!(
            p,
            json!({"spec": {"containers": [{"name": "web", "x": [1]}], "dns": "D"}})
        );
        let mut merged = rendered.clone();
        crate::input::merge::merge(&mut merged, &p);
        let mut diffs = Vec::new();
        differences("Pod/p", "", &input, &merged, &mut diffs);
        assert_eq!(
            diffs.iter().map(Difference::describe).collect::<Vec<_>>(),
            ["Pod/p spec.containers[web].y: only in the output: 1"]
        );
    }

    #[test]
    fn manifold_labels_and_an_added_namespace_are_allowed() {
        let input = json!({"metadata": {"labels": {"a": "1", "app": "x"}}});
        let output =
            json!({"metadata": {"labels": {"a": "2", "app": "y", "env": "dev"}, "namespace": "n"}});
        let mut diffs = Vec::new();
        differences("Service/s", "", &input, &output, &mut diffs);
        let shown: Vec<(String, bool)> = diffs.iter().map(|d| (d.describe(), d.allowed)).collect();
        assert_eq!(
            shown,
            [
                (
                    "Service/s metadata.labels.a: input \"1\", output \"2\"".to_string(),
                    false
                ),
                (
                    "Service/s metadata.labels.app: input \"x\", output \"y\"".to_string(),
                    true
                ),
                (
                    "Service/s metadata.labels.env: only in the output: \"dev\"".to_string(),
                    true
                ),
                (
                    "Service/s metadata.namespace: only in the output: \"n\"".to_string(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn what_the_api_server_fills_in_anyway_is_allowed_and_nothing_else() {
        let input = json!({"spec": {"ports": [{"name": "http", "port": 80}]}});
        let output = json!({"spec": {
            "type": "ClusterIP",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}]
        }});
        let mut diffs = Vec::new();
        differences("Service/s", "", &input, &output, &mut diffs);
        assert_eq!(diffs.len(), 3, "{diffs:?}");
        assert!(diffs.iter().all(|d| d.allowed), "{diffs:?}");
        let output = json!({"spec": {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "protocol": "UDP", "targetPort": "http"}]
        }});
        let mut diffs = Vec::new();
        differences("Service/s", "", &input, &output, &mut diffs);
        assert_eq!(diffs.len(), 3, "{diffs:?}");
        assert!(diffs.iter().all(|d| !d.allowed), "{diffs:?}");
    }
}
