//! A new team's first hour, end to end, from an empty folder: `init`,
//! `validate`, `build`, a commit through the pre-commit hook (the real
//! pre-commit framework, with a `language: system` hook running this
//! build's binary), `publish` and `diff`; the files `init` wrote are
//! checked by taplo as an editor would, and the rendered objects by the
//! strict Kubernetes schemas.

use std::fs;
use std::path::Path;

use crate::support::git::GitRepo;
use crate::support::*;

/// The pre-commit configuration of the test: manifold's hook as
/// `.pre-commit-hooks.yaml` defines it, run from this build.
fn local_hook() -> String {
    format!(
        "repos:
  - repo: local
    hooks:
      - id: manifold-validate
        name: manifold validate
        entry: {} validate
        language: system
        files: ^(services|environments)/.*\\.toml$
        pass_filenames: false
",
        env!("CARGO_BIN_EXE_manifold")
    )
}

/// `git commit` through the installed hook: exit code and output.
fn commit(repo: &GitRepo, message: &str) -> (i32, String) {
    let output = repo
        .process(Path::new("git"), &repo.path)
        .args(["commit", "-q", "-m", message])
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn from_an_empty_folder_to_a_published_change() {
    let repo = GitRepo::empty();
    let run = repo.manifold(&["init", "--ci", "gitlab"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The editor's view: every file checks against the schema it names.
    let run = taplo_check(&repo.path, &input_files(&repo.path));
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = repo.manifold(&["validate"]);
    assert_eq!(
        (run.code, normalize(&run.stderr, &repo.path)),
        (
            0,
            "ok: 1 service in 2 environments, 8 files checked in [N] ms\n".into()
        )
    );
    let run = repo.manifold(&["build"]);
    assert_eq!(
        (run.code, normalize(&run.stderr, &repo.path)),
        (
            0,
            "built 2 environments into ./out: 8 added, 0 changed, 0 removed, 0 unchanged in [N] ms\n"
                .into()
        )
    );
    let out = repo.path.join("out");
    assert_snapshot(&read_tree(&out), "first-hour");
    check_output(&out, &repo.path);

    // A first commit through the hook; `out/` is ignored.
    repo.init();
    repo.write(".pre-commit-config.yaml", &local_hook());
    let pre_commit = pytool("pre-commit");
    let output = repo
        .process(&pre_commit, &repo.path)
        .arg("install")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    repo.git(&["add", "-A"]);
    let (code, text) = commit(&repo, "a new configuration repository");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("manifold validate") && text.contains("Passed"),
        "{text}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(!repo.git(&["ls-files"]).contains("out/"));

    // A typo stops the commit, at its line.
    let web = repo.path.join("services/web.toml");
    let good = fs::read_to_string(&web).unwrap();
    fs::write(&web, good.replace("replicas = 2", "replcas = 2")).unwrap();
    repo.git(&["add", "-A"]);
    let (code, text) = commit(&repo, "a typo");
    assert_ne!(code, 0, "{text}");
    for wanted in [
        "Failed",
        "error: unknown key `replcas`",
        "--> services/web.toml:10:1",
    ] {
        assert!(text.contains(wanted), "`{wanted}` missing from:\n{text}");
    }
    fs::write(&web, &good).unwrap();
    repo.git(&["add", "-A"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let published = repo.rev("gitops").expect("the gitops branch exists");
    assert_eq!(
        run.stderr,
        format!(
            "published {} to gitops: dev +4 ~0 -0, prod +4 ~0 -0, (branch root) +2 ~0 -0\n",
            &published[..12]
        )
    );
    let mut tree = repo.tree("gitops");
    let root: Vec<String> = tree.keys().filter(|p| !p.contains('/')).cloned().collect();
    assert_eq!(root, [".gitattributes", "README.md"]);
    tree.retain(|p, _| p.contains('/'));
    assert_same_tree(&tree, &read_tree(&out), "the published tree");

    // A change, committed, is shown against what is published.
    let overlay = repo.path.join("environments/prod/web.toml");
    let text = fs::read_to_string(&overlay).unwrap();
    fs::write(&overlay, text.replace("replicas = 3", "replicas = 4")).unwrap();
    repo.git(&["add", "-A"]);
    let (code, text) = commit(&repo, "prod: four replicas");
    assert_eq!(code, 0, "{text}");
    let run = repo.manifold(&["diff", "--exit-code"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "dev: no changes (against gitops:dev)
prod: 0 added, 1 changed, 0 removed (against gitops:prod)

== prod/web: 1 changed
--- a/prod/web/deployment-web.yaml
+++ b/prod/web/deployment-web.yaml
@@ -12,7 +12,7 @@
   name: web
   namespace: prod
 spec:
-  replicas: 3
+  replicas: 4
   selector:
     matchLabels:
       app: web
"
    );
}

/// The rendered tree passes the strict Kubernetes schemas of its version,
/// and reads the same in YAML 1.1 and 1.2.
fn check_output(out: &Path, repo: &Path) {
    let mut args = vec![
        repo_root()
            .join("scripts/check-output.py")
            .to_string_lossy()
            .into_owned(),
        out.to_string_lossy().into_owned(),
    ];
    for env in ["dev", "prod"] {
        let text = fs::read_to_string(repo.join(format!("environments/{env}.toml"))).unwrap();
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("kube_version = "))
            .unwrap()
            .trim_matches('"');
        args.push("--kube".into());
        args.push(format!("{env}={version}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = python(&[PYYAML, RUAMEL_YAML, KUBERNETES_VALIDATE], &refs);
    assert!(report.contains(": 0 problems"), "{report}");
}
