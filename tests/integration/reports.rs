//! `validate --format sarif` and `--format codequality`: the reports GitHub
//! code scanning and GitLab's merge-request widget read. SARIF is checked
//! against the vendored SARIF 2.1.0 schema (`schemas/sarif/`), Code Quality
//! against the fields GitLab documents; both map findings to file and line,
//! and their fingerprints survive a line added above the finding.

use std::fs;
use std::path::Path;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::support::*;

/// A repository with a warning (a floating tag), an error (a patch that
/// asks for the node's network) and a clean service.
fn repo_with_findings() -> tempfile::TempDir {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/nightly.toml"),
        "image = \"shop/nightly\"\nversion = \"latest\"\n\n[resources]\ncpu = \"100m\"\nmemory = \"128Mi\"\n\n[patches.\"deployment/nightly\".spec.template.spec]\nhostNetwork = true\n",
    )
    .unwrap();
    repo
}

fn report(repo: &Path, format: &str) -> Json {
    let run = manifold(repo, &["validate", "-e", "dev", "--format", format]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    serde_json::from_str(&run.stdout).expect("the report is JSON")
}

/// A validator of the vendored SARIF schema. Its `language` patterns
/// have a stray `]`, which ECMA-262 reads as a literal but the
/// meta-schema's `regex` format refuses: they are escaped here, to the same
/// meaning; the vendored file stays as shipped.
fn sarif_validator() -> jsonschema::Validator {
    let path = repo_root().join("schemas/sarif/sarif-schema-2.1.0.json");
    let text = fs::read_to_string(path).unwrap();
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(stray));
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// GitHub reads SARIF 2.1.0: the report is valid against the OASIS schema,
/// and every result names its rule, level, file and line.
#[test]
fn sarif_validates_against_the_sarif_schema_and_locates_each_finding() {
    let repo = repo_with_findings();
    let log = report(repo.path(), "sarif");
    let validator = sarif_validator();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "manifold");
    let results: Vec<(String, String, String, u64, u64)> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                region["startLine"].as_u64().unwrap(),
                region["startColumn"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (
                "floating-tag".into(),
                "warning".into(),
                "services/nightly.toml".into(),
                2,
                1
            ),
            (
                "security-profile".into(),
                "error".into(),
                "services/nightly.toml".into(),
                9,
                1
            ),
        ]
    );
    // Each result's rule is the rule at its index.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    assert_eq!(
        rules.iter().find(|r| r["id"] == "floating-tag").unwrap()["defaultConfiguration"]["level"],
        "warning"
    );
}

/// A valid SARIF log is not enough if the schema accepts anything: a
/// result without a message is refused.
#[test]
fn the_sarif_schema_refuses_a_broken_log() {
    let validator = sarif_validator();
    let broken = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "manifold" } }, "results": [{ "ruleId": "x" }] }]
    });
    assert!(!validator.is_valid(&broken));
}

/// GitLab's documented fields, with their types and values: description,
/// check_name, fingerprint, severity, location.path, location.lines.begin.
#[test]
fn code_quality_has_gitlabs_fields_for_every_finding() {
    let repo = repo_with_findings();
    let issues = report(repo.path(), "codequality");
    let issues = issues.as_array().expect("an array of issues");
    let mut seen = Vec::new();
    for issue in issues {
        assert!(!issue["description"].as_str().unwrap().is_empty());
        let fingerprint = issue["fingerprint"].as_str().unwrap();
        assert!(!seen.contains(&fingerprint.to_string()), "unique");
        seen.push(fingerprint.to_string());
        let severity = issue["severity"].as_str().unwrap();
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&severity));
    }
    let summary: Vec<(&str, &str, &str, u64)> = issues
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("floating-tag", "minor", "services/nightly.toml", 2),
            ("security-profile", "major", "services/nightly.toml", 9),
        ]
    );
}

fn fingerprints(repo: &Path) -> Vec<(String, u64)> {
    report(repo, "codequality")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["fingerprint"].as_str().unwrap().to_string(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A line added above a finding moves it, but keeps its fingerprint, so
/// GitLab and GitHub do not show it as fixed and new again; SARIF carries
/// the same fingerprint as Code Quality.
#[test]
fn fingerprints_stay_when_a_line_is_inserted_above_the_finding() {
    let repo = repo_with_findings();
    let before = fingerprints(repo.path());
    let path = repo.path().join("services/nightly.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("# Built every night.\n{text}")).unwrap();
    let after = fingerprints(repo.path());
    assert_eq!(before.len(), 2);
    for ((f1, line1), (f2, line2)) in before.iter().zip(&after) {
        assert_eq!(f1, f2);
        assert_eq!(line1 + 1, *line2);
    }
    let log = report(repo.path(), "sarif");
    let sarif: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["manifold/v1"].as_str().unwrap())
        .collect();
    let quality: Vec<&str> = after.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(sarif, quality);
    // A different finding gets a different fingerprint.
    fs::write(&path, text.replace("latest", "main")).unwrap();
    let changed = fingerprints(repo.path());
    assert_ne!(changed[0].0, before[0].0);
    assert_eq!(changed[1].0, before[1].0);
}

/// A clean repository is an empty report, and exit 0.
#[test]
fn a_clean_repository_reports_nothing() {
    let repo = fixture("minimal");
    let run = manifold(repo.path(), &["validate", "--format", "codequality"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"));
    let run = manifold(repo.path(), &["validate", "--format", "sarif"]);
    assert_eq!(run.code, 0);
    let log: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

/// `--deny warnings` turns a warning into a failure, in every format.
#[test]
fn deny_warnings_fails_a_run_with_only_warnings() {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/nightly.toml"),
        "image = \"shop/nightly\"\nversion = \"latest\"\n\n[resources]\ncpu = \"100m\"\nmemory = \"128Mi\"\n",
    )
    .unwrap();
    let warned = manifold(repo.path(), &["validate", "--format", "json"]);
    assert_eq!(warned.code, 0, "{}", warned.stderr);
    let denied = manifold(
        repo.path(),
        &["validate", "--format", "json", "--deny", "warnings"],
    );
    assert_eq!(denied.code, 1);
    assert_eq!(denied.stdout, warned.stdout);
}

/// The vendored schema is the file its source record names, unchanged; run
/// `scripts/refresh-sarif-schema` to fetch it again from its package.
#[test]
fn the_vendored_sarif_schema_is_the_file_its_source_records() {
    let dir = repo_root().join("schemas/sarif");
    let source: Json =
        serde_json::from_str(&fs::read_to_string(dir.join("source.json")).unwrap()).unwrap();
    let info = &source["files"]["sarif-schema-2.1.0.json"];
    let digest = Sha256::digest(fs::read(dir.join("sarif-schema-2.1.0.json")).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(info["sha256"].as_str(), Some(hex.as_str()));
    assert_eq!(
        info["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
}
