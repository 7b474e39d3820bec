//! `manifold import` end to end: fixtures in the styles users have
//! (`kubectl get -o yaml` of live objects, `helm template` output, a JSON
//! `List`), written here, not copied. The summary and the round trip's
//! differences are asserted exactly; the imported services are then built
//! and the objects that cannot change in place compared with the input.

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

/// The item of a fixture named `kind/name`, as JSON.
fn input_object(repo: &Path, file: &str, kind: &str, name: &str) -> Json {
    let docs =
        manifold::diff::read_documents(&fs::read(repo.join("in").join(file)).unwrap()).unwrap();
    let items: Vec<Json> = docs
        .into_iter()
        .flat_map(|d| match d["items"].as_array() {
            Some(items) => items.clone(),
            None => vec![d],
        })
        .collect();
    items
        .into_iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap()
}

const NGINX_SUMMARY: &str = "\
imported 1 service from 2 objects into new environment `shop` (namespace `shop`):
  services/web.toml: Deployment/web, Service/web; 59 values typed, 11 in patches, 0 in objects
dropped server-populated fields: metadata.annotations.deployment.kubernetes.io/revision (1), metadata.annotations.kubectl.kubernetes.io/last-applied-configuration (1), metadata.creationTimestamp (2), metadata.generation (1), metadata.managedFields (1), metadata.resourceVersion (2), metadata.uid (2), status (2)
round trip: 3 differences manifold does not reproduce, 15 of manifold's own (its labels, README lists them)
  Deployment/web spec.template.spec.containers[nginx].securityContext: only in the output: {\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":[]},\"readOnlyRootFilesystem\":false}
  Deployment/web spec.template.spec.securityContext.runAsNonRoot: only in the output: false
  Deployment/web spec.template.spec.securityContext.seccompProfile: only in the output: {\"type\":\"RuntimeDefault\"}
";

/// The first fixture: live nginx with Helm-style selectors and no
/// securityContext. After import and build, the selector, the Service's
/// selector and the pod template's labels equal the input's; the only
/// differences left are the security settings no key can switch off yet.
#[test]
fn a_live_nginx_imports_and_builds_with_its_selectors() {
    let repo = empty_repo();
    let run = manifold(repo.path(), &["import", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!("{NGINX_SUMMARY}wrote environments/shop.toml, services/web.toml\n")
    );
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let out = repo.path().join("out/shop/web");
    let deployment = object(&out.join("deployment-web.yaml"));
    let live = input_object(repo.path(), "nginx-live.yaml", "Deployment", "web");
    assert_eq!(deployment["spec"]["selector"], live["spec"]["selector"]);
    let service = object(&out.join("service-web.yaml"));
    let live_service = input_object(repo.path(), "nginx-live.yaml", "Service", "web");
    assert_eq!(service["spec"], live_service["spec"]);
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (k, v) in live["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap()
    {
        let manifold_own = ["app.kubernetes.io/managed-by", "app.kubernetes.io/version"];
        if !manifold_own.contains(&k.as_str()) {
            assert_eq!(&labels[k], v, "{k}");
        }
    }
    let mut template = deployment["spec"]["template"]["spec"].clone();
    template["securityContext"] = serde_json::json!({});
    template["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("securityContext");
    assert_eq!(template, live["spec"]["template"]["spec"]);
    assert_strict(&repo.path().join("out"));
}

/// The service file is the house style: typed keys first, the kept
/// selector and the security defaults commented, patches last with why.
#[test]
fn the_written_service_file_is_typed_and_commented() {
    let repo = empty_repo();
    let run = manifold(repo.path(), &["import", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = fs::read_to_string(repo.path().join("services/web.toml")).unwrap();
    let expected = fs::read_to_string(repo_root().join("tests/expected/import/web.toml")).unwrap();
    if blessing() {
        fs::write(repo_root().join("tests/expected/import/web.toml"), &text).unwrap();
    } else {
        assert_eq!(text, expected);
    }
    assert_eq!(
        fs::read_to_string(repo.path().join("environments/shop.toml")).unwrap(),
        "# Written by `manifold import` for the namespace the imported objects run in.\nnamespace = \"shop\"\nkube_version = \"1.35\"\n"
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
    assert_eq!(
        run.stderr,
        format!("{NGINX_SUMMARY}dry run: nothing written\n")
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

/// `--strict` makes a difference manifold does not reproduce an error.
#[test]
fn strict_refuses_material_differences() {
    let repo = empty_repo();
    let run = manifold(repo.path(), &["import", "--strict", "in/nginx-live.yaml"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "{NGINX_SUMMARY}error: 3 differences that manifold does not reproduce (--strict); nothing written\n"
        )
    );
    assert!(!repo.path().join("services").exists());
}

/// A StatefulSet keeps `serviceName`, its claim templates and pod
/// management policy; its headless Service becomes `[extra_services.hl]`.
#[test]
fn a_statefulset_keeps_what_cannot_change() {
    let repo = empty_repo();
    let run = manifold(repo.path(), &["import", "in/db-live.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "\
imported 1 service from 3 objects into new environment `shop` (namespace `shop`):
  services/db.toml: StatefulSet/db, Service/db-hl, Service/db; 68 values typed, 25 in patches, 0 in objects
Secrets to provide (the pods use them; values are never imported): shop/db-auth
dropped server-populated fields: metadata.creationTimestamp (1), metadata.generation (1), metadata.resourceVersion (1), metadata.uid (1), status (1)
round trip: 3 differences manifold does not reproduce, 20 of manifold's own (its labels, README lists them)
  StatefulSet/db spec.template.spec.containers[postgresql].securityContext: only in the output: {\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":[]},\"readOnlyRootFilesystem\":false}
  StatefulSet/db spec.template.spec.securityContext.runAsNonRoot: only in the output: false
  StatefulSet/db spec.template.spec.securityContext.seccompProfile: only in the output: {\"type\":\"RuntimeDefault\"}
wrote environments/shop.toml, services/db.toml
"
    );
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let out = repo.path().join("out/shop/db");
    let set = object(&out.join("statefulset-db.yaml"));
    let mut live = input_object(repo.path(), "db-live.yaml", "StatefulSet", "db");
    live["spec"]["volumeClaimTemplates"][0]
        .as_object_mut()
        .unwrap()
        .remove("status");
    live["spec"]["volumeClaimTemplates"][0]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("creationTimestamp");
    for field in [
        "selector",
        "serviceName",
        "volumeClaimTemplates",
        "podManagementPolicy",
        "updateStrategy",
    ] {
        assert_eq!(set["spec"][field], live["spec"][field], "{field}");
    }
    for name in ["db", "db-hl"] {
        let service = object(&out.join(format!("service-{name}.yaml")));
        let live = input_object(repo.path(), "db-live.yaml", "Service", name);
        assert_eq!(service["spec"], live["spec"], "{name}");
    }
    assert_strict(&repo.path().join("out"));
}

/// `helm template` output: no namespace, a checksum annotation on the
/// pods, a ConfigMap the pods use (kept under `objects`, since `[config]`
/// names its ConfigMap by a hash).
#[test]
fn helm_template_output_round_trips_but_for_seccomp() {
    let repo = empty_repo();
    let run = manifold(repo.path(), &["import", "in/helm-template.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "\
imported 1 service from 3 objects into new environment `default` (namespace `default`):
  services/api.toml: Deployment/api, Service/api, ConfigMap/api-settings; 57 values typed, 1 in patches, 10 in objects
round trip: 1 difference manifold does not reproduce, 20 of manifold's own (its labels, README lists them)
  Deployment/api spec.template.spec.securityContext.seccompProfile: only in the output: {\"type\":\"RuntimeDefault\"}
wrote environments/default.toml, services/api.toml
"
    );
    let text = fs::read_to_string(repo.path().join("services/api.toml")).unwrap();
    assert!(
        text.contains("[pod_annotations]\n\"checksum/config\" = \"5d41402abc4b2a76b9719d911017c592bb3a2d4e8f1c7a9b0e6d3f2a1c4b5e6d\"\n"),
        "{text}"
    );
    assert!(
        text.contains("# ConfigMap/api-settings: a ConfigMap keeps its name (`[config]` names its ConfigMap by a hash)\n[objects.api-settings]\n"),
        "{text}"
    );
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert_strict(&repo.path().join("out"));
}

/// `-` reads standard input; a JSON `List` is read item by item, and a
/// Secret in it is left out, with the reason.
#[test]
fn a_json_list_from_standard_input() {
    let repo = empty_repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["import", "-"])
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
round trip: 2 differences manifold does not reproduce, 13 of manifold's own (its labels, README lists them)
  Deployment/worker spec.template.spec.containers[worker].securityContext: only in the output: {\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":[]},\"readOnlyRootFilesystem\":false}
  Deployment/worker spec.template.spec.securityContext: only in the output: {\"runAsNonRoot\":false,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}
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
