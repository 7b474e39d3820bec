//! `set` and `promote`: overlays edited in place, byte for byte except the
//! changed values, checked before anything is written; and README's
//! release walkthrough, run on a copy of the example.

use std::fs;
use std::path::Path;

use crate::support::*;

/// An overlay with comments, odd spacing, a literal string and a track, in
/// the minimal fixture's `prod`.
const OVERLAY: &str = "\
# Production: the release job pins the version.
version   =   '1.1'   # pinned by the release job

# One pod at a time: the database migrates on start.
[rollout]
max_unavailable = 1   # keep it

[[tracks]]
name = \"canary\"     # the next release
version = \"1.2\"
weight = 10

[ingress]
host = \"shop.example.com\"
";

fn repo() -> tempfile::TempDir {
    let tmp = fixture("minimal");
    fs::write(tmp.path().join("environments/prod/web.toml"), OVERLAY).unwrap();
    tmp
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file of the repository, to show that nothing was written.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    read_tree(dir)
}

/// Guards the format-preserving edit: the whole file is compared, so a
/// lost comment, a moved key or a re-quoted string fails.
#[test]
fn set_keeps_every_byte_but_the_changed_values() {
    let repo = repo();
    let run = manifold(
        repo.path(),
        &[
            "set",
            "-e",
            "prod",
            "web",
            "version=1.10",
            "tracks.canary.weight=50",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = OVERLAY
        .replace("'1.1'", "'1.10'")
        .replace("weight = 10", "weight = 50");
    assert_eq!(
        read(&repo.path().join("environments/prod/web.toml")),
        expected
    );
    // One `[[tracks]]` entry, edited: none added.
    assert_eq!(expected.matches("[[tracks]]").count(), 1);
    assert!(
        run.stdout.starts_with(
            "environments/prod/web.toml: version = '1.10' (was '1.1')\n\
             environments/prod/web.toml: tracks.canary.weight = 50 (was 10)\n\n\
             prod: 0 added, 2 changed, 0 removed (against the files as they were)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+    version: \"1.10\"\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+    nginx.ingress.kubernetes.io/canary-weight: \"50\"\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("\nwrote environments/prod/web.toml\n"));
    // The edited repository renders the new version, as text.
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let deployment = read(&repo.path().join("out/prod/web/deployment-web.yaml"));
    assert!(deployment.contains("image: registry.example.com/shop/web:1.10\n"));
    assert!(deployment.contains("    version: \"1.10\"\n"));
}

/// A value already there leaves the file untouched, quotes and all.
#[test]
fn set_to_the_same_value_writes_nothing() {
    let repo = repo();
    let before = snapshot(repo.path());
    let run = manifold(repo.path(), &["set", "-e", "prod", "web", "version=1.1"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "environments/prod/web.toml: version = \"1.1\" (unchanged)\nnothing to change\n",
            ""
        )
    );
    assert_same_tree(&before, &snapshot(repo.path()), "the repository");
}

/// Guards "invalid values write nothing": a wrong type (located in the
/// command line), a value the schema refuses and a value that breaks the
/// service's checks (both located in the overlay as it would be written).
#[test]
fn set_writes_nothing_when_the_edit_is_invalid() {
    let repo = repo();
    let before = snapshot(repo.path());
    let cases: [(&str, &str); 3] = [
        ("replicas=four", " --> command line:1:10\n"),
        ("version=1.1 beta", " --> environments/prod/web.toml:2:15\n"),
        (
            "resources.cpu.request=2",
            "error: cpu request `2` is above its limit `1`\n",
        ),
    ];
    for (arg, shown) in cases {
        let run = manifold(repo.path(), &["set", "-e", "prod", "web", arg]);
        assert_eq!(run.code, 1, "{arg}: {}", run.stderr);
        assert!(run.stderr.contains(shown), "{arg}:\n{}", run.stderr);
        assert!(
            run.stderr.ends_with("1 error found: nothing written\n"),
            "{arg}:\n{}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{arg}");
        assert_same_tree(&before, &snapshot(repo.path()), arg);
    }
}

/// An image bump is not held up by someone else's broken service; the
/// problem is still shown.
#[test]
fn set_is_not_blocked_by_problems_elsewhere() {
    let repo = repo();
    fs::write(
        repo.path().join("services/api.toml"),
        "image = \"shop/api\"\nversion = \"2.0\"\nreplicas = \"two\"\n",
    )
    .unwrap();
    let run = manifold(repo.path(), &["set", "-e", "prod", "web", "version=1.3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(" --> services/api.toml:3:12\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "note: 1 error elsewhere in the repository; they do not block this change\n"
        ),
        "{}",
        run.stderr
    );
    assert!(read(&repo.path().join("environments/prod/web.toml")).contains("'1.3'"));
}

/// A missing overlay is created; in the example, with the `#:schema` line
/// its other overlays start with.
#[test]
fn set_creates_a_missing_overlay() {
    let repo = repo();
    let run = manifold(
        repo.path(),
        &[
            "set",
            "-e",
            "dev",
            "web",
            "replicas=2",
            "env.LOG_LEVEL=debug",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .ends_with("\ncreated environments/dev/web.toml\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        read(&repo.path().join("environments/dev/web.toml")),
        "replicas = 2\n\n[env]\nLOG_LEVEL = \"debug\"\n"
    );

    let example = example();
    let run = manifold(
        example.path(),
        &["set", "-e", "prod", "cron", "version=1.0.0009"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&example.path().join("environments/prod/cron.toml")),
        "#:schema ../../schemas/overlay.schema.json\nversion = \"1.0.0009\"\n"
    );
}

/// A copy of the bundled example.
fn example() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["services", "environments"] {
        overlay_dir(&repo_root().join(dir), &tmp.path().join(dir));
    }
    tmp
}

/// Guards promote's point: the target renders the source's version.
#[test]
fn promote_makes_the_target_render_the_source_version() {
    let repo = repo();
    let run = manifold(
        repo.path(),
        &["promote", "web", "--from", "prod", "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&repo.path().join("environments/dev/web.toml")),
        "version = \"1.1\"\n"
    );
    let build = manifold(repo.path(), &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let dev = read(&repo.path().join("out/dev/web/deployment-web.yaml"));
    assert!(
        dev.contains("image: registry.example.com/shop/web:1.1\n"),
        "{dev}"
    );
    // Nothing differs any more.
    let again = manifold(
        repo.path(),
        &["promote", "web", "--from", "prod", "--to", "dev"],
    );
    assert_eq!(
        again.stdout,
        "nothing to promote: `dev` has `prod`'s values\n"
    );
}

/// A dry run prints the diff and leaves every file as it was; here with
/// the tracks, which bring the canary to dev.
#[test]
fn promote_dry_run_writes_nothing() {
    let repo = repo();
    let dev = "[ingress]\nhost = \"dev.shop.example.com\"\n";
    fs::create_dir_all(repo.path().join("environments/dev")).unwrap();
    fs::write(repo.path().join("environments/dev/web.toml"), dev).unwrap();
    let before = snapshot(repo.path());
    let args = ["promote", "web", "--from", "prod", "--to", "dev"];
    let run = manifold(
        repo.path(),
        &[&args[..], &["--what", "version,tracks", "--dry-run"]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "environments/dev/web.toml: version = \"1.1\" (dev had \"1.0\")\n\
             environments/dev/web.toml: tracks.canary.version = \"1.2\" (dev had none)\n\
             environments/dev/web.toml: tracks.canary.weight = 10 (dev had none)\n\n\
             dev: 3 added, 2 changed, 0 removed (against the files as they were)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+++ b/dev/web/deployment-web-canary.yaml\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("\ndry run: nothing written\n"),
        "{}",
        run.stdout
    );
    assert_same_tree(&before, &snapshot(repo.path()), "the repository");
    // The same without `--dry-run` writes the overlay.
    let run = manifold(
        repo.path(),
        &[&args[..], &["--what", "version,tracks"]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&repo.path().join("environments/dev/web.toml")),
        format!(
            "version = \"1.1\"\n\n{dev}\n[[tracks]]\nname = \"canary\"\nversion = \"1.2\"\nweight = 10\n"
        )
    );
}

/// `--all` edits the services whose values differ and no other file.
#[test]
fn promote_all_edits_only_the_services_that_differ() {
    let repo = repo();
    fs::write(
        repo.path().join("services/api.toml"),
        "image = \"shop/api\"\nversion = \"2.0\"\n",
    )
    .unwrap();
    fs::write(
        repo.path().join("services/worker.toml"),
        "image = \"shop/worker\"\nversion = \"3.0\"\n",
    )
    .unwrap();
    fs::write(
        repo.path().join("environments/prod/worker.toml"),
        "version = \"3.1\"  # hotfix\n",
    )
    .unwrap();
    let before = snapshot(repo.path());
    let run = manifold(
        repo.path(),
        &["promote", "--all", "--from", "prod", "--to", "dev"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "environments/dev/web.toml: version = \"1.1\" (dev had \"1.0\")\n\
             environments/dev/worker.toml: version = \"3.1\" (dev had \"3.0\")\n\n\
             dev: 0 added, 2 changed, 0 removed (against the files as they were)\n"
        ),
        "{}",
        run.stdout
    );
    let after = snapshot(repo.path());
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        ["environments/dev/web.toml", "environments/dev/worker.toml"]
    );
}

/// README's release walkthrough, run command by command on a copy of the
/// example: each block's output is what README shows.
/// `MANIFOLD_BLESS=1 cargo test --test integration release` rewrites it.
#[test]
fn the_readme_release_walkthrough_is_what_manifold_prints() {
    const START: &str = "<!-- release-walkthrough:start -->\n";
    const END: &str = "<!-- release-walkthrough:end -->\n";
    let readme_path = repo_root().join("README.md");
    let readme = read(&readme_path);
    let start = readme.find(START).expect("README has the walkthrough") + START.len();
    let end = start + readme[start..].find(END).expect("the walkthrough ends");
    let example = example();
    let mut blessed = String::new();
    let mut problems = Vec::new();
    let mut commands = 0;
    let mut rest = &readme[start..end];
    while let Some(open) = rest.find("```console\n") {
        blessed.push_str(&rest[..open + 11]);
        let body_len = rest[open + 11..].find("```\n").expect("a closed block");
        let body = &rest[open + 11..open + 11 + body_len];
        let command = body.lines().next().unwrap_or_default();
        let args: Vec<&str> = command
            .strip_prefix("$ manifold ")
            .unwrap_or_else(|| panic!("a block starts with `$ manifold`: {command}"))
            .split(' ')
            .collect();
        let run = manifold(example.path(), &args);
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{command}");
        let shown = format!("{command}\n{}", run.stdout);
        if shown != body {
            problems.push(format!(
                "{command}:\n--- README\n{body}\n--- manifold\n{shown}"
            ));
        }
        blessed.push_str(&shown);
        blessed.push_str("```\n");
        rest = &rest[open + 11 + body_len + 4..];
        commands += 1;
    }
    blessed.push_str(rest);
    assert_eq!(commands, 3, "the walkthrough has its three steps");
    if blessing() {
        let text = format!("{}{blessed}{}", &readme[..start], &readme[end..]);
        fs::write(&readme_path, text).unwrap();
        return;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The release reached prod.
    let build = manifold(example.path(), &["build", "-e", "prod"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let prod = read(&example.path().join("out/prod/http/deployment-http.yaml"));
    assert!(prod.contains("/game/http:1.0.0004\n"), "{prod}");
}

/// The pipeline snippets of README's "From an application's pipeline"
/// follow the GitLab CI and GitHub Actions schemas, and call `set` as the
/// text says.
#[test]
fn the_readme_pipeline_snippets_follow_their_schemas() {
    let readme = read(&repo_root().join("README.md"));
    let section = &readme[readme.find("### From an application's pipeline").unwrap()..];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (marker, schema, call)) in [
        (
            "# .gitlab-ci.yml of the application\n",
            "vendor.gitlab-ci",
            "manifold set -e dev web version=$CI_COMMIT_TAG",
        ),
        (
            "# .github/workflows/release.yml of the application\n",
            "vendor.github-workflows",
            "manifold set -e dev web version=${{ github.ref_name }}",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let at = section
            .find(marker)
            .unwrap_or_else(|| panic!("README shows {marker}"));
        let snippet = &section[at..at + section[at..].find("```").unwrap()];
        assert!(snippet.contains(call), "{snippet}");
        let file = tmp.path().join(format!("{i}.yml"));
        fs::write(&file, snippet).unwrap();
        let output = std::process::Command::new(pytool("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .arg(&file)
            .output()
            .expect("check-jsonschema runs");
        assert!(
            output.status.success(),
            "{marker}{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// An edit of a service that the environment disables is written, and the
/// empty diff is explained.
#[test]
fn set_on_a_disabled_service_says_it_renders_nothing() {
    let example = example();
    let run = manifold(
        example.path(),
        &["set", "-e", "prod-us", "connector", "version=1.0.0007"],
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "environments/prod-us/connector.toml: version = \"1.0.0007\" (added)\n\
             note: `connector` is disabled in `prod-us` (`enabled = false`): it renders nothing there\n\n\
             prod-us: no changes (against the files as they were)\n\n\
             created environments/prod-us/connector.toml\n"
        ),
        "{}",
        run.stderr
    );
}
