//! End-to-end tests of the `manifold` binary.
//!
//! Most cases are data: `tests/cases/<case>/case.toml` names the arguments and
//! the exact exit code, stdout and stderr; the case's `repo/` folder is laid
//! over the fixture named by `base` (from `tests/fixtures/`) to make the
//! repository it runs in. `MANIFOLD_BLESS=1 cargo test` rewrites the
//! expectations from the current behaviour. The tests below them use the real
//! tools the output is for: PyYAML, kubernetes-validate and kubectl.

mod support;

use std::collections::BTreeMap;
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
    let replicas = |env: &str| -> String {
        let path = repo
            .path()
            .join(format!("out/{env}/web/deployment-web.yaml"));
        let yaml = read(&path);
        let line = yaml
            .lines()
            .find(|l| l.starts_with("  replicas: "))
            .expect("a replicas line");
        line.trim_start_matches("  replicas: ").to_string()
    };
    build(repo.path());
    assert_eq!(replicas("dev"), "1", "built-in default");
    assert_eq!(replicas("prod"), "3", "environment default");
    let service = repo.path().join("services/web.toml");
    let text = read(&service).replace("version = \"1.0\"\n", "version = \"1.0\"\nreplicas = 2\n");
    fs::write(&service, text).unwrap();
    build(repo.path());
    assert_eq!(replicas("dev"), "2", "service over built-in");
    assert_eq!(replicas("prod"), "2", "service over environment");
    let overlay = repo.path().join("environments/prod/web.toml");
    fs::write(&overlay, format!("replicas = 5\n{}", read(&overlay))).unwrap();
    build(repo.path());
    assert_eq!(replicas("prod"), "5", "overlay over service");
    assert_eq!(replicas("dev"), "2", "an overlay stays in its environment");
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

// ---------------------------------------------------------------------------
// The GitOps loop: publish and diff in real temporary git repositories.

use support::git::{GitRepo, finish};

/// The files every gitops branch carries besides the environments.
const ROOT_FILES: [&str; 2] = [".gitattributes", "README.md"];

/// The environment files of a branch tree (its README and .gitattributes
/// left out), to compare with `manifold build` output.
fn env_files(mut tree: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    for f in ROOT_FILES {
        assert!(tree.remove(f).is_some(), "the branch has its {f}");
    }
    tree
}

fn trailer<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
}

#[test]
fn the_first_publish_creates_an_orphan_branch_holding_the_build_output() {
    let repo = GitRepo::new("minimal");
    let head = repo.rev("HEAD").unwrap();
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tip = repo
        .rev("refs/heads/gitops")
        .expect("the branch was created");
    assert_eq!(
        run.stderr,
        format!(
            "published {} to gitops: dev +4 ~0 -0, prod +4 ~0 -0, (branch root) +2 ~0 -0\n",
            &tip[..12]
        )
    );
    assert_eq!(run.stdout, "");
    let history = repo.history("gitops");
    assert_eq!(history.len(), 1);
    assert!(
        history[0].1.is_empty(),
        "no ancestry from the source branch"
    );
    let expected_message = format!(
        "publish {short}: initial configuration

Rendered from {head}:
    initial configuration

dev: 4 added, 0 changed, 0 removed
  + kustomization.yaml
  + namespace.yaml
  + web/deployment-web.yaml
  + web/service-web.yaml

prod: 4 added, 0 changed, 0 removed
  + kustomization.yaml
  + namespace.yaml
  + web/deployment-web.yaml
  + web/service-web.yaml

(branch root): 2 added, 0 changed, 0 removed
  + .gitattributes
  + README.md

Source-Commit: {head}
Manifold-Version: {version}
",
        short = &head[..12],
        version = env!("CARGO_PKG_VERSION")
    );
    assert_eq!(history[0].2.trim_end(), expected_message.trim_end());
    let tree = repo.tree("gitops");
    let readme = String::from_utf8_lossy(&tree["README.md"]).into_owned();
    assert!(
        readme.starts_with("# Generated by manifold: do not edit\n"),
        "{readme}"
    );
    assert!(readme.contains("| `prod/` | `prod` | 1.37 |"), "{readme}");
    assert_eq!(
        String::from_utf8_lossy(&tree[".gitattributes"]),
        "# Generated by manifold: hide this tree from code review statistics.\n* linguist-generated=true\n"
    );
    assert_eq!(env_files(tree), repo.build(&repo.path));
    assert_eq!(repo.rev("HEAD").unwrap(), head);
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), "refs/heads/main\n");
    assert_eq!(
        repo.git(&["for-each-ref", "--format=%(refname)"]),
        "refs/heads/gitops\nrefs/heads/main\n",
        "no scratch ref is left behind"
    );
}

#[test]
fn an_unchanged_publish_makes_no_commit() {
    let repo = GitRepo::new("minimal");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let tip = repo.rev("gitops").unwrap();
    let run = repo.manifold(&["publish"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "gitops is up to date (nothing to publish)\n")
    );
    // A source commit that does not change the rendering publishes nothing
    // either: the tree, not the source commit, decides.
    repo.write("NOTES.md", "not configuration\n");
    repo.commit_all("add notes");
    let run = repo.manifold(&["publish"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "gitops is up to date (nothing to publish)\n")
    );
    assert_eq!(repo.rev("gitops").unwrap(), tip);
}

#[test]
fn a_changed_input_makes_exactly_one_commit_equal_to_the_build() {
    let repo = GitRepo::new("minimal");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let before = repo.rev("gitops").unwrap();
    repo.write(
        "environments/prod/web.toml",
        "version = \"1.2\"\n\n[rollout]\nmax_unavailable = 1\n",
    );
    let head = repo.commit_all("web 1.2 in prod");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let history = repo.history("gitops");
    assert_eq!(history.len(), 2);
    let (tip, parents, message) = &history[0];
    assert_eq!(parents, &vec![before]);
    assert_eq!(
        run.stderr,
        format!(
            "published {} to gitops: dev +0 ~0 -0, prod +0 ~1 -0\n",
            &tip[..12]
        )
    );
    assert_eq!(
        message.trim_end(),
        format!(
            "publish {}: web 1.2 in prod\n\nRendered from {head}:\n    web 1.2 in prod\n\ndev: no changes\n\nprod: 0 added, 1 changed, 0 removed\n  ~ web/deployment-web.yaml\n\nSource-Commit: {head}\nManifold-Version: {}",
            &head[..12],
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(env_files(repo.tree("gitops")), repo.build(&repo.path));
}

#[test]
fn removed_services_vanish_from_the_branch() {
    let repo = GitRepo::new("minimal");
    fs::copy(
        repo.path.join("services/web.toml"),
        repo.path.join("services/api.toml"),
    )
    .unwrap();
    repo.commit_all("add api");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    assert!(
        repo.tree("gitops")
            .contains_key("dev/api/deployment-api.yaml")
    );
    repo.git(&["rm", "-q", "services/api.toml"]);
    repo.commit_all("remove api");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree = repo.tree("gitops");
    let left: Vec<&String> = tree.keys().filter(|p| p.contains("api")).collect();
    assert!(left.is_empty(), "{left:?}");
    let kustomization = String::from_utf8_lossy(&tree["dev/kustomization.yaml"]).into_owned();
    assert!(!kustomization.contains("api/"), "{kustomization}");
    let message = &repo.history("gitops")[0].2;
    assert!(
        message.contains("dev: 0 added, 1 changed, 2 removed\n  - api/deployment-api.yaml\n  - api/service-api.yaml\n  ~ kustomization.yaml\n"),
        "{message}"
    );
    assert_eq!(env_files(tree), repo.build(&repo.path));
}

#[test]
fn publish_leaves_a_dirty_checkout_untouched() {
    let repo = GitRepo::new("minimal");
    repo.write("NOTES.md", "v1\n");
    repo.write("staged.md", "v1\n");
    repo.commit_all("notes");
    // A stash entry, a staged change, an unstaged change, an untracked file.
    repo.write("NOTES.md", "stashed\n");
    repo.git(&["stash", "-q"]);
    repo.write("staged.md", "staged\n");
    repo.git(&["add", "staged.md"]);
    repo.write("NOTES.md", "unstaged\n");
    repo.write("untracked.md", "new\n");
    let before = repo.snapshot();
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo.rev("gitops").is_some());
    assert_eq!(repo.snapshot(), before);

    // Publishing the working tree anyway is possible, says so, and still
    // leaves the checkout alone.
    repo.write(
        "environments/prod/web.toml",
        "version = \"1.3\"\n\n[rollout]\nmax_unavailable = 1\n",
    );
    let before = repo.snapshot();
    let run = repo.manifold(&["publish", "--allow-dirty"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(repo.snapshot(), before);
    let message = &repo.history("gitops")[0].2;
    assert_eq!(trailer(message, "Source-Dirty"), Some("true"), "{message}");
    assert!(
        String::from_utf8_lossy(&repo.tree("gitops")["prod/web/deployment-web.yaml"])
            .contains("shop/web:1.3")
    );
}

#[test]
fn publish_refuses_uncommitted_configuration() {
    let repo = GitRepo::new("minimal");
    repo.write(
        "environments/prod/web.toml",
        "version = \"1.3\"\n\n[rollout]\nmax_unavailable = 1\n",
    );
    repo.write(
        "services/api.toml",
        "image = \"shop/api\"\nversion = \"1\"\n",
    );
    let head = repo.rev("HEAD").unwrap();
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: `services/` or `environments/` differ from HEAD ({}), so the published tree would not be what `Source-Commit` names:
  environments/prod/web.toml (modified)
  services/api.toml (untracked)
  = help: commit or stash them, or pass `--allow-dirty` to publish the working tree anyway
",
            &head[..12]
        )
    );
    assert_eq!(repo.rev("gitops"), None, "nothing was written");
}

#[test]
fn publish_with_input_errors_writes_nothing() {
    let repo = GitRepo::new("minimal");
    repo.write("services/web.toml", "image = \"shop/web\"\nversion = 1.0\n");
    repo.commit_all("broken");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("services/web.toml:2:11"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.rev("gitops"), None);
}

#[test]
fn a_dry_run_describes_the_commit_and_writes_nothing() {
    let repo = GitRepo::new("minimal");
    let objects = repo.git(&["count-objects", "-v"]);
    let run = repo.manifold(&["publish", "--dry-run", "-m", "first release"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "would publish to gitops: dev +4 ~0 -0, prod +4 ~0 -0, (branch root) +2 ~0 -0 (dry run: nothing written)\n"
    );
    assert!(
        run.stdout.starts_with("first release\n\nRendered from "),
        "{}",
        run.stdout
    );
    assert_eq!(repo.rev("gitops"), None);
    assert_eq!(repo.git(&["count-objects", "-v"]), objects);
}

#[test]
fn environments_go_to_the_branch_and_path_they_name() {
    let repo = GitRepo::new("minimal");
    let prod = fs::read_to_string(repo.path.join("environments/prod.toml")).unwrap();
    repo.write(
        "environments/prod.toml",
        &prod.replace(
            "[defaults]",
            "[gitops]\nbranch = \"gitops-prod\"\npath = \"clusters/prod\"\n\n[defaults]",
        ),
    );
    repo.commit_all("prod on its own branch");
    let run = repo.manifold(&["publish", "--branch", "deploy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let build = repo.build(&repo.path);
    let under = |prefix: &str| -> BTreeMap<String, Vec<u8>> {
        build
            .iter()
            .filter_map(|(p, c)| {
                p.strip_prefix(&format!("{prefix}/"))
                    .map(|rest| (rest.to_string(), c.clone()))
            })
            .collect()
    };
    let deploy = env_files(repo.tree("deploy"));
    let expected_dev: BTreeMap<String, Vec<u8>> = under("dev")
        .into_iter()
        .map(|(p, c)| (format!("dev/{p}"), c))
        .collect();
    assert_eq!(deploy, expected_dev);
    let gitops_prod = env_files(repo.tree("gitops-prod"));
    let expected_prod: BTreeMap<String, Vec<u8>> = under("prod")
        .into_iter()
        .map(|(p, c)| (format!("clusters/prod/{p}"), c))
        .collect();
    assert_eq!(gitops_prod, expected_prod);
    assert_eq!(repo.rev("gitops"), None, "`--branch` replaced the default");
}

#[test]
fn publish_will_not_move_a_checked_out_branch() {
    let repo = GitRepo::new("minimal");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let wt = repo.scratch("gitops-checkout");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "gitops"]);
    repo.write("environments/prod/web.toml", "version = \"2.0\"\n");
    repo.commit_all("web 2.0");
    let tip = repo.rev("gitops").unwrap();
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`gitops` is checked out in")
            && run
                .stderr
                .contains("switch that worktree to another branch"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.rev("gitops").unwrap(), tip);
}

/// Several publishes from separate processes, started together, on one
/// repository: every one of them ends up as exactly one commit of a linear
/// history, and each commit's tree is wholly its own source's rendering.
#[test]
fn racing_publishes_lose_nothing() {
    let repo = GitRepo::new("minimal");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let names = ["a", "b", "c"];
    let worktrees: Vec<PathBuf> = names
        .iter()
        .map(|n| {
            let dir = repo.scratch(&format!("wt-{n}"));
            repo.git(&[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("wt-{n}"),
                dir.to_str().unwrap(),
            ]);
            dir
        })
        .collect();
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut retried = 0;
    for round in 0..4 {
        let before = repo.history("gitops").len();
        let mut sources = Vec::new();
        for (n, dir) in names.iter().zip(&worktrees) {
            fs::write(
                dir.join("environments/prod/web.toml"),
                format!("version = \"r{round}-{n}\"\n"),
            )
            .unwrap();
            let head = repo.commit_all_in(dir, &format!("round {round} {n}"));
            expected.insert(head.clone(), repo.build(dir));
            sources.push(head);
        }
        // Start every process before waiting for any.
        let children: Vec<_> = worktrees
            .iter()
            .map(|dir| repo.manifold_cmd(dir, &["publish"]).spawn().unwrap())
            .collect();
        for child in children {
            let run = finish(child);
            assert_eq!(run.code, 0, "{}", run.stderr);
            retried += run
                .stderr
                .matches("another publish moved the branch")
                .count();
        }
        let history = repo.history("gitops");
        assert_eq!(history.len(), before + names.len(), "round {round}");
        let mut published: Vec<String> = history[..names.len()]
            .iter()
            .map(|(_, _, m)| trailer(m, "Source-Commit").unwrap().to_string())
            .collect();
        published.sort();
        sources.sort();
        assert_eq!(
            published, sources,
            "round {round}: each source exactly once"
        );
    }
    // Linear: every commit's only parent is the next older one.
    let history = repo.history("gitops");
    for pair in history.windows(2) {
        assert_eq!(pair[0].1, vec![pair[1].0.clone()]);
    }
    // Not mixed: each commit holds exactly its own source's rendering.
    for (id, _, message) in &history[..history.len() - 1] {
        let source = trailer(message, "Source-Commit").unwrap();
        assert_eq!(&env_files(repo.tree(id)), &expected[source], "{id}");
    }
    eprintln!("racing publishes: {retried} retries over 4 rounds");
}

#[test]
fn diff_reads_the_gitops_branch_from_git_objects() {
    let repo = GitRepo::new("minimal");
    let run = repo.manifold(&["diff", "--exit-code", "-e", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "note: branch `gitops` does not exist yet; everything is new\n"
    );
    assert!(
        run.stdout
            .starts_with("dev: 4 added, 0 changed, 0 removed (against gitops:dev)\n")
    );
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let run = repo.manifold(&["diff", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "dev: no changes (against gitops:dev)\nprod: no changes (against gitops:prod)\n",
            ""
        )
    );
    // Uncommitted edits are what diff is for.
    repo.write(
        "environments/prod/web.toml",
        "version = \"1.2\"\n\n[rollout]\nmax_unavailable = 1\n",
    );
    let run = repo.manifold(&["diff", "--exit-code", "-e", "prod"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "\
prod: 0 added, 1 changed, 0 removed (against gitops:prod)

== prod/web: 1 changed
--- a/prod/web/deployment-web.yaml
+++ b/prod/web/deployment-web.yaml
@@ -5,10 +5,10 @@
     app: web
     app.kubernetes.io/managed-by: manifold
     app.kubernetes.io/name: web
-    app.kubernetes.io/version: \"1.1\"
+    app.kubernetes.io/version: \"1.2\"
     env: prod
     track: stable
-    version: \"1.1\"
+    version: \"1.2\"
   name: web
   namespace: shop
 spec:
@@ -27,13 +27,13 @@
         app: web
         app.kubernetes.io/managed-by: manifold
         app.kubernetes.io/name: web
-        app.kubernetes.io/version: \"1.1\"
+        app.kubernetes.io/version: \"1.2\"
         env: prod
         track: stable
-        version: \"1.1\"
+        version: \"1.2\"
     spec:
       containers:
-      - image: registry.example.com/shop/web:1.1
+      - image: registry.example.com/shop/web:1.2
         name: web
         ports:
         - containerPort: 8080
"
    );
    // Without --exit-code, changes are not a failure.
    assert_eq!(repo.manifold(&["diff"]).code, 0);
    // A revision compares every environment at its path there.
    repo.commit_all("web 1.2");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let run = repo.manifold(&["diff", "--against", "gitops~1", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["changed"], 1);
    assert_eq!(json["environments"][1]["against"], "gitops~1:prod");
    let run = repo.manifold(&["diff", "--against", "no-such-ref"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: `no-such-ref` is neither a directory nor a git revision\n"
        )
    );
}

#[test]
fn diff_colours_only_for_a_terminal_or_when_forced() {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    fs::write(
        repo.path().join("environments/prod/web.toml"),
        "version = \"1.2\"\n",
    )
    .unwrap();
    let run = |force: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_manifold"));
        cmd.arg("-C")
            .arg(repo.path())
            .args(["diff", "--against", out.to_str().unwrap()])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        if force {
            cmd.env("CLICOLOR_FORCE", "1");
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let piped = run(false);
    assert!(!piped.contains('\u{1b}'), "no colour into a pipe");
    let forced = run(true);
    assert!(
        forced.contains("\u{1b}[31m-    version: \"1.1\"\u{1b}[0m"),
        "{forced:?}"
    );
}

// ---------------------------------------------------------------------------
// The pre-commit framework

/// A git repository holding this repository's sources as one commit, for
/// pre-commit's `repo:`. The commit has fixed metadata, so unchanged sources
/// give the same `rev` and pre-commit reuses the manifold it built before.
fn hook_repository(dir: &Path) -> String {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        ".pre-commit-hooks.yaml",
    ] {
        fs::copy(repo_root().join(file), dir.join(file)).unwrap();
    }
    for sub in ["src", "schemas"] {
        overlay_dir(&repo_root().join(sub), &dir.join(sub));
    }
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "manifold tests")
            .env("GIT_AUTHOR_EMAIL", "tests@example.com")
            .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
            .env("GIT_COMMITTER_NAME", "manifold tests")
            .env("GIT_COMMITTER_EMAIL", "tests@example.com")
            .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "manifold sources under test"]);
    git(&["rev-parse", "HEAD"])
}

/// The hook a configuration repository uses through the real pre-commit
/// framework (from PyPI), with manifold built by pre-commit's Rust support:
/// a clean commit passes, a typo is rejected with its location.
#[test]
fn the_pre_commit_hook_passes_a_clean_commit_and_rejects_a_typo() {
    let cache = repo_root().join("target/pre-commit");
    let rev = hook_repository(&cache.join("hook-repo"));
    let repo = GitRepo::new("minimal");
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: manifold-validate\n",
            cache.join("hook-repo").display()
        ),
    );
    repo.commit_all("use the manifold hook");
    // Not isolated from HOME: pre-commit runs cargo, which needs the
    // toolchain. The repository's identity is in its own config.
    let command = |program: &Path, args: &[&str]| {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(&repo.path)
            .args(args)
            .env("PRE_COMMIT_HOME", cache.join("home"))
            // Keeps compiled dependencies between runs when the sources change.
            .env("CARGO_TARGET_DIR", cache.join("cargo-target"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        let out = cmd.output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    };
    let pre_commit = pytools().join("pre-commit");

    let started = std::time::Instant::now();
    let (code, out) = command(&pre_commit, &["run", "--all-files", "--color", "never"]);
    eprintln!(
        "pre-commit: first run (builds manifold unless cached) in {:?}",
        started.elapsed()
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("manifold validate") && out.contains("Passed"),
        "{out}"
    );
    let started = std::time::Instant::now();
    let (code, out) = command(&pre_commit, &["run", "--all-files", "--color", "never"]);
    eprintln!("pre-commit: second run in {:?}", started.elapsed());
    assert_eq!(code, 0, "{out}");

    // Only TOML under services/ or environments/ triggers the hook.
    repo.write("NOTES.md", "notes\n");
    let (code, out) = command(
        &pre_commit,
        &["run", "--files", "NOTES.md", "--color", "never"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(no files to check)Skipped"), "{out}");

    // A real commit through the installed hook.
    let (code, out) = command(&pre_commit, &["install"]);
    assert_eq!(code, 0, "{out}");
    let head = repo.rev("HEAD").unwrap();
    fs::copy(
        repo_root().join("tests/cases/typo-in-service/repo/services/web.toml"),
        repo.path.join("services/web.toml"),
    )
    .unwrap();
    repo.git(&["add", "-A"]);
    let git = PathBuf::from("git");
    let (code, out) = command(&git, &["commit", "-q", "-m", "typo"]);
    assert_ne!(code, 0, "{out}");
    for wanted in [
        "manifold validate",
        "Failed",
        "error: unknown key `periodSecods`",
        "--> services/web.toml:11:1",
        "did you mean `period`?",
        "= help: replace `periodSecods` with `period`",
    ] {
        assert!(out.contains(wanted), "`{wanted}` missing from:\n{out}");
    }
    assert_eq!(repo.rev("HEAD").unwrap(), head, "the commit was rejected");
    let fixed = fs::read_to_string(repo.path.join("services/web.toml"))
        .unwrap()
        .replace("periodSecods", "period");
    repo.write("services/web.toml", &fixed);
    repo.git(&["add", "-A"]);
    let (code, out) = command(&git, &["commit", "-q", "-m", "fixed"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(repo.rev("HEAD").unwrap(), head);
    // Drop hook builds of sources no longer under test; this one stays.
    let (code, out) = command(&pre_commit, &["gc"]);
    assert_eq!(code, 0, "{out}");
}

// ---------------------------------------------------------------------------
// The cluster side: Flux and Argo CD read what publish commits.

/// Reads the Flux and Argo CD examples with PyYAML and prints, as JSON, the
/// (branch, path) each of them deploys, after checking that pruning is on.
const DEPLOY_TARGETS: &str = r#"
import json, sys, pathlib, yaml
root = pathlib.Path(sys.argv[1])
docs = [d for f in sorted((root / "flux").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
branches = {d["metadata"]["name"]: d["spec"]["ref"]["branch"] for d in docs if d["kind"] == "GitRepository"}
flux = []
for d in docs:
    if d["kind"] == "Kustomization":
        assert d["spec"]["prune"] is True, d["metadata"]["name"]
        path = d["spec"]["path"].removeprefix("./")
        flux.append([branches[d["spec"]["sourceRef"]["name"]], path])
argo = []
for f in sorted((root / "argocd").glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        assert d["kind"] == "ApplicationSet"
        auto = d["spec"]["template"]["spec"]["syncPolicy"]["automated"]
        assert auto["prune"] is True and auto["selfHeal"] is True
        source = d["spec"]["template"]["spec"]["source"]
        for g in d["spec"]["generators"]:
            for e in g["list"]["elements"]:
                fill = lambda s: s.replace("{{.branch}}", e["branch"]).replace("{{.path}}", e["path"])
                argo.append([fill(source["targetRevision"]), fill(source["path"])])
print(json.dumps({"flux": sorted(flux), "argo": sorted(argo)}))
"#;

#[test]
fn flux_and_argo_deploy_every_published_environment_and_kustomize_renders_it() {
    let repo = GitRepo::new("example");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Each published environment directory: (branch, path), exported from
    // git objects the way Flux and Argo CD fetch it.
    let export = repo.scratch("export");
    let mut published: Vec<(String, String)> = Vec::new();
    for branch in ["gitops", "gitops-us"] {
        let tree = repo.tree(branch);
        for (path, content) in &tree {
            let file = export.join(branch).join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, content).unwrap();
            if let Some(dir) = path.strip_suffix("/kustomization.yaml") {
                published.push((branch.to_string(), dir.to_string()));
            }
        }
    }
    published.sort();
    assert_eq!(
        published,
        [
            ("gitops", "dev"),
            ("gitops", "prod"),
            ("gitops", "test"),
            ("gitops-us", "prod")
        ]
        .map(|(b, p)| (b.to_string(), p.to_string()))
    );
    for (branch, dir) in &published {
        let rendered = kubectl_kustomize(&export.join(branch).join(dir));
        assert!(rendered.contains("kind: Namespace"), "{branch}:{dir}");
    }
    let script = repo.scratch("deploy_targets.py");
    fs::write(&script, DEPLOY_TARGETS).unwrap();
    let out = python(&[
        script.to_str().unwrap(),
        repo_root().join("deploy").to_str().unwrap(),
    ]);
    let targets: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected: Vec<[&str; 2]> = published
        .iter()
        .map(|(b, p)| [b.as_str(), p.as_str()])
        .collect();
    assert_eq!(targets["flux"], serde_json::json!(expected), "deploy/flux");
    assert_eq!(
        targets["argo"],
        serde_json::json!(expected),
        "deploy/argocd"
    );
}

/// The CI templates cannot run here; they are checked against the GitHub
/// Actions and GitLab CI schemas that check-jsonschema ships.
#[test]
fn the_ci_templates_follow_their_schemas() {
    for (file, schema) in [
        ("ci/gitlab-ci.yml", "vendor.gitlab-ci"),
        ("ci/github-actions.yml", "vendor.github-workflows"),
    ] {
        let output = std::process::Command::new(pytools().join("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .arg(repo_root().join(file))
            .output()
            .expect("check-jsonschema runs");
        assert!(
            output.status.success(),
            "{file}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
