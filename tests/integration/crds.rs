//! Custom resources with their CustomResourceDefinitions in `crds/`: checked
//! strictly against the CRD's schema, namespaced or not as its `spec.scope`
//! says, and rendered as written. The error cases are data cases
//! (`crd-*`, `cluster-scoped-namespace`); the CRDs are the fixture
//! `tests/fixtures/crds/`.

use std::fs;
use std::os::unix::fs::symlink;

use crate::support::*;

/// A repository with the fixture's CRDs and `extra` appended to its service.
fn with_crds(extra: &str) -> tempfile::TempDir {
    let repo = fixture("minimal");
    overlay_dir(&repo_root().join("tests/fixtures/crds"), repo.path());
    append(&repo.path().join("services/web.toml"), extra);
    repo
}

const OBJECTS: &str = r#"
[objects.web-tls]
apiVersion = "cert-manager.io/v1"
kind = "Certificate"
spec = { secretName = "web-tls", dnsNames = ["shop.example.com"], issuerRef = { name = "letsencrypt", kind = "ClusterIssuer" } }

[objects.letsencrypt]
apiVersion = "cert-manager.io/v1"
kind = "ClusterIssuer"
spec.acme = { server = "https://acme-v02.api.letsencrypt.org/directory", privateKeySecretRef = { name = "letsencrypt" }, solvers = [{ http01 = { ingress = { ingressClassName = "nginx" } } }] }

[objects.web]
apiVersion = "rollout.example.com/v1"
kind = "Canary"
spec.target = "web"
spec.maxUnavailable = "50%"
spec.steps = 3
spec.analysis = { anything = { goes = [1, "two", true] } }
spec.template = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "probe" }, data = { url = "/healthz" } }

[objects.db-credentials]
apiVersion = "external-secrets.io/v1"
kind = "ExternalSecret"
spec = { secretStoreRef = { name = "vault", kind = "ClusterSecretStore" }, target = { name = "db" } }
"#;

/// A cluster-scoped custom resource used to get the service's namespace,
/// which the API server refuses for a ClusterIssuer; a preserved subtree,
/// an int-or-string percentage and an embedded object pass their CRD; a kind
/// without a CRD passes unchecked, as before.
#[test]
fn custom_resources_pass_their_crds_and_cluster_scoped_ones_get_no_namespace() {
    let repo = with_crds(OBJECTS);
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let read = |file: &str| fs::read_to_string(repo.path().join("out/dev/web").join(file)).unwrap();
    let labels = "  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    env: dev
";
    assert_eq!(
        read("clusterissuer-letsencrypt.yaml"),
        format!(
            "apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
{labels}  name: letsencrypt
spec:
  acme:
    privateKeySecretRef:
      name: letsencrypt
    server: https://acme-v02.api.letsencrypt.org/directory
    solvers:
    - http01:
        ingress:
          ingressClassName: nginx
"
        )
    );
    assert_eq!(
        read("certificate-web-tls.yaml"),
        format!(
            "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
{labels}  name: web-tls
  namespace: shop
spec:
  dnsNames:
  - shop.example.com
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
  secretName: web-tls
"
        )
    );
    assert_eq!(
        read("canary-web.yaml"),
        format!(
            "apiVersion: rollout.example.com/v1
kind: Canary
metadata:
{labels}  name: web
  namespace: shop
spec:
  analysis:
    anything:
      goes:
      - 1
      - two
      - true
  maxUnavailable: 50%
  steps: 3
  target: web
  template:
    apiVersion: v1
    data:
      url: /healthz
    kind: ConfigMap
    metadata:
      name: probe
"
        )
    );
    assert_eq!(
        read("externalsecret-db-credentials.yaml"),
        format!(
            "apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
{labels}  name: db-credentials
  namespace: shop
spec:
  secretStoreRef:
    kind: ClusterSecretStore
    name: vault
  target:
    name: db
"
        )
    );
}

/// Without `crds/`, the same objects pass unchecked: a CRD is opt-in, and a
/// repository that keeps none sees no change but the ClusterIssuer's
/// namespace, which only its CRD can tell.
#[test]
fn without_crds_custom_resources_pass_unchecked_and_namespaced() {
    let repo = fixture("minimal");
    append(
        &repo.path().join("services/web.toml"),
        &format!("{OBJECTS}\n[objects.web.spec.typo]\nanything = 1\n"),
    );
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let issuer = fs::read_to_string(
        repo.path()
            .join("out/dev/web/clusterissuer-letsencrypt.yaml"),
    )
    .unwrap();
    assert!(issuer.contains("\n  namespace: shop\n"), "{issuer}");
}

/// `crds/` is read like the rest of the repository: a link leaving it is an
/// error at the link, a file too large is refused unread, and the other
/// files are still checked.
#[test]
fn crd_files_are_loaded_as_safely_as_the_rest() {
    let repo = with_crds("");
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("crd.yaml"),
        "kind: CustomResourceDefinition\n",
    )
    .unwrap();
    symlink(
        outside.path().join("crd.yaml"),
        repo.path().join("crds/outside.yaml"),
    )
    .unwrap();
    let big = repo.path().join("crds/huge.yaml");
    fs::write(&big, "#".repeat(16 << 20 | 1)).unwrap();
    let run = manifold(repo.path(), &["validate", "-e", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "\
error: symbolic link leaves the repository
 --> crds/outside.yaml:1:1
  = help: manifold follows links only inside the repository; copy the file in, or point the link at a file inside

error: file is larger than 16 MiB, the most manifold reads from `crds/`
 --> crds/huge.yaml:1:1
  = help: keep only CustomResourceDefinitions in `crds/`, one or a few a file

2 errors found
"
    );
}

/// The CRDs change nothing of the output's determinism: the same tree for
/// one thread and many.
#[test]
fn output_with_crds_is_the_same_for_any_thread_count() {
    let repo = with_crds(OBJECTS);
    let one = repo.path().join("one");
    let many = repo.path().join("many");
    for (dir, jobs) in [(&one, "1"), (&many, "8")] {
        let run = manifold(
            repo.path(),
            &["build", "-j", jobs, "-o", dir.to_str().unwrap()],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_same_tree(&read_tree(&one), &read_tree(&many), "-j 1 and -j 8");
}
