//! The external tools the tests run. A test never skips because one is
//! missing: it fails, naming the tool and the command that installs it.
//!
//! From `PATH`: `git`, `kubectl`, `python3` (to create the venv), `cargo`
//! (the pre-commit test), `chromium` (the HTML status page), and `curl`
//! and `jq` (the comment-posting steps of the CI templates). From the venv `scripts/pytools` creates in
//! `target/pytools` from `tests/requirements.txt`: PyYAML, ruamel.yaml,
//! kubernetes-validate, pre-commit, check-jsonschema and taplo. From the
//! folder `scripts/npmtools` fills in `target/npm-tools` from
//! `tests/npm/package.json`: Renovate, run by `node`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::repo_root;

/// How to install each program the tests take from `PATH`.
const INSTALL: &[(&str, &str)] = &[
    ("git", "apt-get install git"),
    (
        "kubectl",
        "apt-get install kubectl from the Kubernetes apt repository, see https://kubernetes.io/docs/tasks/tools/",
    ),
    ("python3", "apt-get install python3 python3-venv"),
    (
        "cargo",
        "curl --proto '=https' -sSf https://sh.rustup.rs | sh",
    ),
    ("bash", "apt-get install bash"),
    ("man", "apt-get install man-db"),
    ("node", "apt-get install nodejs npm (Node.js 20 or 22)"),
    ("npm", "apt-get install nodejs npm (Node.js 20 or 22)"),
    ("chromium", "apt-get install chromium"),
    ("jq", "apt-get install jq"),
    ("curl", "apt-get install curl"),
];

/// The path of `program` found on `PATH`, if any.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file() || path.with_extension("exe").is_file()
    }
}

/// Fails the test unless `program` is on `PATH`.
#[track_caller]
pub fn require(program: &str) {
    let install = INSTALL
        .iter()
        .find(|(p, _)| *p == program)
        .map_or("see README", |(_, how)| how);
    require_with(program, install);
}

#[track_caller]
fn require_with(program: &str, install: &str) {
    assert!(
        on_path(program).is_some(),
        "{program} not found on PATH: install it ({install})"
    );
}

/// The bin directory of the Python tool venv, created (or brought up to
/// date with `tests/requirements.txt`) on first use by `scripts/pytools`.
pub fn pytools() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let output = Command::new("bash")
            .arg(repo_root().join("scripts/pytools"))
            .arg("--print-bin")
            .output()
            .expect("bash runs");
        if !output.status.success() {
            require("python3");
            panic!(
                "scripts/pytools failed to install tests/requirements.txt from PyPI into target/pytools; run scripts/pytools to retry:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        PathBuf::from(
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .lines()
                .last()
                .unwrap_or_default(),
        )
    })
}

/// A program of the venv, such as `pre-commit`; fails the test when it is
/// not there.
#[track_caller]
pub fn pytool(name: &str) -> PathBuf {
    let path = pytools().join(name);
    assert!(
        is_executable(&path),
        "{name} missing from target/pytools: run scripts/pytools"
    );
    path
}

/// The bin directory of the Node.js tools, installed (or brought up to
/// date with `tests/npm/package.json`) on first use by `scripts/npmtools`.
pub fn npmtools() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        require("node");
        require("npm");
        let output = Command::new("bash")
            .arg(repo_root().join("scripts/npmtools"))
            .arg("--print-bin")
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "scripts/npmtools failed to install tests/npm/package.json from the npm registry into target/npm-tools; run scripts/npmtools to retry:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .lines()
                .last()
                .unwrap_or_default(),
        )
    })
}

/// A program of the Node.js tools, such as `renovate`; fails the test when
/// it is not there.
#[track_caller]
pub fn npmtool(name: &str) -> PathBuf {
    let path = npmtools().join(name);
    require_npm_program(&path, name);
    path
}

#[track_caller]
fn require_npm_program(path: &Path, name: &str) {
    assert!(
        is_executable(path),
        "{name} missing from target/npm-tools: run scripts/npmtools"
    );
}

/// A package of `tests/requirements.txt` the venv's python imports.
#[derive(Clone, Copy)]
pub struct Package {
    /// The name on PyPI.
    pub name: &'static str,
    /// The module it is imported as.
    pub module: &'static str,
}

pub const PYYAML: Package = Package {
    name: "PyYAML",
    module: "yaml",
};
pub const RUAMEL_YAML: Package = Package {
    name: "ruamel.yaml",
    module: "ruamel.yaml",
};
pub const KUBERNETES_VALIDATE: Package = Package {
    name: "kubernetes-validate",
    module: "kubernetes_validate",
};

/// Which of `modules` the venv's python cannot import.
const MISSING_MODULES: &str = "
import importlib.util, sys
def found(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False
print('\\n'.join(m for m in sys.argv[1:] if not found(m)))
";

/// Fails the test unless the venv's python imports every package of `needs`.
#[track_caller]
pub fn require_packages(needs: &[Package]) {
    let python = pytool("python");
    let output = Command::new(python)
        .args(["-c", MISSING_MODULES])
        .args(needs.iter().map(|p| p.module))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "target/pytools/bin/python does not run: run scripts/pytools\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let missing: Vec<&str> = needs
        .iter()
        .filter(|p| stdout.lines().any(|m| m == p.module))
        .map(|p| p.name)
        .collect();
    assert!(
        missing.is_empty(),
        "{} missing from target/pytools: run scripts/pytools",
        missing.join(", ")
    );
}

/// Runs the venv's python, which must import `needs`; panics with its output
/// unless it succeeds.
#[track_caller]
pub fn python(needs: &[Package], args: &[&str]) -> String {
    require_packages(needs);
    let output = Command::new(pytools().join("python"))
        .args(args)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
#[should_panic(expected = "no-such-tool not found on PATH: install it (apt-get install it)")]
fn a_missing_program_fails_naming_it_and_its_install_command() {
    require_with("no-such-tool", "apt-get install it");
}

#[test]
#[should_panic(expected = "no-such-tool missing from target/npm-tools: run scripts/npmtools")]
fn a_missing_node_program_fails_naming_scripts_npmtools() {
    require_npm_program(Path::new("/nonexistent/no-such-tool"), "no-such-tool");
}

#[test]
#[should_panic(expected = "no-such-package missing from target/pytools: run scripts/pytools")]
fn a_missing_python_package_fails_naming_it_and_scripts_pytools() {
    require_packages(&[
        PYYAML,
        Package {
            name: "no-such-package",
            module: "no_such_package_module",
        },
    ]);
}
