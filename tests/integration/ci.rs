//! The CI templates in `ci/`.

use crate::support::*;

/// The CI templates cannot run here; they are checked against the GitHub
/// Actions and GitLab CI schemas that check-jsonschema ships.
#[test]
fn the_ci_templates_follow_their_schemas() {
    for (file, schema) in [
        ("ci/gitlab-ci.yml", "vendor.gitlab-ci"),
        ("ci/github-actions.yml", "vendor.github-workflows"),
    ] {
        let output = std::process::Command::new(pytool("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .arg(repo_root().join(file))
            .output()
            .expect("check-jsonschema runs");
        assert!(
            output.status.success(),
            "{file}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The CI files `init` writes follow their schemas too: the GitLab
/// pipeline that includes `ci/manifold.yml`, and the GitHub workflow.
#[test]
fn the_ci_files_init_writes_follow_their_schemas() {
    for (ci, files) in [
        ("gitlab", &[".gitlab-ci.yml", "ci/manifold.yml"][..]),
        ("github", &[".github/workflows/manifold.yml"][..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(manifold(tmp.path(), &["init", "--ci", ci]).code, 0);
        let schema = match ci {
            "gitlab" => "vendor.gitlab-ci",
            _ => "vendor.github-workflows",
        };
        let output = std::process::Command::new(pytool("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .args(files.iter().map(|f| tmp.path().join(f)))
            .output()
            .expect("check-jsonschema runs");
        assert!(
            output.status.success(),
            "{files:?}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every snippet that pins manifold (README, the CI templates, the
/// pre-commit configuration `init` writes) names the release tag of the
/// version in Cargo.toml, which the release process creates; a release
/// that bumps the version updates them (see "Install" in README).
#[test]
fn every_pin_names_the_release_tag_of_this_version() {
    let tag = concat!("v", env!("CARGO_PKG_VERSION"));
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(manifold(tmp.path(), &["init"]).code, 0);
    let written = std::fs::read_to_string(tmp.path().join(".pre-commit-config.yaml")).unwrap();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let gitlab = std::fs::read_to_string(repo_root().join("ci/gitlab-ci.yml")).unwrap();
    let github = std::fs::read_to_string(repo_root().join("ci/github-actions.yml")).unwrap();
    for (what, text, pin) in [
        ("init's .pre-commit-config.yaml", &written, "rev: "),
        ("README", &readme, "rev: "),
        ("ci/gitlab-ci.yml", &gitlab, "MANIFOLD_REV: "),
        ("ci/github-actions.yml", &github, "MANIFOLD_REV: "),
    ] {
        let pins: Vec<&str> = text
            .lines()
            .filter_map(|l| Some(l.trim().strip_prefix(pin)?.trim_matches('"')))
            .collect();
        assert!(!pins.is_empty(), "{what} pins nothing");
        for found in pins {
            let found = found.split_whitespace().next().unwrap_or_default();
            assert_eq!(found.trim_matches('"'), tag, "{what}");
        }
    }
}
