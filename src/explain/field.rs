//! From a field of a rendered object back to the input that produced it.
//!
//! Exact where the input is the object: a field a patch sets is traced to
//! the patch's key, and a field of a raw object to its key in `objects`
//! (both are TOML, so every value has its line). A field manifold renders
//! from typed keys is traced by the rules of `rules.rs`; one no rule
//! names is said to be computed by manifold.

use serde_json::Value as Json;

use super::chain::{Explained, Reader};
use super::path::{Seg, item_seg};
use super::rules::{RULES, Rule};
use crate::compile::Traced;
use crate::input::tree::{Node, Value};
use crate::model::{STABLE, file_key};
use crate::render::Object;

/// Where a rendered field comes from.
#[derive(Debug)]
pub enum Source {
    /// The value of one key (`values` holds its chain).
    Key,
    /// Set by a patch: `values` holds the patch's key.
    Patch,
    /// Written in a raw object of `objects`.
    Object,
    /// Computed by manifold, as `how` says, from `values`.
    Computed(String),
}

impl Source {
    pub fn id(&self) -> &'static str {
        match self {
            Source::Key => "key",
            Source::Patch => "patch",
            Source::Object => "object",
            Source::Computed(_) => "computed",
        }
    }
}

/// A rendered field traced.
#[derive(Debug)]
pub struct Trail {
    pub source: Source,
    pub values: Vec<Explained>,
}

/// Traces `field` (indices as Kubernetes prints them) of `object`.
pub fn trace(t: &Traced<'_>, reader: Reader<'_>, object: &Object, field: &[Seg]) -> Trail {
    let patch = [Seg::Key("patches".into()), Seg::Key(object.patch_key())];
    if let Some(found) = in_input(&t.tree, &patch, &object.value, field) {
        return Trail {
            source: Source::Patch,
            values: vec![reader.explain(found.0, found.1)],
        };
    }
    if let Some(key) = &object.raw_key {
        let raw = [Seg::Key("objects".into()), Seg::Key(key.clone())];
        if let Some(found) = in_input(&t.tree, &raw, &object.value, field) {
            return Trail {
                source: Source::Object,
                values: vec![reader.explain(found.0, found.1)],
            };
        }
    }
    let scope = Scope::of(t, object, field);
    match RULES.iter().find_map(|r| matches(r, &scope, field).map(|b| (r, b))) {
        Some((rule, bound)) => by_rule(t, reader, rule, &scope, &bound),
        None if object.raw_key.is_some() => Trail {
            source: Source::Computed(format!(
                "added by manifold to the raw object `objects.{}`: no layer writes this field",
                super::path::key_text(object.raw_key.as_deref().unwrap_or_default())
            )),
            values: Vec::new(),
        },
        None => Trail {
            source: Source::Computed(
                "manifold computes this field from the service as a whole; no rule traces it to a key"
                    .into(),
            ),
            values: Vec::new(),
        },
    }
}

/// Follows `field` of the rendered `value` in the input table at `table`
/// (a patch or a raw object): items of keyed lists by their `name`, as
/// patches merge them, others by place. The key of what is written there.
///
/// The key names a patch's items by `name`, as patches merge them, and a
/// raw object's by place, as Kubernetes does.
fn in_input<'t>(
    tree: &'t Node,
    table: &[Seg],
    value: &Json,
    field: &[Seg],
) -> Option<(Vec<Seg>, &'t Node)> {
    let by_name = table.first() == Some(&Seg::Key("patches".into()));
    let (mut node, mut key) = super::path::follow(tree, table)?;
    let mut json = value;
    for seg in field {
        match (seg, &node.value) {
            (Seg::Key(k), Value::Table(t)) => {
                node = t.get(k)?;
                json = json.get(k)?;
                key.push(seg.clone());
            }
            (Seg::Index(i), Value::Array(items)) => {
                let rendered = json.get(*i)?;
                let at = match rendered.get("name").and_then(Json::as_str) {
                    Some(name) => items
                        .iter()
                        .position(|n| n.get("name").and_then(Node::as_str) == Some(name))?,
                    None => *i,
                };
                node = items.get(at)?;
                json = rendered;
                key.push(if by_name {
                    item_seg(node, at)
                } else {
                    Seg::Index(at)
                });
            }
            _ => return None,
        }
    }
    Some((key, node))
}

/// What a rule needs to know of the object.
struct Scope<'a> {
    kind: &'a str,
    /// The pod spec's, pod template's and job spec's paths in this kind.
    pod: &'static str,
    template: &'static str,
    job: &'static str,
    /// The object's track, when it is not the stable one.
    track: Option<String>,
    /// The Service's table: `service` or `extra_services.<key>`.
    service: Option<Vec<Seg>>,
    /// The container the field is in: its table, and whether it is the
    /// main one.
    container: Option<(Vec<Seg>, bool)>,
    value: &'a Json,
}

impl<'a> Scope<'a> {
    fn of(t: &Traced<'_>, object: &'a Object, field: &[Seg]) -> Self {
        let cron = object.kind == "CronJob";
        let value = &object.value;
        let track = value["metadata"]["labels"]["track"]
            .as_str()
            .filter(|&tr| tr != STABLE && is_workload(&object.kind))
            .map(str::to_string);
        let pod = if cron {
            "spec.jobTemplate.spec.template.spec"
        } else {
            "spec.template.spec"
        };
        Scope {
            kind: &object.kind,
            pod,
            template: if cron {
                "spec.jobTemplate.spec.template"
            } else {
                "spec.template"
            },
            job: if cron {
                "spec.jobTemplate.spec"
            } else {
                "spec"
            },
            track,
            service: service_table(t, object),
            container: container_table(value, pod, field),
            value,
        }
    }
}

fn is_workload(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" | "Job"
    )
}

/// The table of a Service object: its own, a track's (the service's
/// table) or an extra Service's.
fn service_table(t: &Traced<'_>, object: &Object) -> Option<Vec<Seg>> {
    if object.kind != "Service" {
        return None;
    }
    let key = |k: &str| Seg::Key(k.to_string());
    if object.name == t.name {
        return Some(vec![key("service")]);
    }
    let suffix = object.name.strip_prefix(&format!("{}-", t.name))?;
    if t.tree
        .get("extra_services")
        .and_then(|e| e.get(suffix))
        .is_some()
    {
        return Some(vec![key("extra_services"), key(suffix)]);
    }
    let tracks = t.tree.get("tracks");
    let is_track = matches!(tracks.map(|n| &n.value), Some(Value::Array(items))
        if items.iter().any(|i| i.get("name").and_then(Node::as_str) == Some(suffix)));
    is_track.then(|| vec![key("service")])
}

/// The table of the container `field` is in, if it is in one.
fn container_table(value: &Json, pod: &str, field: &[Seg]) -> Option<(Vec<Seg>, bool)> {
    let prefix: Vec<&str> = pod.split('.').collect();
    let rest = field.strip_prefix(
        prefix
            .iter()
            .map(|p| Seg::Key(p.to_string()))
            .collect::<Vec<_>>()
            .as_slice(),
    )?;
    let (list, index) = match rest {
        [Seg::Key(list), Seg::Index(i), ..] => (list.as_str(), *i),
        _ => return None,
    };
    let mut at = value;
    for p in &prefix {
        at = at.get(p)?;
    }
    let name = at.get(list)?.get(index)?.get("name")?.as_str()?;
    match list {
        "containers" if index == 0 => Some((Vec::new(), true)),
        "containers" => Some((
            vec![Seg::Key("containers".into()), Seg::Key(name.into())],
            false,
        )),
        "initContainers" => Some((
            vec![Seg::Key("init_containers".into()), Seg::Key(name.into())],
            false,
        )),
        _ => None,
    }
}

/// What a pattern named.
#[derive(Default)]
struct Bound {
    name: Option<String>,
    key: Option<String>,
}

/// Whether `rule` matches `field` of this object, and what it named.
fn matches(rule: &Rule, scope: &Scope<'_>, field: &[Seg]) -> Option<Bound> {
    if !rule.kinds.is_empty() && !rule.kinds.contains(&scope.kind) {
        return None;
    }
    let pattern = rule
        .field
        .replacen("POD.", &format!("{}.", scope.pod), 1)
        .replacen("TPL.", &format!("{}.", scope.template), 1)
        .replacen("JOB.", &format!("{}.", scope.job), 1);
    let mut bound = Bound::default();
    let mut rest = field;
    let mut json = scope.value;
    for part in pattern.split('.') {
        if part == "**" {
            return Some(bound);
        }
        let (key, item) = match part.split_once('[') {
            Some((k, i)) => (k, Some(i.trim_end_matches(']'))),
            None => (part, None),
        };
        let Some((Seg::Key(k), tail)) = rest.split_first() else {
            return None;
        };
        let fits = match key {
            "{K}" => {
                bound.key = Some(k.clone());
                true
            }
            "containers" if item == Some("C") => k == "containers" || k == "initContainers",
            _ => k == key,
        };
        if !fits {
            return None;
        }
        json = json.get(k)?;
        rest = tail;
        if item.is_some() {
            let Some((Seg::Index(i), tail)) = rest.split_first() else {
                return None;
            };
            json = json.get(i)?;
            if item == Some("N") {
                bound.name = item_name(json);
            }
            rest = tail;
        }
    }
    rest.is_empty().then_some(bound)
}

/// How the input names a rendered list item: its `name`, or its port.
fn item_name(item: &Json) -> Option<String> {
    if let Some(name) = item.get("name").and_then(Json::as_str) {
        return Some(name.to_string());
    }
    item.get("containerPort")
        .or(item.get("port"))
        .map(|p| p.to_string())
}

/// The chains of the keys a rule names.
fn by_rule(
    t: &Traced<'_>,
    reader: Reader<'_>,
    rule: &Rule,
    scope: &Scope<'_>,
    bound: &Bound,
) -> Trail {
    let scope_keys = Keys { scope, bound };
    let mut values = Vec::new();
    for group in rule.keys {
        let candidates: Vec<(Vec<Seg>, bool)> = group
            .iter()
            .filter_map(|template| scope_keys.resolve(template, t))
            .collect();
        let found = candidates.iter().find_map(|(key, env)| {
            let root = if *env { t.environment } else { &t.tree };
            super::path::follow(root, key).map(|(node, canonical)| {
                if *env {
                    reader.environment(canonical, node)
                } else {
                    reader.explain(canonical, node)
                }
            })
        });
        let unset = || {
            candidates
                .iter()
                .filter(|(_, env)| !env)
                .map(|(key, _)| reader.unset(key.clone()))
                .find(|e| !e.chain.is_empty())
        };
        values.extend(found.or_else(unset));
    }
    if rule.how.is_none() && values.is_empty() {
        let first = rule.keys.first().and_then(|g| g.first());
        if let Some((key, false)) = first.and_then(|k| scope_keys.resolve(k, t)) {
            values.push(reader.unset(key));
        }
    }
    let source = match rule.how {
        Some(_) if rule.otherwise && !values.is_empty() => Source::Key,
        Some(how) => {
            let name = bound.name.as_deref().unwrap_or_default();
            Source::Computed(how.replace("`N`", &format!("`{name}`")))
        }
        None => Source::Key,
    };
    Trail { source, values }
}

/// Turns a rule's key templates into keys of the merged service.
struct Keys<'a> {
    scope: &'a Scope<'a>,
    bound: &'a Bound,
}

impl Keys<'_> {
    /// The key `template` names for this object and field, and whether it
    /// is in the environment file; `None` where it does not apply.
    fn resolve(&self, template: &str, t: &Traced<'_>) -> Option<(Vec<Seg>, bool)> {
        let (template, env) = match template.strip_prefix("@env.") {
            Some(rest) => (rest, true),
            None => (template, false),
        };
        let scope = self.scope;
        let main = scope.container.as_ref().is_none_or(|(_, main)| *main);
        let mut key = Vec::new();
        for part in template.split('.') {
            match part {
                "C" => key.extend(scope.container.as_ref()?.0.iter().cloned()),
                "SC" if main => return None,
                "SC" => key.extend(scope.container.as_ref()?.0.iter().cloned()),
                "T" | "MT" => {
                    let track = scope.track.clone().filter(|_| main || part == "T")?;
                    key.push(Seg::Key("tracks".into()));
                    key.push(Seg::Key(track));
                }
                "S" => key.extend(scope.service.clone()?),
                "N" => key.push(Seg::Key(self.bound.name.clone()?)),
                "K" => key.push(Seg::Key(self.bound.key.clone()?)),
                "F" => key.push(Seg::Key(file_named(t, self.bound.key.as_deref()?)?)),
                _ => key.push(Seg::Key(part.to_string())),
            }
        }
        Some((key, env))
    }
}

/// The path in `files` whose ConfigMap key is `key`.
fn file_named(t: &Traced<'_>, key: &str) -> Option<String> {
    t.tree
        .get("files")?
        .as_table()?
        .keys()
        .find(|path| file_key(path) == key)
        .cloned()
}
