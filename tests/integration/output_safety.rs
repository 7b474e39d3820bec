//! `build` keeps its writes and removals inside the output directory, and
//! cleans up after killed runs: a tampered `.manifold-output` or journal and
//! a symbolic link inside the output are refused with nothing written or
//! removed, and the staging directory of a killed fresh build (a real
//! process, killed) is swept by the next build, unless its run still lives.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The `minimal` fixture built once into `out`.
fn built() -> (tempfile::TempDir, PathBuf) {
    let repo = fixture("minimal");
    let out = repo.path().join("out");
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (repo, out)
}

/// A change to the input, so the next build has files to write and remove.
fn change_input(repo: &Path) {
    let web = repo.join("services/web.toml");
    let text = fs::read_to_string(&web).unwrap();
    fs::write(&web, text.replace("version = \"1.0\"", "version = \"1.1\"")).unwrap();
    fs::copy(&web, repo.join("services/api.toml")).unwrap();
}

/// Runs a build that must be refused: a tool error (exit 2) whose message
/// says what to do, and an output directory left exactly as it was.
fn refused(repo: &Path, out: &Path, expect: &[&str]) {
    let before = read_tree(out);
    let run = manifold(repo, &["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for text in expect {
        assert!(
            run.stderr.contains(text),
            "`{text}` not in:\n{}",
            run.stderr
        );
    }
    assert_same_tree(&read_tree(out), &before, "a refused build");
}

fn append(path: &Path, line: &str) {
    let mut text = fs::read_to_string(path).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    fs::write(path, text).unwrap();
}

const SOME_ID: &str = "ce013625030ba8dba906f756967f9e9ca394464a";

#[test]
fn a_manifest_entry_outside_the_output_is_refused() {
    let (repo, out) = built();
    let victim = repo.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    append(
        &out.join(".manifold-output"),
        &format!("{SOME_ID} 8 ../victim"),
    );
    change_input(repo.path());
    refused(
        repo.path(),
        &out,
        &[".manifold-output` is damaged", "`../victim`", "build again"],
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn an_absolute_manifest_entry_is_refused() {
    let (repo, out) = built();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    append(
        &out.join(".manifold-output"),
        &format!("{SOME_ID} 8 {}", victim.display()),
    );
    refused(repo.path(), &out, &["is damaged", "is absolute"]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn a_journal_entry_outside_the_output_is_refused() {
    let (repo, out) = built();
    let victim = repo.path().join("victim");
    let replaced = repo.path().join("replaced");
    fs::write(&victim, "precious").unwrap();
    fs::write(&replaced, "precious").unwrap();
    fs::write(repo.path().join("replaced.manifold-tmp"), "evil").unwrap();
    // The damaged lines come last: nothing before them may be carried out.
    fs::write(
        out.join(".manifold-journal"),
        "remove dev/kustomization.yaml\nrename ../replaced\nremove ../victim\n",
    )
    .unwrap();
    refused(
        repo.path(),
        &out,
        &[".manifold-journal` is damaged", "`rename ../replaced`"],
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(fs::read_to_string(&replaced).unwrap(), "precious");
    assert!(out.join("dev/kustomization.yaml").is_file());

    fs::write(out.join(".manifold-journal"), "remove /etc/hostname\n").unwrap();
    refused(repo.path(), &out, &["is absolute"]);
}

#[cfg(unix)]
#[test]
fn a_directory_replaced_by_a_link_is_not_written_through() {
    let (repo, out) = built();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("dev");
    // `out/dev` moves away and a link takes its place; the build has files
    // to write and to remove there.
    fs::rename(out.join("dev"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("dev")).unwrap();
    change_input(repo.path());
    let before = read_tree(&outside);
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("out/dev` is a symbolic link"),
        "{}",
        run.stderr
    );
    assert_same_tree(&read_tree(&outside), &before, "the folder behind the link");
    assert!(
        fs::read_dir(&outside)
            .unwrap()
            .chain(fs::read_dir(outside.join("web")).unwrap())
            .all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("manifold-tmp")),
        "no temporary file was written through the link"
    );
    assert!(!out.join(".manifold-journal").exists());
}

#[cfg(unix)]
#[test]
fn a_temporary_file_that_is_a_link_is_not_written_through() {
    let (repo, out) = built();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    // What a killed update leaves, as a link: the sweep removes the link.
    let web = fs::read_dir(out.join("dev/web"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("deployment-"))
        .unwrap();
    let tmp = out.join(format!("dev/web/{web}.manifold-tmp"));
    std::os::unix::fs::symlink(&victim, &tmp).unwrap();
    change_input(repo.path());
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(fs::symlink_metadata(&tmp).is_err());
    assert!(
        !fs::symlink_metadata(out.join(format!("dev/web/{web}")))
            .unwrap()
            .is_symlink()
    );
}

/// Polls `what` until it holds, for at most `limit`.
fn wait_for(limit: Duration, mut what: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The staging directories beside `out`.
fn stagings(out: &Path) -> Vec<PathBuf> {
    let prefix = format!(
        ".{}.manifold-tmp-",
        out.file_name().unwrap().to_string_lossy()
    );
    let mut found: Vec<PathBuf> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// A fresh build of a large generated repository, stopped (SIGSTOP) once its
/// staging directory holds files: a live run's directory is left alone by
/// another build; once the run is killed (SIGKILL), the next build removes
/// it. Directories that merely look like staging are never touched.
#[cfg(target_os = "linux")]
#[test]
fn the_staging_directory_of_a_killed_build_is_swept() {
    let work = tempfile::tempdir().unwrap();
    let generated = Command::new("python3")
        .arg(repo_root().join("bench/generate.py"))
        .args(["--services", "2000", "--envs", "3"])
        .arg(work.path())
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs bench/generate.py");
    assert!(generated.success());
    let large = work.path().join("manifold");
    let out = work.path().join("out");
    let small = fixture("minimal");

    // Look-alikes: no marker, and a marker naming another pid.
    let unmarked = work.path().join(".out.manifold-tmp-999999999");
    fs::create_dir_all(unmarked.join("dev")).unwrap();
    fs::write(unmarked.join("dev/x.yaml"), "mine").unwrap();
    let forged = work.path().join(".out.manifold-tmp-999999998");
    fs::create_dir_all(&forged).unwrap();
    fs::write(
        forged.join(".manifold-staging"),
        "manifold staging directory\npid 1\n",
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .arg("-C")
        .arg(&large)
        .args(["build", "-j", "1", "-o"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = work
        .path()
        .join(format!(".out.manifold-tmp-{}", child.id()));
    // Files being written: the marker, if any, is there too.
    let caught = wait_for(Duration::from_secs(300), || {
        fs::read_dir(&staging).is_ok_and(|d| d.count() >= 2)
    });
    signal(child.id(), "-STOP");
    assert!(caught, "the build's staging directory never appeared");
    assert!(
        staging.is_dir() && !out.exists(),
        "the build finished before it could be stopped"
    );

    // Alive (stopped): another build into the same output leaves it alone.
    let run = manifold(small.path(), &["build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        stagings(&out),
        vec![staging.clone(), forged.clone(), unmarked.clone()]
    );

    // Killed: the next build removes it, and only it.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(staging.is_dir());
    let run = manifold(small.path(), &["build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(stagings(&out), vec![forged, unmarked.clone()]);
    assert_eq!(
        fs::read_to_string(unmarked.join("dev/x.yaml")).unwrap(),
        "mine"
    );
    assert!(out.join(".manifold-output").is_file());
    assert!(!out.join(".manifold-staging").exists());
}
