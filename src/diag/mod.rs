//! Diagnostics: problems in the user's files.
//!
//! Every stage collects diagnostics instead of stopping at the first one. A
//! diagnostic carries a file, a byte span, a message and a hint; this module
//! renders them for people (a caret under the source line) and for machines
//! (JSON records, and the SARIF and Code Quality reports of `report.rs`).
//! It does not decide exit codes or print: `main` does.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

mod code;
mod report;
mod source;

pub use code::Code;
pub use report::{code_quality, fingerprints, sarif};

pub use source::{FileId, SourceFile, Sources, line_col};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The kind of problem: part of the JSON output contract.
    pub code: Code,
    pub message: String,
    pub file: Option<FileId>,
    pub span: Option<Range<usize>>,
    /// A short label under the caret.
    pub label: Option<Box<str>>,
    pub hint: Option<String>,
    /// Other places the problem involves, each with a label: the lower
    /// layers that set a merged value, the limit a sum went over. (This
    /// and `label` are boxed, not a `Vec` and a `String`: a `Diagnostic`
    /// stays small enough to be the error of a `Result`, below clippy's
    /// `result_large_err` limit.)
    pub related: Box<[Related]>,
}

/// Another place a diagnostic involves, shown with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: FileId,
    pub span: Range<usize>,
    pub label: String,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            hint: None,
            related: Box::default(),
        }
    }

    /// A problem worth showing that does not fail the run.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, file: FileId, span: Range<usize>) -> Self {
        self.file = Some(file);
        self.span = Some(span);
        self
    }

    pub fn in_file(mut self, file: FileId) -> Self {
        self.file = Some(file);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into().into_boxed_str());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds another place the problem involves.
    pub fn related(mut self, file: FileId, span: Range<usize>, label: impl Into<String>) -> Self {
        let mut related = std::mem::take(&mut self.related).into_vec();
        related.push(Related {
            file,
            span,
            label: label.into(),
        });
        self.related = related.into_boxed_slice();
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The order diagnostics are shown in: by file, then position, then text.
    fn sort_key(&self) -> (Option<FileId>, usize, &str) {
        (
            self.file,
            self.span.as_ref().map_or(0, |s| s.start),
            &self.message,
        )
    }
}

/// Sorts diagnostics into a stable reading order and drops exact repeats (the
/// same problem reached through two environments is reported once, with
/// the related places of every repeat: the `[defaults]` of each
/// environment that set the value).
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup_by(|later, kept| {
        let same = later.file == kept.file
            && later.span == kept.span
            && later.message == kept.message
            && later.hint == kept.hint;
        // A policy finding can be a warning in one environment and an
        // error in another: the repeat kept is as severe as the worst.
        if same && later.is_error() {
            kept.severity = Severity::Error;
        }
        if same && later.related != kept.related {
            let mut related = std::mem::take(&mut kept.related).into_vec();
            for r in std::mem::take(&mut later.related) {
                if !related.contains(&r) {
                    related.push(r);
                }
            }
            kept.related = related.into_boxed_slice();
        }
        same
    });
}

/// Renders diagnostics for a terminal, cargo style.
pub fn render_human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut title = Group::with_title(level.primary_title(&d.message));
        match (d.file, &d.span) {
            (Some(file), Some(span)) => {
                let f = sources.get(file);
                let mut annotation = AnnotationKind::Primary.span(clamp(span, &f.text));
                if let Some(label) = d.label.as_deref() {
                    annotation = annotation.label(label);
                }
                let mut files = vec![file];
                for r in &d.related {
                    if !files.contains(&r.file) {
                        files.push(r.file);
                    }
                }
                // One snippet a file, the diagnostic's own first; the
                // related places of a file are shown in its snippet.
                for (i, shown) in files.into_iter().enumerate() {
                    let f = sources.get(shown);
                    let mut snippet = Snippet::source(&f.text).path(&f.path).fold(true);
                    if i == 0 {
                        snippet = snippet.annotation(annotation.clone());
                    }
                    for r in d.related.iter().filter(|r| r.file == shown) {
                        snippet = snippet.annotation(
                            AnnotationKind::Context
                                .span(clamp(&r.span, &f.text))
                                .label(&r.label),
                        );
                    }
                    title = title.element(snippet);
                }
            }
            (Some(file), None) => {
                // About the whole file: name it, at its start.
                let origin = annotate_snippets::Origin::path(&sources.get(file).path)
                    .line(1)
                    .char_column(1);
                title = title.element(origin);
            }
            _ => {}
        }
        if let Some(hint) = &d.hint {
            title = title.element(Level::HELP.message(hint));
        }
        out.push_str(&renderer.render(&[title]));
        out.push_str("\n\n");
    }
    out
}

fn clamp(span: &Range<usize>, text: &str) -> Range<usize> {
    let start = span.start.min(text.len());
    start..span.end.clamp(start, text.len())
}

/// One diagnostic as a machine-readable record.
#[derive(Serialize)]
pub struct Record<'a> {
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub hint: Option<&'a str>,
    /// Other places the problem involves; left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedRecord<'a>>,
}

/// A related place, in a [`Record`].
#[derive(Serialize)]
pub struct RelatedRecord<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
}

pub fn records<'a>(diags: &'a [Diagnostic], sources: &'a Sources) -> Vec<Record<'a>> {
    diags
        .iter()
        .map(|d| {
            let pos = |o: usize| d.file.map(|f| sources.line_col(f, o));
            // A diagnostic about a whole file is at its start.
            let span = d.span.clone().or(d.file.map(|_| 0..0));
            let start = span.as_ref().and_then(|s| pos(s.start));
            let end = span.as_ref().and_then(|s| pos(s.end));
            Record {
                severity: d.severity,
                code: d.code.as_str(),
                message: &d.message,
                file: d.file.map(|f| sources.get(f).path.as_str()),
                line: start.map(|p| p.0),
                column: start.map(|p| p.1),
                end_line: end.map(|p| p.0),
                end_column: end.map(|p| p.1),
                hint: d.hint.as_deref(),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let (line, column) = sources.line_col(r.file, r.span.start);
                        let (end_line, end_column) = sources.line_col(r.file, r.span.end);
                        RelatedRecord {
                            file: sources.get(r.file).path.as_str(),
                            line,
                            column,
                            end_line,
                            end_column,
                            message: &r.label,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The closest candidate to `word`, if it is close enough to be a likely typo:
/// a few edits away (transpositions count as one), or similar by Jaro-Winkler.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_lower = word.to_lowercase();
    let allowed = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|c| {
            let c_lower = c.to_lowercase();
            let edits = strsim::osa_distance(&word_lower, &c_lower);
            let similarity = strsim::jaro_winkler(&word_lower, &c_lower);
            (edits <= allowed || similarity > 0.8).then_some((edits, similarity, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)))
        .map(|(_, _, c)| c)
}

/// `a`, `b` or `c`, for hints that list the valid choices.
pub fn one_of<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_from_the_seeds_find_their_key() {
        let probe = [
            "http",
            "tcp",
            "exec",
            "grpc",
            "initial_delay",
            "period",
            "timeout",
        ];
        assert_eq!(did_you_mean("periodSecods", probe), Some("period"));
        let rollout = ["max_surge", "max_unavailable", "min_ready", "history"];
        assert_eq!(
            did_you_mean("maxUnavailble", rollout),
            Some("max_unavailable")
        );
        assert_eq!(did_you_mean("zzz", rollout), None);
        assert_eq!(did_you_mean("wbe", ["web", "api"]), Some("web"));
    }

    #[test]
    fn human_rendering_shows_path_line_column_and_caret() {
        let mut sources = Sources::default();
        let text = "name = \"http\"\nperiodSecods = 5\n";
        let file = sources.add("services/http.toml".into(), text.into());
        let d = Diagnostic::error(Code::UnknownKey, "unknown key `periodSecods`")
            .at(file, 14..26)
            .label("did you mean `period`?")
            .hint("write `period = \"5s\"`");
        let out = render_human(&[d], &sources, false);
        assert_eq!(
            out,
            "error: unknown key `periodSecods`\n --> services/http.toml:2:1\n  |\n2 | periodSecods = 5\n  | ^^^^^^^^^^^^ did you mean `period`?\n  |\n  = help: write `period = \"5s\"`\n\n"
        );
    }

    #[test]
    fn related_places_are_shown_in_their_own_files_and_recorded() {
        let mut sources = Sources::default();
        let overlay = sources.add(
            "environments/prod/web.toml".into(),
            "replicas = 40\n".into(),
        );
        let env = sources.add(
            "environments/prod.toml".into(),
            "[defaults]\nreplicas = 2\n".into(),
        );
        let d = Diagnostic::error(Code::Capacity, "too many")
            .at(overlay, 11..13)
            .related(env, 22..23, "set by the environment's `[defaults]`");
        assert_eq!(
            render_human(std::slice::from_ref(&d), &sources, false),
            "error: too many\n --> environments/prod/web.toml:1:12\n  |\n1 | replicas = 40\n  |            ^^\n  |\n ::: environments/prod.toml:2:12\n  |\n2 | replicas = 2\n  |            - set by the environment's `[defaults]`\n\n"
        );
        let r = records(std::slice::from_ref(&d), &sources);
        let related = &r[0].related[0];
        assert_eq!(
            (related.file, related.line, related.column, related.message),
            (
                "environments/prod.toml",
                2,
                12,
                "set by the environment's `[defaults]`"
            )
        );
        // The same problem found in two environments keeps both places.
        let other = sources.add(
            "environments/dev.toml".into(),
            "[defaults]\nreplicas = 3\n".into(),
        );
        let mut diags = vec![d.clone(), d.clone().related(other, 22..23, "dev")];
        normalize(&mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].related.len(), 2);
    }

    #[test]
    fn records_carry_one_based_positions() {
        let mut sources = Sources::default();
        let file = sources.add("a.toml".into(), "x = 1\ny = 2\n".into());
        let d = Diagnostic::error(Code::Type, "bad").at(file, 6..7);
        let r = records(std::slice::from_ref(&d), &sources);
        assert_eq!((r[0].line, r[0].column), (Some(2), Some(1)));
    }

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(one_of(&["a"]), "`a`");
    }
}
