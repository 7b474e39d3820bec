//! The merge rules, one implementation for every tree they apply to.
//!
//! Merge order, low to high: built-in defaults (the `serde` defaults in
//! `model`) < the environment's `[defaults]` < the service file < the service's
//! overlay. Tables merge key by key; arrays whose items are all tables with a
//! `name` merge item by item by that name (new names are appended); every
//! other value is replaced by the higher layer. A table keeps the written
//! order of its keys: a key the higher layer replaces keeps its place, and the
//! keys it adds follow, in the order it writes them (environment variables are
//! rendered in this order). In the input, an item without a `name` may stand
//! for itself by its `port` number instead (container ports may be unnamed):
//! two items where either has no name are the same item when their `port` is.
//! Every merged node keeps the origin of the layer that wrote it, so later
//! messages point at the right file, and the origins of the values it
//! replaced (`Node::overrode`), so that they can name the other layers that
//! set it; [`Layers`] says which file is which layer.
//! The same rules apply to `patches` on rendered objects (see `render`),
//! by `name` only: the rules are written once, in [`merge`], over the
//! [`Mergeable`] view that both the spanned TOML tree and JSON provide.

use serde_json::Value as Json;

use super::tree::{Node, Value};
use crate::diag::FileId;

/// The files merged into one service, low to high: which file is which
/// layer, to name the layers a value was set in.
#[derive(Clone, Copy, Debug)]
pub struct Layers {
    /// The environment file, whose `[defaults]` is the lowest layer.
    pub environment: FileId,
    pub service: FileId,
    pub overlay: Option<FileId>,
}

impl Layers {
    /// The layer `file` is, in words: "the overlay", "the service file" or
    /// "the environment's `[defaults]`".
    pub fn name(&self, file: FileId) -> &'static str {
        if Some(file) == self.overlay {
            "the overlay"
        } else if file == self.service {
            "the service file"
        } else if file == self.environment {
            "the environment's `[defaults]`"
        } else {
            "another file"
        }
    }
}

/// A tree the merge rules can combine: tables, arrays and other values.
pub trait Mergeable: Clone {
    /// Whether this value is a table (a JSON object).
    fn is_table(&self) -> bool;
    /// Calls `f` with each entry of a table, in order; nothing for other values.
    fn for_each_entry(&self, f: impl FnMut(&str, &Self));
    /// The entry `key` of a table.
    fn entry_mut(&mut self, key: &str) -> Option<&mut Self>;
    /// Adds an entry to a table.
    fn insert_entry(&mut self, key: &str, value: Self);
    /// The items of an array.
    fn items(&self) -> Option<&[Self]>;
    /// The items of an array, to merge into.
    fn items_mut(&mut self) -> Option<&mut Vec<Self>>;
    /// The `name` of a table, for arrays merged by name.
    fn name(&self) -> Option<&str>;
    /// The `port` number of a table, which identifies an item that has no
    /// `name` (an unnamed container port).
    fn port(&self) -> Option<i64>;
    /// Replaces this value with the higher layer's.
    fn replace_with(&mut self, over: &Self);
}

/// Merges `over` into `base`.
pub fn merge<T: Mergeable>(base: &mut T, over: &T) {
    if base.is_table() && over.is_table() {
        over.for_each_entry(|key, value| match base.entry_mut(key) {
            Some(existing) => merge(existing, value),
            None => base.insert_entry(key, value.clone()),
        });
        return;
    }
    if let (Some(items), Some(b)) = (over.items(), base.items_mut())
        && is_keyed(b)
        && is_keyed(items)
    {
        for item in items {
            match b.iter_mut().find(|x| same_item(&**x, item)) {
                Some(existing) => merge(existing, item),
                None => b.push(item.clone()),
            }
        }
        return;
    }
    base.replace_with(over);
}

/// Whether every item of a non-empty array says which item it is: by its
/// `name`, or by its `port`.
fn is_keyed<T: Mergeable>(items: &[T]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.name().is_some() || i.port().is_some())
}

/// Two items of keyed arrays are the same item when their names are equal,
/// or, when either has no name, their ports.
fn same_item<T: Mergeable>(a: &T, b: &T) -> bool {
    match (a.name(), b.name()) {
        (Some(x), Some(y)) => x == y,
        _ => a.port().is_some() && a.port() == b.port(),
    }
}

impl Mergeable for Node {
    fn is_table(&self) -> bool {
        matches!(self.value, Value::Table(_))
    }

    fn for_each_entry(&self, mut f: impl FnMut(&str, &Self)) {
        if let Value::Table(t) = &self.value {
            for (key, value) in t.iter() {
                f(key, value);
            }
        }
    }

    fn entry_mut(&mut self, key: &str) -> Option<&mut Self> {
        match &mut self.value {
            Value::Table(t) => t.get_mut(key),
            _ => None,
        }
    }

    fn insert_entry(&mut self, key: &str, value: Self) {
        if let Value::Table(t) = &mut self.value {
            t.insert(key.to_string(), value);
        }
    }

    fn items(&self) -> Option<&[Self]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    fn items_mut(&mut self) -> Option<&mut Vec<Self>> {
        match &mut self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    fn name(&self) -> Option<&str> {
        self.get("name").and_then(Node::as_str)
    }

    fn port(&self) -> Option<i64> {
        match self.get("port").map(|n| &n.value) {
            Some(Value::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    fn replace_with(&mut self, over: &Self) {
        let key = self.key.take();
        let mut overrode = std::mem::take(&mut self.overrode);
        overrode.push(self.origin.clone());
        *self = over.clone();
        overrode.append(&mut self.overrode);
        self.overrode = overrode;
        // Keep pointing at the key as written in the higher layer, if any.
        if self.key.is_none() {
            self.key = key;
        }
    }
}

impl Mergeable for Json {
    fn is_table(&self) -> bool {
        self.is_object()
    }

    fn for_each_entry(&self, mut f: impl FnMut(&str, &Self)) {
        if let Json::Object(map) = self {
            for (key, value) in map {
                f(key, value);
            }
        }
    }

    fn entry_mut(&mut self, key: &str) -> Option<&mut Self> {
        self.as_object_mut()?.get_mut(key)
    }

    fn insert_entry(&mut self, key: &str, value: Self) {
        if let Json::Object(map) = self {
            map.insert(key.to_string(), value);
        }
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn items_mut(&mut self) -> Option<&mut Vec<Self>> {
        self.as_array_mut()
    }

    fn name(&self) -> Option<&str> {
        self.get("name").and_then(Json::as_str)
    }

    /// Never: patches merge Kubernetes' lists by `name` alone, as they
    /// always have. A `port` in a Kubernetes list is a Service's or a
    /// NetworkPolicy's, not a container's, and a patch of unnamed Service
    /// ports replaces the list.
    fn port(&self) -> Option<i64> {
        None
    }

    fn replace_with(&mut self, over: &Self) {
        *self = over.clone();
    }
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
    fn a_replaced_value_remembers_the_layers_it_overrode() {
        let text = [
            "replicas = 2\n",
            "name = \"web\"\nreplicas = 3\n",
            "replicas = 40\n",
        ];
        let mut tree = parse(FileId(0), text[0]).unwrap();
        merge(&mut tree, &parse(FileId(1), text[1]).unwrap());
        merge(&mut tree, &parse(FileId(2), text[2]).unwrap());
        let replicas = tree.get("replicas").unwrap();
        assert_eq!(replicas.origin.file, FileId(2));
        let earlier: Vec<(FileId, &str)> = replicas
            .overrode
            .iter()
            .map(|o| (o.file, &text[o.file.0 as usize][o.span.clone()]))
            .collect();
        assert_eq!(earlier, vec![(FileId(0), "2"), (FileId(1), "3")]);
        // A value written once overrode nothing.
        assert!(tree.get("name").unwrap().overrode.is_empty());
        let layers = Layers {
            environment: FileId(0),
            service: FileId(1),
            overlay: Some(FileId(2)),
        };
        assert_eq!(layers.name(FileId(0)), "the environment's `[defaults]`");
        assert_eq!(layers.name(FileId(2)), "the overlay");
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
    fn unnamed_ports_merge_by_number() {
        let j = merged(
            "[[ports]]\nport = 80\n[[ports]]\nname = \"health\"\nport = 81\n",
            "[[ports]]\nport = 80\nprotocol = \"UDP\"\n[[ports]]\nport = 9090\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"ports": [
                {"port": 80, "protocol": "UDP"},
                {"name": "health", "port": 81},
                {"port": 9090},
            ]})
        );
    }

    #[test]
    fn a_name_given_in_a_higher_layer_merges_into_the_unnamed_port_of_that_number() {
        let j = merged(
            "[[ports]]\nport = 8080\n",
            "[[ports]]\nname = \"http\"\nport = 8080\n[[ports]]\nname = \"admin\"\nport = 8081\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"ports": [
                {"name": "http", "port": 8080},
                {"name": "admin", "port": 8081},
            ]})
        );
        // And the other way round: an unnamed port of a named one's number
        // is that port.
        let j = merged(
            "[[ports]]\nname = \"http\"\nport = 8080\n",
            "[[ports]]\nport = 8080\nprotocol = \"TCP\"\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})
        );
    }

    #[test]
    fn two_names_are_two_ports_even_on_one_number() {
        let j = merged(
            "[[ports]]\nname = \"http\"\nport = 8080\n",
            "[[ports]]\nname = \"web\"\nport = 8080\n",
        );
        assert_eq!(
            j,
            serde_json::json!({"ports": [
                {"name": "http", "port": 8080},
                {"name": "web", "port": 8080},
            ]})
        );
    }

    #[test]
    fn patches_do_not_match_unnamed_items_by_port() {
        // A patch of a Service's ports without names replaces them, as
        // before unnamed container ports existed.
        let mut base =
            serde_json::json!({"ports": [{"name": "http", "port": 80, "targetPort": "http"}]});
        merge(
            &mut base,
            &serde_json::json!({"ports": [{"port": 80, "targetPort": 8080}]}),
        );
        assert_eq!(
            base,
            serde_json::json!({"ports": [{"port": 80, "targetPort": 8080}]})
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
    fn replaced_keys_keep_their_place_and_new_keys_follow_in_written_order() {
        // The order environment variables are rendered in, which decides what
        // Kubernetes expands in `$(VAR)`.
        let mut b = parse(FileId(0), "[env]\nZ = \"1\"\nA = \"2\"\nM = \"3\"\n").unwrap();
        let o = parse(FileId(1), "[env]\nQ = \"4\"\nA = \"5\"\nB = \"6\"\n").unwrap();
        merge(&mut b, &o);
        let env = b.get("env").unwrap().as_table().unwrap();
        let order: Vec<(&str, &str)> = env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        assert_eq!(
            order,
            [("Z", "1"), ("A", "5"), ("M", "3"), ("Q", "4"), ("B", "6")]
        );
        assert_eq!(env.get("A").unwrap().origin.file, FileId(1));
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
        merge(
            &mut base,
            &serde_json::json!({"spec": {"containers": [{"name": "a", "stdin": true}], "hostNetwork": true}}),
        );
        assert_eq!(
            base,
            serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x", "stdin": true}], "hostNetwork": true}})
        );
    }
}
