//! Names and paths of rendered objects: what only rendering shows.
//!
//! Each object's file in its environment's directory comes from
//! `model::names::object_file`, which checks every segment; an object whose
//! kind or name is not a safe file name is an error at the table that wrote
//! it and is never given a path. Raw objects and patched objects have their
//! name checked by the rule of their kind and their label and annotation
//! keys checked; every object has the total size of its annotations checked
//! (the environment's are added to the service's here); raw ConfigMaps and
//! Secrets have their size checked. The typed service was checked before
//! rendering (`check::names`).

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value as Json;

use crate::check::{bad_key, data_size, human};
use crate::diag::{Code, Diagnostic, FileId};
use crate::input::tree::{Node, Step};
use crate::model::names::{ANNOTATIONS_MAX, name_problem, name_rule, object_file};
use crate::render::Object;

/// Where the problems of an object are reported.
struct Site {
    file: FileId,
    span: Option<Range<usize>>,
    /// Written by the user: a raw object or a patch.
    written: bool,
}

impl Site {
    fn of(object: &Object, tree: &Node, file: FileId) -> Site {
        let raw = object
            .raw_key
            .as_ref()
            .map(|k| vec![Step::Key("objects".into()), Step::Key(k.clone())]);
        let patch = vec![Step::Key("patches".into()), Step::Key(object.patch_key())];
        let node = raw.and_then(|at| tree.at(&at)).or_else(|| tree.at(&patch));
        match node {
            Some(n) => Site {
                file: n.origin.file,
                span: Some(n.span(true)),
                written: true,
            },
            None => Site {
                file,
                span: None,
                written: false,
            },
        }
    }

    fn place(&self, d: Diagnostic) -> Diagnostic {
        match &self.span {
            Some(span) => d.at(self.file, span.clone()),
            None => d.in_file(self.file),
        }
    }
}

/// Checks one rendered object of `service`; returns its file in the
/// environment's directory, or `None` when it cannot have one.
pub(super) fn checked_file(
    service: &str,
    object: &Object,
    tree: &Node,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<String> {
    let site = Site::of(object, tree, file);
    let value = &object.value;
    let meta = &value["metadata"];
    let before = diagnostics.len();
    if site.written {
        if let (Some(kind), Some(name)) = (value["kind"].as_str(), meta["name"].as_str()) {
            if let Some(problem) = name_problem(kind, name) {
                let rule = name_rule(kind);
                let d = Diagnostic::error(
                    Code::InvalidName,
                    format!(
                        "invalid {kind} name `{}`: it {problem}",
                        name.escape_debug()
                    ),
                )
                .hint(format!(
                    "{kind} names are {}, at most {} characters",
                    rule.grammar.describe(),
                    rule.max
                ));
                diagnostics.push(site.place(d));
            }
        }
        for (table, what) in [("labels", "label"), ("annotations", "annotation")] {
            for k in strings(&meta[table]).keys() {
                if let Some(d) = bad_key(what, k) {
                    diagnostics.push(site.place(d));
                }
            }
        }
    }
    let annotations: usize = strings(&meta["annotations"])
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if annotations > ANNOTATIONS_MAX {
        let d = Diagnostic::error(
            Code::TooLarge,
            format!(
                "the annotations of {} `{}` hold {}; Kubernetes accepts at most 256 KiB",
                object.kind,
                object.name,
                human(annotations)
            ),
        )
        .hint("the environment's annotations are added to the service's; keep large content out of annotations");
        diagnostics.push(match site.written {
            true => site.place(d),
            false => {
                let node = tree.nearest(&[Step::Key("annotations".into())]);
                if std::ptr::eq(node, tree) {
                    d.in_file(file)
                } else {
                    d.at(node.origin.file, node.span(true))
                }
            }
        });
    }
    if object.raw_key.is_some() && matches!(object.kind.as_str(), "ConfigMap" | "Secret") {
        let bytes: usize = ["data", "binaryData", "stringData"]
            .iter()
            .flat_map(|t| strings(&value[*t]))
            .map(|(k, v)| k.len() + v.len())
            .sum();
        let what = format!("{} `{}`", object.kind, object.name);
        if let Some(d) = data_size(&what, bytes) {
            diagnostics.push(site.place(d));
        }
    }
    match object_file(service, &object.kind, &object.name) {
        Ok(path) => Some(path),
        Err(problem) => {
            let d = Diagnostic::error(
                Code::InvalidName,
                format!(
                    "object `{}` of kind `{}` cannot be written to a file: {problem}",
                    object.name.escape_debug(),
                    object.kind.escape_debug()
                ),
            )
            .hint("an object is written to `<service>/<kind>-<name>.yaml`; give it a kind and a name without `/`, `..` or control characters");
            // A name already reported as invalid needs no second error.
            let named = diagnostics[before..]
                .iter()
                .any(|d| d.code == Code::InvalidName);
            if !named {
                diagnostics.push(site.place(d));
            }
            None
        }
    }
}

/// The string entries of a JSON object; anything else is empty.
fn strings(value: &Json) -> BTreeMap<&str, &str> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect()
}
