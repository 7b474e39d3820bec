//! Environment variables rendered in written order across the layers
//! (`[defaults]`, service file, overlay, track) and in side containers,
//! since Kubernetes expands `$(VAR)` only from the variables above it.

use std::fs;
use std::path::Path;

use crate::support::*;

/// The fixture with variables in every layer: the environment's
/// `[defaults.env]`, the service's `[env]`, a track's and a side container's,
/// and the prod overlay, which replaces one of each and adds more.
fn layered() -> tempfile::TempDir {
    let repo = fixture("minimal");
    append(
        &repo.path().join("environments/prod.toml"),
        r#"
[defaults.env]
LOG_FORMAT = "json"
TAGS = "app=${name}"
REGION = "eu"
"#,
    );
    fs::write(
        repo.path().join("services/web.toml"),
        r#"image = "shop/web"
version = "1.0"
command = ["web", "--db=$(DB_URL)", "--region=$(REGION)"]

[config]
LOG_LEVEL = "info"

[env]
ZONE = "a"
DB_HOST = "db.shop"
REGION = "eu-west"
DB_URL = "postgres://$(DB_HOST)/shop?zone=$(ZONE)&log=$(LOG_LEVEL)"
PRICE = "$$(PRICE)"

[[containers]]
name = "proxy"
image = "shop/proxy"
env = { UPSTREAM_PORT = "8080", LISTEN = "0.0.0.0", UPSTREAM = "localhost:$(UPSTREAM_PORT)" }

[[tracks]]
name = "next"
env = { ZONE = "b", NEXT = "1" }
"#,
    )
    .unwrap();
    append(
        &repo.path().join("environments/prod/web.toml"),
        r#"
[env]
DB_HOST = "db.prod"
CACHE = "redis"

[[containers]]
name = "proxy"
env = { LISTEN = "127.0.0.1", DEBUG = "0" }
"#,
    );
    repo
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `[defaults]` first, then the service's new variables, then the
/// overlay's; a variable set again keeps its place and takes the new value.
/// Sorted by name, `DB_URL` would come before `ZONE` and `$(ZONE)` would not
/// expand.
#[test]
fn variables_render_in_written_order_across_layers_and_containers() {
    let repo = layered();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.matches("warning").count(), 0, "{}", run.stderr);
    let out = repo.path().join("out");
    assert_eq!(
        read(&out.join("prod/web/deployment-web.yaml")),
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    app.kubernetes.io/version: "1.1"
    env: prod
    track: stable
    version: "1.1"
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
      track: stable
  strategy:
    rollingUpdate:
      maxUnavailable: 1
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: web
        app.kubernetes.io/managed-by: manifold
        app.kubernetes.io/name: web
        app.kubernetes.io/version: "1.1"
        env: prod
        track: stable
        version: "1.1"
    spec:
      containers:
      - command:
        - web
        - --db=$(DB_URL)
        - --region=$(REGION)
        env:
        - name: LOG_FORMAT
          value: json
        - name: TAGS
          value: app=web
        - name: REGION
          value: eu-west
        - name: ZONE
          value: a
        - name: DB_HOST
          value: db.prod
        - name: DB_URL
          value: postgres://$(DB_HOST)/shop?zone=$(ZONE)&log=$(LOG_LEVEL)
        - name: PRICE
          value: $$(PRICE)
        - name: CACHE
          value: redis
        envFrom:
        - configMapRef:
            name: web-config-80ce466b30
        image: registry.example.com/shop/web:1.1
        name: web
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
      - env:
        - name: UPSTREAM_PORT
          value: "8080"
        - name: LISTEN
          value: "127.0.0.1"
        - name: UPSTREAM
          value: localhost:$(UPSTREAM_PORT)
        - name: DEBUG
          value: "0"
        image: registry.example.com/shop/proxy:1.1
        name: proxy
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
"#
    );
    // A track's variables are set over the service's the same way.
    let next = read(&out.join("prod/web/deployment-web-next.yaml"));
    let track_env = "        env:
        - name: LOG_FORMAT
          value: json
        - name: TAGS
          value: app=web
        - name: REGION
          value: eu-west
        - name: ZONE
          value: b
        - name: DB_HOST
          value: db.prod
        - name: DB_URL
          value: postgres://$(DB_HOST)/shop?zone=$(ZONE)&log=$(LOG_LEVEL)
        - name: PRICE
          value: $$(PRICE)
        - name: CACHE
          value: redis
        - name: NEXT
          value: \"1\"
        envFrom:
";
    assert!(next.contains(track_env), "{next}");
    // Without `[defaults.env]` and an overlay: the service file's order.
    let dev = read(&out.join("dev/web/deployment-web.yaml"));
    let dev_env = "        env:
        - name: ZONE
          value: a
        - name: DB_HOST
          value: db.shop
        - name: REGION
          value: eu-west
        - name: DB_URL
          value: postgres://$(DB_HOST)/shop?zone=$(ZONE)&log=$(LOG_LEVEL)
        - name: PRICE
          value: $$(PRICE)
        envFrom:
";
    assert!(dev.contains(dev_env), "{dev}");
    let proxy_env = "      - env:
        - name: UPSTREAM_PORT
          value: \"8080\"
        - name: LISTEN
          value: \"0.0.0.0\"
        - name: UPSTREAM
          value: localhost:$(UPSTREAM_PORT)
        image: registry.example.com/shop/proxy:1.0
";
    assert!(dev.contains(proxy_env), "{dev}");
    // The strict Kubernetes schemas and both YAML versions agree.
    let report = python(
        &[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE],
        &[
            repo_root()
                .join("scripts/check-output.py")
                .to_str()
                .unwrap(),
            out.to_str().unwrap(),
            "--kube",
            "dev=1.35",
            "--kube",
            "prod=1.37",
        ],
    );
    assert!(report.contains(": 0 problems"), "{report}");
}

/// Moving a variable is a change of the pod template: pods restart, and the
/// output changes only there.
#[test]
fn moving_a_variable_changes_only_the_workloads_that_render_it() {
    let repo = layered();
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    let before = read_tree(&repo.path().join("out"));
    let service = repo.path().join("services/web.toml");
    let text = read(&service).replace(
        "ZONE = \"a\"\nDB_HOST = \"db.shop\"\n",
        "DB_HOST = \"db.shop\"\nZONE = \"a\"\n",
    );
    fs::write(&service, text).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = read_tree(&repo.path().join("out"));
    let changed: Vec<&str> = after
        .iter()
        .filter(|(path, bytes)| before.get(*path) != Some(*bytes))
        .map(|(path, _)| path.as_str())
        .filter(|path| !path.ends_with(".manifold-output"))
        .collect();
    assert_eq!(
        changed,
        [
            "dev/web/deployment-web-next.yaml",
            "dev/web/deployment-web.yaml",
            "prod/web/deployment-web-next.yaml",
            "prod/web/deployment-web.yaml",
        ]
    );
    let dev = read(&repo.path().join("out/dev/web/deployment-web.yaml"));
    assert!(
        dev.contains("        env:\n        - name: DB_HOST\n          value: db.shop\n        - name: ZONE\n"),
        "{dev}"
    );
}
