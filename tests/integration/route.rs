//! `[route]` rendered end to end: the HTTPRoute of a plain service, canary
//! weights, header canaries and blue/green, each as exact YAML; every
//! rendered route checked against the vendored Gateway API CRD, strictly,
//! and that check shown to fail on a wrong route.

use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::support::*;

/// The minimal fixture with a Gateway in `dev` and `extra` appended to
/// `services/web.toml`.
fn repo_with_route(extra: &str) -> tempfile::TempDir {
    let repo = fixture("minimal");
    append(
        &repo.path().join("environments/dev.toml"),
        "gateway = { name = \"public\", namespace = \"gateway-system\", section = \"https\" }\n",
    );
    append(&repo.path().join("services/web.toml"), extra);
    repo
}

/// `out/dev/web/<file>` after a build of `dev`, which must succeed.
fn built(repo: &Path, file: &str) -> String {
    let run = manifold(repo, &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fs::read_to_string(repo.join("out/dev/web").join(file)).unwrap()
}

const METADATA: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    env: dev
  name: web
  namespace: shop
";

#[test]
fn a_route_attaches_to_the_environments_gateway_and_routes_to_the_service_port() {
    let repo = repo_with_route(
        r#"
[route]
host = "shop.example.com"
hosts = ["www.shop.example.com"]
annotations = { "external-dns.alpha.kubernetes.io/ttl" = "60" }
"#,
    );
    let route = built(repo.path(), "httproute-web.yaml");
    assert_eq!(
        route,
        "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  annotations:
    external-dns.alpha.kubernetes.io/ttl: \"60\"
  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    env: dev
  name: web
  namespace: shop
spec:
  hostnames:
  - shop.example.com
  - www.shop.example.com
  parentRefs:
  - name: public
    namespace: gateway-system
    sectionName: https
  rules:
  - backendRefs:
    - name: web
      port: 80
    matches:
    - path:
        type: PathPrefix
        value: /
"
    );
    let listed = fs::read_to_string(repo.path().join("out/dev/kustomization.yaml")).unwrap();
    assert!(listed.contains("- web/httproute-web.yaml\n"), "{listed}");
}

/// Gateway API weights are relative: the Service `<name>` gets what the
/// tracks leave of 100, so the numbers read as the percentages written.
#[test]
fn canary_weights_become_backend_weights_that_add_up_to_100() {
    let repo = repo_with_route(
        r#"
[route]
host = "shop.example.com"
paths = ["/", "/api"]
path_type = "Exact"

[[tracks]]
name = "canary"
version = "1.1"
weight = 10

[[tracks]]
name = "next"
version = "2.0"
weight = 5
"#,
    );
    let route = built(repo.path(), "httproute-web.yaml");
    assert_eq!(
        route,
        format!(
            "{METADATA}\
spec:
  hostnames:
  - shop.example.com
  parentRefs:
  - name: public
    namespace: gateway-system
    sectionName: https
  rules:
  - backendRefs:
    - name: web
      port: 80
      weight: 85
    - name: web-canary
      port: 80
      weight: 10
    - name: web-next
      port: 80
      weight: 5
    matches:
    - path:
        type: Exact
        value: /
    - path:
        type: Exact
        value: /api
"
        )
    );
    // The backends are the Services that select each track's pods.
    let canary =
        fs::read_to_string(repo.path().join("out/dev/web/service-web-canary.yaml")).unwrap();
    assert!(
        canary.contains("  selector:\n    app: web\n    track: canary\n"),
        "{canary}"
    );
}

/// A request with the header goes to the canary on every path; the rule is
/// written first, and also wins on precedence (more header matches).
#[test]
fn a_header_canary_gets_a_rule_of_its_own_before_the_default_rule() {
    let repo = repo_with_route(
        r#"
[route]
host = "shop.example.com"
paths = ["/", "/api"]

[[tracks]]
name = "beta"
version = "1.1"
header = "X-Beta"

[[tracks]]
name = "canary"
version = "1.2"
header = "X-Version"
header_value = "1.2"
weight = 20
"#,
    );
    let route = built(repo.path(), "httproute-web.yaml");
    assert_eq!(
        route,
        format!(
            "{METADATA}\
spec:
  hostnames:
  - shop.example.com
  parentRefs:
  - name: public
    namespace: gateway-system
    sectionName: https
  rules:
  - backendRefs:
    - name: web-beta
      port: 80
    matches:
    - headers:
      - name: X-Beta
        type: Exact
        value: always
      path:
        type: PathPrefix
        value: /
    - headers:
      - name: X-Beta
        type: Exact
        value: always
      path:
        type: PathPrefix
        value: /api
  - backendRefs:
    - name: web-canary
      port: 80
    matches:
    - headers:
      - name: X-Version
        type: Exact
        value: \"1.2\"
      path:
        type: PathPrefix
        value: /
    - headers:
      - name: X-Version
        type: Exact
        value: \"1.2\"
      path:
        type: PathPrefix
        value: /api
  - backendRefs:
    - name: web
      port: 80
      weight: 80
    - name: web-canary
      port: 80
      weight: 20
    matches:
    - path:
        type: PathPrefix
        value: /
    - path:
        type: PathPrefix
        value: /api
"
        )
    );
}

/// Blue/green switches the Service's selector, as with an Ingress: the
/// route names the Service `<name>` and does not change with `serve`.
#[test]
fn blue_green_routes_to_the_service_that_selects_the_served_track() {
    let repo = repo_with_route(
        r#"
[route]
host = "shop.example.com"
port = "http"
gateway = { name = "internal" }

[[tracks]]
name = "blue"
version = "1.0"

[[tracks]]
name = "green"
version = "1.1"
"#,
    );
    let file = repo.path().join("services/web.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, format!("serve = \"blue\"\n{text}")).unwrap();
    let route = built(repo.path(), "httproute-web.yaml");
    assert_eq!(
        route,
        format!(
            "{METADATA}\
spec:
  hostnames:
  - shop.example.com
  parentRefs:
  - name: internal
  rules:
  - backendRefs:
    - name: web
      port: 80
    matches:
    - path:
        type: PathPrefix
        value: /
"
        )
    );
    let service =
        |repo: &Path| fs::read_to_string(repo.join("out/dev/web/service-web.yaml")).unwrap();
    assert!(service(repo.path()).contains("    track: blue\n"));
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("serve = \"blue\"", "serve = \"green\"")).unwrap();
    assert_eq!(built(repo.path(), "httproute-web.yaml"), route);
    assert!(service(repo.path()).contains("    track: green\n"));
}

/// Every route this file renders, in one repository, for the CRD check.
const EVERY_ROUTE: &str = r#"
[route]
host = "shop.example.com"
hosts = ["*.shop.example.com"]
paths = ["/", "/api"]

[[tracks]]
name = "canary"
version = "1.1"
weight = 10
header = "X-Canary"
header_value = "yes"
"#;

fn check_output(out: &Path) -> String {
    let script = repo_root().join("scripts/check-output.py");
    let output = std::process::Command::new(pytool("python"))
        .arg(&script)
        .arg(out)
        .args(["--kube", "dev=1.35"])
        .output()
        .expect("python runs");
    String::from_utf8_lossy(&output.stdout).replace(&out.display().to_string(), "[OUT]")
}

/// The Gateway API is not part of the Kubernetes schemas manifold checks
/// its output against: the tests check routes against the Gateway API's own
/// CRD instead, made strict, and a wrong field or value must fail.
#[test]
fn rendered_routes_pass_the_vendored_gateway_api_crd_strictly_and_wrong_ones_fail() {
    python(&[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE], &["-c", ""]);
    let repo = repo_with_route(EVERY_ROUTE);
    built(repo.path(), "httproute-web.yaml");
    let out = repo.path().join("out");
    let note = "note: gateway.networking.k8s.io/v1 HTTPRoute is checked against v1beta1 of the vendored CRD (Gateway API v0.6.0-dev, kopium 0.24.1)\n";
    assert_eq!(
        check_output(&out),
        format!("{note}checked 7 files in 1 environments: 0 problems\n")
    );
    let file = out.join("dev/web/httproute-web.yaml");
    let route = fs::read_to_string(&file).unwrap();
    let wrong = route
        .replace("      weight: 90\n", "      weigth: 90\n")
        .replace("sectionName: https", "sectionName: HTTPS")
        .replace(
            "      port: 80\n      weight: 10\n",
            "      port: 0\n      weight: 10\n",
        );
    fs::write(&file, wrong).unwrap();
    assert_eq!(
        check_output(&out),
        format!(
            "\
[OUT]/dev/web/httproute-web.yaml: /spec/parentRefs/0/sectionName: 'HTTPS' does not match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' (vendored CRD, strict)
[OUT]/dev/web/httproute-web.yaml: /spec/rules/1/backendRefs/0: Additional properties are not allowed ('weigth' was unexpected) (vendored CRD, strict)
[OUT]/dev/web/httproute-web.yaml: /spec/rules/1/backendRefs/1/port: 0 is less than the minimum of 1 (vendored CRD, strict)
{note}checked 7 files in 1 environments: 3 problems
"
        )
    );
}

/// The conversion of a CRD's schema to a strict JSON Schema, on the
/// Kubernetes extensions the HTTPRoute CRD does not use.
#[test]
fn the_strict_crd_schema_honours_the_kubernetes_extensions() {
    let script = r#"
import importlib.util, json, sys, jsonschema
spec = importlib.util.spec_from_file_location("check_output", sys.argv[1])
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
schema = check.strict({
    "type": "object",
    "properties": {
        "size": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True, "description": "dropped"},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {"type": "integer"}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": True, "properties": {"spec": {"type": "object"}}},
    },
})
samples = [
    {"size": "50%", "port": 8080, "note": None, "free": {"a": 1, "anything": [1]}, "labels": {"x": "y"},
     "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}},
    {"size": 50, "port": "http"},
    {"siz": 1},
    {"size": True},
    {"free": {"a": "one"}},
    {"labels": {"x": 1}},
    {"template": {"spec": {}, "status": {}}},
]
for sample in samples:
    errors = sorted(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(sample))
    print(json.dumps(errors))
"#;
    let path = repo_root().join("scripts/check-output.py");
    let report = python(
        &[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE],
        &["-c", script, path.to_str().unwrap()],
    );
    assert_eq!(
        report,
        r#"[]
[]
["Additional properties are not allowed ('siz' was unexpected)"]
["True is not valid under any of the given schemas"]
["'one' is not of type 'integer'"]
["1 is not of type 'string'"]
["Additional properties are not allowed ('status' was unexpected)"]
"#
    );
}

/// The vendored CRD is the file its source record names, unchanged; run
/// `scripts/refresh-gateway-api` to fetch it again from its package.
#[test]
fn the_vendored_gateway_api_crd_is_the_file_its_source_records() {
    let dir = repo_root().join("schemas/gateway-api");
    let source: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("source.json")).unwrap()).unwrap();
    let files = source["files"].as_object().unwrap();
    assert!(files.contains_key("httproutes.gateway.networking.k8s.io.yaml"));
    for (name, info) in files {
        let digest = Sha256::digest(fs::read(dir.join(name)).unwrap());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(info["sha256"].as_str(), Some(hex.as_str()), "{name}");
        assert_eq!(info["channel"], "standard", "{name}");
    }
}

/// An HTTPRoute written by hand in `objects` keeps passing as a custom
/// resource beside the typed `[route]`.
#[test]
fn an_httproute_in_objects_still_passes_as_a_custom_resource() {
    let repo = repo_with_route(
        r#"
[objects.web-admin]
apiVersion = "gateway.networking.k8s.io/v1"
kind = "HTTPRoute"
spec = { parentRefs = [{ name = "internal" }], rules = [{ backendRefs = [{ name = "web", port = 80 }] }] }
"#,
    );
    let route = built(repo.path(), "httproute-web-admin.yaml");
    assert!(
        route.contains("  name: web-admin\n  namespace: shop\n"),
        "{route}"
    );
}
