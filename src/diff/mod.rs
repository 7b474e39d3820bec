//! Diffing: what a change does to the rendered output, environment by
//! environment, service by service, object by object.
//!
//! Two trees of one environment go in (what is published, what the working
//! tree renders); a structured change set comes out, with one unified diff per
//! object file, and three renderers: text for a terminal, Markdown for a
//! merge-request comment, JSON for machines. Values under `data` and
//! `stringData` of a Secret, in any YAML or JSON syntax, and kubectl's
//! last-applied annotation are masked before anything is diffed, so no
//! renderer can print them; a changed key still shows as changed. A file
//! that cannot be parsed is counted, never printed.
//!
//! This stage is pure: it does not read git or files (`publish` and `main`
//! fetch the trees), and it does not decide exit codes.
//!
//! This file compares and counts; `mask` hides Secret values; `text`,
//! `markdown` and `json` render a change set, and `parts` splits the
//! Markdown into comments of a given size.

use std::collections::BTreeMap;

use similar::{ChangeTag, TextDiff};

use crate::emit::Tree;

mod json;
mod markdown;
mod mask;
mod parts;
mod text;

pub use json::render_json;
pub use markdown::{MARKDOWN_LIMIT, render_markdown, render_markdown_within, render_summary};
pub use mask::{LAST_APPLIED, Masked, mask_secrets, read_documents};
pub use parts::{MIN_PART, PART_LIMIT, TooSmall, part_marker, render_markdown_parts};
pub use text::{render_text, render_text_summary};

/// How an object file differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Added,
    Changed,
    Removed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Changed => "changed",
            Status::Removed => "removed",
        }
    }

    /// The one-character mark used in summaries and commit messages.
    pub fn mark(self) -> char {
        match self {
            Status::Added => '+',
            Status::Changed => '~',
            Status::Removed => '-',
        }
    }
}

/// Added, changed and removed object files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Added => self.added += 1,
            Status::Changed => self.changed += 1,
            Status::Removed => self.removed += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.added + self.changed + self.removed
    }

    fn plus(self, other: Counts) -> Counts {
        Counts {
            added: self.added + other.added,
            changed: self.changed + other.changed,
            removed: self.removed + other.removed,
        }
    }

    /// `1 added, 2 changed, 0 removed`
    fn words(&self) -> String {
        format!(
            "{} added, {} changed, {} removed",
            self.added, self.changed, self.removed
        )
    }

    /// `1 added, 2 changed`: only what is not zero.
    fn nonzero_words(&self) -> String {
        let parts: Vec<String> = [
            (self.added, "added"),
            (self.changed, "changed"),
            (self.removed, "removed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        parts.join(", ")
    }
}

/// One object file that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    /// Relative to the environment's directory.
    pub path: String,
    pub status: Status,
    /// Unified diff with `a/<env>/<path>` and `b/<env>/<path>` headers,
    /// Secret values masked.
    pub diff: String,
}

/// The changes of one service, or of the environment's own files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// `None` for files of the environment itself (namespaces, kustomization).
    pub service: Option<String>,
    pub changes: Vec<ObjectChange>,
}

impl Group {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for change in &self.changes {
            c.add(change.status);
        }
        c
    }
}

/// What changes in one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvChanges {
    pub name: String,
    /// What the environment was compared with, e.g. `gitops:dev`.
    pub against: String,
    /// Environment files first, then services by name.
    pub groups: Vec<Group>,
}

impl EnvChanges {
    pub fn counts(&self) -> Counts {
        self.groups
            .iter()
            .fold(Counts::default(), |acc, g| acc.plus(g.counts()))
    }
}

/// Sums the counts of several environments.
pub fn total(envs: &[EnvChanges]) -> Counts {
    envs.iter()
        .fold(Counts::default(), |acc, e| acc.plus(e.counts()))
}

/// The paths that differ between two listings, sorted, compared by value
/// (file contents, or object ids when only those are at hand).
pub fn statuses<T: PartialEq>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) -> Vec<(String, Status)> {
    let mut out = Vec::new();
    for (path, value) in new {
        match old.get(path) {
            None => out.push((path.clone(), Status::Added)),
            Some(v) if v != value => out.push((path.clone(), Status::Changed)),
            Some(_) => {}
        }
    }
    for path in old.keys() {
        if !new.contains_key(path) {
            out.push((path.clone(), Status::Removed));
        }
    }
    out.sort();
    out
}

/// The service a file belongs to: its first directory under the environment.
pub fn service_of(path: &str) -> Option<&str> {
    path.split_once('/').map(|(first, _)| first)
}

/// Compares one environment's published files (`old`) with its rendered files
/// (`new`), both relative to the environment's directory.
pub fn compare(name: &str, against: &str, old: &Tree, new: &Tree) -> EnvChanges {
    let mut groups: BTreeMap<Option<String>, Vec<ObjectChange>> = BTreeMap::new();
    for (path, status) in statuses(old, new) {
        let before = old.get(&path).map(Vec::as_slice).unwrap_or_default();
        let after = new.get(&path).map(Vec::as_slice).unwrap_or_default();
        let a = match status {
            Status::Added => "/dev/null".to_string(),
            _ => format!("a/{name}/{path}"),
        };
        let b = match status {
            Status::Removed => "/dev/null".to_string(),
            _ => format!("b/{name}/{path}"),
        };
        let diff = match mask_secrets(before, after) {
            Masked::Text { old, new } => {
                let diff = TextDiff::from_lines(old.as_str(), new.as_str())
                    .unified_diff()
                    .context_radius(3)
                    .header(&a, &b)
                    .to_string();
                if diff.is_empty() {
                    // Only masked values, comments or layout differ, in a
                    // way the masked rendering cannot show.
                    format!(
                        "--- {a}\n+++ {b}\n(only Secret values or YAML layout differ; they are not shown)\n"
                    )
                } else {
                    diff
                }
            }
            Masked::Unparseable => {
                // Its lines may be a Secret's: counted, never printed.
                let before = String::from_utf8_lossy(before);
                let after = String::from_utf8_lossy(after);
                let lines = TextDiff::from_lines(before.as_ref(), after.as_ref())
                    .iter_all_changes()
                    .filter(|c| c.tag() != ChangeTag::Equal)
                    .count();
                let s = if lines == 1 { "" } else { "s" };
                format!(
                    "--- {a}\n+++ {b}\n(cannot be parsed as YAML, so it is not shown: {lines} line{s} changed)\n"
                )
            }
        };
        groups
            .entry(service_of(&path).map(str::to_string))
            .or_default()
            .push(ObjectChange { path, status, diff });
    }
    EnvChanges {
        name: name.to_string(),
        against: against.to_string(),
        // `None` sorts first: the environment's own files lead.
        groups: groups
            .into_iter()
            .map(|(service, changes)| Group { service, changes })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    pub(super) const SECRET: &str = "\
apiVersion: v1
data:
  password: aHVudGVyMg==
  user: YWRtaW4=
kind: Secret
metadata:
  name: db
stringData:
  config.yaml: |
    token: abc
    other: def
  \"quoted:key\": plain
type: Opaque
";

    #[test]
    fn statuses_are_sorted_by_path() {
        let old = tree(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = tree(&[("a", "1"), ("b", "22"), ("d", "4")]);
        assert_eq!(
            statuses(&old, &new),
            vec![
                ("b".to_string(), Status::Changed),
                ("c".to_string(), Status::Removed),
                ("d".to_string(), Status::Added),
            ]
        );
    }

    #[test]
    fn files_group_by_service_and_environment_files_lead() {
        let old = tree(&[("kustomization.yaml", "a\n"), ("web/x.yaml", "1\n")]);
        let new = tree(&[
            ("kustomization.yaml", "b\n"),
            ("api/y.yaml", "2\n"),
            ("namespace.yaml", "n\n"),
        ]);
        let env = compare("dev", "gitops:dev", &old, &new);
        type Summary<'a> = Vec<(Option<&'a str>, Vec<(&'a str, Status)>)>;
        let groups: Summary = env
            .groups
            .iter()
            .map(|g| {
                (
                    g.service.as_deref(),
                    g.changes
                        .iter()
                        .map(|c| (c.path.as_str(), c.status))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            vec![
                (
                    None,
                    vec![
                        ("kustomization.yaml", Status::Changed),
                        ("namespace.yaml", Status::Added)
                    ]
                ),
                (Some("api"), vec![("api/y.yaml", Status::Added)]),
                (Some("web"), vec![("web/x.yaml", Status::Removed)]),
            ]
        );
        assert_eq!(
            env.counts(),
            Counts {
                added: 2,
                changed: 1,
                removed: 1
            }
        );
    }

    #[test]
    fn object_diffs_are_unified_with_environment_paths() {
        let old = tree(&[("web/d.yaml", "a: 1\nb: 2\n"), ("web/gone.yaml", "x: 1\n")]);
        let new = tree(&[("web/d.yaml", "a: 1\nb: 3\n"), ("web/new.yaml", "y: 1\n")]);
        let env = compare("dev", "gitops:dev", &old, &new);
        let diffs: Vec<&str> = env.groups[0]
            .changes
            .iter()
            .map(|c| c.diff.as_str())
            .collect();
        assert_eq!(
            diffs,
            vec![
                "--- a/dev/web/d.yaml\n+++ b/dev/web/d.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n",
                "--- a/dev/web/gone.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x: 1\n",
                "--- /dev/null\n+++ b/dev/web/new.yaml\n@@ -0,0 +1 @@\n+y: 1\n",
            ]
        );
    }

    #[test]
    fn a_changed_secret_key_shows_in_every_format_without_its_value() {
        let old = tree(&[("db/secret-db.yaml", SECRET)]);
        let new = tree(&[(
            "db/secret-db.yaml",
            &SECRET.replace("aHVudGVyMg==", "c2VjcmV0"),
        )]);
        let envs = vec![compare("dev", "gitops:dev", &old, &new)];
        assert_eq!(
            envs[0].groups[0].changes[0].diff,
            "--- a/dev/db/secret-db.yaml\n+++ b/dev/db/secret-db.yaml\n@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  password: <redacted>\n+  password: <redacted, changed>\n   user: <redacted>\n kind: Secret\n metadata:\n"
        );
        let outputs = [
            render_text(&envs, false),
            render_markdown(&envs),
            render_json(&envs).to_string(),
        ];
        for out in outputs {
            assert!(out.contains("password: <redacted, changed>"), "{out}");
            assert!(!out.contains("aHVudGVyMg") && !out.contains("c2VjcmV0"));
        }
    }

    pub(super) fn sample() -> Vec<EnvChanges> {
        let old = tree(&[
            ("kustomization.yaml", "resources:\n- web/d.yaml\n"),
            ("web/d.yaml", "a: 1\n"),
        ]);
        let new = tree(&[
            ("kustomization.yaml", "resources:\n- web/d.yaml\n"),
            ("web/d.yaml", "a: 2\n"),
        ]);
        vec![
            compare("dev", "gitops:dev", &old, &new),
            compare("prod", "gitops:prod", &new, &new),
        ]
    }
}
