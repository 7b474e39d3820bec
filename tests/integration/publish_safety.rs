//! `publish` refuses what it must not do: take over a branch it did not
//! make, go back to an older source (by history, or by committer dates where
//! a shallow clone cannot tell, and against the winner of a race), or write a
//! path git rejects; and it sweeps the private refs a killed publish left.
//! Real git in temporary repositories; the killed publish is a real process.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use manifold::compile::compile;
use manifold::git::Repo;
use manifold::gitops;
use manifold::input::load::load;

use crate::support::git::{GitRepo, finish};

fn trailer(message: &str, key: &str) -> Option<String> {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(str::to_string)
}

fn short(id: &str) -> &str {
    &id[..12]
}

/// Git in `dir` with extra variables (commit dates), isolated like the
/// support helpers; returns the whole output, stderr included.
fn git_with(repo: &GitRepo, dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("HOME", repo.scratch("home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Sets the web version in prod and commits it at `epoch` (author and
/// committer date); returns the commit.
fn commit_web_at(repo: &GitRepo, version: &str, epoch: i64) -> String {
    repo.write(
        "environments/prod/web.toml",
        &format!("version = \"{version}\"\n"),
    );
    repo.git(&["add", "-A"]);
    let date = format!("@{epoch} +0000");
    let out = git_with(
        repo,
        &repo.path,
        &["commit", "-q", "-m", &format!("web {version}")],
        &[
            ("GIT_AUTHOR_DATE", date.clone()),
            ("GIT_COMMITTER_DATE", date),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    repo.rev("HEAD").unwrap()
}

fn commit_web(repo: &GitRepo, version: &str) -> String {
    repo.write(
        "environments/prod/web.toml",
        &format!("version = \"{version}\"\n"),
    );
    repo.commit_all(&format!("web {version}"))
}

fn source_of(repo: &GitRepo, dir: &Path, rev: &str) -> Option<String> {
    let message = repo.git_in(dir, &["log", "-1", "--format=%B", rev]);
    trailer(&message, "Source-Commit")
}

fn manifold_refs(repo: &GitRepo) -> String {
    repo.git(&["for-each-ref", "--format=%(refname)", "refs/manifold/"])
}

fn install_hook(repo: &GitRepo, name: &str, script: &str) -> std::path::PathBuf {
    let hook = repo.path.join(".git/hooks").join(name);
    fs::create_dir_all(hook.parent().unwrap()).unwrap();
    fs::write(&hook, script).unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    hook
}

#[test]
fn a_branch_manifold_did_not_make_is_taken_over_only_when_asked() {
    let repo = GitRepo::new("minimal");
    let head = repo.rev("HEAD").unwrap();
    // Someone's own branch of the same name: the configuration, by hand.
    let theirs = repo
        .git(&["commit-tree", "HEAD^{tree}", "-m", "manifests by hand"])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/gitops", &theirs]);
    let refusal = format!(
        "error: `gitops` was not made by manifold: its tip {} has no `Source-Commit` trailer, so publishing {} would replace its files\n  = help: check that `gitops` is the gitops branch, then pass `--take-over` to publish on top of it\n",
        short(&theirs),
        short(&head)
    );
    for args in [&["publish"][..], &["publish", "--dry-run"]] {
        let run = repo.manifold(args);
        assert_eq!((run.code, run.stderr.as_str()), (1, refusal.as_str()));
        assert_eq!(repo.rev("gitops").unwrap(), theirs, "nothing was written");
    }

    let run = repo.manifold(&["publish", "--take-over"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "note: took over `gitops`: its tip {} has no `Source-Commit` trailer; {} replaces its files\npublished ",
            short(&theirs),
            short(&head)
        )),
        "{}",
        run.stderr
    );
    let history = repo.history("gitops");
    assert_eq!(history[0].1, vec![theirs.clone()], "built on their tip");
    assert_eq!(trailer(&history[0].2, "Source-Commit"), Some(head));
    assert!(
        !repo
            .tree("gitops")
            .keys()
            .any(|p| p.starts_with("services/")),
        "their files are gone"
    );

    // From then on the branch is manifold's: no flag needed.
    commit_web(&repo, "1.2");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
}

#[test]
fn an_older_source_does_not_replace_a_newer_one_unless_allowed() {
    let repo = GitRepo::new("minimal");
    let old = repo.rev("HEAD").unwrap();
    let new = commit_web(&repo, "1.2");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let published = repo.rev("gitops").unwrap();

    // A late job from the older commit.
    repo.git(&["checkout", "-q", &old]);
    let run = repo.manifold(&["publish"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            1,
            format!(
                "error: `gitops` was published from {n}, and {o} is older (an ancestor of {n} in the history): publishing it would go back in time\n  = help: publish {n} or a later commit, or pass `--allow-older` to publish {o} anyway\n",
                n = short(&new),
                o = short(&old)
            )
            .as_str()
        )
    );
    assert_eq!(
        repo.rev("gitops").unwrap(),
        published,
        "nothing was written"
    );

    let run = repo.manifold(&["publish", "--allow-older"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(source_of(&repo, &repo.path, "gitops"), Some(old.clone()));

    // Forward again needs nothing.
    repo.git(&["checkout", "-q", "main"]);
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(source_of(&repo, &repo.path, "gitops"), Some(new.clone()));

    // The same source again is not going back, even with another tree.
    repo.write("environments/prod/web.toml", "version = \"1.3\"\n");
    let before = repo.rev("gitops").unwrap();
    let run = repo.manifold(&["publish", "--allow-dirty"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_ne!(repo.rev("gitops").unwrap(), before);
    assert_eq!(source_of(&repo, &repo.path, "gitops"), Some(new));
}

/// A shallow clone holds neither the published source nor the history
/// between: the committer dates decide, and the messages say so.
#[test]
fn a_shallow_clone_decides_by_committer_dates_and_says_so() {
    let repo = GitRepo::new("minimal");
    let t = 1_700_000_000;
    let a = commit_web_at(&repo, "1.1", t);
    let b = commit_web_at(&repo, "1.2", t + 3600);
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let published = repo.rev("gitops").unwrap();
    let c = commit_web_at(&repo, "1.3", t + 7200);
    repo.git(&["branch", "old", &a]);
    repo.git(&["branch", "newer", &c]);
    let date = |id: &str| {
        repo.git(&["log", "-1", "--format=%cI", id])
            .trim()
            .to_string()
    };
    let url = format!("file://{}", repo.path.display());
    let clone = |branch: &str| {
        let dir = repo.scratch(&format!("clone-{branch}"));
        repo.git(&[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            branch,
            &url,
            dir.to_str().unwrap(),
        ]);
        repo.git_in(
            &dir,
            &[
                "fetch",
                "-q",
                "--depth",
                "1",
                "origin",
                "+refs/heads/gitops:refs/heads/gitops",
            ],
        );
        repo.git_in(&dir, &["config", "user.name", "CI"]);
        repo.git_in(&dir, &["config", "user.email", "ci@example.com"]);
        assert_eq!(
            repo.git_in(&dir, &["rev-parse", "--is-shallow-repository"]),
            "true\n"
        );
        dir
    };

    // The older commit, alone in its clone.
    let old = clone("old");
    let run = repo.manifold_in(&old, &["publish"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            1,
            format!(
                "error: `gitops` was published from {b}, and {a} is older (by committer date, {ad} before {bd}, since {b} is not in this repository (a shallow clone)): publishing it would go back in time\n  = help: publish {b} or a later commit, or pass `--allow-older` to publish {a} anyway\n",
                a = short(&a),
                b = short(&b),
                ad = date(&a),
                bd = date(&b),
            )
            .as_str()
        )
    );
    assert_eq!(
        repo.git_in(&old, &["rev-parse", "gitops"]).trim(),
        published
    );
    let run = repo.manifold_in(&old, &["publish", "--allow-older"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(source_of(&repo, &old, "gitops"), Some(a.clone()));

    // The newer commit goes ahead, and says how that was decided.
    let newer = clone("newer");
    let run = repo.manifold_in(&newer, &["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "note: {c} is not older than {b}, which `gitops` was published from, by committer date ({cd}, {bd}), since {b} is not in this repository (a shallow clone)\npublished ",
            b = short(&b),
            c = short(&c),
            bd = date(&b),
            cd = date(&c),
        )),
        "{}",
        run.stderr
    );
    assert_eq!(source_of(&repo, &newer, "gitops"), Some(c.clone()));

    // A commit of a manifold without the `Source-Date` trailer: it cannot
    // be decided, and publish goes ahead saying so.
    let by_older_manifold = repo
        .git_in(
            &newer,
            &[
                "commit-tree",
                &format!("{published}^{{tree}}"),
                "-p",
                "gitops",
                "-m",
                &format!(
                    "publish {}\n\nSource-Commit: {b}\nManifold-Version: 0.0.1",
                    short(&b)
                ),
            ],
        )
        .trim()
        .to_string();
    repo.git_in(
        &newer,
        &["update-ref", "refs/heads/gitops", &by_older_manifold],
    );
    let run = repo.manifold_in(&newer, &["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "note: cannot tell whether {c} is older than {b}, which `gitops` was published from: {b} is not in this repository (a shallow clone), and its commit has no `Source-Date` trailer; publishing\npublished ",
            b = short(&b),
            c = short(&c),
        )),
        "{}",
        run.stderr
    );
}

/// A publish that loses the race to a newer source checks the winner's
/// source too: the retry does not put the older one on top.
#[test]
fn the_retry_after_a_lost_race_does_not_go_back_in_time() {
    let repo = GitRepo::new("minimal");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let first = repo.rev("gitops").unwrap();
    let middle = commit_web(&repo, "1.1");
    let newest = commit_web(&repo, "1.2");
    assert_eq!(repo.manifold(&["publish"]).code, 0);
    let winner = repo.rev("gitops").unwrap();
    repo.git(&["update-ref", "refs/heads/gitops", &first, &winner]);
    repo.git(&["checkout", "-q", &middle]);
    // The winner lands right after this publish wrote its commit, before
    // it moves the branch.
    let marker = repo.scratch("raced");
    install_hook(
        &repo,
        "reference-transaction",
        &format!(
            "#!/bin/sh\ncase \"$1\" in committed) ;; *) cat >/dev/null; exit 0 ;; esac\n\
             grep -q ' refs/manifold/publish-' || exit 0\n\
             [ -e '{marker}' ] && exit 0\n\
             touch '{marker}'\n\
             git update-ref refs/heads/gitops {winner}\n",
            marker = marker.display()
        ),
    );
    let run = repo.manifold(&["publish"]);
    assert!(marker.exists(), "the race happened");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            1,
            format!(
                "error: `gitops` was published from {n} (moved there while this publish ran), and {m} is older (an ancestor of {n} in the history): publishing it would go back in time\n  = help: publish {n} or a later commit, or pass `--allow-older` to publish {m} anyway\n",
                n = short(&newest),
                m = short(&middle)
            )
            .as_str()
        )
    );
    assert_eq!(repo.rev("gitops").unwrap(), winner, "the winner stays");
    assert_eq!(manifold_refs(&repo), "", "no private ref is left");
}

/// A publish killed right after `git fast-import` wrote its commit (by a
/// hook, at the moment git reports the private ref) leaves that ref; the next
/// publish removes it, and leaves the ref of a process that still runs.
#[test]
fn refs_of_a_killed_publish_are_swept_by_the_next() {
    let repo = GitRepo::new("minimal");
    let head = repo.rev("HEAD").unwrap();
    let hook = install_hook(
        &repo,
        "reference-transaction",
        "#!/bin/sh\ncase \"$1\" in committed) ;; *) cat >/dev/null; exit 0 ;; esac\n\
         while read -r old new ref; do\n\
           case \"$ref\" in refs/manifold/publish-*)\n\
             pid=${ref#refs/manifold/publish-}\n\
             kill -9 \"${pid%%-*}\" ;;\n\
           esac\n\
         done\n",
    );
    let child = repo.manifold_cmd(&repo.path, &["publish"]).spawn().unwrap();
    let pid = child.id();
    let run = finish(child);
    assert_eq!(run.code, -1, "killed by a signal: {}", run.stderr);
    fs::remove_file(hook).unwrap();
    let leftover = format!("refs/manifold/publish-{pid}-0");
    assert_eq!(manifold_refs(&repo), format!("{leftover}\n"));
    assert_eq!(repo.rev("gitops"), None, "the branch was not moved");

    // A running publish's ref: this test's own process id.
    let live = format!("refs/manifold/publish-{}-0", std::process::id());
    repo.git(&["update-ref", &live, &head]);
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "note: removed `{leftover}`, left by a publish that was killed\npublished "
        )),
        "{}",
        run.stderr
    );
    assert_eq!(manifold_refs(&repo), format!("{live}\n"));
    assert!(repo.rev("gitops").is_some());
}

/// Paths the compiler should never produce, pushed past it: none reaches a
/// commit, and the repository stays clean for `git fsck`.
#[test]
fn a_path_git_rejects_never_reaches_a_commit() {
    let repo = GitRepo::new("minimal");
    let project = load(&repo.path).unwrap();
    let mut compiled = compile(&project, &[]).unwrap();
    assert!(compiled.diagnostics.iter().all(|d| !d.is_error()));
    let git = Repo::open(&repo.path).unwrap();
    let source = git.head().unwrap();
    let options = gitops::Options {
        message: None,
        dry_run: false,
        dirty: false,
        take_over: false,
        allow_older: false,
        template: None,
        trailers: &[],
    };
    for bad in [
        "web/../escape.yaml",
        "../escape.yaml",
        "./web/x.yaml",
        "web//x.yaml",
        "web/x.yaml/",
        ".git/config",
        "web/.GIT/hooks/post-checkout",
        ".git./x",
        "git~1/x",
        "web\\x.yaml",
        "web/x\0.yaml",
        "kustomization.yaml/x.yaml",
    ] {
        let env = &mut compiled.environments[0];
        env.files.insert(bad.to_string(), b"kind: x\n".to_vec());
        let targets = gitops::targets(&compiled, "gitops");
        let err = gitops::publish(&git, &targets, &source, &options)
            .map(|_| ())
            .expect_err(bad);
        assert!(
            err.to_string().starts_with("refusing to publish ")
                && err.to_string().ends_with("nothing was written"),
            "{bad:?}: {err}"
        );
        assert_eq!(repo.rev("gitops"), None, "{bad:?}");
        compiled.environments[0].files.remove(bad);
    }
    let targets = gitops::targets(&compiled, "gitops");
    gitops::publish(&git, &targets, &source, &options).unwrap();
    assert!(repo.rev("gitops").is_some());
    let fsck = git_with(
        &repo,
        &repo.path,
        &["fsck", "--strict", "--no-dangling"],
        &[],
    );
    assert!(fsck.status.success(), "{fsck:?}");
    let said =
        String::from_utf8_lossy(&fsck.stderr).into_owned() + &String::from_utf8_lossy(&fsck.stdout);
    assert!(
        !said.contains("warning") && !said.contains("error"),
        "{said}"
    );
}
