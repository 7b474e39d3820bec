//! `manifold import` end to end: fixtures in the styles users have
//! (`kubectl get -o yaml` of live objects, `helm template` and `kustomize
//! build` output, a multi-service application's own manifests, canary
//! tracks, a JSON `List`), written here, not copied. Each imports with
//! `--strict` (no material difference); the written files and the summary
//! are compared with blessed copies in `tests/expected/import/<fixture>/`,
//! and the imported services are built and checked against the strict
//! Kubernetes schemas. The bundled example round-trips byte for byte.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

use crate::adopt::assert_strict;
use crate::support::*;

/// An empty repository with the import fixtures under `in/`.
fn empty_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let input = repo.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for entry in fs::read_dir(repo_root().join("tests/fixtures/import")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, input.join(path.file_name().unwrap())).unwrap();
    }
    repo
}

/// The one object of a YAML file, as JSON.
fn object(path: &Path) -> Json {
    let text = fs::read(path).unwrap();
    let mut docs = manifold::diff::read_documents(&text).unwrap();
    assert_eq!(docs.len(), 1, "{}", path.display());
    docs.remove(0)
}

/// The object `kind/name` of a fixture, without what the API server wrote
/// (as import reads it).
fn input_object(repo: &Path, file: &str, kind: &str, name: &str) -> Json {
    let docs =
        manifold::diff::read_documents(&fs::read(repo.join("in").join(file)).unwrap()).unwrap();
    let mut found = docs
        .into_iter()
        .flat_map(|d| match d["items"].as_array() {
            Some(items) => items.clone(),
            None => vec![d],
        })
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap();
    manifold::import::clean::clean(&mut found);
    found
}

/// Imports `fixtures` with `--strict` into an empty repository, compares
/// the summary and every written file with `tests/expected/import/<name>/`
/// (`MANIFOLD_BLESS=1` refreshes them), builds the services and checks the
/// output against the strict schemas. Returns the repository.
fn round_trip(name: &str, fixtures: &[&str]) -> tempfile::TempDir {
    let mut args = vec!["import", "--strict"];
    let paths: Vec<String> = fixtures.iter().map(|f| format!("in/{f}")).collect();
    args.extend(paths.iter().map(String::as_str));
    imports_as_blessed(name, empty_repo(), &args)
}

/// Runs `args` in `repo` (which must succeed), then compares and builds
/// as [`round_trip`] does.
fn imports_as_blessed(name: &str, repo: tempfile::TempDir, args: &[&str]) -> tempfile::TempDir {
    let run = manifold(repo.path(), args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut written = read_tree(repo.path());
    written.retain(|path, _| !path.starts_with("in/"));
    written.insert("summary.txt".into(), run.stderr.into_bytes());
    let expected = repo_root().join("tests/expected/import").join(name);
    if blessing() {
        let _ = fs::remove_dir_all(&expected);
        for (path, bytes) in &written {
            fs::create_dir_all(expected.join(path).parent().unwrap()).unwrap();
            fs::write(expected.join(path), bytes).unwrap();
        }
    }
    let want = read_tree(&expected);
    for (path, bytes) in &written {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let blessed = want.get(path).map(|b| text(b)).unwrap_or_default();
        assert_eq!(
            text(bytes),
            blessed,
            "{name}: {path} (refresh with MANIFOLD_BLESS=1)"
        );
    }
    assert_same_tree(&written, &want, name);
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert_strict(&repo.path().join("out"));
    repo
}

/// The round trip: every environment of the bundled example,
/// built, imported into an empty repository and built again, gives the
/// same files byte for byte, canary and blue/green tracks, generated
/// ConfigMaps, a Job's hashed name and the daemonset included.
#[test]
fn the_bundled_example_round_trips_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let built = tmp.path().join("built");
    let run = manifold(&repo_root(), &["build", "-o", built.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for env in ["dev", "test", "prod", "prod-us"] {
        let repo = tmp.path().join(env);
        fs::create_dir_all(&repo).unwrap();
        let input = built.join(env);
        let run = manifold(&repo, &["import", "--strict", input.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{env}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "round trip: 0 differences manifold does not reproduce, 0 allowed (manifold's own, README lists them)\n"
            ),
            "{env}: {}",
            run.stderr
        );
        let patched: Vec<String> = fs::read_dir(repo.join("services"))
            .unwrap()
            .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
            .filter(|text| text.contains("[patches"))
            .collect();
        assert_eq!(patched, Vec::<String>::new(), "{env}: every value typed");
        let out = repo.join("out");
        let run = manifold(&repo, &["build", "-o", out.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{env}: {}", run.stderr);
        assert_same_tree(
            &read_tree(&out.join(env)),
            &read_tree(&built.join(env)),
            &format!("{env} built again from the imported services"),
        );
    }
}

/// The adoption test: `kubectl get -o yaml` of an nginx Deployment
/// and a StatefulSet with Helm-style selectors and no securityContext.
/// Their pod templates, selectors, `serviceName` and claim templates come
/// out equal to the input's, with no difference allowed: the pods keep
/// their labels and run as they did (no `runAsNonRoot`, no dropped
/// capabilities), so nothing is recreated and no pod restarts.
#[test]
fn a_live_nginx_and_statefulset_come_out_equal() {
    let repo = round_trip("live", &["nginx-live.yaml", "db-live.yaml"]);
    let out = repo.path().join("out/shop");
    let deployment = object(&out.join("web/deployment-web.yaml"));
    let live = input_object(repo.path(), "nginx-live.yaml", "Deployment", "web");
    assert_eq!(deployment["spec"]["template"], live["spec"]["template"]);
    assert_eq!(deployment["spec"]["selector"], live["spec"]["selector"]);
    let set = object(&out.join("db/statefulset-db.yaml"));
    let live_set = input_object(repo.path(), "db-live.yaml", "StatefulSet", "db");
    for field in [
        "template",
        "selector",
        "serviceName",
        "volumeClaimTemplates",
        "podManagementPolicy",
        "updateStrategy",
    ] {
        assert_eq!(set["spec"][field], live_set["spec"][field], "{field}");
    }
    for (file, name, yaml) in [
        ("nginx-live.yaml", "web", "web/service-web.yaml"),
        ("db-live.yaml", "db", "db/service-db.yaml"),
        ("db-live.yaml", "db-hl", "db/service-db-hl.yaml"),
    ] {
        let service = object(&out.join(yaml));
        let live = input_object(repo.path(), file, "Service", name);
        assert_eq!(service["spec"], live["spec"], "{name}");
    }
}

/// `helm template` output: no namespace, `app.kubernetes.io/*` selectors,
/// a checksum annotation on the pods, a ConfigMap the pods use (kept under
/// `objects`, since `[config]` names its ConfigMap by a hash), and a pod
/// that meets the baseline level, not the restricted one (no seccomp).
#[test]
fn helm_template_output_round_trips() {
    round_trip("helm-template", &["helm-template.yaml"]);
}

/// `kustomize build` output: a name prefix (the objects are renamed back
/// by their patches), a namespace, common labels on every object, selector
/// and pod (the Namespace's become the environment's `labels`), and a
/// generated ConfigMap with its hash suffix.
#[test]
fn kustomize_build_output_round_trips() {
    round_trip("kustomize-build", &["kustomize-build.yaml"]);
}

/// A multi-service application's own manifests: init containers and a
/// native sidecar, gRPC probes, every form of `env`, a digest, a
/// LoadBalancer Service beside the ClusterIP ones, an Ingress and an
/// HTTPRoute (its Gateway becomes the environment's), an autoscaler, a
/// budget, a privileged node agent with host paths, a StatefulSet with its
/// own headless Service, and a CronJob.
#[test]
fn a_multi_service_application_round_trips() {
    round_trip("shop-app", &["shop-app.yaml"]);
}

/// A canary written the way manifold renders tracks becomes `[[tracks]]`
/// (its version, replicas, variables and header routing); one whose
/// selector is not manifold's track selector stays a service of its own,
/// and the summary says why.
#[test]
fn canaries_become_tracks_where_they_fit() {
    round_trip("tracks", &["tracks.yaml"]);
}

/// Hand-written manifests with what the checks refuse in typed keys (a
/// reference to a variable below, a literal password): those come from
/// the patch, the literal secret is pointed out; what the API server fills
/// in anyway is no difference.
#[test]
fn what_the_checks_refuse_comes_from_patches() {
    round_trip("hand-written", &["hand-written.yaml"]);
}

/// An autoscaler on the cpu of pods that request none is kept as written
/// (manifold refuses `[autoscale]` without a request), and then the
/// replica count manifold writes would fight it: a material difference,
/// with why.
#[test]
fn an_autoscaler_kept_as_written_makes_the_replica_count_a_difference() {
    let repo = empty_repo();
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: legacy, namespace: ops}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: legacy}\n  maxReplicas: 4\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}\n";
    fs::write(repo.path().join("in/hpa.yaml"), hpa).unwrap();
    let run = manifold(
        repo.path(),
        &["import", "--dry-run", "in/hand-written.yaml", "in/hpa.yaml"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "round trip: 1 difference manifold does not reproduce, 8 allowed (manifold's own, README lists them)
  Deployment/legacy spec.replicas: only in the output: 1
    the autoscaler kept in `objects` owns the count, which each publish would reset: make it `[autoscale]` (its pods need a request of the resource it measures)
"
        ),
        "{}",
        run.stderr
    );
}

/// `--dry-run` prints the files and writes nothing.
#[test]
fn dry_run_writes_nothing() {
    let repo = empty_repo();
    let before = read_tree(repo.path());
    let run = manifold(repo.path(), &["import", "--dry-run", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read_tree(repo.path()), before);
    assert!(
        run.stdout
            .starts_with("==> environments/shop.toml <==\n# Written by"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("==> services/web.toml <==\n# Imported by"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.ends_with("dry run: nothing written\n"),
        "{}",
        run.stderr
    );
}

/// An existing file is never overwritten without `--force`, and then
/// nothing at all is written.
#[test]
fn existing_files_are_kept_without_force() {
    let repo = empty_repo();
    fs::create_dir_all(repo.path().join("services")).unwrap();
    fs::write(repo.path().join("services/web.toml"), "# mine\n").unwrap();
    let run = manifold(repo.path(), &["import", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.ends_with(
            "error: 1 file already exist: services/web.toml; nothing written (--force overwrites)\n"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(repo.path().join("services/web.toml")).unwrap(),
        "# mine\n"
    );
    assert!(!repo.path().join("environments").exists());
    let run = manifold(repo.path(), &["import", "--force", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        fs::read_to_string(repo.path().join("services/web.toml"))
            .unwrap()
            .starts_with("# Imported")
    );
}

/// What an existing environment's `[defaults]` sets reaches the imported
/// service, and no service file can take it away: the difference names the
/// key and the file, and `--strict` refuses it.
#[test]
fn strict_refuses_what_the_environments_defaults_add() {
    let repo = fixture("minimal");
    fs::create_dir_all(repo.path().join("in")).unwrap();
    fs::copy(
        repo_root().join("tests/fixtures/import/nginx-live.yaml"),
        repo.path().join("in/nginx-live.yaml"),
    )
    .unwrap();
    let run = manifold(repo.path(), &["import", "--strict", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let tail = "\
round trip: 1 difference manifold does not reproduce, 10 allowed (manifold's own, README lists them)
  Deployment/web spec.template.spec.securityContext.runAsUser: only in the output: 10001
    set by `[defaults.security] run_as_user` in environments/dev.toml, which a service file cannot take away: move it out of `[defaults]` into the services that need it
error: 1 difference that manifold does not reproduce (--strict); nothing written
";
    assert!(run.stderr.ends_with(tail), "{}", run.stderr);
    // The repository's own `web` is left as it was.
    assert_eq!(
        fs::read(repo.path().join("services/web.toml")).unwrap(),
        fs::read(repo_root().join("tests/fixtures/minimal/services/web.toml")).unwrap()
    );
}

/// `-` reads standard input; a JSON `List` is read item by item, and a
/// Secret in it is left out, with the reason.
#[test]
fn a_json_list_from_standard_input() {
    let repo = empty_repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["import", "--strict", "-"])
        .current_dir(repo.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let json = fs::read(repo.path().join("in/worker-list.json")).unwrap();
    child.stdin.take().unwrap().write_all(&json).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr,
        "\
imported 1 service from 2 objects into new environment `jobs` (namespace `jobs`):
  services/worker.toml: Deployment/worker, PodDisruptionBudget/worker; 18 values typed, 3 in patches, 0 in objects
left out:
  Secret/worker-token: a Secret: values are never imported; provide `worker-token` in the cluster
dropped server-populated fields: metadata.resourceVersion (1), metadata.uid (1), status (1)
round trip: 0 differences manifold does not reproduce, 7 allowed (manifold's own, README lists them)
wrote environments/jobs.toml, services/worker.toml
"
    );
    let text = fs::read_to_string(repo.path().join("services/worker.toml")).unwrap();
    assert!(
        text.starts_with("# Imported by `manifold import` from -.\n"),
        "{text}"
    );
    assert!(!text.contains("c2VjcmV0"), "{text}");
}

/// Input that is not Kubernetes objects is an error naming the document.
#[test]
fn input_that_is_not_objects_is_refused() {
    let repo = empty_repo();
    fs::write(
        repo.path().join("in/bad.yaml"),
        "kind: Deployment\n---\n- a\n",
    )
    .unwrap();
    let run = manifold(repo.path(), &["import", "in/bad.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: in/bad.yaml#1: not a Kubernetes object (it needs `kind` and `metadata.name`)\nnothing imported\n"
    );
}

const TWO_ENVS: [&str; 5] = [
    "import",
    "--env",
    "dev=in/envs-dev.yaml",
    "--env",
    "prod=in/envs-prod.yaml",
];

/// The same application in two environments (replicas, image tag and a
/// variable differ; a worker runs only in production): what they share is
/// the service file, the rest the overlays, the worker is disabled in dev,
/// and each environment round-trips on its own.
#[test]
fn two_environments_share_a_service_file_and_differ_in_overlays() {
    let mut args = TWO_ENVS.to_vec();
    args.push("--strict");
    let repo = imports_as_blessed("envs", empty_repo(), &args);
    let summary = fs::read_to_string(repo_root().join("tests/expected/import/envs/summary.txt"));
    let summary = summary.unwrap();
    let clean = "round trip: 0 differences manifold does not reproduce";
    assert_eq!(summary.matches(clean).count(), 2, "{summary}");
    let built = |env: &str, file: &str| repo.path().join("out").join(env).join(file).exists();
    assert!(built("prod", "worker/deployment-worker.yaml"));
    assert!(!built("dev", "worker/deployment-worker.yaml"));
    for (env, file) in [("dev", "envs-dev.yaml"), ("prod", "envs-prod.yaml")] {
        let out = object(
            &repo
                .path()
                .join(format!("out/{env}/web/deployment-web.yaml")),
        );
        let input = input_object(repo.path(), file, "Deployment", "web");
        assert_eq!(out["spec"]["replicas"], input["spec"]["replicas"], "{env}");
        let container = |o: &Json| o["spec"]["template"]["spec"]["containers"][0].clone();
        assert_eq!(
            container(&out)["image"],
            container(&input)["image"],
            "{env}"
        );
        assert_eq!(container(&out)["env"], container(&input)["env"], "{env}");
    }
}

/// One input of two namespaces: an environment per namespace, named like
/// it, split into service file and overlays alike.
#[test]
fn namespace_as_env_splits_one_input_by_namespace() {
    let repo = empty_repo();
    let mut all = fs::read(repo.path().join("in/envs-dev.yaml")).unwrap();
    all.extend(b"---\n");
    all.extend(fs::read(repo.path().join("in/envs-prod.yaml")).unwrap());
    fs::write(repo.path().join("in/all.yaml"), all).unwrap();
    let args = ["import", "--strict", "--namespace-as-env", "in/all.yaml"];
    let repo = imports_as_blessed("namespaces", repo, &args);
    let overlay = repo.path().join("environments/shop-dev/worker.toml");
    assert!(
        fs::read_to_string(overlay)
            .unwrap()
            .contains("\nenabled = false\n")
    );
}

/// `--dry-run` with `--env` prints every file, the overlays included, and
/// writes none.
#[test]
fn dry_run_of_several_environments_writes_nothing() {
    let repo = empty_repo();
    let before = read_tree(repo.path());
    let mut args = TWO_ENVS.to_vec();
    args.push("--dry-run");
    let run = manifold(repo.path(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.ends_with("dry run: nothing written\n"),
        "{}",
        run.stderr
    );
    let printed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("==> "))
        .collect();
    assert_eq!(
        printed,
        [
            "==> environments/dev.toml <==",
            "==> environments/prod.toml <==",
            "==> services/web.toml <==",
            "==> environments/prod/web.toml <==",
            "==> services/worker.toml <==",
            "==> environments/dev/worker.toml <==",
        ]
    );
    assert_same_tree(&read_tree(repo.path()), &before, "dry run");
}

/// An environment name that cannot name a file is refused before
/// anything is read into services.
#[test]
fn bad_environment_names_are_refused() {
    let repo = empty_repo();
    let args = [
        "import",
        "--env",
        "Dev=in/envs-dev.yaml",
        "--env",
        "prod=in/envs-prod.yaml",
    ];
    let run = manifold(repo.path(), &args);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `Dev` cannot name an environment: use lowercase letters, digits and `-` (at most 63)\nnothing imported\n"
    );
    assert!(!repo.path().join("environments").exists());
}
