//! The text renderer: a summary line per environment, then the unified diffs
//! grouped by service, with ANSI colours for a terminal.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{EnvChanges, Group};

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn env_summary(env: &EnvChanges) -> String {
    let counts = env.counts();
    if counts.total() == 0 {
        "no changes".to_string()
    } else {
        counts.words()
    }
}

fn group_title(env: &str, group: &Group) -> String {
    match &group.service {
        Some(service) => format!("{env}/{service}"),
        None => format!("{env} (environment)"),
    }
}

/// Plain unified diffs, counts first; ANSI colours when `color`.
pub fn render_text(envs: &[EnvChanges], color: bool) -> String {
    let bold = Style::new().bold();
    let mut out = render_text_summary(envs, color);
    for env in envs {
        for group in &env.groups {
            let title = format!(
                "== {}: {}",
                group_title(&env.name, group),
                group.counts().nonzero_words()
            );
            let _ = writeln!(out, "\n{}", paint(color, bold, &title));
            for change in &group.changes {
                out.push_str(&paint_diff(&change.diff, color));
            }
        }
    }
    out
}

/// The counts alone: a line per environment.
pub fn render_text_summary(envs: &[EnvChanges], color: bool) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    for env in envs {
        let _ = writeln!(
            out,
            "{}: {} (against {})",
            paint(color, bold, &env.name),
            env_summary(env),
            env.against
        );
    }
    out
}

fn paint_diff(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + 64);
    for line in diff.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let style = if body.starts_with("--- ") || body.starts_with("+++ ") {
            Style::new().bold()
        } else if body.starts_with("@@") {
            AnsiColor::Cyan.on_default()
        } else if body.starts_with('-') {
            AnsiColor::Red.on_default()
        } else if body.starts_with('+') {
            AnsiColor::Green.on_default()
        } else if body.starts_with('\\') || body.starts_with('(') {
            Style::new().dimmed()
        } else {
            Style::new()
        };
        out.push_str(&paint(true, style, body));
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn text_has_counts_first_then_groups() {
        assert_eq!(
            render_text(&sample(), false),
            "\
dev: 0 added, 1 changed, 0 removed (against gitops:dev)
prod: no changes (against gitops:prod)

== dev/web: 1 changed
--- a/dev/web/d.yaml
+++ b/dev/web/d.yaml
@@ -1 +1 @@
-a: 1
+a: 2
"
        );
        let colored = render_text(&sample(), true);
        assert!(colored.contains("\u{1b}[31m-a: 1\u{1b}[0m"), "{colored:?}");
        assert!(colored.contains("\u{1b}[32m+a: 2\u{1b}[0m"), "{colored:?}");
    }
}
