//! `diff` never prints a Secret value, whatever the syntax of the compared
//! tree: each test publishes a Secret (or kubectl's last-applied annotation)
//! in YAML that is valid but not manifold's own style, changes it in the
//! working tree, and reads the diff in text, Markdown and JSON.

use std::fs;
use std::path::Path;

use crate::support::*;

/// The plaintext of the published Secret and its base64 form.
const PLAIN: &str = "hunter2";
const BASE64: &str = "aHVudGVyMg==";
/// What the working tree renders instead (SOPS-encrypted, as raw Secrets
/// must be).
const ENCRYPTED: &str = "ENC[AES256_GCM,data:bmV3,iv:aXY=,tag:dGFn,type:str]";

/// A repository whose service `web` renders the Secret `web-db`, built into
/// `out/`; `published` then replaces `out/dev/web/<path>`, as if that were what
/// is published.
fn repo_with_published(path: &str, published: &str) -> tempfile::TempDir {
    let repo = fixture("minimal");
    let service = repo.path().join("services/web.toml");
    let mut toml = fs::read_to_string(&service).unwrap();
    toml += &format!(
        "\n[objects.web-db]\napiVersion = \"v1\"\nkind = \"Secret\"\ntype = \"Opaque\"\n\
         stringData = {{ password = {q} }}\ndata = {{ token = {q} }}\n",
        q = toml_string(ENCRYPTED)
    );
    fs::write(&service, toml).unwrap();
    let run = manifold(repo.path(), &["build", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    fs::write(repo.path().join("out/dev/web").join(path), published).unwrap();
    repo
}

/// The diff of `dev` against `out/` in every format; asserts that none shows
/// a secret and that `path` is the one changed file.
fn diff_everywhere(repo: &Path, path: &str, secrets: &[&str]) -> Vec<String> {
    let mut outputs = Vec::new();
    for format in ["text", "markdown", "json"] {
        let run = manifold(
            repo,
            &["diff", "--against", "out", "-e", "dev", "--format", format],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        for secret in secrets {
            assert!(
                !run.stdout.contains(secret),
                "{format} output shows `{secret}`:\n{}",
                run.stdout
            );
        }
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(
                (&json["added"], &json["changed"], &json["removed"]),
                (&0.into(), &1.into(), &0.into()),
                "{}",
                run.stdout
            );
            let objects = json["environments"][0]["objects"].as_array().unwrap();
            let changed: Vec<&serde_json::Value> = objects
                .iter()
                .filter(|o| o["status"] == "changed")
                .collect();
            assert_eq!(changed.len(), 1, "{}", run.stdout);
            assert_eq!(changed[0]["path"], format!("web/{path}"));
        }
        outputs.push(run.stdout);
    }
    outputs
}

const SECRET: &str = "secret-web-db.yaml";

/// The secrets a published Secret holds, plain and base64, and the new
/// value rendered in its place.
const ALL: &[&str] = &[PLAIN, BASE64, "aHVudGVy", ENCRYPTED, "data:bmV3"];

fn assert_changed_keys_marked(outputs: &[String]) {
    for out in outputs {
        assert!(out.contains("<redacted, changed>"), "{out}");
    }
}

#[test]
fn a_flow_mapping_secret_is_masked() {
    let published = format!(
        "{{apiVersion: v1, kind: Secret, metadata: {{name: web-db, namespace: shop}},\n  \
         data: {{token: {BASE64}}}, stringData: {{password: {PLAIN}}}, type: Opaque}}\n"
    );
    let repo = repo_with_published(SECRET, &published);
    assert_changed_keys_marked(&diff_everywhere(repo.path(), SECRET, ALL));
}

#[test]
fn a_json_secret_is_masked() {
    let published = format!(
        "{{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Secret\",\n  \"metadata\": {{\"name\": \"web-db\", \"namespace\": \"shop\"}},\n  \
         \"data\": {{\"token\": \"{BASE64}\"}},\n  \"stringData\": {{\"password\": \"{PLAIN}\"}}\n}}\n"
    );
    let repo = repo_with_published(SECRET, &published);
    assert_changed_keys_marked(&diff_everywhere(repo.path(), SECRET, ALL));
}

#[test]
fn tagged_values_of_a_secret_are_masked() {
    let published = format!(
        "apiVersion: v1\nkind: !!str Secret\nmetadata:\n  name: web-db\n  namespace: shop\n\
         data:\n  token: !!str {BASE64}\nstringData:\n  password: !!str {PLAIN}\n"
    );
    let repo = repo_with_published(SECRET, &published);
    assert_changed_keys_marked(&diff_everywhere(repo.path(), SECRET, ALL));
}

#[test]
fn a_secret_as_a_later_document_is_masked() {
    let config_map =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-db\ndata:\n  mode: fast\n";
    // Later documents may start on the `---` line, as YAML allows.
    let secrets = [
        format!(
            "--- {{apiVersion: v1, kind: Secret, metadata: {{name: web-db, namespace: shop}},\n  \
             data: {{token: {BASE64}}},\n  stringData: {{password: {PLAIN}}}}}\n"
        ),
        format!(
            "--- !!map\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\n  namespace: shop\n\
             data:\n  token: {BASE64}\nstringData:\n  password: {PLAIN}\n"
        ),
    ];
    for secret in secrets {
        let repo = repo_with_published(SECRET, &format!("{config_map}{secret}"));
        let outputs = diff_everywhere(repo.path(), SECRET, ALL);
        // The ConfigMap is no secret: it still shows.
        assert!(outputs[0].contains("-  mode: fast"), "{}", outputs[0]);
        assert_changed_keys_marked(&outputs);
    }
}

#[test]
fn a_secret_with_cr_line_endings_is_masked() {
    for eol in ["\r", "\r\n"] {
        let published = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-db\n  namespace: shop\n\
             data:\n  token: {BASE64}\nstringData:\n  password: |\n    {PLAIN}\n"
        )
        .replace('\n', eol);
        let repo = repo_with_published(SECRET, &published);
        assert_changed_keys_marked(&diff_everywhere(repo.path(), SECRET, ALL));
    }
}

#[test]
fn the_last_applied_annotation_is_masked() {
    let path = "deployment-web.yaml";
    let repo = fixture("minimal");
    assert_eq!(manifold(repo.path(), &["build", "-o", "out"]).code, 0);
    let file = repo.path().join("out/dev/web").join(path);
    let rendered = fs::read_to_string(&file).unwrap();
    // kubectl's copy of an object that held a Secret-like value.
    let annotation = format!(
        "  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      \
         {{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"spec\":{{\"template\":{{\"spec\":\
         {{\"containers\":[{{\"env\":[{{\"name\":\"DB_PASSWORD\",\"value\":\"{PLAIN}\"}}]}}]}}}}}}}}\n"
    );
    let published = rendered.replacen("metadata:\n", &format!("metadata:\n{annotation}"), 1);
    assert_ne!(published, rendered);
    fs::write(&file, published).unwrap();
    for format in ["text", "markdown", "json"] {
        let run = manifold(
            repo.path(),
            &["diff", "--against", "out", "-e", "dev", "--format", format],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.contains(PLAIN), "{}", run.stdout);
        assert!(run.stdout.contains(path), "{}", run.stdout);
    }
    let run = manifold(repo.path(), &["diff", "--against", "out", "-e", "dev"]);
    assert!(
        run.stdout
            .contains("-    kubectl.kubernetes.io/last-applied-configuration: <redacted>\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_secret_in_a_list_is_masked() {
    let published = format!(
        "apiVersion: v1\nkind: List\nitems:\n\
         - data:\n    token: {BASE64}\n  stringData:\n    password: {PLAIN}\n  \
         apiVersion: v1\n  kind: Secret\n  metadata:\n    name: web-db\n    namespace: shop\n"
    );
    let repo = repo_with_published(SECRET, &published);
    assert_changed_keys_marked(&diff_everywhere(repo.path(), SECRET, ALL));
}

#[test]
fn a_crlf_json_file_whose_second_document_is_a_list_holding_a_changed_secret() {
    let published = [
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"web-db\"}, \"data\": {\"mode\": \"fast\"}}"
            .to_string(),
        "---".to_string(),
        format!(
            "{{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {{\n      \
             \"apiVersion\": \"v1\",\n      \"kind\": \"Secret\",\n      \
             \"metadata\": {{\"name\": \"web-db\", \"namespace\": \"shop\"}},\n      \
             \"data\": {{\"token\": \"{BASE64}\"}},\n      \
             \"stringData\": {{\"password\": \"{PLAIN}\"}}\n    }}\n  ]\n}}"
        ),
    ]
    .join("\n")
    .replace('\n', "\r\n")
        + "\r\n";
    let repo = repo_with_published(SECRET, &published);
    let outputs = diff_everywhere(repo.path(), SECRET, ALL);
    // The Secret is matched with the rendered one by name: its keys changed.
    assert!(
        outputs[0].contains("+  password: <redacted, changed>\n"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[0].contains("+  token: <redacted, changed>\n"),
        "{}",
        outputs[0]
    );
}

#[test]
fn a_file_that_is_not_yaml_is_summarised_not_shown() {
    // An unclosed flow mapping: no parser can tell what is secret in it.
    let published =
        format!("kind: Secret\ndata: {{token: {BASE64}\nstringData:\n  password: {PLAIN}\n");
    let repo = repo_with_published(SECRET, &published);
    let outputs = diff_everywhere(repo.path(), SECRET, ALL);
    assert!(
        outputs[0].contains("(cannot be parsed as YAML, so it is not shown: "),
        "{}",
        outputs[0]
    );
}
