//! Real temporary git repositories for the publish and diff tests, isolated
//! from the machine's git configuration: `HOME` points into the temporary
//! directory, the system config is ignored, and the identity is set in the
//! repository itself.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::{Run, overlay_dir, repo_root};

/// A configuration repository under git, with `main` checked out.
pub struct GitRepo {
    tmp: tempfile::TempDir,
    pub path: PathBuf,
    home: PathBuf,
}

/// The variables every git and manifold process of a test runs with.
fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
}

impl GitRepo {
    /// A copy of `tests/fixtures/<fixture>` (or of the bundled example when
    /// `fixture` is `example`), committed as the first commit of `main`.
    pub fn new(fixture: &str) -> GitRepo {
        let repo = GitRepo::empty();
        if fixture == "example" {
            for dir in ["services", "environments"] {
                overlay_dir(&repo_root().join(dir), &repo.path.join(dir));
            }
        } else {
            overlay_dir(
                &repo_root().join("tests/fixtures").join(fixture),
                &repo.path,
            );
        }
        repo.init();
        repo.commit_all("initial configuration");
        repo
    }

    /// An empty folder, not yet under git, with the isolated home of
    /// [`GitRepo::new`].
    pub fn empty() -> GitRepo {
        super::require("git");
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        fs::create_dir_all(&home).unwrap();
        let path = tmp.path().join("config");
        fs::create_dir_all(&path).unwrap();
        GitRepo { tmp, path, home }
    }

    /// `git init` with `main` checked out and the test identity.
    pub fn init(&self) {
        self.git(&["-c", "init.defaultBranch=main", "init", "-q"]);
        self.git(&["config", "user.name", "Test Author"]);
        self.git(&["config", "user.email", "author@example.com"]);
    }

    /// The isolated home folder every process of the repository runs with.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A process of `program` in `dir`, isolated like git and manifold.
    pub fn process(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        isolate(&mut cmd, &self.home);
        cmd
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        isolate(&mut cmd, &self.home);
        cmd
    }

    /// Runs git in the repository; panics unless it succeeds.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path, args)
    }

    /// Runs git in `dir` (a worktree of the repository).
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command("git", dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.commit_all_in(&self.path, message)
    }

    pub fn commit_all_in(&self, dir: &Path, message: &str) -> String {
        self.git_in(dir, &["add", "-A"]);
        self.git_in(dir, &["commit", "-q", "-m", message]);
        self.git_in(dir, &["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn write(&self, path: &str, content: &str) {
        let file = self.path.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, content).unwrap();
    }

    /// Runs manifold in the repository.
    pub fn manifold(&self, args: &[&str]) -> Run {
        self.manifold_in(&self.path, args)
    }

    pub fn manifold_in(&self, dir: &Path, args: &[&str]) -> Run {
        let out = self.manifold_cmd(dir, args).output().unwrap();
        run(out)
    }

    /// A manifold process in `dir`, not yet started.
    pub fn manifold_cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_manifold"), dir);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    /// The commit a ref points at, or `None`.
    pub fn rev(&self, rev: &str) -> Option<String> {
        let out = self
            .command("git", &self.path)
            .args(["rev-parse", "--verify", "-q", rev])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Every file of a commit's tree, read from git objects.
    pub fn tree(&self, rev: &str) -> BTreeMap<String, Vec<u8>> {
        let listing = self.git(&["ls-tree", "-r", "-z", "--full-tree", rev]);
        let mut files = BTreeMap::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            let (meta, path) = entry.split_once('\t').unwrap();
            let id = meta.split(' ').nth(2).unwrap();
            let out = self
                .command("git", &self.path)
                .args(["cat-file", "blob", id])
                .output()
                .unwrap();
            files.insert(path.to_string(), out.stdout);
        }
        files
    }

    /// The commits of a branch, newest first: (id, parents, message).
    pub fn history(&self, branch: &str) -> Vec<(String, Vec<String>, String)> {
        let log = self.git(&["log", "--format=%H %P%x00%B%x00", branch]);
        log.split("\0\n")
            .filter(|e| !e.trim().is_empty())
            .map(|entry| {
                let (ids, message) = entry.split_once('\0').unwrap();
                let mut ids = ids.split(' ').filter(|s| !s.is_empty());
                let id = ids.next().unwrap().to_string();
                (
                    id,
                    ids.map(str::to_string).collect(),
                    message.trim_end_matches('\0').to_string(),
                )
            })
            .collect()
    }

    /// What `manifold build` writes for the checkout in `dir`, as it would
    /// lie on the gitops branch (environment name = path here).
    pub fn build(&self, dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let out = self.tmp.path().join(format!(
            "build-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        let _ = fs::remove_dir_all(&out);
        let run = self.manifold_in(dir, &["build", "-o", out.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut tree = super::read_tree(&out);
        tree.remove(".manifold-output");
        fs::remove_dir_all(&out).unwrap();
        tree
    }

    /// A temporary directory beside the repository (for worktrees).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Everything a user could see change in their checkout: status, HEAD,
    /// the index file's bytes, the stash, and every file outside `.git`.
    pub fn snapshot(&self) -> String {
        let mut s = String::new();
        s.push_str(&self.git(&[
            "--no-optional-locks",
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=all",
        ]));
        s.push_str(&self.git(&["rev-parse", "HEAD"]));
        s.push_str(&self.git(&["symbolic-ref", "HEAD"]));
        s.push_str(&self.git(&["stash", "list", "--format=%H %s"]));
        let index = fs::read(self.path.join(".git/index")).unwrap();
        s.push_str(&format!(
            "index: {} bytes {:?}\n",
            index.len(),
            fingerprint(&index)
        ));
        for (path, content) in super::read_tree(&self.path) {
            if !path.starts_with(".git/") {
                s.push_str(&format!("{path}: {:?}\n", fingerprint(&content)));
            }
        }
        s
    }
}

/// A cheap fingerprint for comparing bytes in a readable snapshot.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

pub fn run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits for a started process and collects its output.
pub fn finish(child: Child) -> Run {
    run(child.wait_with_output().unwrap())
}
