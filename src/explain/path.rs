//! Paths as `explain` reads and prints them: keys of the merged service
//! (`resources.cpu.limit`, `env.LOG_LEVEL`, `tracks.canary.weight`,
//! `annotations."prometheus.io/scrape"`) and fields of a rendered object
//! (`spec.template.spec.containers[0].resources.limits.cpu`).
//!
//! A key names a table entry; in an array, it names the item of that
//! `name` (or, for an unnamed port, that `port` number), the way layers
//! merge them; `[i]` names an item by its place. This module parses,
//! prints and follows paths; it knows no key's meaning.

use serde_json::Value as Json;

use crate::input::tree::{Node, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Parses `a.b."c.d"[0].e`; `Err` says what is wrong.
pub fn parse(text: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut chars = text.chars().peekable();
    let mut expect_key = true;
    while let Some(&c) = chars.peek() {
        match c {
            '.' if !expect_key => {
                chars.next();
                expect_key = true;
                continue;
            }
            '[' => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
                let index = digits
                    .trim()
                    .parse()
                    .map_err(|_| format!("`[{digits}]` is not an index; write `[0]`"))?;
                segs.push(Seg::Index(index));
            }
            '"' if expect_key => {
                chars.next();
                let mut key = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => key.extend(chars.next()),
                        Some(c) => key.push(c),
                        None => return Err(format!("unterminated quote in `{text}`")),
                    }
                }
                segs.push(Seg::Key(key));
            }
            _ if expect_key => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("empty key in `{text}`"));
                }
                segs.push(Seg::Key(key));
            }
            _ => return Err(format!("expected `.` or `[` in `{text}`")),
        }
        expect_key = false;
    }
    if segs.is_empty() || expect_key {
        return Err(format!("`{text}` is not a path: write keys joined by `.`"));
    }
    Ok(segs)
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
pub fn key_text(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        super::text::string(key)
    }
}

/// Prints a path the way [`parse`] reads it.
pub fn display(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&key_text(k));
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// How an item of an array is named in a path: its `name`, else its
/// `port`, else its place.
pub fn item_seg(item: &Node, index: usize) -> Seg {
    if let Some(name) = item.get("name").and_then(Node::as_str) {
        return Seg::Key(name.to_string());
    }
    match item.get("port").map(|p| &p.value) {
        Some(Value::Integer(port)) => Seg::Key(port.to_string()),
        _ => Seg::Index(index),
    }
}

/// The item of `items` a step names, with its place.
fn item<'a>(items: &'a [Node], seg: &Seg) -> Option<(usize, &'a Node)> {
    match seg {
        Seg::Index(i) => items.get(*i).map(|n| (*i, n)),
        Seg::Key(k) => items
            .iter()
            .enumerate()
            .find(|(i, n)| item_seg(n, *i) == Seg::Key(k.clone())),
    }
}

/// Follows `segs` from `node`: the node there, and the path as the merged
/// tree names it (items by name); `None` where the path leaves the tree.
pub fn follow<'a>(node: &'a Node, segs: &[Seg]) -> Option<(&'a Node, Vec<Seg>)> {
    let mut node = node;
    let mut canonical = Vec::with_capacity(segs.len());
    for seg in segs {
        node = match (&node.value, seg) {
            (Value::Table(t), Seg::Key(k)) => {
                canonical.push(seg.clone());
                t.get(k)?
            }
            (Value::Array(items), _) => {
                let (i, found) = item(items, seg)?;
                canonical.push(item_seg(found, i));
                found
            }
            _ => return None,
        };
    }
    Some((node, canonical))
}

/// Follows `segs` in a rendered object; a key in an array names the item
/// of that `name`.
pub fn follow_json<'a>(value: &'a Json, segs: &[Seg]) -> Option<&'a Json> {
    let mut value = value;
    for seg in segs {
        value = match (value, seg) {
            (Json::Object(map), Seg::Key(k)) => map.get(k)?,
            (Json::Array(items), Seg::Index(i)) => items.get(*i)?,
            (Json::Array(items), Seg::Key(k)) => items
                .iter()
                .find(|item| item.get("name").and_then(Json::as_str) == Some(k))?,
            _ => return None,
        };
    }
    Some(value)
}

/// The same path with every key that names an array item replaced by the
/// item's place, as Kubernetes prints field paths.
pub fn json_indices(value: &Json, segs: &[Seg]) -> Vec<Seg> {
    let mut out = Vec::with_capacity(segs.len());
    let mut value = Some(value);
    for seg in segs {
        let here = value;
        value = here.and_then(|v| follow_json(v, std::slice::from_ref(seg)));
        match (here, seg) {
            (Some(Json::Array(items)), Seg::Key(k)) => {
                let at = items
                    .iter()
                    .position(|item| item.get("name").and_then(Json::as_str) == Some(k));
                out.push(at.map_or(seg.clone(), Seg::Index));
            }
            _ => out.push(seg.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(segs: &[Seg]) -> String {
        display(segs)
    }

    #[test]
    fn paths_read_quoted_keys_and_indices_and_print_back() {
        let segs = parse(r#"annotations."prometheus.io/scrape""#).unwrap();
        assert_eq!(
            segs,
            [
                Seg::Key("annotations".into()),
                Seg::Key("prometheus.io/scrape".into())
            ]
        );
        assert_eq!(keys(&segs), r#"annotations."prometheus.io/scrape""#);
        let segs = parse("spec.containers[0].resources").unwrap();
        assert_eq!(segs[2], Seg::Index(0));
        assert_eq!(keys(&segs), "spec.containers[0].resources");
    }

    #[test]
    fn malformed_paths_say_why() {
        assert!(parse("").is_err());
        assert!(parse("a..b").is_err());
        assert!(parse("a.").is_err());
        assert!(parse("a[x]").unwrap_err().contains("not an index"));
        assert!(parse("a.\"b").unwrap_err().contains("unterminated"));
    }

    #[test]
    fn items_are_followed_by_name_port_or_place() {
        let tree = crate::input::tree::parse(
            crate::diag::FileId(0),
            "[[ports]]\nport = 80\n[[ports]]\nname = \"http\"\nport = 81\n",
        )
        .unwrap();
        let (node, canonical) = follow(&tree, &parse("ports.http.port").unwrap()).unwrap();
        assert!(matches!(node.value, Value::Integer(81)));
        assert_eq!(keys(&canonical), "ports.http.port");
        let (_, canonical) = follow(&tree, &parse("ports[0]").unwrap()).unwrap();
        assert_eq!(keys(&canonical), "ports.80");
        assert!(follow(&tree, &parse("ports.debug").unwrap()).is_none());
    }
}
