//! Merging layers of configuration, and `${...}` variables in strings.
//!
//! Merge order, low to high: built-in defaults (the `serde` defaults in
//! `model`) < the environment's `[defaults]` < the service file < the service's
//! overlay. Tables merge key by key; arrays whose items are all tables with a
//! `name` merge item by item by that name (new names are appended); every
//! other value is replaced by the higher layer. Every merged node keeps the
//! origin of the layer that wrote it, so later messages point at the right file.
//! The same rules apply to `patches` on rendered objects (see `render`).

use std::collections::BTreeMap;

use super::tree::{Node, Value};
use crate::diag::{Diagnostic, did_you_mean, one_of};

/// Merges `over` into `base`.
pub fn merge(base: &mut Node, over: &Node) {
    match (&mut base.value, &over.value) {
        (Value::Table(b), Value::Table(o)) => {
            for (key, value) in o.iter() {
                match b.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        b.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o)) if is_named(b) && is_named(o) => {
            for item in o {
                let name = item_name(item);
                match b.iter_mut().find(|x| item_name(x) == name) {
                    Some(existing) => merge(existing, item),
                    None => b.push(item.clone()),
                }
            }
        }
        _ => {
            let key = base.key.clone();
            *base = over.clone();
            // Keep pointing at the key as written in the higher layer, if any.
            if base.key.is_none() {
                base.key = key;
            }
        }
    }
}

fn item_name(node: &Node) -> Option<&str> {
    node.get("name").and_then(Node::as_str)
}

fn is_named(items: &[Node]) -> bool {
    !items.is_empty() && items.iter().all(|i| item_name(i).is_some())
}

/// Merges JSON the same way, for patches on rendered objects.
pub fn merge_json(base: &mut serde_json::Value, over: &serde_json::Value) {
    use serde_json::Value as J;
    let named = |items: &Vec<J>| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("name").and_then(J::as_str).is_some())
    };
    match (base, over) {
        (J::Object(b), J::Object(o)) => {
            for (key, value) in o {
                match b.get_mut(key) {
                    Some(existing) => merge_json(existing, value),
                    None => {
                        b.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (J::Array(b), J::Array(o)) if named(b) && named(o) => {
            for item in o {
                let name = item.get("name");
                match b.iter_mut().find(|x| x.get("name") == name) {
                    Some(existing) => merge_json(existing, item),
                    None => b.push(item.clone()),
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// Replaces `${name}`-style variables in every string of the tree. `$${` writes
/// a literal `${`. Unknown variables are reported where they are written.
pub fn interpolate(node: &mut Node, vars: &BTreeMap<&str, String>, diags: &mut Vec<Diagnostic>) {
    match &mut node.value {
        Value::String(s) if s.contains('$') => match expand(s, vars) {
            Ok(expanded) => *s = expanded,
            Err(unknown) => {
                let names: Vec<&str> = vars.keys().copied().collect();
                let mut d = Diagnostic::error(
                    "unknown-variable",
                    format!("unknown variable `${{{unknown}}}`"),
                )
                .at(node.origin.file, node.origin.span.clone());
                d = match did_you_mean(&unknown, names.iter().copied()) {
                    Some(better) => d.hint(format!(
                        "did you mean `${{{better}}}`? write `$${{` for a literal `${{`"
                    )),
                    None => d.hint(format!(
                        "variables are {}; write `$${{` for a literal `${{`",
                        one_of(
                            &names
                                .iter()
                                .map(|n| format!("${{{n}}}"))
                                .collect::<Vec<_>>()
                        )
                    )),
                };
                diags.push(d);
            }
        },
        Value::Array(items) => {
            for item in items {
                interpolate(item, vars, diags);
            }
        }
        Value::Table(table) => {
            for value in table.values_mut() {
                interpolate(value, vars, diags);
            }
        }
        _ => {}
    }
}

fn expand(s: &str, vars: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(tail.to_string());
            };
            let name = &tail[..end];
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => return Err(name.to_string()),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::input::tree::parse;

    fn merged(base: &str, over: &str) -> serde_json::Value {
        let mut b = parse(FileId(0), base).unwrap();
        let o = parse(FileId(1), over).unwrap();
        merge(&mut b, &o);
        b.to_json()
    }

    #[test]
    fn tables_merge_deeply() {
        let j = merged(
            "[resources]\ncpu = { request = \"100m\", limit = \"1\" }\n",
            "[resources]\ncpu = { limit = \"2\" }\nmemory = \"1Gi\"\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"resources": {"cpu": {"request": "100m", "limit": "2"}, "memory": "1Gi"}})
        );
    }

    #[test]
    fn scalars_replace() {
        assert_eq!(
            merged("replicas = 1\n", "replicas = 3\n"),
            serde_json::json!({"replicas": 3})
        );
    }

    #[test]
    fn a_table_replaces_a_scalar_and_back() {
        let j = merged(
            "[resources]\ncpu = \"1\"\n",
            "[resources]\ncpu = { limit = \"2\" }\n",
        );
        assert_eq!(j, serde_json::json!({"resources": {"cpu": {"limit": "2"}}}));
        let j = merged(
            "[resources]\ncpu = { limit = \"2\" }\n",
            "[resources]\ncpu = \"1\"\n",
        );
        assert_eq!(j, serde_json::json!({"resources": {"cpu": "1"}}));
    }

    #[test]
    fn named_tables_merge_by_name_and_new_names_append() {
        let j = merged(
            "[[ports]]\nname = \"http\"\nport = 80\n[[ports]]\nname = \"health\"\nport = 81\n",
            "[[ports]]\nname = \"health\"\nport = 8081\n[[ports]]\nname = \"debug\"\nport = 9229\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"ports": [
                {"name": "http", "port": 80},
                {"name": "health", "port": 8081},
                {"name": "debug", "port": 9229},
            ]})
        );
    }

    #[test]
    fn other_arrays_replace() {
        let j = merged("command = [\"a\", \"b\"]\n", "command = [\"c\"]\n");
        assert_eq!(j, serde_json::json!({"command": ["c"]}));
        let j = merged(
            "[[placement.tolerations]]\nkey = \"a\"\n",
            "[[placement.tolerations]]\nkey = \"b\"\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"placement": {"tolerations": [{"key": "b"}]}})
        );
    }

    #[test]
    fn merged_values_remember_the_layer_that_wrote_them() {
        let mut b = parse(FileId(0), "replicas = 1\nimage = \"a\"\n").unwrap();
        let o = parse(FileId(1), "replicas = 3\n").unwrap();
        merge(&mut b, &o);
        assert_eq!(b.get("replicas").unwrap().origin.file, FileId(1));
        assert_eq!(b.get("image").unwrap().origin.file, FileId(0));
    }

    #[test]
    fn json_patches_follow_the_same_rules() {
        let mut base = serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x"}], "hostNetwork": false}});
        merge_json(
            &mut base,
            &serde_json::json!({"spec": {"containers": [{"name": "a", "stdin": true}], "hostNetwork": true}}),
        );
        assert_eq!(
            base,
            serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x", "stdin": true}], "hostNetwork": true}})
        );
    }

    #[test]
    fn variables_expand_and_dollar_dollar_escapes() {
        let vars = BTreeMap::from([("name", "http".to_string()), ("env", "prod".to_string())]);
        assert_eq!(
            expand("topic=${name}-${env}", &vars).unwrap(),
            "topic=http-prod"
        );
        assert_eq!(
            expand("echo $${HOME} $1 $(VAR)", &vars).unwrap(),
            "echo ${HOME} $1 $(VAR)"
        );
        assert_eq!(expand("${nmae}", &vars).unwrap_err(), "nmae");
    }

    #[test]
    fn unknown_variables_are_located_and_suggested() {
        let mut t = parse(FileId(0), "path = \"/${nmae}/metrics\"\n").unwrap();
        let vars = BTreeMap::from([("name", "http".to_string())]);
        let mut diags = Vec::new();
        interpolate(&mut t, &vars, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "unknown variable `${nmae}`");
        assert_eq!(diags[0].span, Some(7..25));
        assert!(
            diags[0]
                .hint
                .as_deref()
                .unwrap()
                .starts_with("did you mean `${name}`?")
        );
    }
}
