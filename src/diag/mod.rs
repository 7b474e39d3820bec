//! Diagnostics: problems in the user's files.
//!
//! Every stage collects diagnostics instead of stopping at the first one. A
//! diagnostic carries a file, a byte span, a message and a hint; this module
//! renders them for people (a caret under the source line) and for machines
//! (JSON records). It does not decide exit codes or print: `main` does.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

mod code;
mod source;

pub use code::Code;

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
    pub label: Option<String>,
    pub hint: Option<String>,
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
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
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
/// same problem reached through two environments is reported once).
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup_by(|a, b| {
        a.file == b.file && a.span == b.span && a.message == b.message && a.hint == b.hint
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
                if let Some(label) = &d.label {
                    annotation = annotation.label(label);
                }
                title = title.element(
                    Snippet::source(&f.text)
                        .path(&f.path)
                        .fold(true)
                        .annotation(annotation),
                );
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
