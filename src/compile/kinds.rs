//! What a project knows of kinds beyond the built-in schemas: the
//! CustomResourceDefinitions of `crds/`, and so which kinds are
//! cluster-scoped.
//!
//! Each document of a file in `crds/` (and each item of a `List`) must be an
//! `apiextensions.k8s.io/v1` CustomResourceDefinition; anything else, and a
//! group and kind defined twice, is an error at its line. The scopes are the
//! vendored ones of the built-in kinds, plus each CRD's `spec.scope`.

use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic, Sources, line_col};
use crate::input::load::CrdInput;
use crate::input::yaml::Document;
use crate::kube::{self, Crd, Crds};
use crate::model::Scopes;

/// The CRDs and scopes every pair of the project is compiled with.
#[derive(Default)]
pub(super) struct Kinds {
    pub(super) crds: Crds,
    pub(super) scopes: Scopes,
}

impl Kinds {
    /// Reads the CRDs of the project; their problems go to `diagnostics`.
    pub(super) fn read(
        files: &[CrdInput],
        sources: &Sources,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Kinds {
        let mut found = Vec::new();
        for input in files {
            for doc in &input.documents {
                read_document(input, doc, sources, &mut found, diagnostics);
            }
        }
        let mut crds = Crds::default();
        crds.register(found, diagnostics);
        let mut scopes = kube::builtin_scopes().clone();
        crds.scopes_into(&mut scopes);
        Kinds { crds, scopes }
    }
}

/// The CRDs of one document: itself, or the items of a `List`.
fn read_document(
    input: &CrdInput,
    doc: &Document,
    sources: &Sources,
    found: &mut Vec<Crd>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let kind = doc
        .value
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let items: Vec<(String, &Json)> = match doc.value.get("items").and_then(Json::as_array) {
        Some(items) if kind == "List" || kind == "CustomResourceDefinitionList" => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("/items/{i}"), item))
            .collect(),
        _ => vec![(String::new(), &doc.value)],
    };
    let file = sources.get(input.file);
    for (prefix, value) in items {
        match Crd::from_json(value) {
            Ok(mut crd) => {
                let span = doc.span(&format!("{prefix}/metadata/name"));
                let (line, col) = line_col(&file.text, span.start);
                crd.defined_in = format!("`{}:{line}:{col}`", file.path);
                crd.origin = Some((input.file, span));
                found.push(crd);
            }
            Err(problem) => diagnostics.push(
                Diagnostic::error(Code::Crd, problem.message)
                    .at(
                        input.file,
                        doc.span(&format!("{prefix}{}", problem.pointer)),
                    )
                    .hint(problem.hint),
            ),
        }
    }
}
