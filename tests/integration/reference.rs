//! README's format reference is generated from the JSON schemas.

use std::fs;

use crate::support::*;

#[test]
fn the_readme_format_reference_matches_the_schemas() {
    let path = repo_root().join("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- reference:start -->\n", "<!-- reference:end -->");
    let from = readme
        .find(start)
        .expect("README has the reference start marker")
        + start.len();
    let to = readme
        .find(end)
        .expect("README has the reference end marker");
    let generated = crate::support::reference::markdown();
    if blessing() {
        fs::write(
            &path,
            format!("{}{generated}{}", &readme[..from], &readme[to..]),
        )
        .unwrap();
        return;
    }
    assert!(
        readme[from..to] == generated,
        "README's format reference is stale; refresh it with `MANIFOLD_BLESS=1 cargo test --test integration`"
    );
}
