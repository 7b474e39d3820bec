//! The commit message of a publish: what changed in each environment of the
//! branch, its own files and files of environments no longer published, and
//! the trailers naming the source commit; or a template of the user's with
//! placeholders for the same facts (`publish --message-template`), and the
//! user's own trailers (`publish --trailer`) after manifold's.

use std::ops::Range;

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

/// The commit message: subject, source, what changed per environment (or
/// the user's template, when given), then the `Source-Commit`,
/// `Source-Date` (the source's committer date, which decides "older" where
/// the history cannot) and `Manifold-Version` trailers, and the user's.
pub fn message(source: &Source, branch: &str, sections: &[Section], options: &Options) -> String {
    let body = match options.template {
        Some(template) => {
            let text = template.render(&Facts {
                source,
                branch,
                sections,
            });
            format!("{}\n", text.trim_end())
        }
        None => default_body(source, sections, options),
    };
    format!("{body}\n{}", trailers(source, options))
}

/// The message manifold writes when given no template.
fn default_body(source: &Source, sections: &[Section], options: &Options) -> String {
    let subject = match options.message {
        Some(m) => m.trim().to_string(),
        None => format!("publish {}: {}", short(&source.commit), source.subject),
    };
    format!(
        "{subject}\n\nRendered from {}{}:\n    {}\n{}",
        source.commit,
        if options.dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        source.subject,
        summary(sections)
    )
}

/// What changed, section by section, each after a blank line.
fn summary(sections: &[Section]) -> String {
    let mut s = String::new();
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
    s
}

/// manifold's trailers, then the user's (`--trailer`), in the order given.
fn trailers(source: &Source, options: &Options) -> String {
    let mut s = format!("Source-Commit: {}\n", source.commit);
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
    for (key, value) in options.trailers {
        s.push_str(&format!("{key}: {value}\n"));
    }
    s
}

/// The trailers manifold writes itself: `publish` reads `Source-Commit` and
/// `Source-Date` back to decide what it may replace, so `--trailer` cannot
/// set them (in any letter case, as git compares trailer keys).
pub const OWN_TRAILERS: [&str; 4] = [
    "Source-Commit",
    "Source-Date",
    "Source-Dirty",
    "Manifold-Version",
];

/// A `--trailer KEY=VALUE` argument: a key of letters, digits and `-`
/// (starting with a letter or digit) that is not one of [`OWN_TRAILERS`],
/// and a value on one line; an error in words otherwise.
pub fn parse_trailer(arg: &str) -> Result<(String, String), String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!(
            "`{arg}` is not KEY=VALUE; write it as `--trailer Pipeline=https://ci.example.com/pipelines/42`"
        ));
    };
    let (key, value) = (key.trim(), value.trim());
    let well_formed = key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !well_formed {
        return Err(format!(
            "trailer key `{key}` may hold only letters, digits and `-` (such as `Merge-Request`)"
        ));
    }
    if let Some(own) = OWN_TRAILERS.iter().find(|o| o.eq_ignore_ascii_case(key)) {
        return Err(format!(
            "`{own}` is a trailer manifold writes itself (it names what was published); choose another key, such as `Pipeline` or `Merge-Request`"
        ));
    }
    if value.is_empty() || value.contains(['\n', '\r']) {
        return Err(format!(
            "the value of trailer `{key}` must be one line of text, not empty"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

/// What a message template may name.
struct Facts<'a> {
    source: &'a Source,
    branch: &'a str,
    sections: &'a [Section],
}

/// A placeholder of a message template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    SourceCommit,
    SourceShort,
    SourceSubject,
    SourceDate,
    Branch,
    Environments,
    Summary,
}

impl Field {
    const ALL: [(&'static str, Field); 7] = [
        ("source_commit", Field::SourceCommit),
        ("source_short", Field::SourceShort),
        ("source_subject", Field::SourceSubject),
        ("source_date", Field::SourceDate),
        ("branch", Field::Branch),
        ("environments", Field::Environments),
        ("summary", Field::Summary),
    ];

    fn value(self, facts: &Facts) -> String {
        match self {
            Field::SourceCommit => facts.source.commit.clone(),
            Field::SourceShort => short(&facts.source.commit).to_string(),
            Field::SourceSubject => facts.source.subject.clone(),
            Field::SourceDate => facts.source.date.clone(),
            Field::Branch => facts.branch.to_string(),
            Field::Environments => {
                let changed: Vec<&str> = facts
                    .sections
                    .iter()
                    .filter(|s| s.counts().total() > 0 && !s.name.starts_with('('))
                    .map(|s| s.name.as_str())
                    .collect();
                changed.join(", ")
            }
            Field::Summary => summary(facts.sections).trim().to_string(),
        }
    }
}

/// One piece of a message template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A commit message template (`publish --message-template FILE`): text with
/// placeholders in braces, such as `{source_short}`; `{{` and `}}` are
/// literal braces. manifold's trailers, and the user's, follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// A problem in a message template: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte range in the template's text.
    pub span: Range<usize>,
    pub message: String,
    pub hint: String,
}

impl Template {
    /// The placeholders a template may use, for messages.
    pub fn placeholders() -> Vec<String> {
        Field::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect()
    }

    /// Reads a template; every problem is returned, each located.
    pub fn parse(text: &str) -> Result<Template, Vec<TemplateError>> {
        let mut pieces = Vec::new();
        let mut errors = Vec::new();
        let mut literal = String::new();
        let mut rest = text.char_indices().peekable();
        while let Some((at, c)) = rest.next() {
            match c {
                '{' if rest.peek().is_some_and(|(_, n)| *n == '{') => {
                    rest.next();
                    literal.push('{');
                }
                '}' if rest.peek().is_some_and(|(_, n)| *n == '}') => {
                    rest.next();
                    literal.push('}');
                }
                '{' => {
                    let end = text[at..].find(['}', '\n']).map(|e| at + e);
                    let Some(end) = end.filter(|e| text.as_bytes()[*e] == b'}') else {
                        let line_end = text[at..].find('\n').map_or(text.len(), |e| at + e);
                        errors.push(TemplateError {
                            span: at..line_end,
                            message: "`{` opens a placeholder that is not closed on its line"
                                .into(),
                            hint: "close it with `}`, or write `{{` for a literal brace".into(),
                        });
                        literal.push('{');
                        continue;
                    };
                    let name = &text[at + 1..end];
                    match Field::ALL.iter().find(|(n, _)| *n == name) {
                        Some((_, field)) => {
                            pieces.push(Piece::Text(std::mem::take(&mut literal)));
                            pieces.push(Piece::Field(*field));
                        }
                        None => errors.push(unknown_placeholder(name, at..end + 1)),
                    }
                    while rest.peek().is_some_and(|(i, _)| *i <= end) {
                        rest.next();
                    }
                }
                '}' => errors.push(TemplateError {
                    span: at..at + 1,
                    message: "`}` closes no placeholder".into(),
                    hint: "write `}}` for a literal brace".into(),
                }),
                _ => literal.push(c),
            }
        }
        pieces.push(Piece::Text(literal));
        pieces.retain(|p| *p != Piece::Text(String::new()));
        if text.trim().is_empty() {
            errors.push(TemplateError {
                span: 0..text.len(),
                message: "the message template is empty".into(),
                hint: "write at least a subject line, such as `publish {source_short}: {source_subject}`".into(),
            });
        }
        if errors.is_empty() {
            Ok(Template { pieces })
        } else {
            Err(errors)
        }
    }

    fn render(&self, facts: &Facts) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.clone(),
                Piece::Field(f) => f.value(facts),
            })
            .collect()
    }
}

fn unknown_placeholder(name: &str, span: Range<usize>) -> TemplateError {
    let names = Field::ALL.iter().map(|(n, _)| *n);
    let hint = match crate::diag::did_you_mean(name, names) {
        Some(better) => format!("did you mean `{{{better}}}`?"),
        None => format!(
            "the placeholders are {}; `{{{{` writes a literal brace",
            crate::diag::one_of(&Template::placeholders())
        ),
    };
    TemplateError {
        span,
        message: format!("unknown placeholder `{{{name}}}`"),
        hint,
    }
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
            template: None,
            trailers: &[],
        };
        let msg = message(&source, "gitops", &sections, &options);
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
            "gitops",
            &sections[1..],
            &Options {
                message: Some("release 7"),
                dry_run: false,
                dirty: true,
                take_over: false,
                allow_older: false,
                template: None,
                trailers: &[],
            },
        );
        assert!(custom.starts_with("release 7\n\nRendered from 0123456789abcdef0123456789abcdef01234567 with uncommitted changes:\n"), "{custom}");
        assert!(custom.contains("\nSource-Dirty: true\n"), "{custom}");
    }

    #[test]
    fn a_template_reads_doubled_braces_as_literals_and_reports_every_stray_one() {
        let template = Template::parse("{{x}} {branch}}}").unwrap();
        assert_eq!(
            template.pieces,
            vec![
                Piece::Text("{x} ".into()),
                Piece::Field(Field::Branch),
                Piece::Text("}".into()),
            ]
        );
        let errors = Template::parse("a } b {branch\n{}").unwrap_err();
        let found: Vec<(Range<usize>, &str)> = errors
            .iter()
            .map(|e| (e.span.clone(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (2..3, "`}` closes no placeholder"),
                (
                    6..13,
                    "`{` opens a placeholder that is not closed on its line"
                ),
                (14..16, "unknown placeholder `{}`"),
            ]
        );
        assert_eq!(
            Template::parse(" \n").unwrap_err()[0].message,
            "the message template is empty"
        );
    }

    #[test]
    fn trailer_keys_are_checked_and_manifolds_own_refused_in_any_case() {
        assert_eq!(
            parse_trailer("Pipeline=https://ci/p/1=2"),
            Ok(("Pipeline".into(), "https://ci/p/1=2".into()))
        );
        assert!(
            parse_trailer("source-date=x")
                .unwrap_err()
                .contains("`Source-Date`")
        );
        assert!(parse_trailer("-x=1").is_err());
        assert!(parse_trailer("a:b=1").is_err());
    }
}
