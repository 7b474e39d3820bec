//! `build` and `validate` on a working tree: the committed snapshot of the
//! example, determinism, all-or-nothing writes, and what a change to the
//! input does to the output.

use std::fs;
use std::path::Path;

use crate::support::*;

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
        "the example's output changed; review and refresh with `MANIFOLD_BLESS=1 cargo test --test integration`",
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
fn the_same_input_gives_the_same_output_directory_marker_included() {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    let other = repo.path().join("other");
    let everything = |dir: &std::path::Path| {
        let mut files = read_tree(dir);
        let marker = fs::read(dir.join(".manifold-output")).unwrap();
        files.insert(".manifold-output".into(), marker);
        files
    };
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    let first = everything(&out);
    // A rebuild, a build elsewhere, and a change undone all give it again.
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    assert_same_tree(&everything(&out), &first, "a rebuild");
    let run = manifold(repo.path(), &["build", "-o", other.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_same_tree(&everything(&other), &first, "another directory");
    let web = repo.path().join("services/web.toml");
    let source = fs::read_to_string(&web).unwrap();
    fs::write(
        &web,
        source.replace("memory = \"256Mi\"", "memory = \"300Mi\""),
    )
    .unwrap();
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    assert_ne!(everything(&out), first, "the change is built");
    fs::write(&web, &source).unwrap();
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    assert_same_tree(&everything(&out), &first, "a change undone");
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

/// Flux and Argo CD prune what leaves the branch: removing the last service
/// of a namespace must not delete the namespace with everything made in it
/// by hand, nor a claim with its data. An annotation set in the input wins.
#[test]
fn namespaces_and_volume_claims_carry_the_do_not_prune_annotations() {
    let repo = fixture("minimal");
    append(
        &repo.path().join("services/web.toml"),
        r#"
[objects.data]
apiVersion = "v1"
kind = "PersistentVolumeClaim"
spec = { accessModes = ["ReadWriteOnce"], resources = { requests = { storage = "1Gi" } } }

[objects.scratch]
apiVersion = "v1"
kind = "PersistentVolumeClaim"
metadata = { annotations = { "kustomize.toolkit.fluxcd.io/prune" = "enabled" } }
spec = { accessModes = ["ReadWriteOnce"], resources = { requests = { storage = "1Gi" } } }
"#,
    );
    build(repo.path());
    let out = repo.path().join("out/dev");
    assert_eq!(
        read(&out.join("namespace.yaml")),
        "\
apiVersion: v1
kind: Namespace
metadata:
  annotations:
    argocd.argoproj.io/sync-options: Prune=false
    kustomize.toolkit.fluxcd.io/prune: disabled
  labels:
    app.kubernetes.io/managed-by: manifold
    env: dev
  name: shop
"
    );
    let data = read(&out.join("web/persistentvolumeclaim-data.yaml"));
    assert!(
        data.contains(
            "  annotations:\n    argocd.argoproj.io/sync-options: Prune=false\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"
        ),
        "{data}"
    );
    let scratch = read(&out.join("web/persistentvolumeclaim-scratch.yaml"));
    assert!(
        scratch.contains(
            "  annotations:\n    argocd.argoproj.io/sync-options: Prune=false\n    kustomize.toolkit.fluxcd.io/prune: enabled\n"
        ),
        "{scratch}"
    );
    let deployment = read(&out.join("web/deployment-web.yaml"));
    assert!(!deployment.contains("prune"), "{deployment}");
}

/// Kubernetes allows one name in two namespaces; two services named alike
/// used to write the same files, one silently replacing the other.
#[test]
fn services_sharing_a_name_in_two_namespaces_get_a_folder_each() {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/web-admin.toml"),
        "name = \"web\"\nnamespace = \"admin\"\nimage = \"shop/admin\"\nversion = \"2\"\n",
    )
    .unwrap();
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree = read_tree(&repo.path().join("out/dev"));
    let files: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "kustomization.yaml",
            "namespace-admin.yaml",
            "namespace.yaml",
            "web@admin/deployment-web.yaml",
            "web@shop/deployment-web.yaml",
            "web@shop/service-web.yaml",
        ]
    );
    let admin = read(&repo.path().join("out/dev/web@admin/deployment-web.yaml"));
    assert!(admin.contains("  namespace: admin\n"), "{admin}");
    assert!(
        admin.contains("image: registry.example.com/shop/admin:2\n"),
        "{admin}"
    );
    let rendered = kubectl_kustomize(&repo.path().join("out/dev"));
    assert_eq!(
        rendered.matches("kind: Deployment").count(),
        2,
        "{rendered}"
    );
}

/// The image rule: a registry goes in front of an image that names no host,
/// the container's `registry` over the service's over the environment's,
/// and `registry = false` uses the image as written (Docker Hub's `redis`
/// used to become `registry.example.com/redis`, an image that does not
/// exist). A registry and an image that repeat a segment are a warning.
#[test]
fn images_follow_the_registry_rule_and_registry_false_opts_out() {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/cache.toml"),
        r#"image = "redis"
version = "7.2"
registry = false

[[containers]]
name = "exporter"
image = "oliver006/redis_exporter"
version = "1.62"

[[containers]]
name = "agent"
image = "shop/agent"
version = "3"
registry = "mirror.example.com/team"

[[containers]]
name = "probe"
image = "team/probe"
version = "1"
registry = "mirror.example.com/team"
"#,
    )
    .unwrap();
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "warning: registry `mirror.example.com/team` and image `team/probe` both name `team`: the image is `mirror.example.com/team/team/probe`\n  --> services/cache.toml:18:9\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\n1 warning found\n"), "{}", run.stderr);
    let deployment = read(&repo.path().join("out/dev/cache/deployment-cache.yaml"));
    let images: Vec<&str> = deployment
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("image: ")
        })
        .collect();
    assert_eq!(
        images,
        [
            "redis:7.2",
            "oliver006/redis_exporter:1.62",
            "mirror.example.com/team/shop/agent:3",
            "mirror.example.com/team/team/probe:1",
        ]
    );
    let web = read(&repo.path().join("out/dev/web/deployment-web.yaml"));
    assert!(
        web.contains("image: registry.example.com/shop/web:1.0\n"),
        "{web}"
    );
}

/// `annotations` go on every object; tools such as reloaders read theirs
/// from the workload alone, which needed a patch before.
#[test]
fn workload_annotations_go_on_the_workload_only() {
    let repo = fixture("minimal");
    append(
        &repo.path().join("services/web.toml"),
        "\n[workload_annotations]\n\"configmap.reloader.stakater.com/reload\" = \"web\"\n\n[annotations]\nowner = \"shop\"\n",
    );
    build(repo.path());
    let deployment = read(&repo.path().join("out/dev/web/deployment-web.yaml"));
    let (workload, pod) = deployment.split_once("  template:\n").unwrap();
    assert!(
        workload.contains(
            "  annotations:\n    configmap.reloader.stakater.com/reload: web\n    owner: shop\n"
        ),
        "{deployment}"
    );
    assert!(!pod.contains("reloader"), "{deployment}");
    let service = read(&repo.path().join("out/dev/web/service-web.yaml"));
    assert!(service.contains("    owner: shop\n"), "{service}");
    assert!(!service.contains("reloader"), "{service}");
}

/// The main container is named after the service unless `container_name`
/// says otherwise; a side container of the same name is an error (it used
/// to pass when the name came from the file stem, and the API server would
/// refuse the pod).
#[test]
fn the_main_container_name_can_be_set_and_must_stay_unique() {
    let repo = fixture("minimal");
    let web = repo.path().join("services/web.toml");
    let text = read(&web);
    fs::write(
        &web,
        format!("container_name = \"app\"\n{text}\n[[containers]]\nname = \"web\"\nimage = \"shop/proxy\"\n"),
    )
    .unwrap();
    build(repo.path());
    let deployment = read(&repo.path().join("out/dev/web/deployment-web.yaml"));
    let names: Vec<&str> = deployment
        .lines()
        .filter_map(|l| l.strip_prefix("        name: "))
        .collect();
    assert_eq!(names, ["app", "web"], "{deployment}");

    fs::write(
        &web,
        format!("{text}\n[[containers]]\nname = \"web\"\nimage = \"shop/proxy\"\n"),
    )
    .unwrap();
    let run = manifold(repo.path(), &["validate", "-e", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: container name `web` is used twice\n"),
        "{}",
        run.stderr
    );
}

/// A Service port targets the container port of its name unless
/// `target_port` names another one or gives a number (applications whose
/// ports have no names, or Services that rename a port).
#[test]
fn service_ports_may_target_a_number_or_another_name() {
    let repo = fixture("minimal");
    let web = repo.path().join("services/web.toml");
    let text = read(&web).replace(
        "ports = [{ name = \"http\", port = 80 }]",
        "ports = [\n  { name = \"web\", port = 80, target_port = \"http\" },\n  { name = \"admin\", port = 9000, target_port = 9090 },\n]",
    );
    fs::write(&web, text).unwrap();
    build(repo.path());
    let service = read(&repo.path().join("out/dev/web/service-web.yaml"));
    assert!(
        service.contains(
            "  ports:\n  - name: web\n    port: 80\n    protocol: TCP\n    targetPort: http\n  - name: admin\n    port: 9000\n    protocol: TCP\n    targetPort: 9090\n"
        ),
        "{service}"
    );

    let text = read(&web).replace("target_port = \"http\"", "target_port = \"htp\"");
    fs::write(&web, text).unwrap();
    let run = manifold(repo.path(), &["validate", "-e", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: unknown port `htp`\n"),
        "{}",
        run.stderr
    );
}
