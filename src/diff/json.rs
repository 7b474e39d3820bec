//! The JSON renderer, for machines: totals, then every changed object of
//! every environment with its service, status and diff.

use serde_json::{Value as Json, json};

use super::{EnvChanges, total};

/// The change set as one JSON document:
/// `{"added", "changed", "removed", "environments": [{"name", "against",
/// "added", "changed", "removed", "objects": [{"path", "service", "status",
/// "diff"}]}]}`. `service` is null for the environment's own files.
pub fn render_json(envs: &[EnvChanges]) -> Json {
    let t = total(envs);
    let environments: Vec<Json> = envs
        .iter()
        .map(|env| {
            let c = env.counts();
            let objects: Vec<Json> = env
                .groups
                .iter()
                .flat_map(|g| {
                    g.changes.iter().map(move |ch| {
                        json!({
                            "path": ch.path,
                            "service": g.service,
                            "status": ch.status.name(),
                            "diff": ch.diff,
                        })
                    })
                })
                .collect();
            json!({
                "name": env.name,
                "against": env.against,
                "added": c.added,
                "changed": c.changed,
                "removed": c.removed,
                "objects": objects,
            })
        })
        .collect();
    json!({
        "added": t.added,
        "changed": t.changed,
        "removed": t.removed,
        "environments": environments,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn json_lists_objects_with_their_service() {
        let json = render_json(&sample());
        assert_eq!(json["changed"], 1);
        assert_eq!(json["environments"][0]["objects"][0]["service"], "web");
        assert_eq!(json["environments"][0]["objects"][0]["status"], "changed");
        assert_eq!(json["environments"][1]["objects"], json!([]));
    }
}
