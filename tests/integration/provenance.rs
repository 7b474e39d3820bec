//! Publish provenance: `publish --trailer KEY=VALUE` and
//! `--message-template FILE`, in real temporary git repositories; the
//! trailers are read back the way git parses them.

use crate::support::git::GitRepo;

/// `git interpret-trailers --parse` of the gitops branch's last message.
fn parsed_trailers(repo: &GitRepo) -> String {
    let message = repo.git(&["log", "-1", "--format=%B", "gitops"]);
    let file = repo.home().join("message.txt");
    std::fs::write(&file, message).unwrap();
    repo.git(&["interpret-trailers", "--parse", file.to_str().unwrap()])
}

/// The CI templates pass the pipeline and the merge request this way; git
/// must see them as trailers of the commit, after manifold's own.
#[test]
fn trailers_from_the_command_line_follow_manifolds_own() {
    let repo = GitRepo::new("minimal");
    let head = repo.rev("HEAD").unwrap();
    let date = repo.git(&["log", "-1", "--format=%cI", "HEAD"]);
    let run = repo.manifold(&[
        "publish",
        "--trailer",
        "Pipeline=https://ci.example.com/shop/config/-/pipelines/981",
        "--trailer",
        "Merge-Request = https://ci.example.com/shop/config/-/merge_requests/42",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        parsed_trailers(&repo),
        format!(
            "Source-Commit: {head}\nSource-Date: {}\nManifold-Version: {}\nPipeline: https://ci.example.com/shop/config/-/pipelines/981\nMerge-Request: https://ci.example.com/shop/config/-/merge_requests/42\n",
            date.trim(),
            env!("CARGO_PKG_VERSION")
        )
    );
}

/// `publish` decides what it may replace from `Source-Commit` and
/// `Source-Date`: a trailer of the same key, in any letter case, would
/// forge them, so it is refused before anything is written.
#[test]
fn a_trailer_manifold_writes_itself_is_refused_and_nothing_is_published() {
    let repo = GitRepo::new("minimal");
    let objects = repo.git(&["count-objects", "-v"]);
    for (arg, key) in [
        (
            "source-commit=0123456789abcdef0123456789abcdef01234567",
            "Source-Commit",
        ),
        ("Source-Date=2020-01-01T00:00:00Z", "Source-Date"),
        ("MANIFOLD-VERSION=9", "Manifold-Version"),
        ("Source-Dirty=false", "Source-Dirty"),
    ] {
        let run = repo.manifold(&["publish", "--trailer", "Pipeline=x", "--trailer", arg]);
        assert_eq!(run.code, 2, "{arg}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().next().unwrap(),
            format!(
                "error: invalid value '{arg}' for '--trailer <KEY=VALUE>': `{key}` is a trailer manifold writes itself (it names what was published); choose another key, such as `Pipeline` or `Merge-Request`"
            )
        );
        assert_eq!(repo.rev("gitops"), None);
    }
    assert_eq!(repo.git(&["count-objects", "-v"]), objects);
}

#[test]
fn a_trailer_must_be_a_key_and_a_one_line_value() {
    let repo = GitRepo::new("minimal");
    for (arg, problem) in [
        (
            "Pipeline",
            "`Pipeline` is not KEY=VALUE; write it as `--trailer Pipeline=https://ci.example.com/pipelines/42`",
        ),
        (
            "Merge Request=42",
            "trailer key `Merge Request` may hold only letters, digits and `-` (such as `Merge-Request`)",
        ),
        (
            "Pipeline=",
            "the value of trailer `Pipeline` must be one line of text, not empty",
        ),
        (
            "Pipeline=a\nb",
            "the value of trailer `Pipeline` must be one line of text, not empty",
        ),
    ] {
        let run = repo.manifold(&["publish", "--trailer", arg]);
        assert_eq!(run.code, 2, "{arg}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!(
                "error: invalid value '{arg}' for '--trailer <KEY=VALUE>': {problem}\n"
            )),
            "{}",
            run.stderr
        );
    }
    assert_eq!(repo.rev("gitops"), None);
}

/// A template replaces manifold's text, every placeholder filled in, and
/// the trailers still follow it.
#[test]
fn the_message_template_renders_and_the_trailers_follow_it() {
    let repo = GitRepo::new("minimal");
    repo.write(
        "ci/publish-message.txt",
        "release {source_short} to {environments} ({branch})\n\n{source_subject}, committed {source_date}\nfrom {source_commit}; {{literal braces}}\n\n{summary}\n",
    );
    let head = repo.commit_all("web 1.2");
    let date = repo.git(&["log", "-1", "--format=%cI", "HEAD"]);
    let date = date.trim();
    let run = repo.manifold(&[
        "publish",
        "--message-template",
        "ci/publish-message.txt",
        "--trailer",
        "Pipeline=https://ci.example.com/p/1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let message = repo.git(&["log", "-1", "--format=%B", "gitops"]);
    assert_eq!(
        message,
        format!(
            "release {short} to dev, prod (gitops)

web 1.2, committed {date}
from {head}; {{literal braces}}

dev: 4 added, 0 changed, 0 removed
  + kustomization.yaml
  + namespace.yaml
  + web/deployment-web.yaml
  + web/service-web.yaml

prod: 4 added, 0 changed, 0 removed
  + kustomization.yaml
  + namespace.yaml
  + web/deployment-web.yaml
  + web/service-web.yaml

(branch root): 2 added, 0 changed, 0 removed
  + .gitattributes
  + README.md

Source-Commit: {head}
Source-Date: {date}
Manifold-Version: {version}
Pipeline: https://ci.example.com/p/1

",
            short = &head[..12],
            version = env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(
        parsed_trailers(&repo).lines().next().unwrap(),
        format!("Source-Commit: {head}")
    );
}

/// A template's mistakes are located like any input's, all at once, and
/// nothing is published.
#[test]
fn a_template_with_unknown_placeholders_is_a_located_error() {
    let repo = GitRepo::new("minimal");
    repo.write(
        "message.txt",
        "release {source_shrot}\n\n{pipeline} and {summary\n",
    );
    let run = repo.manifold(&["publish", "--message-template", "message.txt"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "\
error: unknown placeholder `{source_shrot}`
 --> message.txt:1:9
  |
1 | release {source_shrot}
  |         ^^^^^^^^^^^^^^
  |
  = help: did you mean `{source_short}`?

error: unknown placeholder `{pipeline}`
 --> message.txt:3:1
  |
3 | {pipeline} and {summary
  | ^^^^^^^^^^
  |
  = help: the placeholders are `{source_commit}`, `{source_short}`, `{source_subject}`, `{source_date}`, `{branch}`, `{environments}` or `{summary}`; `{{` writes a literal brace

error: `{` opens a placeholder that is not closed on its line
 --> message.txt:3:16
  |
3 | {pipeline} and {summary
  |                ^^^^^^^^
  |
  = help: close it with `}`, or write `{{` for a literal brace

3 errors found
"
    );
    assert_eq!(repo.rev("gitops"), None);
}
