//! The Markdown renderer: one table, for a merge-request comment or a
//! README; what differs is in bold.

use super::{Matrix, cell_text, comparisons, highlighted, shown_aspects};

/// Text that reads as itself in a Markdown table cell.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '#' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The matrix as a Markdown table, cells that differ in bold.
pub fn render_markdown(matrix: &Matrix) -> String {
    let mut out = String::from("### manifold status\n\n| service | |");
    for column in &matrix.columns {
        out.push_str(&format!(" {} |", escape(&column.name)));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(matrix.columns.len()));
    out.push('\n');
    for row in &matrix.rows {
        for (n, aspect) in shown_aspects(row).into_iter().enumerate() {
            let mut cells = vec![if n == 0 {
                format!("`{}`", row.name)
            } else {
                String::new()
            }];
            cells.push(aspect.name().to_string());
            for cell in &row.cells {
                let text = escape(&cell_text(cell, aspect));
                cells.push(if highlighted(cell, aspect) {
                    format!("**{text}**")
                } else {
                    text
                });
            }
            for cell in cells {
                out.push_str("| ");
                out.push_str(&cell);
                out.push_str(if cell.is_empty() { "" } else { " " });
            }
            out.push_str("|\n");
        }
    }
    let compared = comparisons(&matrix.columns);
    if !compared.is_empty() {
        out.push_str(&format!(
            "\n**Bold**: differs from the previous environment in promotion order ({compared}).\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn the_markdown_is_one_table_with_differences_in_bold() {
        assert_eq!(
            render_markdown(&sample()),
            "\
### manifold status

| service | | dev | test | prod |
|---|---|---|---|---|
| `web` | version | 1.3 | **1.2** | 1.2 |
| | replicas | 1 | **2** | **3-12** |
| | tracks | - | - | **canary 1.3 10%, blue 1.2 header X-Track** |
| | serve | stable | stable | **blue** |
| `worker` | version | 7 | 7 | **disabled** |
| | replicas | 1 | 1 | |

**Bold**: differs from the previous environment in promotion order (test from dev, prod from test).
"
        );
        assert_eq!(escape("a|b*c"), "a\\|b\\*c");
    }
}
