//! Publishing: the rendered tree as one commit on the gitops branch, and the
//! git reads that `diff` compares against.
//!
//! Everything goes through the `git` command line, a fixed handful of
//! processes per run whatever the number of files: object ids and whole tree
//! ids are computed in-process, so an unchanged tree is recognised without
//! writing anything; new blobs and the commit are written by one
//! `git fast-import` into a ref private to this process, and the branch is
//! then moved by one `git update-ref --stdin` transaction that names the value
//! it started from. That compare-and-swap is what makes racing publishes safe:
//! the loser recomputes on top of the winner and tries again.
//!
//! This module never touches the working tree, the index, `HEAD` or the
//! stash, and never pushes: the branch is a plain ref the CI pushes. It does
//! not read the configuration files either; it gets the rendered tree from the
//! pipeline.
//!
//! `branch` decides what goes where, `publish` writes the commits and moves
//! the branches, `guard` decides whether a branch tip may be replaced,
//! `sweep` names the private refs and removes those of killed publishes,
//! `message` describes a commit, and `published` reads back what is
//! published for `diff`.

mod branch;
mod guard;
mod message;
mod publish;
mod published;
mod sweep;

pub use branch::{Target, branch_tree, targets};
pub use guard::Refused;
pub use message::{OWN_TRAILERS, Section, Template, TemplateError, message, parse_trailer};
pub use publish::{Options, Outcome, Published, publish};
pub use published::{Baseline, PublishedEnv, read_published};
