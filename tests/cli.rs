//! End-to-end tests of the `manifold` binary.
//!
//! Most cases are data: `tests/cases/<case>/case.toml` names the arguments and
//! the exact exit code, stdout and stderr; the case's `repo/` folder is laid
//! over the fixture named by `base` (from `tests/fixtures/`) to make the
//! repository it runs in. `MANIFOLD_BLESS=1 cargo test` rewrites the
//! expectations from the current behaviour. The tests below them use the real
//! tools the output is for: PyYAML, kubernetes-validate and kubectl.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::*;

#[test]
fn cases() {
    let root = repo_root().join("tests/cases");
    let mut names: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for dir in names.iter().filter(|d| d.join("case.toml").is_file()) {
        if let Err(e) = run_case(dir) {
            failures.push(format!(
                "{}: {e}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(names.len() >= 10, "the case folder went missing");
}

#[test]
fn the_example_output_matches_the_committed_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = manifold(&repo_root(), &["build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = repo_root().join("tests/expected/example");
    if blessing() {
        let _ = fs::remove_dir_all(&expected);
        copy_tree(&out, &expected);
        fs::remove_file(expected.join(".manifold-output")).unwrap();
    }
    assert_same_tree(
        &read_tree(&out),
        &read_tree(&expected),
        "the example's output changed; review and refresh with `MANIFOLD_BLESS=1 cargo test --test cli`",
    );
}

#[test]
fn output_is_byte_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let eight = tmp.path().join("eight");
    for (dir, jobs) in [(&one, "1"), (&two, "2"), (&eight, "8")] {
        let run = manifold(
            &repo_root(),
            &["build", "-j", jobs, "-o", dir.to_str().unwrap()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_same_tree(&read_tree(&one), &read_tree(&two), "-j 1 vs -j 2");
    assert_same_tree(&read_tree(&one), &read_tree(&eight), "-j 1 vs -j 8");
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    let before = read_tree(&out);
    fs::write(
        repo.path().join("services/web.toml"),
        "image = \"shop/web\"\nversion = 1.0\n",
    )
    .unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_same_tree(&read_tree(&out), &before, "a failed build");
}

#[test]
fn files_of_removed_services_disappear() {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    fs::copy(
        repo.path().join("services/web.toml"),
        repo.path().join("services/api.toml"),
    )
    .unwrap();
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    assert!(out.join("dev/api/deployment-api.yaml").is_file());
    fs::remove_file(repo.path().join("services/api.toml")).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!out.join("dev/api").exists());
    let kustomization = fs::read_to_string(out.join("dev/kustomization.yaml")).unwrap();
    assert!(!kustomization.contains("api/"), "{kustomization}");
    assert!(
        run.stderr.contains("0 added, 2 changed, 4 removed"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unchanged_build_touches_no_file() {
    let repo = fixture("minimal");
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    let file = repo.path().join("out/dev/web/deployment-web.yaml");
    let before = fs::metadata(&file).unwrap().modified().unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert!(
        run.stderr.contains("0 added, 0 changed, 0 removed"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::metadata(&file).unwrap().modified().unwrap(), before);
}

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
    let got = python(&["-c", script, file.to_str().unwrap()]);
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
    let report = python(&refs);
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
    python(&[script.to_str().unwrap(), "--check"]);
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

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

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
    let generated = support::reference::markdown();
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
        "README's format reference is stale; refresh it with `MANIFOLD_BLESS=1 cargo test --test cli`"
    );
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn build(repo: &Path) -> Run {
    let run = manifold(repo, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// Guards the merge order: built-in default < environment `[defaults]` <
/// service file < overlay.
#[test]
fn each_layer_overrides_the_one_below() {
    let repo = fixture("minimal");
    let deployment = |env: &str| {
        read(
            &repo
                .path()
                .join(format!("out/{env}/web/deployment-web.yaml")),
        )
    };
    build(repo.path());
    assert!(
        deployment("dev").contains("\n  replicas: 1\n"),
        "built-in default"
    );
    assert!(
        deployment("prod").contains("\n  replicas: 3\n"),
        "environment default"
    );
    let service = repo.path().join("services/web.toml");
    fs::write(
        &service,
        read(&service).replace("version = \"1.0\"\n", "version = \"1.0\"\nreplicas = 2\n"),
    )
    .unwrap();
    build(repo.path());
    assert!(
        deployment("dev").contains("\n  replicas: 2\n"),
        "service over built-in"
    );
    assert!(
        deployment("prod").contains("\n  replicas: 2\n"),
        "service over environment"
    );
    let overlay = repo.path().join("environments/prod/web.toml");
    fs::write(&overlay, format!("replicas = 5\n{}", read(&overlay))).unwrap();
    build(repo.path());
    assert!(
        deployment("prod").contains("\n  replicas: 5\n"),
        "overlay over service"
    );
    assert!(
        deployment("dev").contains("\n  replicas: 2\n"),
        "an overlay stays in its environment"
    );
}

/// A release must never touch an immutable selector, nor any object but the
/// workload.
#[test]
fn a_version_bump_changes_only_the_workload_and_never_its_selector() {
    let repo = fixture("minimal");
    build(repo.path());
    let path = repo.path().join("out/prod/web/deployment-web.yaml");
    let before = read(&path);
    let overlay = repo.path().join("environments/prod/web.toml");
    fs::write(
        &overlay,
        read(&overlay).replace("version = \"1.1\"", "version = \"1.2\""),
    )
    .unwrap();
    let run = build(repo.path());
    assert!(
        run.stderr.contains("0 added, 1 changed, 0 removed"),
        "{}",
        run.stderr
    );
    let after = read(&path);
    let selector = |yaml: &str| {
        yaml[yaml.find("  selector:").unwrap()..yaml.find("  strategy:").unwrap()].to_string()
    };
    assert_eq!(selector(&before), selector(&after));
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert!(
        changed.iter().all(|(a, b)| a.replace("1.1", "1.2") == *b),
        "{changed:?}"
    );
    assert_eq!(
        changed.len(),
        5,
        "image, and the version labels of workload and pods: {changed:?}"
    );
}

/// A config change gives the ConfigMap a new name, so the pods roll.
#[test]
fn a_config_change_renames_the_configmap_and_rolls_the_pods() {
    let repo = fixture("minimal");
    let service = repo.path().join("services/web.toml");
    fs::write(
        &service,
        format!("{}\n[config]\nGREETING = \"hello\"\n", read(&service)),
    )
    .unwrap();
    build(repo.path());
    let dir = repo.path().join("out/dev/web");
    let configmaps = || -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("configmap-"))
            .collect();
        v.sort();
        v
    };
    let first = configmaps();
    assert_eq!(first.len(), 1);
    let name = first[0]
        .trim_start_matches("configmap-")
        .trim_end_matches(".yaml")
        .to_string();
    assert!(
        read(&dir.join("deployment-web.yaml"))
            .contains(&format!("configMapRef:\n            name: {name}\n"))
    );
    fs::write(&service, read(&service).replace("\"hello\"", "\"bonjour\"")).unwrap();
    build(repo.path());
    let second = configmaps();
    assert_eq!(second.len(), 1, "the old ConfigMap is gone");
    assert_ne!(first, second);
    let renamed = second[0]
        .trim_start_matches("configmap-")
        .trim_end_matches(".yaml");
    assert!(read(&dir.join("deployment-web.yaml")).contains(&format!("name: {renamed}\n")));
}

/// With an autoscaler, the workload leaves `replicas` to it: a publish would
/// otherwise reset the scale on every apply.
#[test]
fn autoscaling_leaves_replicas_to_the_autoscaler() {
    let repo = fixture("minimal");
    let overlay = repo.path().join("environments/prod/web.toml");
    fs::write(
        &overlay,
        format!(
            "{}\n[autoscale]\nmin = 2\nmax = 6\ncpu = 75\n",
            read(&overlay)
        ),
    )
    .unwrap();
    build(repo.path());
    let deployment = read(&repo.path().join("out/prod/web/deployment-web.yaml"));
    assert!(!deployment.contains("replicas:"), "{deployment}");
    let hpa = read(
        &repo
            .path()
            .join("out/prod/web/horizontalpodautoscaler-web.yaml"),
    );
    assert!(hpa.contains("maxReplicas: 6\n  metrics:\n  - resource:\n      name: cpu\n      target:\n        averageUtilization: 75\n"), "{hpa}");
    assert!(read(&repo.path().join("out/dev/web/deployment-web.yaml")).contains("replicas: 1"));
}
