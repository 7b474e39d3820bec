//! The house rules of `src/`, read from the sources so that they hold for
//! files added later: the top-level modules do not depend on each other in a
//! cycle, and every file opens with a `//!` paragraph saying what it is.
//!
//! A top-level module is a folder `src/<name>/` (or a file `src/<name>.rs`),
//! with every `.rs` file under it. Module `a` depends on `b` when a file of
//! `a` names `crate::b` (`manifold::b` in the binary's modules, those not
//! declared in `src/lib.rs`), `use crate::{b, ...}` included. Comment lines
//! do not count; `super::` paths are not followed, so paths that leave a
//! folder are written from `crate::`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::repo_root;

/// One reference from a module to another: where it is written.
struct Edge {
    to: String,
    file: String,
    line: usize,
}

/// The top-level modules of `src/` and the `.rs` files of each.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let files = modules.entry(name).or_default();
            for e in walkdir::WalkDir::new(&path).sort_by_file_name() {
                let e = e.unwrap();
                if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs") {
                    files.push(e.into_path());
                }
            }
        } else if path.extension().is_some_and(|x| x == "rs") && name != "lib" && name != "main" {
            modules.entry(name).or_default().push(path);
        }
    }
    modules
}

/// The modules `src/lib.rs` declares: the library's, as opposed to the
/// binary's.
fn library_modules(src: &Path) -> BTreeSet<String> {
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first path segments after every `prefix` (such as `crate::`) on a
/// line: `crate::a::x` gives `a`, `crate::{a::x, b}` gives `a` and `b`.
fn segments_after(line: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = line[from..].find(prefix) {
        let at = from + i;
        from = at + prefix.len();
        if line[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &line[from..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group, up to its closing brace.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && is_ident(c) && depth == 0 => {
                        let name: String =
                            group[j..].chars().take_while(|&c| is_ident(c)).collect();
                        found.push(name);
                        item_start = false;
                    }
                    c if !c.is_whitespace() => item_start = false,
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

/// Each module's references to other modules.
fn dependencies() -> BTreeMap<String, Vec<Edge>> {
    let src = repo_root().join("src");
    let modules = modules(&src);
    let library = library_modules(&src);
    assert!(
        library.len() >= 5 && library.iter().all(|m| modules.contains_key(m)),
        "src/lib.rs declares {library:?}, found in src/: {:?}",
        modules.keys()
    );
    let mut graph = BTreeMap::new();
    for (module, files) in &modules {
        let in_library = library.contains(module);
        let mut edges = Vec::new();
        for file in files {
            let text = fs::read_to_string(file).unwrap();
            let rel = file
                .strip_prefix(repo_root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let mut names = segments_after(line, "crate::");
                if !in_library {
                    // The binary reaches the library by its name; the
                    // library's modules are the only ones it can name so.
                    names.extend(segments_after(line, "manifold::"));
                }
                for name in names {
                    if &name != module && modules.contains_key(&name) {
                        edges.push(Edge {
                            to: name,
                            file: rel.clone(),
                            line: n + 1,
                        });
                    }
                }
            }
        }
        graph.insert(module.clone(), edges);
    }
    graph
}

/// Every cycle of the graph found by depth-first search, each as the list
/// of modules along it, starting from its smallest name.
fn cycles(graph: &BTreeMap<String, Vec<Edge>>) -> BTreeSet<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, Vec<Edge>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            let first = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap();
            cycle.rotate_left(first);
            found.insert(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        stack.push(node);
        let targets: BTreeSet<&str> = graph[node].iter().map(|e| e.to.as_str()).collect();
        for next in targets {
            visit(next, graph, stack, done, found);
        }
        stack.pop();
        done.insert(node);
    }
    let mut found = BTreeSet::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn the_modules_of_src_depend_on_each_other_without_a_cycle() {
    let graph = dependencies();
    let edges: usize = graph.values().map(Vec::len).sum();
    assert!(
        edges > 0,
        "no `crate::` reference found in src/: the reader is broken"
    );
    let mut report = String::new();
    for cycle in cycles(&graph) {
        let mut names = cycle.clone();
        names.push(cycle[0].clone());
        report.push_str(&format!("cycle: {}\n", names.join(" -> ")));
        for pair in names.windows(2) {
            let edge = graph[&pair[0]].iter().find(|e| e.to == pair[1]).unwrap();
            report.push_str(&format!(
                "  {} -> {}: {}:{}\n",
                pair[0], pair[1], edge.file, edge.line
            ));
        }
    }
    assert!(
        report.is_empty(),
        "the modules of src/ depend on each other in a cycle:\n{report}"
    );
}

#[test]
fn every_source_file_opens_with_a_doc_paragraph() {
    let src = repo_root().join("src");
    let mut files = 0;
    let mut bare = Vec::new();
    for entry in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        files += 1;
        let text = fs::read_to_string(entry.path()).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let said = first
            .strip_prefix("//!")
            .is_some_and(|rest| !rest.trim().is_empty());
        if !said {
            bare.push(
                entry
                    .path()
                    .strip_prefix(repo_root())
                    .unwrap()
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(files > 10, "src/ went missing");
    assert!(
        bare.is_empty(),
        "these files do not begin with a `//!` paragraph saying what they are: {bare:?}"
    );
}

#[test]
fn the_reader_sees_grouped_and_nested_paths() {
    assert_eq!(
        segments_after(
            "use crate::{diag::{A, B}, model, input::tree::Node};",
            "crate::"
        ),
        ["diag", "model", "input"]
    );
    assert_eq!(
        segments_after("let x = crate::emit::to_yaml(&crate::model::X);", "crate::"),
        ["emit", "model"]
    );
    assert_eq!(segments_after("$crate::diag::x!()", "crate::"), ["diag"]);
    assert!(segments_after("use manifold_crate::x;", "crate::").is_empty());
}

/// ARCHITECTURE.md's code map names every top-level folder of `src/` once,
/// as `### \`src/<name>/\``, in an order each folder's dependencies respect:
/// a folder uses only folders listed before it. The binary's `cli` shares a
/// heading with `main.rs`.
#[test]
fn the_architecture_code_map_matches_the_tree_and_its_order() {
    let text = fs::read_to_string(repo_root().join("ARCHITECTURE.md")).unwrap();
    let listed: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### `src/"))
        .filter_map(|l| l.split_once('/'))
        .map(|(name, _)| name.to_string())
        .collect();
    let graph = dependencies();
    let folders: BTreeSet<&String> = graph.keys().collect();
    let named: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(
        named, folders,
        "ARCHITECTURE.md's code map and the folders of src/ differ"
    );
    assert_eq!(
        listed.len(),
        named.len(),
        "a folder is listed twice: {listed:?}"
    );
    for (position, module) in listed.iter().enumerate() {
        for edge in &graph[module] {
            let target = listed.iter().position(|m| *m == edge.to).unwrap();
            assert!(
                target < position,
                "ARCHITECTURE.md lists `{module}` before `{}`, which it uses ({}:{})",
                edge.to,
                edge.file,
                edge.line
            );
        }
    }
}
