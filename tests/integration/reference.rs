//! README's format reference is generated from the JSON schemas.

use std::fs;

use crate::support::*;

#[test]
fn the_readme_format_reference_matches_the_schemas() {
    let path = repo_root().join("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- reference:start -->\n", "<!-- reference:end -->");
    let from = readme
        .find(start)
        .expect("README has the reference start marker")
        + start.len();
    let to = readme
        .find(end)
        .expect("README has the reference end marker");
    let generated = crate::support::reference::markdown();
    if blessing() {
        fs::write(
            &path,
            format!("{}{generated}{}", &readme[..from], &readme[to..]),
        )
        .unwrap();
        return;
    }
    assert!(
        readme[from..to] == generated,
        "README's format reference is stale; refresh it with `MANIFOLD_BLESS=1 cargo test --test integration`"
    );
}

/// Editors (taplo, VS Code's Even Better TOML) cannot follow a `$ref` into
/// another file, so the environment and overlay schemas carry a copy of the
/// service schema's `$defs`: checked here, and refreshed by
/// `MANIFOLD_BLESS=1 cargo test --test integration reference`.
#[test]
fn reference_schemas_are_self_contained() {
    let dir = repo_root().join("schemas");
    let service = fs::read_to_string(dir.join("service.schema.json")).unwrap();
    for name in ["environment.schema.json", "overlay.schema.json"] {
        let path = dir.join(name);
        let text = fs::read_to_string(&path).unwrap();
        let fresh = crate::support::reference::with_service_defs(&text, &service);
        if blessing() {
            fs::write(&path, &fresh).unwrap();
            continue;
        }
        assert!(
            text == fresh,
            "schemas/{name} does not carry the service schema's `$defs` as they are; refresh it with `MANIFOLD_BLESS=1 cargo test --test integration reference`"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut refs = Vec::new();
        collect_refs(&value, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/$defs/").unwrap_or_else(|| {
                panic!("schemas/{name}: `$ref` {r} leaves the file");
            });
            assert!(value["$defs"].get(name).is_some(), "{r} is not defined");
        }
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
