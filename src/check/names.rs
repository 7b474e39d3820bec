//! Names and sizes Kubernetes limits, as far as the typed service shows
//! them: the names of the objects as they will be composed (`<name>`,
//! `<name>-<track>`, `<name>-headless`, `<name>-<extra service>`,
//! `<name>-config-<hash>`, a Job's `<name>-<hash>`) against the rule of
//! their kind, the namespace, label and annotation keys, node selector
//! values, the total size of the annotations of each object, and the size
//! of the generated ConfigMaps (an error above 1 MiB, a warning above 256
//! KiB). The environment's own
//! labels and annotations are checked by [`environment`].
//!
//! What is only known after rendering (raw objects, patches, the
//! environment's annotations added to the service's) is checked by
//! `compile`, with the same grammars from `model::names`.

use std::collections::BTreeMap;

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::{Node, Step};
use crate::model::names::{
    ANNOTATIONS_MAX, DATA_MAX, DATA_WARN, Grammar, key_problem, label_value_problem, name_problem,
    name_rule,
};
use crate::model::{Environment, Map, WorkloadKind, file_key};

/// A stand-in for the content hash in generated ConfigMap and Job names.
const HASH: &str = "0123456789";

impl ServiceCheck<'_> {
    pub(super) fn names(&mut self) {
        self.object_names();
        self.keys();
        self.annotation_sizes();
        self.data_sizes();
    }

    /// Every object name the service will render, as composed.
    fn object_names(&mut self) {
        let svc = self.svc;
        let name = self.name;
        let tracks = |i: usize| vec![key("tracks"), Step::Index(i), key("name")];
        let (workload, own) = match svc.kind {
            WorkloadKind::Deployment => ("Deployment", name.to_string()),
            WorkloadKind::StatefulSet => ("StatefulSet", name.to_string()),
            WorkloadKind::DaemonSet => ("DaemonSet", name.to_string()),
            WorkloadKind::CronJob => ("CronJob", name.to_string()),
            // Named after what Kubernetes cannot change in it (render/job_name.rs).
            WorkloadKind::Job => ("Job", format!("{name}-{HASH}")),
        };
        let mut names: Vec<(&str, String, Vec<Step>)> = vec![(workload, own, vec![key("name")])];
        for (i, t) in svc.tracks.iter().enumerate() {
            names.push((workload, format!("{name}-{}", t.name), tracks(i)));
        }
        if svc.kind == WorkloadKind::StatefulSet {
            names.push(("Service", format!("{name}-headless"), vec![key("kind")]));
        }
        if svc.service.is_some() {
            names.push(("Service", name.into(), vec![key("service")]));
            let canaries = svc.tracks.iter().enumerate();
            for (i, t) in canaries.filter(|(_, t)| t.takes_canary_traffic()) {
                let composed = format!("{name}-{}", t.name);
                names.push(("Service", composed.clone(), tracks(i)));
                if svc.ingress.is_some() {
                    names.push(("Ingress", composed, tracks(i)));
                }
            }
            if svc.ingress.is_some() {
                names.push(("Ingress", name.into(), vec![key("ingress")]));
            }
            if svc.route.is_some() {
                names.push(("HTTPRoute", name.into(), vec![key("route")]));
            }
        }
        for suffix in svc.extra_services.keys() {
            let at = vec![key("extra_services"), key(suffix)];
            names.push(("Service", format!("{name}-{suffix}"), at));
        }
        if !svc.config.is_empty() {
            names.push((
                "ConfigMap",
                format!("{name}-config-{HASH}"),
                vec![key("config")],
            ));
        }
        if !svc.files.is_empty() {
            names.push((
                "ConfigMap",
                format!("{name}-files-{HASH}"),
                vec![key("files")],
            ));
        }
        if let Some(ns) = &svc.namespace {
            names.push(("Namespace", ns.clone(), vec![key("namespace")]));
        }
        for (kind, composed, at) in names {
            let Some(problem) = name_problem(kind, &composed) else {
                continue;
            };
            let shown = composed.replace(HASH, "<hash>");
            let rule = name_rule(kind);
            let fix = match (kind, at.first()) {
                ("Namespace", _) => "choose another `namespace`".to_string(),
                ("Service", _)
                    if rule.grammar == Grammar::Dns1035Label && composed.len() <= rule.max =>
                {
                    match dns1035(name) {
                        Some(better) => format!("set `name = \"{better}\"`"),
                        None => "set `name` to a name that starts with a letter".to_string(),
                    }
                }
                (_, Some(Step::Key(k))) if k == "tracks" => {
                    "shorten the track's name or the service's name".to_string()
                }
                (_, Some(Step::Key(k))) if k == "extra_services" => {
                    "shorten this key or the service's name".to_string()
                }
                ("Job", _) => format!(
                    "a Job is named `<name>-<hash>`, so shorten the service's name (the file name, or `name`) to at most {} characters",
                    rule.max - HASH.len() - 1
                ),
                _ => "shorten the service's name (the file name, or `name`)".to_string(),
            };
            let d = Diagnostic::error(
                Code::InvalidName,
                format!("invalid {kind} name `{shown}`: it {problem}"),
            )
            .hint(format!(
                "{kind} names are {}, at most {} characters; {fix}",
                rule.grammar.describe(),
                rule.max
            ));
            self.report(&at, true, d);
        }
    }

    /// Label and annotation keys, and node selector values.
    fn keys(&mut self) {
        let svc = self.svc;
        let mut tables: Vec<(Vec<Step>, &Map, &str)> = vec![
            (vec![key("labels")], &svc.labels, "label"),
            (vec![key("annotations")], &svc.annotations, "annotation"),
            (
                vec![key("pod_annotations")],
                &svc.pod_annotations,
                "annotation",
            ),
            (
                vec![key("placement"), key("node_selector")],
                &svc.placement.node_selector,
                "label",
            ),
            (
                vec![key("workload_annotations")],
                &svc.workload_annotations,
                "annotation",
            ),
        ];
        if let Some(spec) = &svc.service {
            tables.push((vec![key("service"), key("labels")], &spec.labels, "label"));
            tables.push((
                vec![key("service"), key("annotations")],
                &spec.annotations,
                "annotation",
            ));
        }
        for (suffix, spec) in &svc.extra_services {
            let at = |k: &str| vec![key("extra_services"), key(suffix), key(k)];
            tables.push((at("labels"), &spec.labels, "label"));
            tables.push((at("annotations"), &spec.annotations, "annotation"));
        }
        if let Some(ing) = &svc.ingress {
            tables.push((
                vec![key("ingress"), key("annotations")],
                &ing.annotations,
                "annotation",
            ));
        }
        if let Some(route) = &svc.route {
            tables.push((
                vec![key("route"), key("annotations")],
                &route.annotations,
                "annotation",
            ));
        }
        let node_selector = tables[3].1;
        for (i, (at, table, what)) in tables.iter().enumerate() {
            for k in table.keys() {
                let reserved = (*what == "label" && i != 3)
                    .then(|| reserved_label(k))
                    .flatten();
                if let Some(d) = bad_key(what, k).or(reserved) {
                    let mut path = at.clone();
                    path.push(key(k));
                    self.report(&path, true, d);
                }
            }
        }
        for (k, v) in node_selector {
            if let Some(problem) = label_value_problem(v) {
                let d = Diagnostic::error(
                    Code::InvalidValue,
                    format!("invalid label value `{}`: it {problem}", v.escape_debug()),
                )
                .hint(LABEL_VALUE);
                self.report(&[key("placement"), key("node_selector"), key(k)], false, d);
            }
        }
    }

    /// The annotations of each object: the service's, with those of its
    /// Service, extra Services, Ingress or HTTPRoute; the pods'.
    fn annotations_of(&self) -> Vec<(Vec<Step>, usize)> {
        let svc = self.svc;
        let with = |extra: &Map| {
            let mut all = svc.annotations.clone();
            all.extend(extra.clone());
            size(&all)
        };
        let mut out = vec![
            (vec![key("annotations")], size(&svc.annotations)),
            (vec![key("pod_annotations")], size(&svc.pod_annotations)),
            (
                vec![key("workload_annotations")],
                with(&svc.workload_annotations),
            ),
        ];
        if let Some(spec) = &svc.service {
            out.push((
                vec![key("service"), key("annotations")],
                with(&spec.annotations),
            ));
        }
        for (suffix, spec) in &svc.extra_services {
            let at = vec![key("extra_services"), key(suffix), key("annotations")];
            out.push((at, with(&spec.annotations)));
        }
        if let Some(ing) = &svc.ingress {
            out.push((
                vec![key("ingress"), key("annotations")],
                with(&ing.annotations),
            ));
        }
        if let Some(route) = &svc.route {
            out.push((
                vec![key("route"), key("annotations")],
                with(&route.annotations),
            ));
        }
        out
    }

    fn annotation_sizes(&mut self) {
        let base = size(&self.svc.annotations);
        for (i, (at, bytes)) in self.annotations_of().into_iter().enumerate() {
            // Past the service's own, a table is reported only if it is the
            // one that goes over.
            if bytes <= ANNOTATIONS_MAX || (i > 1 && base > ANNOTATIONS_MAX) {
                continue;
            }
            let d = Diagnostic::error(
                Code::TooLarge,
                format!(
                    "the annotations of an object would hold {}; Kubernetes accepts at most 256 KiB",
                    human(bytes)
                ),
            )
            .hint("keys and values count together; keep large content out of annotations (a ConfigMap, a volume)");
            self.report(&at, true, d);
        }
    }

    /// The generated ConfigMaps: `[config]` and `[files]`.
    fn data_sizes(&mut self) {
        let svc = self.svc;
        let config: usize = svc
            .config
            .iter()
            .map(|(k, v)| k.len() + v.render().len())
            .sum();
        let files: usize = svc
            .files
            .iter()
            .map(|(p, content)| file_key(p).len() + content.len())
            .sum();
        for (table, bytes) in [("config", config), ("files", files)] {
            if let Some(d) = data_size(&format!("`[{table}]`"), bytes) {
                self.report(&[key(table)], true, d);
            }
        }
    }
}

/// The environment's labels and annotations, added to every object of it.
pub(crate) fn environment(tree: &Node, env: &Environment) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |path: &[&str], d: Diagnostic| {
        let steps: Vec<Step> = path.iter().map(|p| key(p)).collect();
        let node = tree.nearest(&steps);
        d.at(node.origin.file, node.span(true))
    };
    for (table, map, what) in [
        ("labels", &env.labels, "label"),
        ("annotations", &env.annotations, "annotation"),
    ] {
        for k in map.keys() {
            let reserved = (what == "label").then(|| reserved_label(k)).flatten();
            if let Some(d) = bad_key(what, k).or(reserved) {
                out.push(at(&[table, k], d));
            }
        }
    }
    let bytes = size(&env.annotations);
    if bytes > ANNOTATIONS_MAX {
        let d = Diagnostic::error(
            Code::TooLarge,
            format!(
                "the environment's annotations hold {}; Kubernetes accepts at most 256 KiB on an object",
                human(bytes)
            ),
        )
        .hint("they are added to every object; keep large content out of annotations");
        out.push(at(&["annotations"], d));
    }
    out
}

const LABEL_VALUE: &str = "label values are empty, or at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit";

/// A label or annotation key Kubernetes would reject.
pub(crate) fn bad_key(what: &str, k: &str) -> Option<Diagnostic> {
    let problem = key_problem(k)?;
    Some(
        Diagnostic::error(
            Code::InvalidKey,
            format!("invalid {what} key `{}`: it {problem}", k.escape_debug()),
        )
        .hint(format!(
            "{what} keys are `name` or `prefix/name`: the prefix a DNS-1123 subdomain (`example.com`), the name at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        )),
    )
}

/// A label manifold sets itself: a value written for it would be replaced
/// without a word, or, on a Service, part from its selector.
pub(crate) fn reserved_label(k: &str) -> Option<Diagnostic> {
    let why = match k {
        "app" | "app.kubernetes.io/name" => {
            "manifold sets it to the service's name, and selectors use `app`; set `name` to change it"
        }
        "app.kubernetes.io/managed-by" => "manifold sets it to `manifold`",
        "env" => "manifold sets it to the environment's name",
        "group" | "app.kubernetes.io/part-of" => {
            "manifold sets it from `group`; set `group` instead"
        }
        "track" => {
            "manifold sets it to each track's name, and selectors use it; declare `[[tracks]]` instead"
        }
        "version" | "app.kubernetes.io/version" => {
            "manifold sets it on workloads from `version`; set `version` instead"
        }
        _ => return None,
    };
    Some(
        Diagnostic::error(
            Code::ReservedLabel,
            format!("label `{k}` is set by manifold"),
        )
        .hint(format!("remove it from `labels`: {why}")),
    )
}

/// The data of a ConfigMap or Secret, `what`, holding `bytes`: an error
/// above 1 MiB, a warning above 256 KiB.
pub(crate) fn data_size(what: &str, bytes: usize) -> Option<Diagnostic> {
    if bytes > DATA_MAX {
        Some(
            Diagnostic::error(
                Code::TooLarge,
                format!(
                    "{what} holds {}; a ConfigMap or Secret holds at most 1 MiB",
                    human(bytes)
                ),
            )
            .hint("keep large content out of the configuration: in the image, or a volume"),
        )
    } else if bytes > DATA_WARN {
        Some(
            Diagnostic::warning(
                Code::LargeObject,
                format!(
                    "{what} holds {}; client-side `kubectl apply` fails above 256 KiB",
                    human(bytes)
                ),
            )
            .hint("apply with server-side apply (`kubectl apply --server-side`, Flux's default), or make the data smaller"),
        )
    } else {
        None
    }
}

/// Keys and values, in bytes, as Kubernetes counts annotations.
fn size(map: &BTreeMap<String, String>) -> usize {
    map.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// `300.0 KiB`, `1.2 MiB`.
pub(crate) fn human(bytes: usize) -> String {
    let b = bytes as f64;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

/// A DNS-1035 label close to `name`: leading digits moved to the end
/// (`2048-game` to `game-2048`).
fn dns1035(name: &str) -> Option<String> {
    let (head, tail) = name.split_once('-')?;
    let better = format!("{tail}-{head}");
    crate::model::names::is_dns1035_label(&better).then_some(better)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_units() {
        assert_eq!(human(300 * 1024), "300.0 KiB");
        assert_eq!(human(3 * 1024 * 1024 / 2), "1.5 MiB");
        assert!(data_size("x", DATA_WARN).is_none());
        assert!(!data_size("x", DATA_WARN + 1).unwrap().is_error());
        assert!(data_size("x", DATA_MAX + 1).unwrap().is_error());
        assert_eq!(dns1035("2048-game").as_deref(), Some("game-2048"));
    }
}
