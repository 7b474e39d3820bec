//! The schemas as editors use them: taplo (the engine of VS Code's Even
//! Better TOML) loads the schema each file's `#:schema` line names, by
//! relative path, and checks the file against it.

use std::fs;
use std::path::Path;

use crate::support::*;

/// taplo checks every file; on failure, the message shows its output.
fn assert_taplo_passes(dir: &Path) {
    let files = input_files(dir);
    assert!(files.len() > 1, "{files:?}");
    let run = taplo_check(dir, &files);
    assert_eq!(
        run.code, 0,
        "taplo check failed:\n{}{}",
        run.stdout, run.stderr
    );
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

#[test]
fn taplo_checks_every_file_of_the_bundled_example() {
    assert_taplo_passes(&repo_root());
}

#[test]
fn taplo_checks_every_file_of_an_initialised_repository() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(manifold_in(tmp.path(), &["init"]).code, 0);
    for kind in ["statefulset", "daemonset", "cronjob", "job"] {
        let run = manifold_in(tmp.path(), &["new", kind, "--kind", kind]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_taplo_passes(tmp.path());
}

/// A typo in a service, an environment and an overlay is reported by taplo
/// at its line, as the editor underlines it.
#[test]
fn taplo_reports_a_typo_in_each_kind_of_file() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(manifold_in(tmp.path(), &["init"]).code, 0);
    for (file, typo) in [
        ("services/web.toml", "replcas = 2"),
        ("environments/dev.toml", "namespaces = \"dev\""),
        ("environments/prod/web.toml", "verison = \"1.0.1\""),
    ] {
        let path = tmp.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        let (header, rest) = text.split_once('\n').unwrap();
        fs::write(&path, format!("{header}\n{typo}\n{rest}")).unwrap();
        let run = taplo_check(tmp.path(), &[file.to_string()]);
        let key = typo.split(' ').next().unwrap();
        assert_eq!(run.code, 1, "{file}: {}", run.stderr);
        let at = format!("{}:2:1", tmp.path().join(file).display());
        assert!(
            run.stderr.contains(&format!(
                "Additional properties are not allowed ('{key}' was unexpected)"
            )) && run.stderr.contains(&at),
            "{file}: {}",
            run.stderr
        );
        fs::write(&path, text).unwrap();
    }
}
