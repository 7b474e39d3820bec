//! `kind = "daemonset"` rendered end to end: one pod per node, its rollout,
//! node volumes and tolerations, a Service selecting the daemon pods, and
//! the official strict schema (kubernetes-validate) on the result.

use std::fs;

use crate::support::*;

const AGENT: &str = r#"kind = "daemonset"
image = "acme/agent"
version = "2.1"

[[ports]]
name = "metrics"
port = 2020

[[volumes]]
name = "var-log"
host_path = "/var/log"
mount = "/var/log"
read_only = true

[placement]
tolerations = [{ operator = "Exists" }]

[rollout]
max_surge = 0
max_unavailable = "25%"
min_ready = "10s"
history = 5

[service]
"#;

/// A node agent: no replica count (the `replicas = 3` of prod's `[defaults]`
/// is ignored), the rolling update as written, the node's `/var/log`
/// read-only, every taint tolerated; and a Service may select its pods.
#[test]
fn a_daemonset_runs_one_pod_per_node_as_its_rollout_says() {
    let repo = fixture("minimal");
    fs::write(repo.path().join("services/agent.toml"), AGENT).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = repo.path().join("out");
    let daemon_set = fs::read_to_string(out.join("prod/agent/daemonset-agent.yaml")).unwrap();
    assert_eq!(
        daemon_set,
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    app: agent
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: agent
    app.kubernetes.io/version: "2.1"
    env: prod
    track: stable
    version: "2.1"
  name: agent
  namespace: shop
spec:
  minReadySeconds: 10
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app: agent
      track: stable
  template:
    metadata:
      labels:
        app: agent
        app.kubernetes.io/managed-by: manifold
        app.kubernetes.io/name: agent
        app.kubernetes.io/version: "2.1"
        env: prod
        track: stable
        version: "2.1"
    spec:
      containers:
      - image: registry.example.com/acme/agent:2.1
        name: agent
        ports:
        - containerPort: 2020
          name: metrics
          protocol: TCP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
        volumeMounts:
        - mountPath: /var/log
          name: var-log
          readOnly: true
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      tolerations:
      - operator: Exists
      volumes:
      - hostPath:
          path: /var/log
        name: var-log
  updateStrategy:
    rollingUpdate:
      maxSurge: 0
      maxUnavailable: 25%
    type: RollingUpdate
"#
    );
    let service = fs::read_to_string(out.join("prod/agent/service-agent.yaml")).unwrap();
    assert!(
        service.contains("  selector:\n    app: agent\n    track: stable\n"),
        "{service}"
    );
    let listed = fs::read_to_string(out.join("prod/kustomization.yaml")).unwrap();
    assert!(
        listed.contains("- agent/daemonset-agent.yaml\n"),
        "{listed}"
    );
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

/// `on-delete` replaces a node's pod only when it is deleted by hand: no
/// rolling parameters; and without rolling parameters none are written. An
/// autoscaler or a disruption budget from `[defaults]` is for the other
/// kinds only.
#[test]
fn on_delete_and_default_rolling_updates_of_a_daemonset() {
    let repo = fixture("minimal");
    let agent = AGENT.replace("max_surge = 0\nmax_unavailable = \"25%\"\n", "");
    fs::write(repo.path().join("services/agent.toml"), &agent).unwrap();
    fs::write(
        repo.path().join("environments/prod/agent.toml"),
        "rollout = { strategy = \"on-delete\" }\n",
    )
    .unwrap();
    append(
        &repo.path().join("environments/prod.toml"),
        "\n[defaults.disruption]\nmax_unavailable = 1\n\n[defaults.autoscale]\nmax = 5\n",
    );
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = repo.path().join("out");
    assert!(out.join("prod/web/poddisruptionbudget-web.yaml").is_file());
    assert!(
        !out.join("prod/agent/poddisruptionbudget-agent.yaml")
            .exists()
    );
    let dev = fs::read_to_string(out.join("dev/agent/daemonset-agent.yaml")).unwrap();
    // The API server's default (a rolling update, one node at a time).
    assert!(!dev.contains("updateStrategy"), "{dev}");
    let prod = fs::read_to_string(out.join("prod/agent/daemonset-agent.yaml")).unwrap();
    assert!(
        prod.ends_with("  updateStrategy:\n    type: OnDelete\n"),
        "{prod}"
    );
}
