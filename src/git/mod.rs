//! Git without a library: object ids computed in-process, the `git` command
//! line for everything that reads or writes a repository, and the
//! `fast-import` stream format.
//!
//! This folder knows git, not manifold: it never sees a service or an
//! environment. `gitops` builds publishing on top of it and `output` uses its
//! blob ids for the output manifest.

pub mod fast_import;
mod history;
mod object;
mod refs;
mod repo;

pub use history::parse_iso_date;
pub use object::{ObjectFormat, bad_tree_path, tree_id};
pub use refs::is_valid_branch_name;
pub use repo::{Dirty, Repo, Source, Tip};
