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
