//! Tracks: workloads of one app that run side by side (a canary, the green
//! half of a blue/green pair) become one service with `[[tracks]]`, as
//! manifold renders them.
//!
//! Workloads of the same kind and namespace are one app when their pods
//! share an `app` label, or else both `app.kubernetes.io/name` and
//! `app.kubernetes.io/instance`. The stable one is the workload whose pods
//! are labelled `track: stable`, else the one named like the app, else the
//! one without a `track` label. Each other one is a track when it is what
//! manifold renders for a track: named `<service>-<track>` and selecting
//! exactly `app: <service>` and `track: <track>` (its selector cannot
//! change, so any other would be replaced). One that is not is imported as
//! its own service when it can be, or left out with the reason; it is never
//! dropped without a word. The objects of every workload of the app (its
//! canary Services and Ingresses) join the service.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::group::{Group, pod_template};
use super::map::string_map;
use super::read::Object;

/// One service to write: the stable workload's group, with the objects of
/// the other tracks' groups, and the other tracks' workloads.
#[derive(Debug)]
pub struct App {
    pub stable: Group,
    /// Each other track: its name and its workload.
    pub tracks: Vec<(String, Object)>,
}

/// What [`apps`] found.
#[derive(Debug, Default)]
pub struct Apps {
    pub apps: Vec<App>,
    /// Objects of workloads that fit no track and cannot be services of
    /// their own, and why.
    pub left_out: Vec<(String, String)>,
    /// Workloads that fit no track, imported as services of their own, and
    /// why.
    pub notes: Vec<(String, String)>,
}

/// The apps of the groups, in the order of their first workload.
pub fn apps(groups: Vec<Group>) -> Apps {
    let mut members: Vec<(Option<AppKey>, Vec<Group>)> = Vec::new();
    for g in groups {
        let key = app_key(&g);
        match members.iter_mut().find(|(k, _)| key.is_some() && k == &key) {
            Some((_, list)) => list.push(g),
            None => members.push((key, vec![g])),
        }
    }
    let mut out = Apps::default();
    for (_, list) in members {
        split(list, &mut out);
    }
    out
}

/// The kind and namespace of a workload, and the label that names its app.
type AppKey = (String, String);

/// The key of a workload's app, when its pods have a label that names one.
fn app_key(g: &Group) -> Option<AppKey> {
    let w = g.workload();
    let labels = string_map(&pod_template(&w.value)["metadata"]["labels"]);
    let app = match (
        labels.get("app"),
        labels.get("app.kubernetes.io/name"),
        labels.get("app.kubernetes.io/instance"),
    ) {
        (Some(app), _, _) => format!("app={app}"),
        (None, Some(name), Some(instance)) => format!("name={name},instance={instance}"),
        _ => return None,
    };
    let scope = format!("{}/{}", w.kind(), w.namespace().unwrap_or_default());
    Some((scope, app))
}

/// The `track` label of a workload's pods.
fn track_label(g: &Group) -> Option<String> {
    let labels = &pod_template(&g.workload().value)["metadata"]["labels"];
    labels["track"].as_str().map(str::to_string)
}

/// The name the service of a stable workload gets: its kept `app`, else
/// its own name (a Job's without the hash manifold adds to it).
pub fn service_name(w: &Json) -> String {
    let selector = string_map(&w["spec"]["selector"]["matchLabels"]);
    let name = w["metadata"]["name"].as_str().unwrap_or_default();
    match selector.get("app") {
        Some(app) if w["kind"] != "Job" => app.clone(),
        _ if w["kind"] == "Job" => job_base(name).unwrap_or(name).to_string(),
        _ => name.to_string(),
    }
}

/// `<base>` of a Job named `<base>-<hash>` as manifold names Jobs (ten
/// lowercase hex digits).
pub fn job_base(name: &str) -> Option<&str> {
    let (base, hash) = name.rsplit_once('-')?;
    let hex = hash.len() == 10
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !base.is_empty()).then_some(base)
}

/// One app's workloads: the stable one, the tracks that fit, and the rest
/// as services of their own or left out.
fn split(mut list: Vec<Group>, out: &mut Apps) {
    if list.len() == 1 {
        out.apps.push(App {
            stable: list.remove(0),
            tracks: Vec::new(),
        });
        return;
    }
    let stable_at = list
        .iter()
        .position(|g| track_label(g).as_deref() == Some(crate::model::STABLE))
        .or_else(|| {
            list.iter()
                .position(|g| service_name(&g.workload().value) == g.workload().name())
        })
        .or_else(|| list.iter().position(|g| track_label(g).is_none()))
        .unwrap_or(0);
    let stable = list.remove(stable_at);
    let name = service_name(&stable.workload().value);
    let kept = string_map(&stable.workload().value["spec"]["selector"]["matchLabels"]);
    let mut app = App {
        stable,
        tracks: Vec::new(),
    };
    for g in list {
        match fits(&g, &name, &kept) {
            Ok(track) => {
                let workload = g.workload().clone();
                app.stable.absorb(g);
                app.tracks.push((track, workload));
            }
            Err(why) => {
                let own = service_name(&g.workload().value);
                if own == name {
                    for o in g.objects() {
                        out.left_out
                            .push((o.id(), format!("{why}; import it on its own")));
                    }
                } else {
                    out.notes.push((
                        g.workload().id(),
                        format!("{why}; imported as service `{own}`"),
                    ));
                    out.apps.push(App {
                        stable: g,
                        tracks: Vec::new(),
                    });
                }
            }
        }
    }
    app.tracks.sort_by(|a, b| a.0.cmp(&b.0));
    out.apps.push(app);
}

/// The track a second workload of service `name` is, or why it is none.
fn fits(g: &Group, name: &str, kept: &BTreeMap<String, String>) -> Result<String, String> {
    let w = g.workload();
    let track = track_label(g)
        .or_else(|| {
            w.name()
                .strip_prefix(&format!("{name}-"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    let expected = BTreeMap::from([
        ("app".to_string(), name.to_string()),
        ("track".to_string(), track.clone()),
    ]);
    let selector = string_map(&w.value["spec"]["selector"]["matchLabels"]);
    let why = if !matches!(w.kind(), "Deployment" | "StatefulSet") {
        format!(
            "a second {} of service `{name}`: only deployments and statefulsets have tracks",
            w.kind()
        )
    } else if track.is_empty() || track == crate::model::STABLE || !dns_label(&track) {
        format!(
            "a second workload of service `{name}` with no track name (a `track` label, or the name `{name}-<track>`)"
        )
    } else if w.name() != format!("{name}-{track}") {
        format!(
            "track `{track}` of service `{name}` is named `{}`, not `{name}-{track}` as manifold names it",
            w.name()
        )
    } else if selector != expected || !w.value["spec"]["selector"]["matchExpressions"].is_null() {
        format!(
            "track `{track}` of service `{name}` selects {}, and a selector cannot change: manifold selects a track's pods by `app: {name}` and `track: {track}`",
            words(&selector)
        )
    } else if kept.keys().all(|k| k == "app") {
        format!(
            "service `{name}` keeps a selector of `app` alone, which would select the pods of track `{track}` too"
        )
    } else {
        return Ok(track);
    };
    Err(why)
}

fn words(selector: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<String> = selector
        .iter()
        .map(|(k, v)| format!("`{k}: {v}`"))
        .collect();
    match pairs.pop() {
        None => "nothing it can keep".to_string(),
        Some(last) if pairs.is_empty() => last,
        Some(last) => format!("{} and {last}", pairs.join(", ")),
    }
}

fn dns_label(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_name_loses_only_the_hash_manifold_gives_it() {
        assert_eq!(job_base("migrate-8f1fb3ad14"), Some("migrate"));
        assert_eq!(job_base("db-migrate-8f1fb3ad14"), Some("db-migrate"));
        assert_eq!(job_base("migrate-8F1FB3AD14"), None);
        assert_eq!(job_base("migrate-8f1fb3ad1"), None);
        assert_eq!(job_base("-8f1fb3ad14"), None);
        assert_eq!(job_base("migrate"), None);
    }
}
