//! The first hour: `init`, `new` and `schema`, the repository found from a
//! sub-folder, shell completions and the man pages. The errors of `init`
//! and `new` are data cases (`init-*`, `new-*`).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;

/// `manifold init` in an empty folder, run there as a user would.
fn init(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["init"];
    all.extend(args);
    manifold_in(dir, &all)
}

/// Every file `init` writes is the committed snapshot (what a user starts
/// from), but the schemas and the CI template, which are written as
/// `schemas/` and `ci/` hold them.
#[test]
fn init_writes_the_snapshot_of_a_new_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let run = init(tmp.path(), &["--ci", "gitlab"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "created a configuration repository in `.`: 2 environments, 11 files
  environments/dev.toml
  environments/prod.toml
  services/web.toml
  environments/prod/web.toml
  schemas/service.schema.json
  schemas/environment.schema.json
  schemas/overlay.schema.json
  .gitignore
  .pre-commit-config.yaml
  .gitlab-ci.yml
  ci/manifold.yml
next: `manifold validate` and `manifold build` in it; in .pre-commit-config.yaml and ci/manifold.yml, set where manifold's sources are (CHANGE ME), then `pre-commit autoupdate` and `pre-commit install`
"
    );
    let mut tree = read_tree(tmp.path());
    for name in ["service", "environment", "overlay"] {
        let path = format!("schemas/{name}.schema.json");
        let written = tree.remove(&path).unwrap();
        assert_eq!(
            written,
            fs::read(repo_root().join(&path)).unwrap(),
            "{path}"
        );
    }
    assert_eq!(
        tree.remove("ci/manifold.yml").unwrap(),
        fs::read(repo_root().join("ci/gitlab-ci.yml")).unwrap(),
        "the GitLab template is written as `ci/` holds it"
    );
    assert_snapshot(&tree, "init");
}

/// What `init` writes validates and builds at once, with no warning, for
/// any list of environments; an overlay goes to the last of several.
#[test]
fn an_initialised_repository_validates_and_builds_without_a_warning() {
    for (envs, files) in [("dev,prod", 8), ("staging", 4), ("dev,test,prod", 12)] {
        let tmp = tempfile::tempdir().unwrap();
        let run = init(tmp.path(), &["--envs", envs, "--ci", "github"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let count = envs.split(',').count();
        let run = manifold_in(tmp.path(), &["validate"]);
        assert_eq!(
            (run.code, normalize(&run.stderr, tmp.path())),
            (
                0,
                format!(
                    "ok: 1 service in {count} environment{}, {files} files checked in [N] ms\n",
                    if count == 1 { "" } else { "s" }
                )
            ),
            "{envs}"
        );
        let last = envs.rsplit(',').next().unwrap();
        assert_eq!(
            tmp.path()
                .join(format!("environments/{last}/web.toml"))
                .exists(),
            count > 1
        );
        assert!(tmp.path().join(".github/workflows/manifold.yml").is_file());
    }
}

/// `init DIR` creates the folder; `-C` moves where DIR starts.
#[test]
fn init_creates_the_folder_it_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let run = manifold(tmp.path(), &["init", "team/config", "--envs", "prod"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stderr = normalize(&run.stderr, tmp.path());
    assert!(
        stderr.starts_with(
            "created a configuration repository in `[ROOT]/team/config`: 1 environment, 7 files\n"
        ),
        "{stderr}"
    );
    assert!(
        tmp.path()
            .join("team/config/environments/prod.toml")
            .is_file()
    );
    assert_eq!(
        manifold(&tmp.path().join("team/config"), &["validate"]).code,
        0
    );
}

/// Each kind `new` writes validates without a warning in a repository
/// `init` made, and the files are the committed snapshot.
#[test]
fn new_writes_a_service_of_each_kind_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &[]).code, 0);
    let mut tree = std::collections::BTreeMap::new();
    for kind in ["deployment", "statefulset", "daemonset", "cronjob", "job"] {
        let name = format!("a-{kind}");
        let run = manifold_in(tmp.path(), &["new", &name, "--kind", kind]);
        assert_eq!(
            (run.code, run.stderr.as_str()),
            (
                0,
                format!(
                    "created `services/{name}.toml`, a {kind}; `manifold validate` checks it\n"
                )
                .as_str()
            )
        );
        let path = format!("{kind}.toml");
        tree.insert(
            path,
            fs::read(tmp.path().join(format!("services/{name}.toml"))).unwrap(),
        );
    }
    let run = manifold_in(tmp.path(), &["validate"]);
    assert_eq!(
        (run.code, normalize(&run.stderr, tmp.path())),
        (
            0,
            "ok: 6 services in 2 environments, 24 files checked in [N] ms\n".to_string()
        )
    );
    assert_snapshot(&tree, "new");
    // The deployment is the example `init` writes, under another name.
    let example = fs::read_to_string(tmp.path().join("services/web.toml")).unwrap();
    let deployment = fs::read_to_string(tmp.path().join("services/a-deployment.toml")).unwrap();
    assert_eq!(example.replace("web", "a-deployment"), deployment);
}

/// Run from a sub-folder, manifold works on the repository above it, as git
/// does; paths given on the command line are relative to where it runs,
/// and `out/` is the repository's.
#[test]
fn commands_run_in_a_sub_folder_use_the_repository_above() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &[]).code, 0);
    let services = tmp.path().join("services");
    let run = manifold_in(&services, &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = manifold_in(&services, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("built 2 environments into ../out: 8 added"),
        "{}",
        run.stderr
    );
    assert!(
        tmp.path()
            .join("out/prod/web/deployment-web.yaml")
            .is_file()
    );
    let overlays = tmp.path().join("environments/prod");
    let run = manifold_in(&overlays, &["build", "-o", "out2"]);
    assert!(
        run.stderr
            .starts_with("built 2 environments into out2: 8 added")
    );
    assert!(overlays.join("out2/prod/web/deployment-web.yaml").is_file());
    assert!(!tmp.path().join("out2").exists());
    let run = manifold_in(&overlays, &["diff", "--against", "out2", "--exit-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = manifold_in(&services, &["new", "api"]);
    assert_eq!(
        run.stderr,
        "created `../services/api.toml`, a deployment; `manifold validate` checks it\n"
    );
    let run = manifold_in(&services, &["schema", "--out", "editor"]);
    assert_eq!(run.code, 0);
    assert!(services.join("editor/service.schema.json").is_file());
    // Diagnostics name files from the repository, wherever manifold runs.
    fs::write(services.join("api.toml"), "image = \"api\"\nreplcas = 2\n").unwrap();
    let run = manifold_in(&overlays, &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("--> services/api.toml:2:1"),
        "{}",
        run.stderr
    );
}

/// Outside any repository, the hint names `init`.
#[test]
fn outside_a_repository_the_hint_names_init() {
    let tmp = tempfile::tempdir().unwrap();
    let run = manifold_in(tmp.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("or create one with `manifold init`"),
        "{}",
        run.stderr
    );
}

/// `schema` writes the embedded schemas into `schemas/` of the repository
/// (again after an upgrade: they are generated), or into `--out`.
#[test]
fn schema_writes_the_embedded_schemas() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("environments")).unwrap();
    fs::create_dir_all(tmp.path().join("schemas")).unwrap();
    fs::write(tmp.path().join("schemas/service.schema.json"), "{}").unwrap();
    let run = manifold_in(&tmp.path().join("environments"), &["schema"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            0,
            "wrote service.schema.json, environment.schema.json, overlay.schema.json into `../schemas`\n"
        )
    );
    assert_same_tree(
        &read_tree(&tmp.path().join("schemas")),
        &read_tree(&repo_root().join("schemas"))
            .into_iter()
            .filter(|(p, _)| !p.contains('/'))
            .collect(),
        "written schemas",
    );
}

/// The bash completions load, and complete commands and their flags.
#[test]
fn bash_completions_load_and_complete_commands() {
    require("bash");
    let script = "source <(\"$MANIFOLD\" completions bash)
complete -p manifold
COMP_WORDS=(manifold in); COMP_CWORD=1; _manifold manifold in manifold; echo \"${COMPREPLY[@]}\"
COMP_WORDS=(manifold new x --k); COMP_CWORD=3; _manifold manifold --k x; echo \"${COMPREPLY[@]}\"
COMP_WORDS=(manifold new x --kind c); COMP_CWORD=4; _manifold manifold c --kind; echo \"${COMPREPLY[@]}\"";
    let output = Command::new("bash")
        .args(["-c", script])
        .env("MANIFOLD", env!("CARGO_BIN_EXE_manifold"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "complete -o bashdefault -o default -o nosort -F _manifold manifold\ninit\n--kind\ncronjob\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = manifold_in(Path::new("."), &["completions", shell]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("schema"), "{shell}");
    }
}

/// The man pages render with `man -l`, and say what each flag is for.
#[test]
fn the_man_pages_render() {
    require("man");
    let tmp = tempfile::tempdir().unwrap();
    let run = manifold_in(Path::new("."), &["man"]);
    assert_eq!(run.code, 0);
    fs::write(tmp.path().join("manifold.1"), &run.stdout).unwrap();
    let page = render_man(&tmp.path().join("manifold.1"));
    for wanted in [
        "manifold - Compile TOML service definitions into Kubernetes YAML for GitOps",
        "-C <DIR>",
        "manifold-init(1)",
        "Exit codes: 0 clean",
    ] {
        assert!(page.contains(wanted), "`{wanted}` missing from:\n{page}");
    }
    let run = manifold_in(tmp.path(), &["man", "--out", "man1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut pages: Vec<String> = read_tree(&tmp.path().join("man1")).into_keys().collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "manifold-build.1",
            "manifold-completions.1",
            "manifold-diff.1",
            "manifold-explain.1",
            "manifold-import.1",
            "manifold-init.1",
            "manifold-man.1",
            "manifold-new.1",
            "manifold-promote.1",
            "manifold-publish.1",
            "manifold-schema.1",
            "manifold-set.1",
            "manifold-status.1",
            "manifold-validate.1",
            "manifold.1",
        ]
    );
    let page = render_man(&tmp.path().join("man1/manifold-build.1"));
    assert!(page.contains("--format <FORMAT>"), "{page}");
    assert!(page.contains("How diagnostics are printed"), "{page}");
}

/// A page as `man -l` shows it, 80 columns wide, without hyphenation.
fn render_man(page: &Path) -> String {
    let output = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "200")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("GROFF_NO_SGR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "man -l {}: {}",
        page.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    // Bold and underline as overstrikes (`x\bx`) are dropped.
    let mut text = String::new();
    for c in String::from_utf8_lossy(&output.stdout).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}
