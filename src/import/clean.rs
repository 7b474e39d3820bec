//! Dropping what the API server writes into an object and nobody declares:
//! `status`, the server's bookkeeping in `metadata`, kubectl's and the
//! Deployment controller's annotations, a Job's generated selector and the
//! labels it selects, and `null` values (absent, for Kubernetes). Everything else is material and kept, defaults the server
//! filled in included: the round trip compares against what this leaves.

use serde_json::Value as Json;

/// Bookkeeping fields of `metadata` the server sets.
pub const SERVER_METADATA: [&str; 7] = [
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// Annotations written by tools, not by the author.
pub const TOOL_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// The labels the Job controller puts on a Job's pods.
const JOB_LABELS: [&str; 4] = [
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
];

/// The object without server-populated fields; returns what was dropped,
/// as paths, for the summary.
pub fn clean(value: &mut Json) -> Vec<String> {
    let mut dropped = Vec::new();
    let Some(map) = value.as_object_mut() else {
        return dropped;
    };
    if map.remove("status").is_some() {
        dropped.push("status".to_string());
    }
    if let Some(Json::Object(meta)) = map.get_mut("metadata") {
        for key in SERVER_METADATA {
            if meta.remove(key).is_some() {
                dropped.push(format!("metadata.{key}"));
            }
        }
        if let Some(Json::Object(annotations)) = meta.get_mut("annotations") {
            for key in TOOL_ANNOTATIONS {
                if annotations.remove(key).is_some() {
                    dropped.push(format!("metadata.annotations.{key}"));
                }
            }
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    // A Job's selector and the labels it selects are the Job controller's,
    // unless the Job chose its own (`manualSelector`).
    if value["kind"] == "Job" && value["spec"]["manualSelector"] != true {
        if let Some(spec) = value["spec"].as_object_mut() {
            if spec.remove("selector").is_some() {
                dropped.push("spec.selector".to_string());
            }
        }
        for at in ["metadata", "spec.template.metadata"] {
            let pointer = format!("/{}/labels", at.replace('.', "/"));
            if let Some(Json::Object(labels)) = value.pointer_mut(&pointer) {
                for key in JOB_LABELS {
                    if labels.remove(key).is_some() {
                        dropped.push(format!("{at}.labels.{key}"));
                    }
                }
            }
        }
    }
    // A claim template's status and timestamp are the server's too.
    if let Some(Json::Array(claims)) = value.pointer_mut("/spec/volumeClaimTemplates") {
        for claim in claims {
            if let Some(claim) = claim.as_object_mut() {
                claim.remove("status");
                if let Some(Json::Object(meta)) = claim.get_mut("metadata") {
                    meta.remove("creationTimestamp");
                }
            }
        }
    }
    drop_nulls(value);
    dropped
}

/// Removes `null` values from tables (Kubernetes reads them as absent) and
/// `creationTimestamp: null`, which kubectl and Helm write into templates.
fn drop_nulls(value: &mut Json) {
    match value {
        Json::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Json::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_fields_go_and_the_rest_stays() {
        let mut v = serde_json::json!({
            "kind": "Deployment",
            "metadata": {
                "name": "web", "uid": "1", "resourceVersion": "2", "generation": 3,
                "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [],
                "annotations": {
                    "deployment.kubernetes.io/revision": "4",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}"
                }
            },
            "spec": {"template": {"metadata": {"creationTimestamp": null}}, "replicas": 1},
            "status": {"replicas": 1}
        });
        let dropped = clean(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"metadata": {}}, "replicas": 1}
            })
        );
        assert_eq!(dropped.len(), 8, "{dropped:?}");
    }

    #[test]
    fn a_jobs_generated_selector_and_labels_go_unless_it_chose_them() {
        let labels = serde_json::json!({"controller-uid": "1", "job-name": "j", "team": "a"});
        let mut job = serde_json::json!({
            "kind": "Job",
            "metadata": {"name": "j", "labels": labels},
            "spec": {"selector": {"matchLabels": {"controller-uid": "1"}}, "template": {"metadata": {"labels": labels}}}
        });
        let mut manual = job.clone();
        manual["spec"]["manualSelector"] = serde_json::json!(true);
        clean(&mut job);
        let kept = serde_json::json!({"team": "a"});
        assert_eq!(job["metadata"]["labels"], kept);
        assert_eq!(job["spec"]["template"]["metadata"]["labels"], kept);
        assert!(job["spec"]["selector"].is_null());
        let before = manual.clone();
        clean(&mut manual);
        assert_eq!(manual, before);
    }
}
