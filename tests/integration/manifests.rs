//! Plain Kubernetes YAML beside the services: `manifests/` is published to
//! every environment and `environments/<env>/manifests/` to one, one object
//! a file, with the environment's namespace on namespaced objects that name
//! none, the do-not-prune annotations on a Namespace, and nothing else
//! changed. The fixture `tests/fixtures/manifests/`
//! holds `helm template` output, a custom resource checked against the CRD
//! of `tests/fixtures/crds/`, a `List` in JSON that defines its own
//! Namespace, and a file of `prod` alone. The error cases are data cases
//! (`manifest-*`).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use crate::adopt::assert_strict;
use crate::support::git::GitRepo;
use crate::support::*;

/// The minimal repository with the CRDs and the manifests fixtures.
fn repo() -> tempfile::TempDir {
    let repo = fixture("minimal");
    for extra in ["crds", "manifests"] {
        overlay_dir(&repo_root().join("tests/fixtures").join(extra), repo.path());
    }
    repo
}

fn read(repo: &Path, file: &str) -> String {
    fs::read_to_string(repo.join("out").join(file)).unwrap()
}

fn files(repo: &Path, env: &str) -> Vec<String> {
    read_tree(&repo.join("out").join(env)).into_keys().collect()
}

/// `helm template` output is split into one file per object in a folder
/// named after its file; namespaced objects without a namespace get the
/// environment's, cluster-scoped ones none; `kube-system`, which every
/// cluster has, gets no Namespace; `0644` is the octal kubectl reads;
/// `${NODE_NAME}` is not a manifold variable; a CRD-checked custom resource
/// and a `List` are published like the rest.
#[test]
fn a_helm_template_is_published_one_object_a_file() {
    let repo = repo();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        files(repo.path(), "dev"),
        [
            "kustomization.yaml",
            "manifests/agent/clusterrole-agent.yaml",
            "manifests/agent/clusterrolebinding-agent.yaml",
            "manifests/agent/configmap-agent.yaml",
            "manifests/agent/deployment-agent.yaml",
            "manifests/agent/role-agent-leader-election.yaml",
            "manifests/agent/serviceaccount-agent.yaml",
            "manifests/certificates/certificate-agent-tls.yaml",
            "manifests/logging/configmap-fluent-bit.yaml",
            "manifests/logging/namespace-logging.yaml",
            "namespace.yaml",
            "web/deployment-web.yaml",
            "web/service-web.yaml",
        ]
    );
    assert_eq!(
        read(repo.path(), "dev/manifests/agent/deployment-agent.yaml"),
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/instance: agent
    app.kubernetes.io/name: agent
  name: agent
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/instance: agent
      app.kubernetes.io/name: agent
  template:
    metadata:
      annotations:
        checksum/config: \"5d41402abc4b2a76b9719d911017c592\"
      labels:
        app.kubernetes.io/instance: agent
        app.kubernetes.io/name: agent
    spec:
      containers:
      - args:
        - --config
        - /etc/agent/agent.conf
        image: registry.example.com/agent:2.3.0
        name: agent
        ports:
        - containerPort: 9100
          name: metrics
          protocol: TCP
        volumeMounts:
        - mountPath: /etc/agent
          name: config
      serviceAccountName: agent
      volumes:
      - configMap:
          defaultMode: 420
          name: agent
        name: config
"
    );
    assert_eq!(
        read(repo.path(), "dev/manifests/agent/clusterrole-agent.yaml"),
        "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  labels:
    app.kubernetes.io/name: agent
  name: agent
rules:
- apiGroups:
  - \"\"
  resources:
  - nodes
  - pods
  verbs:
  - get
  - list
  - watch
"
    );
    assert_eq!(
        read(repo.path(), "dev/manifests/agent/configmap-agent.yaml"),
        "\
apiVersion: v1
data:
  agent.conf: |
    scrape_interval = \"30s\"
    targets = [\"${NODE_NAME}:9100\"]
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/instance: agent
    app.kubernetes.io/name: agent
  name: agent
  namespace: shop
"
    );
    assert_eq!(
        read(
            repo.path(),
            "dev/manifests/certificates/certificate-agent-tls.yaml"
        ),
        "\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: agent-tls
  namespace: shop
spec:
  dnsNames:
  - agent.shop.example.com
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
  secretName: agent-tls
"
    );
    // The List's own Namespace stands for manifold's (no
    // `namespace-logging.yaml`), kept when its file leaves the branch.
    assert_eq!(
        read(repo.path(), "dev/manifests/logging/namespace-logging.yaml"),
        "\
apiVersion: v1
kind: Namespace
metadata:
  annotations:
    argocd.argoproj.io/sync-options: Prune=false
    kustomize.toolkit.fluxcd.io/prune: disabled
  labels:
    team: platform
  name: logging
"
    );
    assert_eq!(
        read(repo.path(), "dev/kustomization.yaml"),
        "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- manifests/agent/clusterrole-agent.yaml
- manifests/agent/clusterrolebinding-agent.yaml
- manifests/agent/configmap-agent.yaml
- manifests/agent/deployment-agent.yaml
- manifests/agent/role-agent-leader-election.yaml
- manifests/agent/serviceaccount-agent.yaml
- manifests/certificates/certificate-agent-tls.yaml
- manifests/logging/configmap-fluent-bit.yaml
- manifests/logging/namespace-logging.yaml
- namespace.yaml
- web/deployment-web.yaml
- web/service-web.yaml
"
    );
}

/// A file of `environments/prod/manifests/` is published in prod alone, and
/// the namespace it names gets manifold's Namespace there.
#[test]
fn an_environments_manifests_are_published_there_alone() {
    let repo = repo();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dev = files(repo.path(), "dev");
    let prod = files(repo.path(), "prod");
    let only_prod: Vec<&String> = prod.iter().filter(|f| !dev.contains(f)).collect();
    assert_eq!(
        only_prod,
        [
            "manifests/alerts/configmap-alerts.yaml",
            "manifests/alerts/poddisruptionbudget-agent.yaml",
            "namespace-monitoring.yaml",
        ]
    );
    assert!(dev.iter().all(|f| prod.contains(f)));
    assert_eq!(
        read(
            repo.path(),
            "prod/manifests/alerts/poddisruptionbudget-agent.yaml"
        ),
        "\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: agent
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: agent
"
    );
    assert_eq!(
        read(repo.path(), "prod/namespace-monitoring.yaml"),
        "\
apiVersion: v1
kind: Namespace
metadata:
  annotations:
    argocd.argoproj.io/sync-options: Prune=false
    kustomize.toolkit.fluxcd.io/prune: disabled
  labels:
    app.kubernetes.io/managed-by: manifold
    env: prod
  name: monitoring
"
    );
}

/// What Flux and Argo CD apply: `kubectl kustomize` reads every file the
/// kustomization lists, manifests included, and the objects pass the
/// strict Kubernetes schemas (the custom resource, which the script cannot
/// check without its CRD, left out). The output is the same for any
/// thread count.
#[test]
fn the_output_passes_kubectl_kustomize_and_the_strict_schemas() {
    let repo = repo();
    let run = manifold(repo.path(), &["build", "-j", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rendered = kubectl_kustomize(&repo.path().join("out/prod"));
    assert_eq!(rendered.matches("\nkind: ").count(), 15, "{rendered}");
    for expected in [
        "kind: ClusterRole\nmetadata:\n  labels:\n    app.kubernetes.io/name: agent\n  name: agent\nrules:",
        "kind: PodDisruptionBudget\nmetadata:\n  name: agent\n  namespace: shop\n",
        "kind: Certificate\nmetadata:\n  name: agent-tls\n  namespace: shop\n",
        "defaultMode: 420\n",
    ] {
        assert!(rendered.contains(expected), "{expected}\n{rendered}");
    }
    let one_thread = read_tree(&repo.path().join("out"));
    fs::remove_dir_all(repo.path().join("out")).unwrap();
    let run = manifold(repo.path(), &["build", "-j", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_same_tree(
        &one_thread,
        &read_tree(&repo.path().join("out")),
        "-j 1 and -j 2",
    );

    fs::remove_file(repo.path().join("manifests/certificates.yaml")).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_strict(&repo.path().join("out"));
}

/// A SOPS-encrypted Secret is published byte for byte, or SOPS' checksum
/// over its values would no longer match and Flux could not decrypt it.
#[test]
fn a_sops_encrypted_secret_is_published_byte_for_byte() {
    let repo = repo();
    let secret = "\
apiVersion: v1
kind: Secret
metadata:
    name: agent-token
    namespace: shop
type: Opaque
stringData:
    token: ENC[AES256_GCM,data:3q2+7w==,iv:7fjU1aK3D9Xv2bn8VnS9bA==,tag:Fh0bX1wU0CZb5Ob6yNNmxQ==,type:str]
sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmMK
            -----END AGE ENCRYPTED FILE-----
    lastmodified: \"2025-03-14T09:21:07Z\"
    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
    encrypted_regex: ^(data|stringData)$
    version: 3.9.4
";
    fs::write(repo.path().join("manifests/agent-token.yaml"), secret).unwrap();
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(
            repo.path(),
            "dev/manifests/agent-token/secret-agent-token.yaml"
        ),
        secret
    );
}

/// A link out of the repository is refused, whether it is a file of a
/// `manifests/` folder or the folder itself, and nothing is written.
#[test]
fn links_out_of_the_repository_are_refused_in_manifests() {
    let repo = repo();
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("leak.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\n",
    )
    .unwrap();
    symlink(
        outside.path().join("leak.yaml"),
        repo.path().join("manifests/leak.yaml"),
    )
    .unwrap();
    symlink(
        outside.path(),
        repo.path().join("environments/prod/manifests/shared"),
    )
    .unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "\
error: symbolic link leaves the repository
 --> environments/prod/manifests/shared:1:1
  = help: manifold follows links only inside the repository; copy the file in, or point the link at a file inside

error: symbolic link leaves the repository
 --> manifests/leak.yaml:1:1
  = help: manifold follows links only inside the repository; copy the file in, or point the link at a file inside

2 errors found
"
    );
    assert!(!repo.path().join("out").exists());

    fs::remove_file(repo.path().join("manifests/leak.yaml")).unwrap();
    fs::remove_file(repo.path().join("environments/prod/manifests/shared")).unwrap();
    let moved = outside.path().join("manifests");
    fs::rename(repo.path().join("manifests"), &moved).unwrap();
    symlink(&moved, repo.path().join("manifests")).unwrap();
    let run = manifold(repo.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "\
error: symbolic link leaves the repository
 --> manifests:1:1
  = help: manifold follows links only inside the repository; copy the files in, or point the link at a folder inside

1 error found
"
    );
}

/// `publish` commits the manifests with the rest, refuses while one is
/// uncommitted (the branch would not be what `Source-Commit` names), and
/// `diff` shows a changed manifest object by object.
#[test]
fn publish_and_diff_include_the_manifests() {
    let repo = GitRepo::new("minimal");
    overlay_dir(
        &repo_root().join("tests/fixtures/manifests/manifests"),
        &repo.path.join("manifests"),
    );
    // The custom resource's CRD is not in this repository.
    fs::remove_file(repo.path.join("manifests/certificates.yaml")).unwrap();
    repo.commit_all("ship the agent chart");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree = repo.tree("gitops");
    assert!(
        tree.contains_key("prod/manifests/agent/deployment-agent.yaml"),
        "{:?}",
        tree.keys()
    );

    let agent = repo.path.join("manifests/agent.yaml");
    let text = fs::read_to_string(&agent).unwrap();
    fs::write(&agent, text.replace("replicas: 2", "replicas: 3")).unwrap();
    let head = repo.rev("HEAD").unwrap();
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: `services/`, `environments/` or `manifests/` differ from HEAD ({}), so the published tree would not be what `Source-Commit` names:
  manifests/agent.yaml (modified)
  = help: commit or stash them, or pass `--allow-dirty` to publish the working tree anyway
",
            &head[..12]
        )
    );
    let run = repo.manifold(&["diff", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "== dev/manifests: 1 changed
--- a/dev/manifests/agent/deployment-agent.yaml
+++ b/dev/manifests/agent/deployment-agent.yaml
"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("-  replicas: 2\n+  replicas: 3\n"),
        "{}",
        run.stdout
    );
}
