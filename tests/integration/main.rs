//! End-to-end tests of the `manifold` binary: one test binary, one module a
//! feature, helpers shared in `tests/support/`.
//!
//! Most command-line checks are data cases in `tests/cases/` (see `cases`).
//! The other tests drive the binary directly and use the real tools the
//! output is for: PyYAML and ruamel.yaml, kubernetes-validate, kubectl, git,
//! pre-commit, check-jsonschema and taplo, and bash and man for the
//! completions and the man pages. A missing tool fails its test with the
//! command that installs it; nothing is skipped.
//!
//! `MANIFOLD_BLESS=1 cargo test --test integration` rewrites what is generated
//! and committed (the cases' expectations, the example's snapshot, README's
//! format reference) from the current behaviour; review the diff.

#[path = "../support/mod.rs"]
mod support;

mod adopt;
mod build;
mod cases;
mod ci;
mod consumers;
mod crds;
mod daemon_set;
mod deploy;
mod diff;
mod diff_parts;
mod diff_safety;
mod editor_schemas;
mod env;
mod explain;
mod first_hour;
mod hints;
mod hooks;
mod house;
mod import;
mod jobs;
mod load_safety;
mod manifests;
mod names;
mod network_policy;
mod output_safety;
mod pod_fields;
mod properties;
mod provenance;
mod publish;
mod publish_safety;
mod recipes;
mod reference;
mod release;
mod reports;
mod route;
mod scaffold;
mod status;
mod wording;
