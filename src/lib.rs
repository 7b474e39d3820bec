//! manifold: a declarative GitOps manifest compiler.
//!
//! The folders, bottom to top (each uses only those above it in this list):
//! [`diag`] (diagnostics and the source map) and [`model`] (the typed
//! service and environment); [`input`] reads the repository into spanned
//! TOML trees, merges layers and expands variables; [`schema`] checks each
//! file's shape; [`check`] checks meaning; [`render`] builds Kubernetes
//! objects; [`kube`] verifies them against the official schemas; [`emit`]
//! writes YAML; [`git`] drives git without knowing manifold; [`compile`] runs
//! the stages for every (environment, service) pair; [`explain`] says
//! where a value of a merged service or a rendered field comes from. On top: [`output`] puts
//! the tree on disk, [`diff`] compares two trees and [`gitops`] publishes to
//! and reads from the gitops branches; [`status`] shows which version runs
//! where; [`import`] turns existing Kubernetes YAML into services;
//! [`scaffold`] has the files of a new repository; [`edit`] changes values
//! of overlays in place (`set`, `promote`).
//! ARCHITECTURE.md has the map. The library never prints and never exits.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod compile;
pub mod diag;
pub mod diff;
pub mod edit;
pub mod emit;
pub mod explain;
pub mod git;
pub mod gitops;
pub mod import;
pub mod input;
pub mod kube;
pub mod model;
pub mod output;
pub mod render;
pub mod scaffold;
pub mod schema;
pub mod status;
