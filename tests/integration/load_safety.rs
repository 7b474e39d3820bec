//! What the repository walk meets besides plain UTF-8 files: files that are
//! not UTF-8, and symbolic links inside the repository, leaving it, looping
//! or broken. Each is a located diagnostic and the run goes on to report the
//! rest; a link inside the repository is followed like the file it names.

use std::fs;
use std::os::unix::fs::symlink;

use crate::support::*;

/// A non-UTF-8 file used to stop the run with exit 2 and no location,
/// hiding every other problem.
#[test]
fn a_file_that_is_not_utf8_is_located_and_the_others_are_still_checked() {
    let repo = fixture("minimal");
    fs::write(
        repo.path().join("services/latin.toml"),
        b"image = \"caf\xe9\"\n",
    )
    .unwrap();
    fs::write(
        repo.path().join("environments/prod/web.toml"),
        "versoin = \"1.1\"\n",
    )
    .unwrap();
    let run = manifold(repo.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: file is not UTF-8 text\n --> services/latin.toml:1:13\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: unknown key `versoin`\n --> environments/prod/web.toml:1:1\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with("2 errors found\n"), "{}", run.stderr);
}

/// Service files that were symlinks used to be skipped without a word, so a
/// publish would prune that service.
#[test]
fn links_are_followed_inside_the_repository_and_refused_when_they_leave_it() {
    let repo = fixture("minimal");
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("api.toml"),
        "image = \"shop/api\"\nversion = \"1\"\n",
    )
    .unwrap();
    fs::create_dir(repo.path().join("shared")).unwrap();
    fs::write(
        repo.path().join("shared/worker.toml"),
        "image = \"shop/worker\"\nversion = \"2\"\n",
    )
    .unwrap();
    let services = repo.path().join("services");
    symlink("../shared/worker.toml", services.join("worker.toml")).unwrap();
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        repo.path()
            .join("out/dev/worker/deployment-worker.yaml")
            .is_file()
    );

    symlink(outside.path().join("api.toml"), services.join("api.toml")).unwrap();
    symlink("nowhere.toml", services.join("gone.toml")).unwrap();
    symlink("..", services.join("loop")).unwrap();
    let run = manifold(repo.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "\
error: symbolic link leaves the repository
 --> services/api.toml:1:1
  = help: manifold follows links only inside the repository; copy the file in, or point the link at a file inside

error: broken symbolic link
 --> services/gone.toml:1:1
  = help: point the link at an existing file, or remove it

error: symbolic link loop: `services/loop` leads back to `.`
 --> services/loop:1:1
  = help: remove the link or point it at a file

3 errors found
"
    );
}
