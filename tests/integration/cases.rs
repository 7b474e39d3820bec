//! The data cases in `tests/cases/`.

use std::fs;
use std::path::PathBuf;

use crate::support::*;

#[test]
fn cases() {
    let root = repo_root().join("tests/cases");
    let mut names: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for dir in names.iter().filter(|d| d.join("case.toml").is_file()) {
        if let Err(e) = run_case(dir) {
            failures.push(format!(
                "{}: {e}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(names.len() >= 10, "the case folder went missing");
}
