//! Property tests and the fuzz corpus replay.
//!
//! - Every file of `fuzz/corpus/compile/` goes through the fuzz harness
//!   (`fuzz/src/lib.rs`): diagnostics or valid output, never a panic.
//! - Arbitrary strings in env, config, files, labels and annotations read
//!   back unchanged from the emitted YAML.
//! - The merge rules of the README hold for arbitrary trees, on the TOML tree
//!   and on JSON alike.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use manifold::compile::{Compiled, compile};
use manifold::diag::FileId;
use manifold::input::load::{Project, load, load_files};
use manifold::input::merge::merge;
use manifold::input::tree::{Node, Origin, Table, Value};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value as Json;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::toml_string;

#[test]
fn fuzz_corpus_replays_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/compile");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 10, "the corpus is in {}", dir.display());
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        let outcome = harness::run(&data);
        eprintln!("{}: {outcome:?}", path.display());
    }
}

/// `load_files` is `load` without the disk: same projects, same output, same
/// diagnostics.
#[test]
fn loading_from_memory_matches_loading_from_disk() {
    fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                read_tree(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                out.push((rel.replace('\\', "/"), std::fs::read(&path).unwrap()));
            }
        }
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // CRDs and manifest files, from the repository's folder and an
    // environment's, in the order both find them.
    let with_yaml = tempfile::tempdir().unwrap();
    for fixture in ["minimal", "crds", "manifests"] {
        crate::support::overlay_dir(
            &manifest.join("tests/fixtures").join(fixture),
            with_yaml.path(),
        );
    }
    for root in [
        manifest.to_path_buf(),
        manifest.join("tests/fixtures/minimal"),
        with_yaml.path().to_path_buf(),
    ] {
        let mut files = Vec::new();
        for dir in ["services", "environments", "crds", "manifests"] {
            if root.join(dir).is_dir() {
                read_tree(&root, &root.join(dir), &mut files);
            }
        }
        // Other files are ignored, as on disk.
        files.push(("README.md".into(), b"not an input".to_vec()));
        files.reverse();
        let from_disk = load(&root).unwrap();
        let from_memory = load_files(&files);
        let names = |p: &Project| {
            let services: Vec<String> = p.services.iter().map(|s| s.name.clone()).collect();
            let envs: Vec<(String, Vec<String>)> = p
                .environments
                .iter()
                .map(|e| {
                    let overlays = e.overlays.iter().map(|o| o.name.clone()).collect();
                    (e.input.name.clone(), overlays)
                })
                .collect();
            (services, envs)
        };
        assert_eq!(names(&from_disk), names(&from_memory));
        let yaml = |p: &Project| -> Vec<String> {
            let crds = p.crds.iter().map(|c| c.file);
            let manifests = p.manifests.iter().map(|m| m.file);
            crds.chain(manifests)
                .map(|file| p.sources.get(file).path.clone())
                .collect()
        };
        assert_eq!(yaml(&from_disk), yaml(&from_memory));
        let a = compile(&from_disk, &[]).unwrap();
        let b = compile(&from_memory, &[]).unwrap();
        assert!(!a.has_errors(), "{}", root.display());
        assert_eq!(a.tree(), b.tree());
        let messages = |c: &Compiled| -> Vec<String> {
            c.diagnostics.iter().map(|d| d.message.clone()).collect()
        };
        assert_eq!(messages(&a), messages(&b));
    }
}

// ---------------------------------------------------------------------------
// Arbitrary strings read back unchanged.

/// Pieces of text that have tripped YAML emitters: YAML 1.1 look-alikes,
/// indicators, comments, blanks, line breaks, control and special characters,
/// and manifold's own `${...}` and Kubernetes' `$(...)`.
const TOKENS: &[&str] = &[
    "yes",
    "no",
    "on",
    "Off",
    "y",
    "N",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "0755",
    "0o17",
    "0x1F",
    "1_000",
    "1e3",
    ".5",
    "-1",
    "+1",
    ".inf",
    "-.Inf",
    ".NaN",
    "12:30:00",
    "1:20",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
    "---",
    "...",
    "- ",
    "? ",
    ": ",
    " #",
    "#",
    "&a",
    "*a",
    "!tag",
    "|",
    ">",
    "%",
    "@",
    "`",
    "'",
    "\"",
    "\\",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "  ",
    "\u{0}",
    "\u{7}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{1F600}",
    "é",
    "${",
    "$${",
    "$",
    "$(",
    "$$(",
    "{}",
    "[]",
];

/// U+FFFE and U+FFFF are outside YAML's printable set: `emit` used to write
/// them as they are, and strict readers (libyaml, PyYAML) refuse the file.
/// Found by the fuzzer.
#[test]
fn noncharacters_are_escaped() {
    for c in ['\u{fffe}', '\u{ffff}'] {
        let yaml = manifold::emit::to_yaml(&serde_json::json!({ "a": format!("x{c}") }));
        assert_eq!(harness::check_characters(&yaml, &[]), Ok(()), "{yaml:?}");
    }
}

/// Any Unicode text, with the tricky pieces above mixed in often.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => any::<char>().prop_map(String::from),
        3 => prop::sample::select(TOKENS).prop_map(str::to_string),
        2 => "[ -~]{1,4}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

/// Label values that look like something else to YAML but are valid.
const LABEL_LOOKALIKES: &[&str] = &[
    "",
    "yes",
    "no",
    "on",
    "Off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "Null",
    "NULL",
    "0755",
    "0o17",
    "0x1F",
    "1_000",
    "1e3",
    "1e-3",
    "1.0",
    "1.5",
    "0",
    "00",
    "2024-01-01",
    "inf",
    "nan",
    "NaN",
];

/// Valid label values: `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`, at
/// most 63 characters.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(LABEL_LOOKALIKES).prop_map(str::to_string),
        "([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?",
    ]
}

#[derive(Debug)]
struct Strings {
    env: Vec<String>,
    config: Vec<String>,
    files: Vec<String>,
    labels: Vec<String>,
    annotations: Vec<String>,
    env_labels: Vec<String>,
    env_annotations: Vec<String>,
}

fn strings() -> impl Strategy<Value = Strings> {
    let some = |s: BoxedStrategy<String>| prop::collection::vec(s, 1..4);
    // `$(ENV_1)` in `ENV_0` would be an error (rendered later): right, but
    // not what this test is about. Other `$(NAME)`s may come from the
    // service's `env_from`, so they are no error either.
    let env_value = text()
        .prop_filter("no $(...) reference to a declared variable", |s| {
            !s.contains("$(ENV_")
        })
        .boxed();
    (
        some(env_value),
        some(text().boxed()),
        some(text().boxed()),
        some(label_value().boxed()),
        some(text().boxed()),
        some(label_value().boxed()),
        some(text().boxed()),
    )
        .prop_map(
            |(env, config, files, labels, annotations, env_labels, env_annotations)| Strings {
                env,
                config,
                files,
                labels,
                annotations,
                env_labels,
                env_annotations,
            },
        )
}

/// A TOML table of strings. In a service, where variables are expanded, a
/// literal `${` is written `$${`; environment files are taken as written.
fn table(name: &str, key: impl Fn(usize) -> String, values: &[String], service: bool) -> String {
    let mut out = format!("\n[{name}]\n");
    for (i, v) in values.iter().enumerate() {
        let v = if service {
            v.replace("${", "$${")
        } else {
            v.clone()
        };
        out.push_str(&format!("{} = {}\n", toml_string(&key(i)), toml_string(&v)));
    }
    out
}

fn env_key(i: usize) -> String {
    format!("ENV_{i}")
}
fn config_key(i: usize) -> String {
    format!("key_{i}")
}
fn file_path(i: usize) -> String {
    format!("/etc/app/file-{i}.txt")
}
fn label_key(i: usize) -> String {
    format!("example.com/label-{i}")
}
fn annotation_key(i: usize) -> String {
    format!("example.com/note-{i}")
}
fn env_label_key(i: usize) -> String {
    format!("example.org/env-label-{i}")
}
fn env_annotation_key(i: usize) -> String {
    format!("example.org/env-note-{i}")
}

/// Compiles a service carrying the strings; returns the output files, parsed.
fn compile_strings(s: &Strings) -> Result<BTreeMap<String, Yaml>, TestCaseError> {
    let mut service = String::from(
        "image = \"shop/web\"\nversion = \"1.0\"\nenv_from = [{ config_map = \"shared\" }]\n",
    );
    service += &table("env", env_key, &s.env, true);
    service += &table("config", config_key, &s.config, true);
    service += &table("files", file_path, &s.files, true);
    service += &table("labels", label_key, &s.labels, true);
    service += &table("annotations", annotation_key, &s.annotations, true);
    let mut environment = String::from("namespace = \"shop\"\nkube_version = \"1.35\"\n");
    environment += &table("labels", env_label_key, &s.env_labels, false);
    environment += &table("annotations", env_annotation_key, &s.env_annotations, false);
    let files = [
        ("services/web.toml".to_string(), service),
        ("environments/dev.toml".to_string(), environment),
    ];
    let project = load_files(&files);
    let compiled = compile(&project, &[]).unwrap();
    prop_assert!(
        !compiled.has_errors(),
        "{}\n{}\n{}",
        manifold::diag::render_human(&compiled.diagnostics, &project.sources, false),
        files[0].1,
        files[1].1
    );
    let mut out = BTreeMap::new();
    for (path, bytes) in &compiled.environments[0].files {
        let text = std::str::from_utf8(bytes).unwrap();
        if let Err(e) = harness::check_yaml(text) {
            return Err(TestCaseError::fail(format!("{path}: {e}\n{text}")));
        }
        let doc = YamlLoader::load_from_str(text).unwrap().remove(0);
        out.insert(path.clone(), doc);
    }
    Ok(out)
}

fn string(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

fn file<'a>(out: &'a BTreeMap<String, Yaml>, prefix: &str) -> &'a Yaml {
    out.iter()
        .find(|(path, _)| path.starts_with(prefix))
        .map(|(_, doc)| doc)
        .unwrap_or_else(|| panic!("no {prefix}* in {:?}", out.keys().collect::<Vec<_>>()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn strings_read_back_unchanged_from_the_yaml(s in strings()) {
        let out = compile_strings(&s)?;
        let deployment = file(&out, "web/deployment-web.yaml");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let env: BTreeMap<&str, &Yaml> = container["env"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), &e["value"]))
            .collect();
        for (i, v) in s.env.iter().enumerate() {
            prop_assert_eq!(env[env_key(i).as_str()], &string(v), "env {}", i);
        }
        let config = file(&out, "web/configmap-web-config-");
        for (i, v) in s.config.iter().enumerate() {
            prop_assert_eq!(&config["data"][config_key(i).as_str()], &string(v), "config {}", i);
        }
        let files = file(&out, "web/configmap-web-files-");
        for (i, v) in s.files.iter().enumerate() {
            let key = manifold::model::file_key(&file_path(i));
            prop_assert_eq!(&files["data"][key.as_str()], &string(v), "file {}", i);
        }
        let metadata = [
            &deployment["metadata"],
            &deployment["spec"]["template"]["metadata"],
            &config["metadata"],
        ];
        for m in metadata {
            for (i, v) in s.labels.iter().enumerate() {
                prop_assert_eq!(&m["labels"][label_key(i).as_str()], &string(v), "label {}", i);
            }
            for (i, v) in s.env_labels.iter().enumerate() {
                prop_assert_eq!(&m["labels"][env_label_key(i).as_str()], &string(v), "env label {}", i);
            }
        }
        for (i, v) in s.annotations.iter().enumerate() {
            prop_assert_eq!(
                &deployment["metadata"]["annotations"][annotation_key(i).as_str()],
                &string(v),
                "annotation {}",
                i
            );
        }
        let namespace = file(&out, "namespace.yaml");
        for (i, v) in s.env_labels.iter().enumerate() {
            prop_assert_eq!(&namespace["metadata"]["labels"][env_label_key(i).as_str()], &string(v));
        }
        for (i, v) in s.env_annotations.iter().enumerate() {
            let key = env_annotation_key(i);
            prop_assert_eq!(&namespace["metadata"]["annotations"][key.as_str()], &string(v));
            prop_assert_eq!(&deployment["metadata"]["annotations"][key.as_str()], &string(v));
        }
    }
}

// ---------------------------------------------------------------------------
// The merge rules.

const BASE: FileId = FileId(0);
const OVER: FileId = FileId(1);

/// A JSON tree as the spanned TOML tree, every node from `file`.
fn node(value: &Json, file: FileId) -> Node {
    let value = match value {
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => Value::Integer(n.as_i64().unwrap()),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(|i| node(i, file)).collect()),
        Json::Object(map) => {
            let mut table = Table::new();
            for (k, v) in map {
                let mut child = node(v, file);
                child.key = Some(0..0);
                table.insert(k.clone(), child);
            }
            Value::Table(table)
        }
        Json::Null => unreachable!("TOML has no null"),
    };
    Node {
        value,
        origin: Origin { file, span: 0..0 },
        key: None,
        overrode: Vec::new(),
    }
}

/// Keys and names from small sets, so that layers overlap often.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(&["a", "b", "c", "name"][..]).prop_map(str::to_string)
}

fn item_name() -> impl Strategy<Value = String> {
    prop::sample::select(&["x", "y", "z"][..]).prop_map(str::to_string)
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<bool>().prop_map(Json::from),
        (-2i64..3).prop_map(Json::from),
        item_name().prop_map(Json::from),
    ]
}

/// Arrays of tables that all have a `name`, the other keys from `value`.
fn named_array(value: impl Strategy<Value = Json> + Clone) -> impl Strategy<Value = Json> {
    let item = (item_name(), prop::collection::btree_map(key(), value, 0..3));
    prop::collection::vec(item, 1..4).prop_map(|items| {
        let items = items.into_iter().map(|(name, mut m)| {
            m.insert("name".into(), Json::from(name));
            Json::Object(m.into_iter().collect())
        });
        Json::Array(items.collect())
    })
}

/// Trees of tables, arrays of anything, and arrays of tables with a `name`.
fn tree() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(4, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(key(), inner.clone(), 0..4)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            named_array(inner),
        ]
    })
}

/// Two layers: mostly tables with the same small key set, so that they meet,
/// and often two named arrays.
fn layers() -> impl Strategy<Value = (Json, Json)> {
    let table = || {
        prop::collection::btree_map(key(), tree(), 0..4)
            .prop_map(|m| Json::Object(m.into_iter().collect()))
    };
    let named = || named_array(tree().boxed());
    prop_oneof![
        3 => (table(), table()),
        2 => (named(), named()),
        1 => (tree(), tree()),
    ]
}

/// The names of an array whose items are all tables with a string `name`
/// (README: "arrays of tables that all have a `name`"); `None` for any
/// other value, including the empty array.
fn names(value: &Json) -> Option<Vec<&str>> {
    let items = value.as_array().filter(|items| !items.is_empty())?;
    items
        .iter()
        .map(|i| i.as_object()?.get("name")?.as_str())
        .collect()
}

fn unique(names: &[&str]) -> bool {
    names.iter().collect::<BTreeSet<_>>().len() == names.len()
}

/// Whether every node of a tree was written by `file`.
fn all_from(n: &Node, file: FileId) -> bool {
    n.origin.file == file
        && match &n.value {
            Value::Array(items) => items.iter().all(|i| all_from(i, file)),
            Value::Table(t) => t.iter().all(|(_, v)| all_from(v, file)),
            _ => true,
        }
}

/// Checks `merged` (and `node`, the same merge on the TOML tree) against
/// the README's rules for `over` layered on `base`.
fn check_merge(base: &Json, over: &Json, merged: &Json, node: &Node) -> Result<(), TestCaseError> {
    if let (Json::Object(b), Json::Object(o), Json::Object(m)) = (base, over, merged) {
        // Tables merge key by key, at any depth.
        let keys: BTreeSet<&String> = b.keys().chain(o.keys()).collect();
        prop_assert_eq!(keys, m.keys().collect::<BTreeSet<_>>());
        // The TOML table keeps its order (environment variables render in
        // it): the base's keys, then the overlay's new ones, as written.
        let order: Vec<&String> = match &node.value {
            Value::Table(t) => t.keys().collect(),
            _ => return Err(TestCaseError::fail("the merged TOML table is not a table")),
        };
        let written: Vec<&String> = b
            .keys()
            .chain(o.keys().filter(|k| !b.contains_key(*k)))
            .collect();
        prop_assert_eq!(order, written);
        for (k, mv) in m {
            let child = node.get(k).unwrap();
            match (b.get(k), o.get(k)) {
                (Some(bv), None) => {
                    prop_assert_eq!(mv, bv);
                    prop_assert!(all_from(child, BASE), "`{}` comes from the base", k);
                }
                (None, Some(ov)) => {
                    prop_assert_eq!(mv, ov);
                    prop_assert!(all_from(child, OVER), "`{}` comes from the overlay", k);
                }
                (Some(bv), Some(ov)) => check_merge(bv, ov, mv, child)?,
                (None, None) => unreachable!(),
            }
        }
        return Ok(());
    }
    if let (Some(bn), Some(on)) = (names(base), names(over)) {
        // Named arrays merge by name; new names are appended, in order.
        let mut expected = bn.clone();
        for n in &on {
            if !expected.contains(n) {
                expected.push(n);
            }
        }
        let mn = names(merged);
        prop_assert_eq!(mn.as_ref(), Some(&expected));
        let (b, o, m) = (
            base.as_array().unwrap(),
            over.as_array().unwrap(),
            merged.as_array().unwrap(),
        );
        let Value::Array(items) = &node.value else {
            return Err(TestCaseError::fail("the merged TOML array is not an array"));
        };
        for (i, name) in expected.iter().enumerate() {
            let from_over: Vec<&Json> = o.iter().filter(|x| x["name"] == *name).collect();
            if i < b.len() && from_over.is_empty() {
                // Only in the base: untouched.
                prop_assert_eq!(&m[i], &b[i]);
                prop_assert!(all_from(&items[i], BASE));
            } else if i >= b.len() && from_over.len() == 1 {
                // Only in the overlay, once: as written there.
                prop_assert_eq!(&m[i], from_over[0]);
                prop_assert!(all_from(&items[i], OVER));
            } else if i < b.len() && from_over.len() == 1 && unique(&bn) {
                check_merge(&b[i], from_over[0], &m[i], &items[i])?;
            }
        }
        return Ok(());
    }
    // Everything else is replaced by the higher layer.
    prop_assert_eq!(merged, over);
    prop_assert!(
        all_from(node, OVER),
        "a replaced value comes from the overlay"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn merge_rules_hold_for_arbitrary_trees((base, over) in layers()) {
        let mut merged = base.clone();
        merge(&mut merged, &over);
        let mut merged_node = node(&base, BASE);
        merge(&mut merged_node, &node(&over, OVER));
        // The TOML tree and JSON follow the same rules.
        prop_assert_eq!(merged_node.to_json(), merged.clone());
        check_merge(&base, &over, &merged, &merged_node)?;
    }
}
