//! Grouping the input into services: each workload (Deployment,
//! StatefulSet, DaemonSet, CronJob, Job) with the objects that belong to
//! it, found by selector and by reference, never by name alone:
//!
//! - Services whose selector its pods match, and the Ingresses and Gateway
//!   API HTTPRoutes that route to those Services;
//! - the ConfigMaps its pods use (volumes, `env`, `envFrom`) and its
//!   ServiceAccount;
//! - HorizontalPodAutoscalers whose target it is and PodDisruptionBudgets
//!   whose selector its pods match.
//!
//! Secrets are never imported: the ones the pods use are listed for the
//! user to provide, and Secret objects of the input are left out. Other
//! objects go to the service they share an `app.kubernetes.io/instance` or
//! `app` label with, else the first service of their namespace, else they
//! are left out with the reason.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::read::Object;

/// The workload kinds import turns into services.
pub const WORKLOADS: [&str; 5] = ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"];

/// A workload and what belongs to it.
#[derive(Debug, Default)]
pub struct Group {
    pub workload: Option<Object>,
    pub services: Vec<Object>,
    pub ingresses: Vec<Object>,
    pub routes: Vec<Object>,
    pub config_maps: Vec<Object>,
    pub autoscalers: Vec<Object>,
    pub budgets: Vec<Object>,
    pub accounts: Vec<Object>,
    /// Objects of no typed kind, kept as written (`objects`).
    pub others: Vec<Object>,
}

impl Group {
    pub fn workload(&self) -> &Object {
        self.workload
            .as_ref()
            .expect("every group has its workload")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.workload().namespace()
    }

    /// Every object of the group, the workload first.
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.workload
            .iter()
            .chain(&self.services)
            .chain(&self.ingresses)
            .chain(&self.routes)
            .chain(&self.config_maps)
            .chain(&self.autoscalers)
            .chain(&self.budgets)
            .chain(&self.accounts)
            .chain(&self.others)
    }

    /// Adds every object of `other` but its workload.
    pub fn absorb(&mut self, other: Group) {
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
        self.routes.extend(other.routes);
        self.config_maps.extend(other.config_maps);
        self.autoscalers.extend(other.autoscalers);
        self.budgets.extend(other.budgets);
        self.accounts.extend(other.accounts);
        self.others.extend(other.others);
    }
}

#[derive(Debug, Default)]
pub struct Grouping {
    pub groups: Vec<Group>,
    /// Objects not imported, and why.
    pub left_out: Vec<(String, String)>,
    /// Secrets the pods use, by namespace and name: the user provides them.
    pub secrets: BTreeSet<(String, String)>,
}

/// The pod template of a workload.
pub fn pod_template(workload: &Json) -> &Json {
    match workload["kind"].as_str() {
        Some("CronJob") => &workload["spec"]["jobTemplate"]["spec"]["template"],
        _ => &workload["spec"]["template"],
    }
}

pub fn group(objects: Vec<Object>) -> Grouping {
    let mut grouping = Grouping::default();
    let (workloads, mut rest): (Vec<Object>, Vec<Object>) = objects
        .into_iter()
        .partition(|o| WORKLOADS.contains(&o.kind()));
    for w in workloads {
        let mut g = Group {
            workload: Some(w),
            ..Default::default()
        };
        take_selecting(&mut g, &mut rest);
        take_referenced(&mut g, &mut rest, &mut grouping.secrets);
        grouping.groups.push(g);
    }
    for o in rest {
        place(&mut grouping, o);
    }
    grouping
}

/// Services and budgets that select the pods, Ingresses and HTTPRoutes to
/// those Services, autoscalers that target the workload.
fn take_selecting(g: &mut Group, rest: &mut Vec<Object>) {
    let w = g.workload();
    let ns = w.namespace().map(str::to_string);
    let labels = pod_template(&w.value)["metadata"]["labels"].clone();
    let (kind, name) = (w.kind().to_string(), w.name().to_string());
    let same_ns = |o: &Object| o.namespace().map(str::to_string) == ns;
    let services = drain(rest, |o| {
        o.kind() == "Service" && same_ns(o) && selects(&o.value["spec"]["selector"], &labels)
    });
    let names: Vec<String> = services.iter().map(|s| s.name().to_string()).collect();
    g.ingresses = drain(rest, |o| {
        o.kind() == "Ingress" && same_ns(o) && backends(&o.value).iter().any(|b| names.contains(b))
    });
    g.routes = drain(rest, |o| {
        o.kind() == "HTTPRoute"
            && same_ns(o)
            && route_backends(&o.value).iter().any(|b| names.contains(b))
    });
    g.services = services;
    g.budgets = drain(rest, |o| {
        o.kind() == "PodDisruptionBudget"
            && same_ns(o)
            && o.value["spec"]["selector"]["matchExpressions"].is_null()
            && selects(&o.value["spec"]["selector"]["matchLabels"], &labels)
    });
    g.autoscalers = drain(rest, |o| {
        let target = &o.value["spec"]["scaleTargetRef"];
        o.kind() == "HorizontalPodAutoscaler"
            && same_ns(o)
            && target["kind"].as_str() == Some(&kind)
            && target["name"].as_str() == Some(&name)
    });
}

/// ConfigMaps and the ServiceAccount the pods use; the Secrets they use
/// are recorded, never taken.
fn take_referenced(
    g: &mut Group,
    rest: &mut Vec<Object>,
    secrets: &mut BTreeSet<(String, String)>,
) {
    let w = g.workload();
    let ns = w.namespace().unwrap_or_default().to_string();
    let spec = &pod_template(&w.value)["spec"];
    let refs = references(spec);
    for s in &refs.secrets {
        secrets.insert((ns.clone(), s.clone()));
    }
    let account = spec["serviceAccountName"]
        .as_str()
        .or(spec["serviceAccount"].as_str())
        .map(str::to_string);
    let same_ns = |o: &Object| o.namespace().unwrap_or_default() == ns;
    g.config_maps = drain(rest, |o| {
        o.kind() == "ConfigMap" && same_ns(o) && refs.config_maps.contains(o.name())
    });
    g.accounts = drain(rest, |o| {
        o.kind() == "ServiceAccount" && same_ns(o) && account.as_deref() == Some(o.name())
    });
}

/// The ConfigMaps and Secrets a pod spec names.
#[derive(Default)]
struct References {
    config_maps: BTreeSet<String>,
    secrets: BTreeSet<String>,
}

fn references(spec: &Json) -> References {
    let mut r = References::default();
    let mut add = |set: &str, name: &Json| {
        if let Some(n) = name.as_str() {
            match set {
                "cm" => r.config_maps.insert(n.to_string()),
                _ => r.secrets.insert(n.to_string()),
            };
        }
    };
    for v in items(&spec["volumes"]) {
        add("cm", &v["configMap"]["name"]);
        add("secret", &v["secret"]["secretName"]);
        for s in items(&v["projected"]["sources"]) {
            add("cm", &s["configMap"]["name"]);
            add("secret", &s["secret"]["name"]);
        }
    }
    for c in items(&spec["containers"]).chain(items(&spec["initContainers"])) {
        for e in items(&c["env"]) {
            add("cm", &e["valueFrom"]["configMapKeyRef"]["name"]);
            add("secret", &e["valueFrom"]["secretKeyRef"]["name"]);
        }
        for e in items(&c["envFrom"]) {
            add("cm", &e["configMapRef"]["name"]);
            add("secret", &e["secretRef"]["name"]);
        }
    }
    for s in items(&spec["imagePullSecrets"]) {
        add("secret", &s["name"]);
    }
    r
}

/// The items of an array, none for anything else.
pub fn items(v: &Json) -> impl Iterator<Item = &Json> {
    v.as_array().into_iter().flatten()
}

/// The Services an Ingress routes to.
fn backends(ingress: &Json) -> Vec<String> {
    let spec = &ingress["spec"];
    let mut names: Vec<String> = spec["defaultBackend"]["service"]["name"]
        .as_str()
        .map(str::to_string)
        .into_iter()
        .collect();
    for rule in items(&spec["rules"]) {
        for path in items(&rule["http"]["paths"]) {
            if let Some(n) = path["backend"]["service"]["name"].as_str() {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// The Services an HTTPRoute sends traffic to (backends of another kind
/// than Service are not).
fn route_backends(route: &Json) -> Vec<String> {
    let mut names = Vec::new();
    for rule in items(&route["spec"]["rules"]) {
        for backend in items(&rule["backendRefs"]) {
            let service = backend["kind"].as_str().is_none_or(|k| k == "Service")
                && backend["group"].as_str().is_none_or(str::is_empty);
            if let (true, Some(n)) = (service, backend["name"].as_str()) {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// Whether a non-empty selector (label to value) matches `labels`.
fn selects(selector: &Json, labels: &Json) -> bool {
    match selector.as_object() {
        Some(sel) if !sel.is_empty() => sel.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// Removes and returns the objects that match, in order.
fn drain(rest: &mut Vec<Object>, matches: impl Fn(&Object) -> bool) -> Vec<Object> {
    let (taken, kept): (Vec<Object>, Vec<Object>) =
        std::mem::take(rest).into_iter().partition(|o| matches(o));
    *rest = kept;
    taken
}

/// An object that belongs to no workload: a Secret or Namespace is left
/// out; anything else joins the service it shares an instance or app label
/// with, else the first service of its namespace.
fn place(grouping: &mut Grouping, o: Object) {
    let reason = match o.kind() {
        "Secret" => Some(format!(
            "a Secret: values are never imported; provide `{}` in the cluster",
            o.name()
        )),
        "Namespace" => Some("manifold renders the environment's Namespace".to_string()),
        _ => None,
    };
    if let Some(reason) = reason {
        grouping.left_out.push((o.id(), reason));
        return;
    }
    let label = |v: &Json, k: &str| v["metadata"]["labels"][k].as_str().map(str::to_string);
    let shares = |g: &Group, k: &str| {
        label(&o.value, k).is_some() && label(&g.workload().value, k) == label(&o.value, k)
    };
    let groups = &mut grouping.groups;
    let at = ["app.kubernetes.io/instance", "app"]
        .iter()
        .find_map(|k| groups.iter().position(|g| shares(g, k)))
        .or_else(|| groups.iter().position(|g| g.namespace() == o.namespace()));
    match at {
        Some(i) => groups[i].others.push(o),
        None => grouping.left_out.push((
            o.id(),
            format!(
                "no workload in namespace `{}` to attach it to",
                o.namespace().unwrap_or("default")
            ),
        )),
    }
}
