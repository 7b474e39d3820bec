//! Adopted workloads keep what the cluster will not change in place: the
//! selector labels (`selector`), a StatefulSet's governing Service name
//! (`headless_service`), its claim templates and pod management policy.
//! Rendered output is asserted exactly and checked against the strict
//! Kubernetes schemas.

use std::fs;
use std::path::Path;

use crate::support::*;

/// Writes a repository with one environment `dev` (namespace `shop`) and
/// the given services.
pub fn repo(services: &[(&str, &str)]) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    fs::create_dir_all(repo.path().join("services")).unwrap();
    fs::create_dir_all(repo.path().join("environments")).unwrap();
    fs::write(
        repo.path().join("environments/dev.toml"),
        "namespace = \"shop\"\nkube_version = \"1.35\"\n",
    )
    .unwrap();
    for (name, text) in services {
        fs::write(repo.path().join(format!("services/{name}.toml")), text).unwrap();
    }
    repo
}

/// The output passes the strict Kubernetes schemas and reads the same in
/// YAML 1.1 and 1.2.
pub fn assert_strict(out: &Path) {
    let script = repo_root().join("scripts/check-output.py");
    let report = python(
        &[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE],
        &[script.to_str().unwrap(), out.to_str().unwrap()],
    );
    assert!(report.contains(": 0 problems"), "{report}");
}

fn read(repo: &Path, file: &str) -> String {
    fs::read_to_string(repo.join("out/dev").join(file)).unwrap()
}

const WEB: &str = r#"image = "nginx"
version = "1.27"
selector = { "app.kubernetes.io/name" = "nginx", "app.kubernetes.io/instance" = "web" }

[[ports]]
name = "http"
port = 80

[service]

[ingress]
host = "web.example.com"

[[tracks]]
name = "canary"
version = "1.28"
weight = 10

[disruption]
min_available = 1
"#;

/// A live Deployment's selector cannot change: the stable workload, its
/// Service and its budget select on the kept labels, and its pods carry
/// them, the kept `app.kubernetes.io/name` over manifold's own.
#[test]
fn a_kept_selector_is_the_stable_selector_and_the_services() {
    let repo = repo(&[("web", WEB)]);
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(repo.path(), "web/deployment-web.yaml"),
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
    app.kubernetes.io/instance: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: nginx
    app.kubernetes.io/version: \"1.27\"
    env: dev
    track: stable
    version: \"1.27\"
  name: web
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: web
      app.kubernetes.io/name: nginx
  template:
    metadata:
      labels:
        app: web
        app.kubernetes.io/instance: web
        app.kubernetes.io/managed-by: manifold
        app.kubernetes.io/name: nginx
        app.kubernetes.io/version: \"1.27\"
        env: dev
        track: stable
        version: \"1.27\"
    spec:
      containers:
      - image: nginx:1.27
        name: web
        ports:
        - containerPort: 80
          name: http
          protocol: TCP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
"
    );
    let service = read(repo.path(), "web/service-web.yaml");
    assert!(
        service.ends_with(
            "  selector:\n    app.kubernetes.io/instance: web\n    app.kubernetes.io/name: nginx\n  type: ClusterIP\n"
        ),
        "{service}"
    );
    let budget = read(repo.path(), "web/poddisruptionbudget-web.yaml");
    assert!(
        budget.ends_with(
            "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: web\n      app.kubernetes.io/name: nginx\n"
        ),
        "{budget}"
    );
    assert_strict(&repo.path().join("out"));
}

/// Canary pods must never match the stable workload's kept selector (two
/// workloads selecting the same pods fight over them), and the canary
/// Service still reaches them by manifold's `app` and `track`.
#[test]
fn canary_pods_carry_none_of_the_kept_keys() {
    let repo = repo(&[("web", WEB)]);
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let canary = read(repo.path(), "web/deployment-web-canary.yaml");
    let labels: String = [
        "app: web",
        "app.kubernetes.io/managed-by: manifold",
        "app.kubernetes.io/version: \"1.28\"",
        "env: dev",
        "track: canary",
        "version: \"1.28\"",
    ]
    .iter()
    .map(|l| format!("    {l}\n"))
    .collect();
    assert!(
        canary.starts_with(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n{labels}  name: web-canary\n"
        )),
        "{canary}"
    );
    let pod_labels: String = labels.lines().map(|l| format!("    {l}\n")).collect();
    assert!(
        canary.contains("  selector:\n    matchLabels:\n      app: web\n      track: canary\n"),
        "{canary}"
    );
    assert!(
        canary.contains(&format!(
            "    metadata:\n      labels:\n{pod_labels}    spec:\n"
        )),
        "{canary}"
    );
    let service = read(repo.path(), "web/service-web-canary.yaml");
    assert!(
        service.ends_with("  selector:\n    app: web\n    track: canary\n  type: ClusterIP\n"),
        "{service}"
    );
}

/// A StatefulSet keeps its governing Service's name, its claim templates and
/// its pod management policy; with `headless_service` manifold renders no
/// `<name>-headless` Service of its own.
#[test]
fn a_statefulset_keeps_its_service_name_claims_and_pod_management() {
    let db = r#"kind = "statefulset"
image = "postgres"
version = "16"
selector = { app = "db", tier = "data" }
headless_service = "db"

[[ports]]
name = "pg"
port = 5432

[[volumes]]
name = "data"
mount = "/var/lib/postgresql/data"
persistent = { size = "10Gi", storage_class = "standard" }

[rollout]
pod_management = "parallel"

[service]
type = "Headless"
"#;
    let repo = repo(&[("db", db)]);
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files: Vec<String> = fs::read_dir(repo.path().join("out/dev/db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(files, ["service-db.yaml", "statefulset-db.yaml"]);
    let set = read(repo.path(), "db/statefulset-db.yaml");
    let spec = &set[set.find("spec:\n").unwrap()..];
    assert!(
        spec.starts_with(
            "\
spec:
  podManagementPolicy: Parallel
  replicas: 1
  selector:
    matchLabels:
      app: db
      tier: data
  serviceName: db
  template:
    metadata:
      labels:
        app: db
        app.kubernetes.io/managed-by: manifold
        app.kubernetes.io/name: db
        app.kubernetes.io/version: \"16\"
        env: dev
        tier: data
        track: stable
        version: \"16\"
"
        ),
        "{set}"
    );
    assert!(
        spec.ends_with(
            "\
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: data
    spec:
      accessModes:
      - ReadWriteOnce
      resources:
        requests:
          storage: 10Gi
      storageClassName: standard
"
        ),
        "{set}"
    );
    let service = read(repo.path(), "db/service-db.yaml");
    assert!(
        service.ends_with(
            "  clusterIP: None\n  ports:\n  - name: pg\n    port: 5432\n    protocol: TCP\n    targetPort: pg\n  selector:\n    app: db\n    tier: data\n  type: ClusterIP\n"
        ),
        "{service}"
    );
    assert_strict(&repo.path().join("out"));
}

/// Kept pod labels are the stable pods' labels, exactly: the pod template
/// of an adopted workload does not change, so no pod restarts when manifold
/// takes it over. The workload itself and the canary's pods carry
/// manifold's labels as usual.
#[test]
fn kept_pod_labels_leave_the_stable_pod_template_as_it_was() {
    let web = WEB.replace(
        "[[ports]]",
        "pod_labels = { \"app.kubernetes.io/name\" = \"nginx\", \"app.kubernetes.io/instance\" = \"web\", \"app.kubernetes.io/managed-by\" = \"Helm\" }\n\n[[ports]]",
    );
    let repo = repo(&[("web", &web)]);
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stable = read(repo.path(), "web/deployment-web.yaml");
    let template = &stable[stable.find("  template:\n").unwrap()..];
    assert!(
        template.starts_with(
            "  template:
    metadata:
      labels:
        app.kubernetes.io/instance: web
        app.kubernetes.io/managed-by: Helm
        app.kubernetes.io/name: nginx
    spec:
"
        ),
        "{stable}"
    );
    assert!(
        stable.starts_with(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
    app.kubernetes.io/instance: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: nginx
"
        ),
        "{stable}"
    );
    let canary = read(repo.path(), "web/deployment-web-canary.yaml");
    assert!(
        canary.contains("    metadata:\n      labels:\n        app: web\n        app.kubernetes.io/managed-by: manifold\n"),
        "{canary}"
    );
    assert_strict(&repo.path().join("out"));
}
