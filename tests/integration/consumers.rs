//! The tools the output is written for read it as intended: PyYAML,
//! ruamel.yaml, kubernetes-validate and `kubectl kustomize`.

use std::fs;

use crate::support::*;

/// Strings that YAML 1.1 readers turn into booleans, numbers or times unless
/// quoted must read back as the strings written in TOML.
#[test]
fn every_string_reads_back_unchanged_with_pyyaml() {
    let repo = fixture("minimal");
    let tricky = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "true",
        "False",
        "null",
        "~",
        "0755",
        "0o17",
        "0x1F",
        "1_000",
        "12:30:00",
        "1:20",
        "1e3",
        "3.14",
        ".inf",
        "-.5",
        "2024-01-01",
        "+1",
        "",
        " padded ",
        "a: b",
        "# not a comment",
        "- item",
        "*star",
        "&anchor",
        "!tag",
        "@at",
        "`tick",
        "'single'",
        "\"double\"",
        "multi\nline\n",
        "tab\there",
        "ünïcödé 漢字",
        "=",
        "<<",
        "---",
        "...",
        "%percent",
        "[list]",
        "{map}",
        "trailing:",
    ];
    let mut toml = String::from("image = \"shop/web\"\nversion = \"1.0\"\n[env]\n");
    for (i, s) in tricky.iter().enumerate() {
        toml.push_str(&format!("V{i:02} = {}\n", toml_string(s)));
    }
    fs::write(repo.path().join("services/web.toml"), toml).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = "import sys, yaml, json\nd = yaml.safe_load(open(sys.argv[1]))\nenv = d['spec']['template']['spec']['containers'][0]['env']\nprint(json.dumps({e['name']: e.get('value') for e in env}))\n";
    let file = repo.path().join("out/dev/web/deployment-web.yaml");
    let got = python(&[PYYAML], &["-c", script, file.to_str().unwrap()]);
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    for (i, s) in tricky.iter().enumerate() {
        assert_eq!(
            got[format!("V{i:02}")],
            serde_json::Value::String(s.to_string()),
            "V{i:02} = {s:?}"
        );
    }
}

#[test]
fn the_example_passes_kubernetes_validate_strict_and_yaml_agreement() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(
        manifold(&repo_root(), &["build", "-o", out.to_str().unwrap()]).code,
        0
    );
    let mut args = vec![
        repo_root()
            .join("scripts/check-output.py")
            .to_string_lossy()
            .into_owned(),
    ];
    args.push(out.to_string_lossy().into_owned());
    for (env, version) in example_versions() {
        args.push("--kube".into());
        args.push(format!("{env}={version}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = python(&[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE], &refs);
    assert!(report.contains(": 0 problems"), "{report}");
}

#[test]
fn kubectl_kustomize_renders_every_environment_of_the_example() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(
        manifold(&repo_root(), &["build", "-o", out.to_str().unwrap()]).code,
        0
    );
    for (env, _) in example_versions() {
        let dir = out.join(&env);
        let rendered = kubectl_kustomize(&dir);
        let files = fs::read_dir(&dir).unwrap().count();
        assert!(
            rendered.matches("\nkind: ").count() + 1 >= files,
            "{env}: too few objects rendered"
        );
    }
}

#[test]
fn the_vendored_kubernetes_schemas_are_current() {
    let script = repo_root().join("scripts/vendor-kube-schemas.py");
    python(
        &[KUBERNETES_VALIDATE],
        &[script.to_str().unwrap(), "--check"],
    );
}

/// The environments of the bundled example and their Kubernetes versions.
fn example_versions() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for entry in fs::read_dir(repo_root().join("environments")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = fs::read_to_string(&path).unwrap();
            let table: toml::Table = text.parse().unwrap();
            let version = table["kube_version"].as_str().unwrap().to_string();
            v.push((
                path.file_stem().unwrap().to_string_lossy().into_owned(),
                version,
            ));
        }
    }
    v.sort();
    v
}
