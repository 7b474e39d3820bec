//! Helpers for the end-to-end tests: running the binary, fixture repositories,
//! data-driven cases, and the external tools (`tools`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn blessing() -> bool {
    std::env::var_os("MANIFOLD_BLESS").is_some()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `manifold -C dir args...` with a clean, colourless environment.
/// The day every test runs on (`MANIFOLD_NOW`).
pub const NOW: &str = "2026-11-27T00:00:00Z";

pub fn manifold(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["-C", dir.to_str().expect("test paths are UTF-8")];
    all.extend(args);
    manifold_in(Path::new("."), &all)
}

/// Runs `manifold args...` in the folder `cwd`, as a user would there,
/// with a clean, colourless environment.
pub fn manifold_in(cwd: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        // Exceptions expire against this day, not the calendar's: the
        // expected outputs must not change with the date.
        .env("MANIFOLD_NOW", NOW)
        // The stamp cache of outputs outside a git repository: not the
        // user's own cache folder.
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("manifold-tests-cache"),
        )
        .output()
        .expect("manifold runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A temporary copy of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    overlay_dir(&repo_root().join("tests/fixtures").join(name), tmp.path());
    tmp
}

/// Copies every file of `from` into `to`, replacing what is there.
pub fn overlay_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative path -> content, without manifold's
/// marker of what it wrote (`.manifold-output`, not part of what is
/// published).
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel != ".manifold-output" {
                files.insert(rel, fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// Asserts two trees are equal, naming the files that differ.
pub fn assert_same_tree(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    let differing: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: {} files differ: {differing:?}",
        differing.len()
    );
}

/// `kubectl kustomize dir`: the output as Flux and Argo CD render it.
pub fn kubectl_kustomize(dir: &Path) -> String {
    require("kubectl");
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[derive(serde::Deserialize)]
struct Case {
    /// Fixture under `tests/fixtures/` the case's `repo/` is laid over.
    base: Option<String>,
    /// More fixtures laid over `base`, in order, before `repo/` (such as
    /// `crds`, the CustomResourceDefinitions of the CRD cases).
    #[serde(default)]
    also: Vec<String>,
    args: Vec<String>,
    #[serde(default)]
    code: i32,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
    /// Whether the command may create an output directory.
    #[serde(default)]
    writes: bool,
}

/// Replaces what differs between runs: the temporary directory and timings.
pub fn normalize(text: &str, root: &Path) -> String {
    let mut s = text.replace(&root.display().to_string(), "[ROOT]");
    let mut out = String::with_capacity(s.len());
    // "in 12 ms" -> "in [N] ms"
    while let Some(i) = s.find(" in ") {
        out.push_str(&s[..i + 4]);
        let rest = &s[i + 4..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(" ms") {
            out.push_str("[N]");
            s = rest[digits..].to_string();
        } else {
            s = rest.to_string();
        }
    }
    out.push_str(&s);
    out
}

pub fn run_case(dir: &Path) -> Result<(), String> {
    let case_path = dir.join("case.toml");
    let text = fs::read_to_string(&case_path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("bad case.toml: {e}"))?;
    let tmp = tempfile::tempdir().unwrap();
    if let Some(base) = &case.base {
        overlay_dir(&repo_root().join("tests/fixtures").join(base), tmp.path());
    }
    for fixture in &case.also {
        overlay_dir(
            &repo_root().join("tests/fixtures").join(fixture),
            tmp.path(),
        );
    }
    if dir.join("repo").is_dir() {
        overlay_dir(&dir.join("repo"), tmp.path());
    }
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let run = manifold(tmp.path(), &args);
    let stdout = normalize(&run.stdout, tmp.path());
    let stderr = normalize(&run.stderr, tmp.path());
    if blessing() {
        fs::write(&case_path, bless(&text, run.code, &stdout, &stderr)).unwrap();
        return Ok(());
    }
    let mut problems = Vec::new();
    if run.code != case.code {
        problems.push(format!("exit code {} (expected {})", run.code, case.code));
    }
    if stdout != case.stdout {
        problems.push(format!(
            "stdout differs:\n--- expected\n{}\n--- actual\n{stdout}",
            case.stdout
        ));
    }
    if stderr != case.stderr {
        problems.push(format!(
            "stderr differs:\n--- expected\n{}\n--- actual\n{stderr}",
            case.stderr
        ));
    }
    if !case.writes && tmp.path().join("out").exists() {
        problems.push("an output directory was written".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Rewrites a case file's `code`, `stdout` and `stderr`, keeping the rest.
fn bless(text: &str, code: i32, stdout: &str, stderr: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if skipping {
            if line.ends_with("'''") {
                skipping = false;
            }
            continue;
        }
        let key = line.split('=').next().unwrap_or_default().trim();
        if ["code", "stdout", "stderr"].contains(&key) {
            let value = line.split_once('=').map(|x| x.1.trim()).unwrap_or_default();
            skipping = value.starts_with("'''") && !(value.len() > 3 && value.ends_with("'''"));
            continue;
        }
        kept.push(line);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let mut out = kept.join("\n");
    out.push_str(&format!("\ncode = {code}\n"));
    for (key, value) in [("stdout", stdout), ("stderr", stderr)] {
        assert!(
            !value.contains("'''"),
            "{key} contains ''' and cannot be blessed"
        );
        out.push_str(&format!("{key} = '''\n{value}'''\n"));
    }
    out
}

pub mod git;
pub mod reference;
pub mod tools;

pub use tools::{KUBERNETES_VALIDATE, PYYAML, RUAMEL_YAML, npmtool, python, pytool, require};

/// A TOML basic string for `s`.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends `extra` to the file at `path`.
pub fn append(path: &Path, extra: &str) {
    let text = fs::read_to_string(path).unwrap();
    fs::write(path, text + extra).unwrap();
}

/// Compares `tree` with the committed files of `tests/expected/<name>/`;
/// `MANIFOLD_BLESS=1` writes `tree` there instead.
pub fn assert_snapshot(tree: &BTreeMap<String, Vec<u8>>, name: &str) {
    let expected = repo_root().join("tests/expected").join(name);
    if blessing() {
        let _ = fs::remove_dir_all(&expected);
        for (path, content) in tree {
            let target = expected.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, content).unwrap();
        }
    }
    assert_same_tree(
        tree,
        &read_tree(&expected),
        &format!(
            "tests/expected/{name} is not what the test produced; review and refresh with `MANIFOLD_BLESS=1 cargo test --test integration`"
        ),
    );
}

/// `taplo check` (the engine of editors' TOML schema checks, from the
/// venv) on `files` in `dir`, offline and without colours.
pub fn taplo_check(dir: &Path, files: &[String]) -> Run {
    let output = Command::new(pytool("taplo"))
        .current_dir(dir)
        .args(["check", "--colors", "never", "--no-auto-config"])
        .args(files)
        .env("RUST_LOG", "warn")
        .output()
        .expect("taplo runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The TOML files of a configuration repository's `services/` and
/// `environments/`, relative to it, sorted.
pub fn input_files(dir: &Path) -> Vec<String> {
    read_tree(dir)
        .into_keys()
        .filter(|p| {
            (p.starts_with("services/") || p.starts_with("environments/")) && p.ends_with(".toml")
        })
        .collect()
}
