//! Container and pod fields end to end: the security profiles and
//! `privileged` (exact output, the Pod Security Standards level each
//! promises, `hardened` as the output of before), container ports without a
//! name, versions pinned to a digest, and all of them against the strict
//! Kubernetes schema with kubernetes-validate.

use std::fs;
use std::path::Path;

use serde_json::Value as Json;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::*;

const HEX: &str = "9b2e35a9e0f4b1c8d7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
const HEX2: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A repository with one environment, `dev`, whose file ends with
/// `environment`, and the service files `services` (name, text). The
/// services set no requests or limits: the `resources` policy is off.
fn repo(environment: &str, services: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("services")).unwrap();
    fs::create_dir_all(tmp.path().join("environments/dev")).unwrap();
    fs::write(
        tmp.path().join("environments/dev.toml"),
        format!(
            "namespace = \"shop\"\nkube_version = \"1.35\"\nregistry = \"registry.example.com\"\npolicy = {{ resources = \"off\" }}\n{environment}"
        ),
    )
    .unwrap();
    for (name, text) in services {
        fs::write(tmp.path().join(format!("services/{name}.toml")), text).unwrap();
    }
    tmp
}

/// Builds `repo`, which must compile without a word.
fn build(repo: &Path) {
    let run = manifold(repo, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

fn read(repo: &Path, file: &str) -> String {
    fs::read_to_string(repo.join("out/dev").join(file)).unwrap()
}

/// The rendered YAML `file` of `dev` as JSON.
fn object(repo: &Path, file: &str) -> Json {
    let docs = YamlLoader::load_from_str(&read(repo, file)).unwrap();
    to_json(&docs[0])
}

fn to_json(y: &Yaml) -> Json {
    match y {
        Yaml::Hash(h) => Json::Object(
            h.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v)))
                .collect(),
        ),
        Yaml::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Integer(i) => Json::from(*i),
        Yaml::Boolean(b) => Json::Bool(*b),
        Yaml::Null => Json::Null,
        other => panic!("unexpected YAML value {other:?}"),
    }
}

/// The profiles' services: `strict` gets `restricted` from the
/// environment's `[defaults]`, `base` is `baseline`, `agent` (a
/// statefulset) `privileged` with a privileged side container.
const STRICT: &str = r#"image = "shop/strict"
version = "1.0"

[[ports]]
name = "http"
port = 8080

[security]
run_as_user = 10001
capabilities = ["NET_BIND_SERVICE"]

[[containers]]
name = "proxy"
image = "shop/proxy"
security = { read_only_root_filesystem = true }

[[init_containers]]
name = "migrate"
command = ["migrate"]
"#;

const BASE: &str = r#"image = "shop/base"
version = "1.0"

[security]
profile = "baseline"

[[containers]]
name = "chown"
security = { capabilities = ["CHOWN"], run_as_user = 0 }
"#;

const AGENT: &str = r#"kind = "statefulset"
image = "shop/agent"
version = "1.0"

[security]
profile = "privileged"

[[containers]]
name = "probe"
security = { privileged = true }
"#;

fn profiles() -> tempfile::TempDir {
    repo(
        "\n[defaults.security]\nprofile = \"restricted\"\n",
        &[("strict", STRICT), ("base", BASE), ("agent", AGENT)],
    )
}

/// The pod template of a workload: `spec.template.spec` as written.
fn pod_spec(yaml: &str) -> &str {
    let at = yaml.find("\n    spec:\n").expect("a pod template");
    &yaml[at + 1..]
}

#[test]
fn each_profile_writes_its_defaults_and_the_keys_set() {
    let repo = profiles();
    build(repo.path());
    // `restricted`: non-root, RuntimeDefault, no escalation, drop ALL; the
    // root filesystem is writable unless a key says otherwise.
    assert_eq!(
        pod_spec(&read(repo.path(), "strict/deployment-strict.yaml")),
        "    spec:
      containers:
      - image: registry.example.com/shop/strict:1.0
        name: strict
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - ALL
      - image: registry.example.com/shop/proxy:1.0
        name: proxy
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - ALL
          readOnlyRootFilesystem: true
      initContainers:
      - command:
        - migrate
        image: registry.example.com/shop/strict:1.0
        name: migrate
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - ALL
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
"
    );
    // `baseline`: only what the keys set; a container that sets nothing
    // has no security context, nor has the pod.
    assert_eq!(
        pod_spec(&read(repo.path(), "base/deployment-base.yaml")),
        "    spec:
      containers:
      - image: registry.example.com/shop/base:1.0
        name: base
      - image: registry.example.com/shop/base:1.0
        name: chown
        securityContext:
          capabilities:
            add:
            - CHOWN
          runAsUser: 0
"
    );
    // `privileged`: likewise, and `privileged = true` where set.
    assert_eq!(
        pod_spec(&read(repo.path(), "agent/statefulset-agent.yaml")),
        "    spec:
      containers:
      - image: registry.example.com/shop/agent:1.0
        name: agent
      - image: registry.example.com/shop/agent:1.0
        name: probe
        securityContext:
          privileged: true
"
    );
}

/// `hardened` is the default: writing it changes nothing, and what it
/// renders is what manifold rendered before profiles (the committed
/// snapshot of the example, `build::the_example_output_matches_...`).
#[test]
fn hardened_written_or_not_renders_the_same_bytes() {
    let service = "image = \"shop/web\"\nversion = \"1.0\"\n\n[security]\nrun_as_user = 10001\nread_only_root_filesystem = false\ncapabilities = [\"NET_ADMIN\"]\n";
    let implicit = repo("", &[("web", service)]);
    let explicit = repo(
        "",
        &[("web", &format!("{service}profile = \"hardened\"\n"))],
    );
    build(implicit.path());
    build(explicit.path());
    assert_same_tree(
        &read_tree(&implicit.path().join("out")),
        &read_tree(&explicit.path().join("out")),
        "`profile = \"hardened\"` against no profile",
    );
    assert_eq!(
        pod_spec(&read(implicit.path(), "web/deployment-web.yaml")),
        "    spec:
      containers:
      - image: registry.example.com/shop/web:1.0
        name: web
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_ADMIN
            drop:
            - ALL
          readOnlyRootFilesystem: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
"
    );
}

/// The capabilities the baseline level lets a container add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// What a pod spec breaks of the Pod Security Standards `level`
/// (`baseline` or `restricted`), as the pod-security admission controller
/// checks them, for the fields a pod of manifold can hold.
fn pss_problems(level: &str, pod: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == Json::Bool(true) {
            problems.push(host.to_string());
        }
    }
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    for v in &volumes {
        if v.get("hostPath").is_some() {
            problems.push("a hostPath volume".into());
        }
        let allowed = [
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "persistentVolumeClaim",
            "projected",
            "secret",
        ];
        let kinds: Vec<&String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "name")
            .collect();
        if level == "restricted" && !kinds.iter().all(|k| allowed.contains(&k.as_str())) {
            problems.push(format!("a volume of kind {kinds:?}"));
        }
    }
    let pod_sc = &pod["securityContext"];
    let seccomp_ok = |sc: &Json| {
        matches!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    let mut containers: Vec<&Json> = Vec::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        containers.extend(pod[list].as_array().into_iter().flatten());
    }
    for c in containers {
        let name = c["name"].as_str().unwrap_or_default();
        let sc = &c["securityContext"];
        if sc["privileged"] == Json::Bool(true) {
            problems.push(format!("{name}: privileged"));
        }
        for p in c["ports"].as_array().into_iter().flatten() {
            if p["hostPort"].as_i64().unwrap_or(0) != 0 {
                problems.push(format!("{name}: hostPort"));
            }
        }
        for sc in [sc, pod_sc] {
            if sc["seccompProfile"]["type"] == "Unconfined" {
                problems.push(format!("{name}: Unconfined seccomp"));
            }
        }
        let added: Vec<&str> = sc["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        for cap in &added {
            if !BASELINE_CAPABILITIES.contains(cap) {
                problems.push(format!("{name}: adds {cap}"));
            }
        }
        if level != "restricted" {
            continue;
        }
        if sc["allowPrivilegeEscalation"] != Json::Bool(false) {
            problems.push(format!("{name}: allowPrivilegeEscalation is not false"));
        }
        let non_root = sc["runAsNonRoot"]
            .as_bool()
            .or(pod_sc["runAsNonRoot"].as_bool());
        if non_root != Some(true) {
            problems.push(format!("{name}: runAsNonRoot is not true"));
        }
        if sc["runAsUser"] == 0 || (sc["runAsUser"].is_null() && pod_sc["runAsUser"] == 0) {
            problems.push(format!("{name}: runAsUser 0"));
        }
        if !seccomp_ok(sc) && !seccomp_ok(pod_sc) {
            problems.push(format!("{name}: no RuntimeDefault or Localhost seccomp"));
        }
        let dropped = sc["capabilities"]["drop"].as_array().into_iter().flatten();
        if !dropped.clone().any(|d| d == "ALL") {
            problems.push(format!("{name}: does not drop ALL"));
        }
        if added.iter().any(|c| *c != "NET_BIND_SERVICE") {
            problems.push(format!("{name}: adds more than NET_BIND_SERVICE"));
        }
    }
    problems
}

#[test]
fn restricted_and_baseline_pods_meet_their_pod_security_level() {
    let volumes = r#"
[[volumes]]
name = "tmp"
empty_dir = {}
mount = "/tmp"

[[volumes]]
name = "certs"
secret = "certs"
mount = "/certs"

[[volumes]]
name = "data"
claim = "data"
mount = "/data"
"#;
    let strict_job = format!(
        "kind = \"job\"\nimage = \"shop/job\"\nversion = \"1.0\"\n{volumes}\n[security]\nprofile = \"restricted\"\nrun_as_user = 10001\nread_only_root_filesystem = false\n"
    );
    let hardened = "image = \"shop/old\"\nversion = \"1.0\"\n\n[security]\nrun_as_user = 10001\nrun_as_non_root = false\nallow_privilege_escalation = true\ncapabilities = [\"SYS_ADMIN\"]\n";
    let repo = repo(
        "\n[defaults.security]\nprofile = \"restricted\"\n",
        &[
            ("strict", STRICT),
            ("base", BASE),
            ("agent", AGENT),
            ("job", &strict_job),
            ("old", &format!("{hardened}profile = \"hardened\"\n")),
        ],
    );
    build(repo.path());
    let strict = object(repo.path(), "strict/deployment-strict.yaml");
    let pod = &strict["spec"]["template"]["spec"];
    assert_eq!(pss_problems("restricted", pod), Vec::<String>::new());
    // A Job's name ends in the hash of its template.
    let job_file = fs::read_dir(repo.path().join("out/dev/job"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|f| f.starts_with("job-job-"))
        .unwrap();
    let job = object(repo.path(), &format!("job/{job_file}"));
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pss_problems("restricted", pod), Vec::<String>::new());
    let base = object(repo.path(), "base/deployment-base.yaml");
    let pod = &base["spec"]["template"]["spec"];
    assert_eq!(pss_problems("baseline", pod), Vec::<String>::new());
    // The check can fail: `baseline` is not `restricted`, a privileged pod
    // is not `baseline`, and `hardened` with its defaults lifted is neither.
    assert_eq!(
        pss_problems("restricted", pod),
        [
            "base: allowPrivilegeEscalation is not false",
            "base: runAsNonRoot is not true",
            "base: no RuntimeDefault or Localhost seccomp",
            "base: does not drop ALL",
            "chown: allowPrivilegeEscalation is not false",
            "chown: runAsNonRoot is not true",
            "chown: runAsUser 0",
            "chown: no RuntimeDefault or Localhost seccomp",
            "chown: does not drop ALL",
            "chown: adds more than NET_BIND_SERVICE",
        ]
    );
    let agent = object(repo.path(), "agent/statefulset-agent.yaml");
    let pod = &agent["spec"]["template"]["spec"];
    assert_eq!(pss_problems("baseline", pod), ["probe: privileged"]);
    let old = object(repo.path(), "old/deployment-old.yaml");
    let pod = &old["spec"]["template"]["spec"];
    assert_eq!(pss_problems("baseline", pod), ["old: adds SYS_ADMIN"]);
}

/// Every object these tests render, against the official strict schema of
/// its Kubernetes version (kubernetes-validate), and read alike by YAML 1.1
/// and 1.2 readers.
#[test]
fn profiles_unnamed_ports_and_digests_pass_the_strict_kubernetes_schema() {
    let repo = profiles();
    for (name, text) in [
        ("web", UNNAMED),
        (
            "pinned",
            PINNED.replace("HEX2", HEX2).replace("HEX", HEX).as_str(),
        ),
    ] {
        fs::write(repo.path().join(format!("services/{name}.toml")), text).unwrap();
    }
    fs::write(
        repo.path().join("environments/dev/web.toml"),
        UNNAMED_OVERLAY,
    )
    .unwrap();
    build(repo.path());
    let script = repo_root().join("scripts/check-output.py");
    let out = repo.path().join("out");
    let report = python(
        &[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE],
        &[
            script.to_str().unwrap(),
            out.to_str().unwrap(),
            "--kube",
            "dev=1.35",
        ],
    );
    assert!(report.contains(": 0 problems"), "{report}");
    assert!(out.join("dev/pinned/deployment-pinned-next.yaml").is_file());
    assert!(out.join("dev/agent/statefulset-agent.yaml").is_file());
}

/// Unnamed ports: the probe and the Service reach 8080 by number; the
/// overlay's entry for 8080 merges into it, its 8081 is appended.
const UNNAMED: &str = r#"image = "shop/web"
version = "1.0"

[[ports]]
port = 8080

[[ports]]
name = "metrics"
port = 9090

[probes.readiness]
http = { path = "/ready", port = 8080 }

[metrics]
port = "metrics"

[security]
run_as_user = 10001

[service]
ports = [{ name = "http", port = 80, target_port = 8080 }]

[[containers]]
name = "sidecar"
image = "shop/sidecar"
ports = [{ port = 15000, protocol = "UDP" }]
"#;

const UNNAMED_OVERLAY: &str = r#"[[ports]]
port = 8080
protocol = "TCP"

[[ports]]
port = 8081
"#;

#[test]
fn unnamed_ports_render_without_a_name_and_merge_by_number() {
    let repo = repo("", &[("web", UNNAMED)]);
    fs::write(
        repo.path().join("environments/dev/web.toml"),
        UNNAMED_OVERLAY,
    )
    .unwrap();
    build(repo.path());
    let deployment = read(repo.path(), "web/deployment-web.yaml");
    let containers = &deployment[deployment.find("      containers:").unwrap()..];
    assert_eq!(
        &containers[..containers
            .find("      securityContext:\n        runAsNonRoot")
            .unwrap()],
        "      containers:
      - image: registry.example.com/shop/web:1.0
        name: web
        ports:
        - containerPort: 8080
          protocol: TCP
        - containerPort: 9090
          name: metrics
          protocol: TCP
        - containerPort: 8081
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
      - image: registry.example.com/shop/sidecar:1.0
        name: sidecar
        ports:
        - containerPort: 15000
          protocol: UDP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
"
    );
    assert!(
        deployment.contains("        prometheus.io/port: \"9090\"\n"),
        "{deployment}"
    );
    assert_eq!(
        read(repo.path(), "web/service-web.yaml"),
        "apiVersion: v1
kind: Service
metadata:
  labels:
    app: web
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: web
    env: dev
  name: web
  namespace: shop
spec:
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: 8080
  selector:
    app: web
    track: stable
  type: ClusterIP
"
    );
}

/// A tag pinned to a digest, and digests alone for a track and a side
/// container (whose image names its host, so gets no registry).
const PINNED: &str = r#"image = "shop/web"
version = "1.4.2@sha256:HEX"
env = { IMAGE_VERSION = "${version}" }

[security]
run_as_user = 10001

[[tracks]]
name = "next"
version = "sha256:HEX2"

[[containers]]
name = "proxy"
image = "docker.io/envoyproxy/envoy"
version = "sha256:HEX2"
"#;

#[test]
fn a_version_pins_a_digest_and_the_labels_keep_the_tag_or_a_short_digest() {
    let service = PINNED.replace("HEX2", HEX2).replace("HEX", HEX);
    let repo = repo("", &[("web", &service)]);
    build(repo.path());
    let stable = read(repo.path(), "web/deployment-web.yaml");
    let next = read(repo.path(), "web/deployment-web-next.yaml");
    let lines = |yaml: &str| -> Vec<String> {
        yaml.lines()
            .filter(|l| l.contains("version") || l.contains("image:") || l.contains("value:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        lines(&stable),
        [
            "    app.kubernetes.io/version: \"1.4.2\"".to_string(),
            "    version: \"1.4.2\"".into(),
            "        app.kubernetes.io/version: \"1.4.2\"".into(),
            "        version: \"1.4.2\"".into(),
            format!("          value: 1.4.2@sha256:{HEX}"),
            format!("        image: registry.example.com/shop/web:1.4.2@sha256:{HEX}"),
            format!("      - image: docker.io/envoyproxy/envoy@sha256:{HEX2}"),
        ]
    );
    assert_eq!(
        lines(&next),
        [
            "    app.kubernetes.io/version: \"0123456789ab\"".to_string(),
            "    version: \"0123456789ab\"".into(),
            "        app.kubernetes.io/version: \"0123456789ab\"".into(),
            "        version: \"0123456789ab\"".into(),
            format!("          value: 1.4.2@sha256:{HEX}"),
            format!("        image: registry.example.com/shop/web@sha256:{HEX2}"),
            format!("      - image: docker.io/envoyproxy/envoy@sha256:{HEX2}"),
        ]
    );
}

/// The two new codes in `--format json`: a refused setting is an error, a
/// container without a numeric user a warning that does not fail the run.
#[test]
fn refused_settings_and_missing_users_have_their_codes() {
    let repo = repo(
        "",
        &[
            ("web", "image = \"shop/web\"\nversion = \"1.0\"\n"),
            (
                "agent",
                "image = \"shop/agent\"\nversion = \"1.0\"\n[security]\nrun_as_user = 1\nprivileged = true\n",
            ),
        ],
    );
    let run = manifold(repo.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let value: Json = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(&str, &str, &str, i64)> = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap(),
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("error", "security-profile", "services/agent.toml", 5),
            ("warning", "run-as-user", "services/web.toml", 1),
        ]
    );
    assert_eq!(
        (value["errors"].as_i64(), value["warnings"].as_i64()),
        (Some(1), Some(1))
    );
}
