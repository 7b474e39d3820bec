//! `explain` beyond the exact outputs of the data cases
//! (`tests/cases/explain-*`): the annotated service reads back as TOML
//! with a comment on every value, and every field of every object the
//! bundled example renders is traced, in every environment, without a
//! failure.

use serde_json::Value as Json;

use manifold::compile::trace;
use manifold::explain;
use manifold::input::load::load;

use crate::support::*;

#[test]
fn the_annotated_service_reads_back_as_the_merged_values() {
    let run = manifold(
        &repo_root().join("tests/fixtures/explain"),
        &["explain", "-e", "prod", "web"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let parsed: toml::Table = toml::from_str(&run.stdout).unwrap();
    assert_eq!(parsed["replicas"].as_integer(), Some(4));
    assert_eq!(parsed["tracks"][0]["weight"].as_integer(), Some(25));
    assert_eq!(parsed["env"]["DB_NAME"].as_str(), Some("web-prod"));
    assert_eq!(parsed["resources"]["cpu"]["request"].as_str(), Some("100m"));
    for line in run.stdout.lines().filter(|l| l.contains(" = ")) {
        assert!(line.contains("  # "), "a value without its layer: {line}");
    }
}

/// A field path as `--field` reads it.
fn field_text(path: &[Json]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Json::Number(i) => out.push_str(&format!("[{i}]")),
            Json::String(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&Json::from(k.as_str()).to_string());
                }
            }
            _ => unreachable!(),
        }
    }
    out
}

/// The paths of every scalar of a rendered object.
fn leaves(value: &Json, path: &mut Vec<Json>, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                path.push(Json::from(k.as_str()));
                leaves(v, path, out);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Json::from(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(field_text(path)),
    }
}

/// Every field of the example's objects, in every environment: none is a
/// failure, and most lead to a key (the others are manifold's own labels,
/// names and kinds, and values computed from several keys).
#[test]
fn every_field_of_every_example_object_is_traced() {
    let project = load(&repo_root()).unwrap();
    let (mut fields_seen, mut to_keys) = (0, 0);
    for env in &project.environments {
        let env = env.input.name.as_str();
        for svc in &project.services {
            let traced = match trace(&project, env, &svc.name, true).unwrap() {
                Ok(t) => t,
                Err(d) => panic!("{env}/{}: {d:?}", svc.name),
            };
            let whole = explain::service(&traced, &project.sources, env);
            toml::from_str::<toml::Table>(&whole.text).unwrap();
            for object in &traced.objects {
                let name = format!("{}/{}", object.kind, object.name);
                let mut fields = Vec::new();
                leaves(&object.value, &mut Vec::new(), &mut fields);
                for field in fields {
                    let out = explain::field(&traced, &project.sources, env, &name, &field)
                        .unwrap_or_else(|e| panic!("{env} {name} {field}: {e}"));
                    fields_seen += 1;
                    let values = out.json["values"].as_array().unwrap();
                    if values
                        .iter()
                        .any(|v| !v["chain"].as_array().unwrap().is_empty())
                    {
                        to_keys += 1;
                    }
                }
            }
        }
    }
    assert!(
        fields_seen > 4000,
        "the example renders {fields_seen} fields"
    );
    assert!(
        to_keys * 2 > fields_seen,
        "{to_keys} of {fields_seen} fields lead to a key"
    );
}
