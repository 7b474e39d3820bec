//! User-facing text speaks of the product and its users: README, the
//! bundled example (`services/`, `environments/`), the CI templates and
//! deployment examples (`ci/`, `deploy/`) and the schemas, whose
//! descriptions editors show. Words about how the example came to be ("seed
//! 000", "the source write-ups") mean nothing to a reader.

use std::fs;

use crate::support::repo_root;

/// The user-facing files: README and every file of those folders.
fn user_facing() -> Vec<(String, String)> {
    let root = repo_root();
    let mut files = vec![(
        "README.md".to_string(),
        fs::read_to_string(root.join("README.md")).unwrap(),
    )];
    for folder in ["services", "environments", "ci", "deploy", "schemas"] {
        for entry in walkdir::WalkDir::new(root.join(folder)).sort_by_file_name() {
            let entry = entry.unwrap();
            // The vendored Kubernetes schemas and CRDs are not our words.
            let vendored = entry
                .path()
                .components()
                .any(|c| c.as_os_str() == "kubernetes" || c.as_os_str() == "gateway-api");
            if !entry.file_type().is_file() || vendored {
                continue;
            }
            let path = entry.path().strip_prefix(&root).unwrap();
            if let Ok(text) = fs::read_to_string(entry.path()) {
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

/// "seed" only in its one meaning a user can follow: the random seed of
/// the benchmark generator (`--seed`).
#[test]
fn no_user_facing_file_speaks_of_seeds() {
    let word = regex::Regex::new(r"(?i)(--|random )?\bseeds?\b").unwrap();
    let mut found = Vec::new();
    for (path, text) in user_facing() {
        for (n, line) in text.lines().enumerate() {
            for m in word.captures_iter(line) {
                if m.get(1).is_none() {
                    found.push(format!("{path}:{}: {line}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "user-facing text says \"seed\":\n{}",
        found.join("\n")
    );
    let files = user_facing();
    assert!(files.iter().any(|(p, _)| p.starts_with("services/")));
    assert!(
        files
            .iter()
            .any(|(p, _)| p == "schemas/service.schema.json")
    );
}

#[test]
fn no_user_facing_file_speaks_of_source_write_ups() {
    for (path, text) in user_facing() {
        let lower = text.to_lowercase().replace('\n', " ");
        assert!(!lower.contains("write-up"), "{path} speaks of write-ups");
    }
}
