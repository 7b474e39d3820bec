//! The name of a `kind = "job"` workload: `<name>-<hash>`, the hash of what
//! Kubernetes cannot change in a Job once it exists (its pod template,
//! `completions`, selector, ...), so a change there is a new Job, which
//! Flux and Argo CD create while pruning the old one, where applying it
//! under the same name would fail.
//!
//! It runs after the patches, which name the Job by its service's name
//! (`job/<name>`, what the user can know), so the hash covers what they
//! change too. Raw objects of kind Job are written as they are.

use serde_json::Value as Json;

use super::{Object, content_hash};

/// Fields of a Job's `spec` that Kubernetes lets change in place: changing
/// them updates the Job and does not run it again. Every other field (the
/// template, `completions`, the selector, the completion mode, the failure
/// and success policies, ...) is immutable, or assumed to be, and is hashed.
const MUTABLE: [&str; 5] = [
    "activeDeadlineSeconds",
    "backoffLimit",
    "parallelism",
    "suspend",
    "ttlSecondsAfterFinished",
];

/// Renames every Job manifold rendered to `<metadata.name>-<hash>`.
pub(super) fn name_jobs(objects: &mut [Object]) {
    for object in objects
        .iter_mut()
        .filter(|o| o.kind == "Job" && o.raw_key.is_none())
    {
        let base = object.value["metadata"]["name"]
            .as_str()
            .unwrap_or(&object.name)
            .to_string();
        let name = format!("{base}-{}", immutable_hash(&object.value["spec"]));
        object.value["metadata"]["name"] = Json::String(name.clone());
        object.patch_name = Some(std::mem::replace(&mut object.name, name));
    }
}

/// The hash of a Job's `spec` without its [`MUTABLE`] fields.
fn immutable_hash(spec: &Json) -> String {
    let mut fixed = spec.clone();
    if let Some(fields) = fixed.as_object_mut() {
        for key in MUTABLE {
            fields.remove(key);
        }
    }
    // serde_json's map is sorted, so the text is canonical.
    let text = serde_json::to_string(&fixed).expect("JSON values serialize");
    content_hash([("spec", text.as_str())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: Json) -> Object {
        Object {
            kind: "Job".into(),
            name: "migrate".into(),
            namespace: None,
            value: serde_json::json!({ "metadata": { "name": "migrate" }, "spec": spec }),
            raw_key: None,
            patch_name: None,
        }
    }

    fn named(spec: Json) -> String {
        let mut objects = [job(spec)];
        name_jobs(&mut objects);
        let [o] = objects;
        assert_eq!(o.value["metadata"]["name"], Json::String(o.name.clone()));
        assert_eq!(o.patch_key(), "job/migrate");
        o.name
    }

    #[test]
    fn the_name_follows_the_template_and_not_the_mutable_fields() {
        let template =
            |image: &str| serde_json::json!({ "spec": { "containers": [{ "image": image }] } });
        let base = named(serde_json::json!({ "template": template("app:1") }));
        assert!(base.starts_with("migrate-") && base.len() == "migrate-".len() + 10);
        assert_ne!(
            base,
            named(serde_json::json!({ "template": template("app:2") }))
        );
        assert_ne!(
            base,
            named(serde_json::json!({ "template": template("app:1"), "completions": 2 }))
        );
        assert_eq!(
            base,
            named(serde_json::json!({
                "template": template("app:1"),
                "backoffLimit": 3,
                "parallelism": 2,
                "ttlSecondsAfterFinished": 60,
                "activeDeadlineSeconds": 600,
                "suspend": false,
            }))
        );
    }

    #[test]
    fn raw_jobs_keep_their_name() {
        let mut raw = job(serde_json::json!({}));
        raw.raw_key = Some("seed".into());
        let mut objects = [raw];
        name_jobs(&mut objects);
        assert_eq!(objects[0].name, "migrate");
        assert_eq!(objects[0].patch_name, None);
    }
}
