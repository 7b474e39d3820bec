//! What `promote` copies: the chosen values of a service's merged view in
//! the source environment that differ from the target's merged view.
//!
//! - `version`: `version`, and the `version` of each side and init
//!   container that has one in the source;
//! - `tracks`: each source track's `version` and `weight` (a track the
//!   target lacks is added with them); tracks only the target has are left
//!   alone;
//! - `config`: each key of `[config]` and `[env]` that the source's
//!   overlay sets (values the service file or the environment's
//!   `[defaults]` give are the same everywhere, or meant to differ).
//!
//! A value the source does not have is never removed from the target.
//! Values are compared and copied as written, before `${...}` variables.

use toml_edit::{InlineTable, Value as Toml};

use super::document::Segment;
use crate::input::tree::{Node, Value};

/// Which values `promote` copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct What {
    pub version: bool,
    pub tracks: bool,
    pub config: bool,
}

/// One value to write into the target's overlay.
#[derive(Debug)]
pub struct Copy {
    pub path: Vec<Segment>,
    pub value: Toml,
    /// The target's value before, as TOML; `None` when it has none.
    pub was: Option<String>,
}

/// The values of `source` (a merged view; `source_overlay` the source's
/// overlay alone) that `target` (a merged view) lacks or has otherwise.
pub fn chosen(
    source: &Node,
    source_overlay: Option<&Node>,
    target: &Node,
    what: What,
) -> Vec<Copy> {
    let mut out = Vec::new();
    if what.version {
        copy(
            &mut out,
            vec![key("version")],
            source.get("version"),
            target.get("version"),
        );
        for list in ["containers", "init_containers"] {
            for (name, item) in named(source.get(list)) {
                let theirs = find(target.get(list), name).and_then(|t| t.get("version"));
                let path = vec![key(list), Segment::Item(name.into()), key("version")];
                copy(&mut out, path, item.get("version"), theirs);
            }
        }
    }
    if what.tracks {
        for (name, track) in named(source.get("tracks")) {
            let theirs = find(target.get("tracks"), name);
            for k in ["version", "weight"] {
                let path = vec![key("tracks"), Segment::Item(name.into()), key(k)];
                copy(&mut out, path, track.get(k), theirs.and_then(|t| t.get(k)));
            }
        }
    }
    if what.config {
        for table in ["config", "env"] {
            let Some(Value::Table(set)) =
                source_overlay.and_then(|o| o.get(table)).map(|n| &n.value)
            else {
                continue;
            };
            for k in set.keys() {
                let mine = source.get(table).and_then(|t| t.get(k));
                let theirs = target.get(table).and_then(|t| t.get(k));
                copy(&mut out, vec![key(table), key(k)], mine, theirs);
            }
        }
    }
    out
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

/// Adds a copy of `mine` when `theirs` differs.
fn copy(out: &mut Vec<Copy>, path: Vec<Segment>, mine: Option<&Node>, theirs: Option<&Node>) {
    let Some(mine) = mine else { return };
    if theirs.is_some_and(|t| t.to_json() == mine.to_json()) {
        return;
    }
    let Some(value) = toml(mine) else { return };
    out.push(Copy {
        path,
        value,
        was: theirs.and_then(toml).map(|v| super::document::shown(&v)),
    });
}

/// The items of an array of tables, by `name`.
fn named(list: Option<&Node>) -> Vec<(&str, &Node)> {
    match list.map(|n| &n.value) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| Some((i.get("name")?.as_str()?, i)))
            .collect(),
        _ => Vec::new(),
    }
}

fn find<'a>(list: Option<&'a Node>, name: &str) -> Option<&'a Node> {
    named(list)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, i)| i)
}

/// A value of the spanned tree as a TOML value to write.
fn toml(node: &Node) -> Option<Toml> {
    Some(match &node.value {
        Value::String(s) => Toml::from(s.as_str()),
        Value::Integer(i) => Toml::from(*i),
        Value::Float(f) => Toml::from(*f),
        Value::Boolean(b) => Toml::from(*b),
        Value::Datetime(s) => s.parse::<Toml>().ok()?,
        Value::Array(items) => {
            let mut array = toml_edit::Array::new();
            for item in items {
                array.push(toml(item)?);
            }
            Toml::Array(array)
        }
        Value::Table(t) => {
            let mut table = InlineTable::new();
            for (k, v) in t.iter() {
                table.insert(k, toml(v)?);
            }
            Toml::InlineTable(table)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::input::tree::parse;

    fn tree(text: &str) -> Node {
        parse(FileId(0), text).unwrap()
    }

    fn copies(source: &str, overlay: &str, target: &str, what: What) -> Vec<String> {
        let overlay = tree(overlay);
        chosen(&tree(source), Some(&overlay), &tree(target), what)
            .into_iter()
            .map(|c| {
                format!(
                    "{} = {} (was {})",
                    super::super::document::dotted(&c.path),
                    c.value,
                    c.was.unwrap_or_else(|| "nothing".into())
                )
            })
            .collect()
    }

    const SOURCE: &str = r#"
version = "1.2"
containers = [{ name = "proxy", version = "0.9" }, { name = "log" }]
[[tracks]]
name = "canary"
version = "1.3"
weight = 20
[env]
A = "same"
B = "new"
C = { secret = "db", key = "url" }
[config]
X = 1
"#;
    const OVERLAY: &str =
        "env = { B = \"new\", C = { secret = \"db\", key = \"url\" }, A = \"same\" }\n";
    const TARGET: &str = r#"
version = "1.1"
containers = [{ name = "proxy", version = "0.9" }, { name = "log" }]
[[tracks]]
name = "canary"
version = "1.1"
weight = 20
[env]
A = "same"
B = "old"
[config]
X = 2
"#;

    #[test]
    fn only_the_chosen_values_that_differ_are_copied() {
        let version = What {
            version: true,
            ..What::default()
        };
        assert_eq!(
            copies(SOURCE, OVERLAY, TARGET, version),
            vec!["version = \"1.2\" (was \"1.1\")"]
        );
        let tracks = What {
            tracks: true,
            ..What::default()
        };
        assert_eq!(
            copies(SOURCE, OVERLAY, TARGET, tracks),
            vec!["tracks.canary.version = \"1.3\" (was \"1.1\")"]
        );
        let config = What {
            config: true,
            ..What::default()
        };
        assert_eq!(
            copies(SOURCE, OVERLAY, TARGET, config),
            vec![
                "env.B = \"new\" (was \"old\")",
                "env.C = { secret = \"db\", key = \"url\" } (was nothing)",
            ]
        );
    }

    #[test]
    fn a_container_version_and_a_missing_track_are_copied() {
        let target = TARGET
            .replace("version = \"0.9\"", "version = \"0.8\"")
            .replace("name = \"canary\"", "name = \"blue\"");
        let all = What {
            version: true,
            tracks: true,
            config: false,
        };
        assert_eq!(
            copies(SOURCE, OVERLAY, &target, all),
            vec![
                "version = \"1.2\" (was \"1.1\")",
                "containers.proxy.version = \"0.9\" (was \"0.8\")",
                "tracks.canary.version = \"1.3\" (was nothing)",
                "tracks.canary.weight = 20 (was nothing)",
            ]
        );
    }
}
