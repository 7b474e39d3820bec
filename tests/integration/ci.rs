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

/// The comment-posting step of a CI template, as the template holds it:
/// the GitLab job's script item or the GitHub step's `run` that names the
/// parts' marker.
fn posting_script(file: &str) -> String {
    step(file, "diff", "manifold-diff part ")
}

/// The script of a CI template's `job` (GitLab: `manifold-<job>`) that
/// contains `needle`.
fn step(file: &str, job: &str, needle: &str) -> String {
    let text = std::fs::read(repo_root().join(file)).unwrap();
    let doc = manifold::diff::read_documents(&text).unwrap().remove(0);
    let scripts: Vec<&serde_json::Value> = match file {
        "ci/gitlab-ci.yml" => doc[format!("manifold-{job}").as_str()]["script"]
            .as_array()
            .unwrap()
            .iter()
            .collect(),
        _ => doc["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["run"])
            .collect(),
    };
    scripts
        .into_iter()
        .filter_map(|s| s.as_str())
        .find(|s| s.contains(needle))
        .unwrap_or_else(|| panic!("{file} has no {job} step with `{needle}`"))
        .to_string()
}

/// The fake comment API of `tests/support/fake_comments_api.py`, stopped
/// when dropped.
struct FakeApi {
    child: std::process::Child,
    port: String,
    state: std::path::PathBuf,
}

impl FakeApi {
    fn start(dir: &std::path::Path, seed: &serde_json::Value) -> FakeApi {
        use std::io::BufRead;
        require("python3");
        let seed_file = dir.join("seed.json");
        std::fs::write(&seed_file, seed.to_string()).unwrap();
        let state = dir.join("state.json");
        let mut child = std::process::Command::new("python3")
            .arg(repo_root().join("tests/support/fake_comments_api.py"))
            .args([&seed_file, &state])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        FakeApi {
            child,
            port: line.trim().to_string(),
            state,
        }
    }

    /// Every comment, `(id, body)`, in the order the API lists them.
    fn comments(&self) -> Vec<(u64, String)> {
        let text = std::fs::read_to_string(&self.state).unwrap();
        let list: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        list.iter()
            .map(|c| {
                (
                    c["id"].as_u64().unwrap(),
                    c["body"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `parts` as `manifold-diff/diff-N.md` (replacing those there) and
/// runs the template's posting step in `dir` as the CI would (bash with
/// `-eo pipefail`, the platform's variables pointing at the fake API).
fn post(file: &str, dir: &std::path::Path, api: &FakeApi, parts: &[String]) {
    for tool in ["bash", "curl", "jq"] {
        require(tool);
    }
    let out = dir.join("manifold-diff");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    for (i, part) in parts.iter().enumerate() {
        std::fs::write(out.join(format!("diff-{}.md", i + 1)), part).unwrap();
    }
    let base = format!("http://127.0.0.1:{}", api.port);
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(posting_script(file))
        .current_dir(dir)
        .env_remove("MANIFOLD_TOKEN")
        .env_remove("GH_TOKEN");
    match file {
        "ci/gitlab-ci.yml" => cmd
            .env("CI_API_V4_URL", format!("{base}/api/v4"))
            .env("CI_PROJECT_ID", "17")
            .env("CI_MERGE_REQUEST_IID", "42")
            .env("MANIFOLD_TOKEN", "secret"),
        _ => cmd
            .env("GITHUB_API_URL", &base)
            .env("GITHUB_REPOSITORY", "shop/config")
            .env("PR_NUMBER", "42")
            .env("GH_TOKEN", "secret"),
    };
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{file}: the posting step failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A run posts every part; the next run updates its own comments in place
/// (found by the marker at their start), and one with fewer parts deletes
/// the rest; other comments, one that quotes the marker among them, are
/// never touched. Lists come in pages of two, so paging is exercised too.
#[test]
fn the_ci_templates_post_every_part_update_their_comments_and_delete_stale_ones() {
    for file in ["ci/gitlab-ci.yml", "ci/github-actions.yml"] {
        let tmp = tempfile::tempdir().unwrap();
        let others = serde_json::json!([
            {"id": 1, "body": "Looks good to me"},
            {"id": 2, "body": "Why does the diff say <!-- manifold-diff part 1 --> here?"},
            {"id": 3, "body": "One more thing"},
        ]);
        let api = FakeApi::start(tmp.path(), &others);
        let parts = |run: &str, n: usize| -> Vec<String> {
            (1..=n)
                .map(|k| format!("<!-- manifold-diff part {k} -->\n### run {run}, part {k} of {n}\n\n`a | b` & \"quotes\"\n"))
                .collect()
        };
        let kept: Vec<(u64, String)> = others
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_u64().unwrap(),
                    c["body"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expect = |ids: &[u64], bodies: Vec<String>| -> Vec<(u64, String)> {
            kept.iter()
                .cloned()
                .chain(ids.iter().copied().zip(bodies))
                .collect()
        };

        post(file, tmp.path(), &api, &parts("one", 3));
        assert_eq!(
            api.comments(),
            expect(&[4, 5, 6], parts("one", 3)),
            "{file}"
        );
        post(file, tmp.path(), &api, &parts("two", 3));
        assert_eq!(
            api.comments(),
            expect(&[4, 5, 6], parts("two", 3)),
            "{file}"
        );
        post(file, tmp.path(), &api, &parts("three", 1));
        assert_eq!(api.comments(), expect(&[4], parts("three", 1)), "{file}");
        post(file, tmp.path(), &api, &parts("four", 2));
        assert_eq!(api.comments(), expect(&[4, 7], parts("four", 2)), "{file}");
    }
}

/// The publish jobs pass the pipeline and the merge request the commit
/// came from (asked of the API) as trailers; run with a stand-in
/// `manifold` that records its arguments.
#[test]
fn the_ci_templates_publish_with_the_pipeline_and_merge_request_as_trailers() {
    for tool in ["bash", "curl", "jq"] {
        require(tool);
    }
    for (file, expected) in [
        (
            "ci/gitlab-ci.yml",
            "publish\n--trailer\nPipeline=https://git.example.com/shop/config/-/pipelines/981\n--trailer\nMerge-Request=https://git.example.com/shop/config/-/merge_requests/42\n",
        ),
        (
            "ci/github-actions.yml",
            "publish\n--trailer\nPipeline=https://github.example.com/shop/config/actions/runs/981\n--trailer\nPull-Request=https://github.example.com/shop/config/pull/42\n",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let api = FakeApi::start(tmp.path(), &serde_json::json!([]));
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("manifold");
        std::fs::write(&fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let base = format!("http://127.0.0.1:{}", api.port);
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(step(file, "publish", "manifold publish"))
            .current_dir(tmp.path())
            .env("PATH", path)
            .env("ARGS_FILE", tmp.path().join("args.txt"))
            .env_remove("CI_MERGE_REQUEST_IID");
        match file {
            "ci/gitlab-ci.yml" => cmd
                .env("CI_API_V4_URL", format!("{base}/api/v4"))
                .env("CI_PROJECT_ID", "17")
                .env("CI_PROJECT_URL", "https://git.example.com/shop/config")
                .env(
                    "CI_PIPELINE_URL",
                    "https://git.example.com/shop/config/-/pipelines/981",
                )
                .env("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567")
                .env("MANIFOLD_TOKEN", "secret"),
            _ => cmd
                .env("GITHUB_API_URL", &base)
                .env("GITHUB_SERVER_URL", "https://github.example.com")
                .env("GITHUB_REPOSITORY", "shop/config")
                .env("GITHUB_RUN_ID", "981")
                .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
                .env("GH_TOKEN", "secret"),
        };
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "{file}: the publish step failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let args = std::fs::read_to_string(tmp.path().join("args.txt")).unwrap();
        assert_eq!(args, expected, "{file}");
    }
}
