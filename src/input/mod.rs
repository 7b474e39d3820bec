//! Input: the repository read into spanned TOML trees, and the layering of
//! those trees.
//!
//! [`load`] finds and parses every file, [`tree`] is the spanned TOML tree
//! (every value remembers its file and bytes), [`merge`] layers defaults,
//! service and overlay and expands variables; [`yaml`] reads the YAML of
//! `crds/` and `manifests/` with the position of every node. Nothing here knows the meaning
//! of a key: that is `schema`, `check` and `model`.

pub mod load;
pub mod merge;
pub mod tree;
pub mod vars;
pub mod yaml;
