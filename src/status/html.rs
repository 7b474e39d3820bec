//! The HTML renderer: one self-contained page (inline CSS, no scripts, no
//! external resources) for a CI artifact or a pages site. Each cell carries
//! `data-service`, `data-env` and `data-aspect`; a cell that differs from
//! the environment it is compared with has the class `differs`.

use std::fmt::Write as _;

use super::{Aspect, Matrix, cell_text, comparisons, highlighted, shown_aspects};

const STYLE: &str = "\
body { font: 14px/1.4 system-ui, -apple-system, \"Segoe UI\", sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
thead th small { display: block; font-weight: normal; color: #656d76; }
tbody th { background: #fbfcfd; }
th.aspect { font-weight: normal; color: #656d76; }
td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.disabled { color: #8c959f; font-style: italic; }
td.differs { background: #fff1b8; font-weight: bold; }
tbody { border-top: 2px solid #8c959f; }
p.legend span { background: #fff1b8; font-weight: bold; padding: 0 0.3em; }
";

/// HTML text that reads as itself, in content and in quoted attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The matrix as a page; `title` heads it.
pub fn render_html(matrix: &Matrix, title: &str) -> String {
    let title = escape(title);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<table>\n<thead>\n<tr><th scope=\"col\">service</th><th scope=\"col\"></th>"
    );
    for column in &matrix.columns {
        let from = match &column.compared_with {
            Some(base) => format!("<small>from {}</small>", escape(base)),
            None => String::new(),
        };
        let _ = write!(
            out,
            "<th scope=\"col\" data-env=\"{0}\">{0}{from}</th>",
            escape(&column.name)
        );
    }
    out.push_str("</tr>\n</thead>\n");
    for row in &matrix.rows {
        out.push_str("<tbody>\n");
        let aspects = shown_aspects(row);
        for (n, aspect) in aspects.iter().enumerate() {
            out.push_str("<tr>");
            if n == 0 {
                let _ = write!(
                    out,
                    "<th scope=\"rowgroup\" rowspan=\"{}\" title=\"{}\">{}</th>",
                    aspects.len(),
                    escape(&row.file),
                    escape(&row.name)
                );
            }
            let _ = write!(
                out,
                "<th scope=\"row\" class=\"aspect\">{}</th>",
                aspect.name()
            );
            for (cell, column) in row.cells.iter().zip(&matrix.columns) {
                out.push_str(&cell_html(
                    &row.name,
                    &column.name,
                    column.compared_with.as_deref(),
                    cell,
                    *aspect,
                ));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    let compared = comparisons(&matrix.columns);
    if !compared.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"legend\"><span>Highlighted</span>: differs from the previous environment in promotion order ({}).</p>",
            escape(&compared)
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn cell_html(
    service: &str,
    env: &str,
    base: Option<&str>,
    cell: &super::Cell,
    aspect: Aspect,
) -> String {
    let mut classes = Vec::new();
    let mut title = String::new();
    if !cell.enabled {
        classes.push("disabled");
    }
    if highlighted(cell, aspect) {
        classes.push("differs");
        if let Some(base) = base {
            title = format!(" title=\"differs from {}\"", escape(base));
        }
    }
    let class = if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", classes.join(" "))
    };
    format!(
        "<td data-service=\"{}\" data-env=\"{}\" data-aspect=\"{}\"{class}{title}>{}</td>",
        escape(service),
        escape(env),
        aspect.name(),
        escape(&cell_text(cell, aspect))
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn the_page_is_self_contained_and_marks_what_differs() {
        let page = render_html(&sample(), "manifold status");
        assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
        for outside in ["<script", "http://", "https://", "<link", "src="] {
            assert!(!page.contains(outside), "{outside}: {page}");
        }
        assert!(page.contains(
            "<td data-service=\"web\" data-env=\"test\" data-aspect=\"version\" class=\"differs\" title=\"differs from dev\">1.2</td>"
        ), "{page}");
        assert!(page.contains(
            "<td data-service=\"worker\" data-env=\"prod\" data-aspect=\"replicas\" class=\"disabled\"></td>"
        ), "{page}");
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
