//! The chain of layers of one value: the built-in default, then each layer
//! that wrote it, low to high, the last one in force. It is read from what
//! the merge keeps (`Node::origin` and `Node::overrode`, see
//! `input::merge`); nothing here tracks layers a second time.

use serde_json::Value as Json;

use super::path::Seg;
use super::schema;
use super::text;
use crate::diag::{FileId, Sources};
use crate::input::merge::Layers;
use crate::input::tree::{Node, Origin, Value};
use crate::model::WorkloadKind;

/// Where a value of the chain comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// The schema's `default`: no file wrote it.
    BuiltIn,
    /// The environment's `[defaults]`.
    Defaults,
    Service,
    Overlay,
    /// The environment file outside `[defaults]` (`registry`, `labels`):
    /// not a layer of the service, but rendered into its objects.
    Environment,
}

impl Layer {
    /// The name in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Layer::BuiltIn => "built-in",
            Layer::Defaults => "defaults",
            Layer::Service => "service",
            Layer::Overlay => "overlay",
            Layer::Environment => "environment",
        }
    }

    /// The name in text.
    pub fn label(self) -> &'static str {
        match self {
            Layer::BuiltIn => "built-in default",
            Layer::Defaults => "[defaults]",
            Layer::Service => "service file",
            Layer::Overlay => "overlay",
            Layer::Environment => "environment",
        }
    }

    /// The layer of a value of the merged service written in `file`.
    fn of(file: FileId, layers: &Layers) -> Layer {
        if Some(file) == layers.overlay {
            Layer::Overlay
        } else if file == layers.service {
            Layer::Service
        } else {
            Layer::Defaults
        }
    }
}

/// A file, line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// One value in a chain.
#[derive(Clone, Debug)]
pub struct Entry {
    pub layer: Layer,
    /// `None` for a built-in default.
    pub at: Option<Place>,
    /// The value as written in that layer (before `${...}` is expanded),
    /// or the built-in default as TOML.
    pub written: String,
}

/// A value of the merged service and the chain of layers that made it.
#[derive(Clone, Debug)]
pub struct Explained {
    /// The key, items of arrays named by their `name`.
    pub key: Vec<Seg>,
    /// The value in force, `${...}` expanded; `None` when no layer sets it
    /// and it has no built-in default.
    pub value: Option<Json>,
    /// Low to high; the last entry is in force. Empty when unset.
    pub chain: Vec<Entry>,
    /// The value in force was written with `${...}`.
    pub expanded: bool,
    /// What the merged value does not say: that the objects leave it out.
    pub ignored: Option<&'static str>,
}

/// What a chain is read with: the files and which layer each is.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub sources: &'a Sources,
    pub layers: &'a Layers,
    /// The merged service: some built-in defaults depend on other keys.
    pub tree: &'a Node,
    pub kind: WorkloadKind,
}

impl Reader<'_> {
    pub fn place(&self, origin: &Origin) -> Place {
        let (line, column) = self.sources.line_col(origin.file, origin.span.start);
        Place {
            file: self.sources.get(origin.file).path.clone(),
            line,
            column,
        }
    }

    /// The text of `origin`, on one line.
    pub fn written(&self, origin: &Origin) -> String {
        let text = &self.sources.get(origin.file).text;
        let raw = text.get(origin.span.clone()).unwrap_or_default();
        let mut lines = raw.lines();
        let first = lines.next().unwrap_or_default().trim_end();
        let more = lines.next().is_some();
        let mut shown: String = first.chars().take(60).collect();
        if more || shown.len() < first.len() {
            shown.push_str(" …");
        }
        shown
    }

    fn entry(&self, origin: &Origin, layer: Layer) -> Entry {
        Entry {
            layer,
            at: Some(self.place(origin)),
            written: self.written(origin),
        }
    }

    /// The chain of the value `node` at `key`: the built-in default first
    /// when the schema has one, then every layer that wrote it.
    pub fn explain(&self, key: Vec<Seg>, node: &Node) -> Explained {
        let mut chain: Vec<Entry> = self.built_in(&key).into_iter().collect();
        for earlier in &node.overrode {
            chain.push(self.entry(earlier, Layer::of(earlier.file, self.layers)));
        }
        let last = self.entry(&node.origin, Layer::of(node.origin.file, self.layers));
        let expanded = matches!(node.value, Value::String(_)) && last.written.contains("${");
        chain.push(last);
        Explained {
            ignored: self.ignored(&key),
            key,
            value: Some(node.to_json()),
            chain,
            expanded,
        }
    }

    /// The chain of a key of the environment file outside `[defaults]`.
    pub fn environment(&self, key: Vec<Seg>, node: &Node) -> Explained {
        Explained {
            key,
            value: Some(node.to_json()),
            chain: vec![self.entry(&node.origin, Layer::Environment)],
            expanded: false,
            ignored: None,
        }
    }

    /// A key no layer wrote: its built-in default, if it has one.
    pub fn unset(&self, key: Vec<Seg>) -> Explained {
        let chain: Vec<Entry> = self.built_in(&key).into_iter().collect();
        Explained {
            value: self.default(&key).cloned(),
            ignored: None,
            key,
            chain,
            expanded: false,
        }
    }

    /// Why the objects leave out a value the merged service holds: a
    /// replica count where the kind has none (`[defaults]` may set it for
    /// every kind) or an autoscaler owns it.
    fn ignored(&self, key: &[Seg]) -> Option<&'static str> {
        if key != [Seg::Key("replicas".into())] {
            return None;
        }
        if !self.kind.has_replicas() {
            Some("not rendered: this kind has no replica count")
        } else if self.tree.get("autoscale").is_some() {
            Some("not rendered for the main track: `[autoscale]` owns its replica count")
        } else {
            None
        }
    }

    fn built_in(&self, key: &[Seg]) -> Option<Entry> {
        self.default(key).map(|d| Entry {
            layer: Layer::BuiltIn,
            at: None,
            written: text::value(d),
        })
    }

    /// The schema's default of `key`, where it is what the service gets:
    /// not a replica count where the kind has none or an autoscaler owns
    /// it, not a track to serve without a Service, and not the settings a
    /// `security.profile` other than `hardened` or `restricted` leaves
    /// out.
    pub fn default(&self, key: &[Seg]) -> Option<&'static Json> {
        let k = |s: &str| Seg::Key(s.to_string());
        let profile = self
            .tree
            .get("security")
            .and_then(|s| s.get("profile"))
            .and_then(Node::as_str)
            .unwrap_or("hardened");
        let applies = match key {
            [one] if *one == k("replicas") => {
                self.kind.has_replicas() && self.tree.get("autoscale").is_none()
            }
            [one] if *one == k("serve") => self.kind.runs_forever(),
            [s, setting] if *s == k("security") => match setting {
                Seg::Key(name) if name == "read_only_root_filesystem" => profile == "hardened",
                Seg::Key(name)
                    if name == "run_as_non_root" || name == "allow_privilege_escalation" =>
                {
                    matches!(profile, "hardened" | "restricted")
                }
                _ => true,
            },
            _ => true,
        };
        if applies { schema::default(key) } else { None }
    }
}
