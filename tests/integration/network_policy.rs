//! `[network_policy]` rendered end to end: peers by service and group, a peer
//! in another namespace, ports by name and number.

use std::fs;

use crate::support::*;

/// A bare `podSelector` selects pods of the policy's own namespace only: a
/// peer service in another namespace must come with a `namespaceSelector`,
/// or the policy silently admits no one.
#[test]
fn a_peer_in_another_namespace_gets_a_namespace_selector() {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/api.toml"),
        r#"image = "shop/api"
version = "2.0"
namespace = "backend"

[[ports]]
name = "grpc"
port = 9000
"#,
    )
    .unwrap();
    append(
        &repo.path().join("services/web.toml"),
        r#"
[[network_policy.ingress]]
services = ["api", "web"]
ports = ["http"]

[[network_policy.ingress]]
groups = ["monitoring"]
namespace = "*"
ports = [9090]

[[network_policy.egress]]
services = ["api"]
ports = ["grpc"]

[[network_policy.egress]]
ports = [53]
protocol = "UDP"
"#,
    );
    let run = manifold(repo.path(), &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let policy =
        fs::read_to_string(repo.path().join("out/dev/web/networkpolicy-web.yaml")).unwrap();
    assert_eq!(
        policy,
        "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    env: dev
  name: web
  namespace: shop
spec:
  egress:
  - ports:
    - port: grpc
      protocol: TCP
    to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: backend
      podSelector:
        matchLabels:
          app: api
  - ports:
    - port: 53
      protocol: UDP
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: backend
      podSelector:
        matchLabels:
          app: api
    - podSelector:
        matchLabels:
          app: web
    ports:
    - port: 8080
      protocol: TCP
  - from:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          group: monitoring
    ports:
    - port: 9090
      protocol: TCP
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Ingress
  - Egress
"
    );
    let listed = fs::read_to_string(repo.path().join("out/dev/kustomization.yaml")).unwrap();
    assert!(
        listed.contains("- web/networkpolicy-web.yaml\n"),
        "{listed}"
    );
}
