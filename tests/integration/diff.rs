//! `diff`: the working tree's rendering against a directory or the gitops
//! branches.

use std::fs;

use crate::support::git::GitRepo;
use crate::support::*;

#[test]
fn diff_reads_the_gitops_branch_from_git_objects() {
    let repo = GitRepo::new("minimal");
    let run = repo.manifold(&["diff", "--exit-code", "-e", "dev"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "note: branch `gitops` does not exist yet; everything is new\n"
    );
    assert!(
        run.stdout
            .starts_with("dev: 4 added, 0 changed, 0 removed (against gitops:dev)\n")
    );
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let run = repo.manifold(&["diff", "--exit-code"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "dev: no changes (against gitops:dev)\nprod: no changes (against gitops:prod)\n",
            ""
        )
    );
    // Uncommitted edits are what diff is for.
    repo.write(
        "environments/prod/web.toml",
        "version = \"1.2\"\n\n[rollout]\nmax_unavailable = 1\n",
    );
    let run = repo.manifold(&["diff", "--exit-code", "-e", "prod"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "\
prod: 0 added, 1 changed, 0 removed (against gitops:prod)

== prod/web: 1 changed
--- a/prod/web/deployment-web.yaml
+++ b/prod/web/deployment-web.yaml
@@ -5,10 +5,10 @@
     app: web
     app.kubernetes.io/managed-by: manifold
     app.kubernetes.io/name: web
-    app.kubernetes.io/version: \"1.1\"
+    app.kubernetes.io/version: \"1.2\"
     env: prod
     track: stable
-    version: \"1.1\"
+    version: \"1.2\"
   name: web
   namespace: shop
 spec:
@@ -27,13 +27,13 @@
         app: web
         app.kubernetes.io/managed-by: manifold
         app.kubernetes.io/name: web
-        app.kubernetes.io/version: \"1.1\"
+        app.kubernetes.io/version: \"1.2\"
         env: prod
         track: stable
-        version: \"1.1\"
+        version: \"1.2\"
     spec:
       containers:
-      - image: registry.example.com/shop/web:1.1
+      - image: registry.example.com/shop/web:1.2
         name: web
         ports:
         - containerPort: 8080
"
    );
    // Without --exit-code, changes are not a failure.
    assert_eq!(repo.manifold(&["diff"]).code, 0);
    // A revision compares every environment at its path there.
    repo.commit_all("web 1.2");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let run = repo.manifold(&["diff", "--against", "gitops~1", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["changed"], 1);
    assert_eq!(json["environments"][1]["against"], "gitops~1:prod");
    let run = repo.manifold(&["diff", "--against", "no-such-ref"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: `no-such-ref` is neither a directory nor a git revision\n"
        )
    );
}

#[test]
fn diff_colours_only_for_a_terminal_or_when_forced() {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    assert_eq!(manifold(repo.path(), &["build"]).code, 0);
    fs::write(
        repo.path().join("environments/prod/web.toml"),
        "version = \"1.2\"\n",
    )
    .unwrap();
    let run = |force: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_manifold"));
        cmd.arg("-C")
            .arg(repo.path())
            .args(["diff", "--against", out.to_str().unwrap()])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        if force {
            cmd.env("CLICOLOR_FORCE", "1");
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let piped = run(false);
    assert!(!piped.contains('\u{1b}'), "no colour into a pipe");
    let forced = run(true);
    assert!(
        forced.contains("\u{1b}[31m-    version: \"1.1\"\u{1b}[0m"),
        "{forced:?}"
    );
}
