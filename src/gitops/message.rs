//! The commit message of a publish: what changed in each environment of the
//! branch, its own files and files of environments no longer published, and
//! the trailers naming the source commit.

use crate::diff::{Counts, Status};
use crate::git::Source;
use crate::model::ROOT_FILES;

use super::Options;

/// Paths listed per environment in a commit message before "... and N more".
const MAX_LISTED: usize = 20;

/// The changed files of one part of a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The environment's name, or `(branch root)` / `(no longer published)`.
    pub name: String,
    /// Paths relative to the section's directory.
    pub changes: Vec<(String, Status)>,
}

impl Section {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (_, s) in &self.changes {
            c.add(*s);
        }
        c
    }
}

/// Splits a branch's changed paths into its environments, its own files, and
/// files of environments no longer published there.
pub(super) fn sections(envs: &[(String, String)], changes: &[(String, Status)]) -> Vec<Section> {
    let mut out: Vec<Section> = envs
        .iter()
        .map(|(name, _)| Section {
            name: name.clone(),
            changes: Vec::new(),
        })
        .collect();
    let mut root = Vec::new();
    let mut other = Vec::new();
    for (path, status) in changes {
        let owner = envs.iter().position(|(_, dir)| {
            path.len() > dir.len()
                && path.starts_with(dir.as_str())
                && path.as_bytes()[dir.len()] == b'/'
        });
        match owner {
            Some(i) => out[i]
                .changes
                .push((path[envs[i].1.len() + 1..].to_string(), *status)),
            None if ROOT_FILES.contains(&path.as_str()) => root.push((path.clone(), *status)),
            None => other.push((path.clone(), *status)),
        }
    }
    for (name, changes) in [("(branch root)", root), ("(no longer published)", other)] {
        if !changes.is_empty() {
            out.push(Section {
                name: name.into(),
                changes,
            });
        }
    }
    out
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The commit message: subject, source, what changed per environment, and the
/// `Source-Commit`, `Source-Date` (the source's committer date, which
/// decides "older" where the history cannot) and `Manifold-Version`
/// trailers.
pub fn message(source: &Source, sections: &[Section], options: &Options) -> String {
    let subject = match options.message {
        Some(m) => m.trim().to_string(),
        None => format!("publish {}: {}", short(&source.commit), source.subject),
    };
    let mut s = format!(
        "{subject}\n\nRendered from {}{}:\n    {}\n",
        source.commit,
        if options.dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        source.subject
    );
    for section in sections {
        let c = section.counts();
        if c.total() == 0 {
            s.push_str(&format!("\n{}: no changes\n", section.name));
            continue;
        }
        s.push_str(&format!(
            "\n{}: {} added, {} changed, {} removed\n",
            section.name, c.added, c.changed, c.removed
        ));
        for (path, status) in section.changes.iter().take(MAX_LISTED) {
            s.push_str(&format!("  {} {path}\n", status.mark()));
        }
        if section.changes.len() > MAX_LISTED {
            s.push_str(&format!(
                "  ... and {} more\n",
                section.changes.len() - MAX_LISTED
            ));
        }
    }
    s.push_str(&format!("\nSource-Commit: {}\n", source.commit));
    if !source.date.is_empty() {
        s.push_str(&format!("Source-Date: {}\n", source.date));
    }
    if options.dirty {
        s.push_str("Source-Dirty: true\n");
    }
    s.push_str(&format!(
        "Manifold-Version: {}\n",
        env!("CARGO_PKG_VERSION")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn changes_are_split_by_environment() {
        let envs = vec![
            ("dev".to_string(), "dev".to_string()),
            ("prod".to_string(), "clusters/prod".to_string()),
        ];
        let changes = vec![
            ("README.md".to_string(), Status::Changed),
            ("clusters/prod/web/d.yaml".to_string(), Status::Added),
            ("dev/kustomization.yaml".to_string(), Status::Changed),
            ("test/kustomization.yaml".to_string(), Status::Removed),
        ];
        let s = sections(&envs, &changes);
        let summary: Vec<(&str, Vec<&str>)> = s
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.changes.iter().map(|(p, _)| p.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("dev", vec!["kustomization.yaml"]),
                ("prod", vec!["web/d.yaml"]),
                ("(branch root)", vec!["README.md"]),
                ("(no longer published)", vec!["test/kustomization.yaml"]),
            ]
        );
    }

    #[test]
    fn the_message_names_the_source_and_lists_changes() {
        let source = Source {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            subject: "bump web to 1.2".into(),
            date: "2024-05-01T12:00:00+02:00".into(),
        };
        let mut many: Vec<(String, Status)> = (0..23)
            .map(|i| (format!("s{i:02}/d.yaml"), Status::Added))
            .collect();
        many.push(("web/d.yaml".into(), Status::Removed));
        let sections = vec![
            Section {
                name: "dev".into(),
                changes: many,
            },
            Section {
                name: "prod".into(),
                changes: Vec::new(),
            },
        ];
        let options = Options {
            message: None,
            dry_run: false,
            dirty: false,
            take_over: false,
            allow_older: false,
        };
        let msg = message(&source, &sections, &options);
        let mut expected = String::from(
            "publish 0123456789ab: bump web to 1.2\n\nRendered from 0123456789abcdef0123456789abcdef01234567:\n    bump web to 1.2\n\ndev: 23 added, 0 changed, 1 removed\n",
        );
        for i in 0..20 {
            expected.push_str(&format!("  + s{i:02}/d.yaml\n"));
        }
        expected.push_str(&format!(
            "  ... and 4 more\n\nprod: no changes\n\nSource-Commit: 0123456789abcdef0123456789abcdef01234567\nSource-Date: 2024-05-01T12:00:00+02:00\nManifold-Version: {}\n",
            env!("CARGO_PKG_VERSION")
        ));
        assert_eq!(msg, expected);
        let custom = message(
            &source,
            &sections[1..],
            &Options {
                message: Some("release 7"),
                dry_run: false,
                dirty: true,
                take_over: false,
                allow_older: false,
            },
        );
        assert!(custom.starts_with("release 7\n\nRendered from 0123456789abcdef0123456789abcdef01234567 with uncommitted changes:\n"), "{custom}");
        assert!(custom.contains("\nSource-Dirty: true\n"), "{custom}");
    }
}
