//! The pre-commit hook, run by the real pre-commit framework with the
//! `.pre-commit-config.yaml` that `manifold init` writes. The test has
//! pre-commit build manifold from source with cargo, which takes minutes, so
//! it is `#[ignore]`d: `.ci/run` runs it with
//! `cargo test --locked --test integration -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::git::GitRepo;
use crate::support::*;

/// The release tag the configuration `init` writes pins.
const TAG: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// A git repository holding this repository's sources as one commit, for
/// pre-commit's `repo:`, tagged as the release process tags a release (an
/// annotated `v<version>`). The commit has fixed metadata, so unchanged
/// sources give the same commit, returned here.
fn hook_repository(dir: &Path) -> String {
    require("git");
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        ".pre-commit-hooks.yaml",
    ] {
        fs::copy(repo_root().join(file), dir.join(file)).unwrap();
    }
    for sub in ["src", "schemas", "ci"] {
        overlay_dir(&repo_root().join(sub), &dir.join(sub));
    }
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "manifold tests")
            .env("GIT_AUTHOR_EMAIL", "tests@example.com")
            .env("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z")
            .env("GIT_COMMITTER_NAME", "manifold tests")
            .env("GIT_COMMITTER_EMAIL", "tests@example.com")
            .env("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "manifold sources under test"]);
    git(&["tag", "-a", TAG, "-m", &format!("manifold {TAG}")]);
    git(&["rev-parse", "HEAD"])
}

/// The hook a configuration repository uses, as `manifold init` writes
/// it (`language: rust` at a release tag), through the real pre-commit
/// framework (from PyPI), with manifold built by pre-commit's Rust support:
/// a clean commit passes, a typo is rejected with its location.
#[test]
#[ignore = "builds manifold from source; run by .ci/run"]
fn the_pre_commit_hook_passes_a_clean_commit_and_rejects_a_typo() {
    // pre-commit builds the hook with cargo.
    require("cargo");
    let cache = repo_root().join("target/pre-commit");
    let commit = hook_repository(&cache.join("hook-repo"));
    let repo = GitRepo::empty();
    assert_eq!(repo.manifold(&["init"]).code, 0);
    repo.init();
    // The configuration as written, but for the one line it asks to change.
    let config = repo.path.join(".pre-commit-config.yaml");
    let written = fs::read_to_string(&config).unwrap();
    let url = "https://git.example.com/platform/manifold.git  # CHANGE ME: manifold's sources";
    assert!(written.contains(&format!("rev: {TAG}\n")), "{written}");
    let local = written.replace(url, &cache.join("hook-repo").display().to_string());
    assert_ne!(local, written);
    repo.write(".pre-commit-config.yaml", &local);
    repo.commit_all("a new configuration repository");
    // pre-commit keeps one build per repository and `rev`; the tag names
    // other sources when they change, so each commit gets its own store.
    let home = cache.join(format!("home-{}", &commit[..12]));
    for entry in fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("home") && path != home {
            let _ = fs::remove_dir_all(&path);
        }
    }
    // Not isolated from HOME: pre-commit runs cargo, which needs the
    // toolchain. The repository's identity is in its own config.
    let command = |program: &Path, args: &[&str]| {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(&repo.path)
            .args(args)
            .env("PRE_COMMIT_HOME", &home)
            // Keeps compiled dependencies between runs when the sources change.
            .env("CARGO_TARGET_DIR", cache.join("cargo-target"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        let out = cmd.output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    };
    let pre_commit = pytool("pre-commit");

    let started = std::time::Instant::now();
    let (code, out) = command(&pre_commit, &["run", "--all-files", "--color", "never"]);
    eprintln!(
        "pre-commit: first run (builds manifold unless cached) in {:?}",
        started.elapsed()
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("manifold validate") && out.contains("Passed"),
        "{out}"
    );
    let started = std::time::Instant::now();
    let (code, out) = command(&pre_commit, &["run", "--all-files", "--color", "never"]);
    eprintln!("pre-commit: second run in {:?}", started.elapsed());
    assert_eq!(code, 0, "{out}");

    // Only TOML under services/ or environments/ triggers the hook.
    repo.write("NOTES.md", "notes\n");
    let (code, out) = command(
        &pre_commit,
        &["run", "--files", "NOTES.md", "--color", "never"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(no files to check)Skipped"), "{out}");

    // `pre-commit autoupdate` pins the newest release: the tag as written.
    let (code, out) = command(&pre_commit, &["autoupdate"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(fs::read_to_string(&config).unwrap(), local);

    // A real commit through the installed hook.
    let (code, out) = command(&pre_commit, &["install"]);
    assert_eq!(code, 0, "{out}");
    let head = repo.rev("HEAD").unwrap();
    let web = fs::read_to_string(repo.path.join("services/web.toml")).unwrap();
    let line = 1 + web
        .lines()
        .position(|l| l.starts_with("period = "))
        .unwrap();
    repo.write(
        "services/web.toml",
        &web.replace("period = ", "periodSecods = "),
    );
    repo.git(&["add", "-A"]);
    let git = PathBuf::from("git");
    let (code, out) = command(&git, &["commit", "-q", "-m", "typo"]);
    assert_ne!(code, 0, "{out}");
    for wanted in [
        "manifold validate",
        "Failed",
        "error: unknown key `periodSecods`",
        &format!("--> services/web.toml:{line}:1"),
        "did you mean `period`?",
        "= help: replace `periodSecods` with `period`",
    ] {
        assert!(out.contains(wanted), "`{wanted}` missing from:\n{out}");
    }
    assert_eq!(repo.rev("HEAD").unwrap(), head, "the commit was rejected");
    repo.write("services/web.toml", &web);
    repo.git(&["add", "-A"]);
    let (code, out) = command(&git, &["commit", "-q", "-m", "fixed"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(repo.rev("HEAD").unwrap(), head);
    // Drop hook builds of sources no longer under test; this one stays.
    let (code, out) = command(&pre_commit, &["gc"]);
    assert_eq!(code, 0, "{out}");
}
