//! manifold: a declarative GitOps manifest compiler.
//!
//! The pipeline, one module a stage: [`load`] reads and parses the repository,
//! [`schema`] checks each file's shape, [`merge`] layers defaults, service and
//! overlay, [`check`] validates meaning, [`render`] builds Kubernetes objects,
//! [`kube`] verifies them against the official schemas, [`emit`] writes YAML
//! and [`output`] puts the tree on disk. [`pipeline`] runs the stages between
//! load and output. [`publish`] commits the rendered tree to the gitops branch
//! and reads what is published there; [`diff`] compares the two. The library
//! never prints and never exits.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod kube;
pub mod load;
pub mod merge;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod schema;
pub mod source;
