//! Where `publish` puts each environment, checked before anything is
//! published: a valid branch name, and a path that is a plain directory,
//! not a file manifold writes at the branch's root, and not nested in (or
//! around) the path of another environment of the same branch.

use crate::diag::{Code, Diagnostic};
use crate::git::is_valid_branch_name;
use crate::input::load::EnvInput;
use crate::input::tree::Step;
use crate::model::{DEFAULT_BRANCH, ROOT_FILES};

use super::{EnvOutput, Selected};

/// Where `publish` puts each environment: valid branch names, and paths that
/// neither clash with another environment of the same branch nor with the
/// branch's own files.
pub(super) fn gitops_targets(environments: &[Selected], outputs: &[EnvOutput]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // (environment, path, branch) of the environments placed so far.
    let mut taken: Vec<(&str, &str, &str)> = Vec::new();
    for ((env_input, _, _), out) in environments.iter().zip(outputs) {
        let branch = out.branch.as_deref().unwrap_or(DEFAULT_BRANCH);
        if !is_valid_branch_name(branch) {
            diagnostics.push(at(
                env_input,
                "branch",
                Diagnostic::error(Code::InvalidValue, format!("`{branch}` is not a valid branch name"))
                    .hint("use letters, digits, `-`, `_`, `.` and `/`, as `git check-ref-format --branch` allows"),
            ));
        }
        match bad_path(&out.path).or_else(|| clash(&taken, branch, out)) {
            Some(d) => diagnostics.push(at(env_input, "path", d)),
            None => taken.push((&out.name, &out.path, branch)),
        }
    }
    diagnostics
}

/// Points `d` at `[gitops] <key>` of the environment's file, else at the file.
fn at(env_input: &EnvInput, key: &str, d: Diagnostic) -> Diagnostic {
    match env_input
        .input
        .tree
        .as_ref()
        .and_then(|t| t.at(&[Step::Key("gitops".into()), Step::Key(key.into())]))
    {
        Some(node) => d.at(node.origin.file, node.span(false)),
        None => d.in_file(env_input.input.file),
    }
}

/// A path that is not a plain directory inside the branch.
fn bad_path(path: &str) -> Option<Diagnostic> {
    let bad_segment = path
        .split('/')
        .find(|s| *s == "." || *s == ".." || s.eq_ignore_ascii_case(".git"));
    if let Some(segment) = bad_segment {
        return Some(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{segment}` cannot be part of a gitops path"),
            )
            .hint("name a directory inside the branch, like `clusters/prod`"),
        );
    }
    if ROOT_FILES.contains(&path) {
        return Some(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{path}` is a file manifold writes at the root of the branch"),
            )
            .hint("choose another directory name"),
        );
    }
    None
}

/// An environment placed earlier on the same branch at, inside or around
/// this one's path.
fn clash(taken: &[(&str, &str, &str)], branch: &str, out: &EnvOutput) -> Option<Diagnostic> {
    let nested = |a: &str, b: &str| a == b || b.starts_with(&format!("{a}/"));
    let (other, other_path, _) = taken
        .iter()
        .find(|(_, p, b)| *b == branch && (nested(p, &out.path) || nested(&out.path, p)))?;
    Some(
        Diagnostic::error(
            Code::GitopsClash,
            format!(
                "environments `{other}` and `{}` are both published to `{branch}:{}`",
                out.name,
                if other_path.len() < out.path.len() {
                    *other_path
                } else {
                    out.path.as_str()
                }
            ),
        )
        .hint("give one of them its own `[gitops] path` or `branch`"),
    )
}
