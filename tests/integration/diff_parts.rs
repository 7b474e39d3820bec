//! `diff --format markdown --output-dir DIR`: the diff of the bundled
//! example against nothing (every object added, far more than one
//! comment holds) in numbered parts, each under `--max-chars`, the summary
//! table in part one, and nothing lost.

use std::fs;
use std::path::Path;

use crate::support::*;

/// The bundled example in a temporary folder, with an empty folder to
/// compare against (everything is added).
fn example() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["services", "environments"] {
        overlay_dir(&repo_root().join(dir), &tmp.path().join(dir));
    }
    fs::create_dir_all(tmp.path().join("published")).unwrap();
    tmp
}

/// The text inside the ```diff code blocks of `part`, fences, notes and
/// headings left out; panics on a block left open.
fn code_content(part: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<&str> = None;
    for line in part.split_inclusive('\n') {
        match fence {
            None if line.starts_with("```") && line.trim_end().ends_with("diff") => {
                fence = Some(line.trim_end().trim_end_matches("diff"));
            }
            Some(f) if line.trim_end() == f => fence = None,
            Some(_) => out.push_str(line),
            None => {}
        }
    }
    assert!(fence.is_none(), "a code block is left open:\n{part}");
    out
}

fn parts(dir: &Path) -> Vec<String> {
    let mut parts = Vec::new();
    while let Ok(text) = fs::read_to_string(dir.join(format!("diff-{}.md", parts.len() + 1))) {
        parts.push(text);
    }
    parts
}

#[test]
fn markdown_parts_fit_the_limit_hold_the_summary_first_and_lose_nothing() {
    let repo = example();
    let against = ["diff", "--against", "published"];
    let json = manifold(repo.path(), &[&against[..], &["--format", "json"]].concat());
    assert_eq!(json.code, 0, "{}", json.stderr);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let whole: String = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["objects"].as_array().unwrap())
        .map(|o| o["diff"].as_str().unwrap())
        .collect();
    let summary = manifold(
        repo.path(),
        &[&against[..], &["--format", "markdown", "--summary-only"]].concat(),
    );
    assert_eq!(summary.code, 0, "{}", summary.stderr);

    let run = manifold(
        repo.path(),
        &[
            &against[..],
            &[
                "--format",
                "markdown",
                "--output-dir",
                "parts",
                "--max-chars",
                "20000",
            ],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let dir = repo.path().join("parts");
    let parts = parts(&dir);
    assert_eq!(
        run.stderr,
        format!(
            "wrote {} parts of at most 20000 characters to {}\n",
            parts.len(),
            dir.display()
        )
    );
    assert!(parts.len() > 5, "{} parts", parts.len());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), parts.len());
    for (i, part) in parts.iter().enumerate() {
        assert!(
            part.chars().count() <= 20_000,
            "part {}: {} characters",
            i + 1,
            part.len()
        );
        assert!(part.starts_with(&format!("<!-- manifold-diff part {} -->\n", i + 1)));
    }
    assert!(
        parts[0].starts_with(&format!(
            "<!-- manifold-diff part 1 -->\n{}",
            summary.stdout
        )),
        "{}",
        parts[0]
    );
    assert!(
        parts[1..]
            .iter()
            .all(|p| !p.contains("| environment | against |"))
    );
    let content: String = parts.iter().map(|p| code_content(p)).collect();
    assert!(
        content == whole,
        "the parts' diffs differ from the whole diff"
    );

    // A second run with fewer, larger parts removes the parts left over.
    let run = manifold(
        repo.path(),
        &[
            &against[..],
            &["--format", "markdown", "--output-dir", "parts"],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fewer = self::parts(&dir);
    assert!(fewer.len() < parts.len(), "{} parts", fewer.len());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), fewer.len());
    assert!(fewer.iter().all(|p| p.chars().count() <= 65_536));
    let content: String = fewer.iter().map(|p| code_content(p)).collect();
    assert!(
        content == whole,
        "the parts' diffs differ from the whole diff"
    );
}

#[test]
fn a_max_chars_without_room_for_a_part_is_refused() {
    let repo = example();
    let run = manifold(
        repo.path(),
        &[
            "diff",
            "--against",
            "published",
            "--format",
            "markdown",
            "--output-dir",
            "parts",
            "--max-chars",
            "500",
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: --max-chars 500 is too small: a part needs at least 2000 characters\n"
    );
    assert!(!repo.path().join("parts").exists());
}
