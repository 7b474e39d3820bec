//! The text renderer: aligned columns for a terminal, one line per service
//! and aspect, `*` after what differs (and bold yellow on a terminal).

use anstyle::{AnsiColor, Style};

use super::{Matrix, cell_text, comparisons, highlighted, shown_aspects};

/// The matrix as aligned columns; ANSI colours when `color`.
pub fn render_text(matrix: &Matrix, color: bool) -> String {
    let mut lines: Vec<Vec<(String, bool)>> = Vec::new();
    let mut header = vec![("service".to_string(), false), (String::new(), false)];
    header.extend(matrix.columns.iter().map(|c| (c.name.clone(), false)));
    lines.push(header);
    for row in &matrix.rows {
        for (n, aspect) in shown_aspects(row).into_iter().enumerate() {
            let name = if n == 0 {
                row.name.clone()
            } else {
                String::new()
            };
            let mut line = vec![(name, false), (aspect.name().to_string(), false)];
            for cell in &row.cells {
                let mark = highlighted(cell, aspect);
                let text = cell_text(cell, aspect);
                line.push((if mark { format!("{text}*") } else { text }, mark));
            }
            lines.push(line);
        }
    }
    let columns = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].0.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
    let mut out = String::new();
    for line in &lines {
        let mut text = String::new();
        for (i, (cell, mark)) in line.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if color && *mark {
                text.push_str(&format!("{style}{cell}{style:#}"));
            } else {
                text.push_str(cell);
            }
            if i + 1 < line.len() {
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    let compared = comparisons(&matrix.columns);
    if !compared.is_empty() {
        out.push_str(&format!(
            "\n* differs from the previous environment in promotion order: {compared}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn columns_are_aligned_and_differences_marked() {
        assert_eq!(
            render_text(&sample(), false),
            "\
service            dev     test    prod
web      version   1.3     1.2*    1.2
         replicas  1       2*      3-12*
         tracks    -       -       canary 1.3 10%, blue 1.2 header X-Track*
         serve     stable  stable  blue*
worker   version   7       7       disabled*
         replicas  1       1

* differs from the previous environment in promotion order: test from dev, prod from test
"
        );
    }
}
