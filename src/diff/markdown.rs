//! The Markdown renderer, for a merge-request comment: a summary table, then
//! one collapsible block per service, kept under the size a comment may have.

use std::fmt::Write as _;

use super::{EnvChanges, Group, total};

/// The largest Markdown text [`render_markdown`] produces: GitHub refuses
/// comments above 65,536 characters; GitLab allows more.
pub const MARKDOWN_LIMIT: usize = 60_000;

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `text`.
pub(super) fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// The heading and the summary table: environment, against, added,
/// changed, removed, with a total row for several environments; and the
/// line that says there is nothing else when nothing changes.
pub fn render_summary(envs: &[EnvChanges]) -> String {
    let mut out = String::from("### manifold diff\n\n");
    out.push_str("| environment | against | added | changed | removed |\n");
    out.push_str("|---|---|--:|--:|--:|\n");
    for env in envs {
        let c = env.counts();
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} |",
            env.name, env.against, c.added, c.changed, c.removed
        );
    }
    let t = total(envs);
    if envs.len() > 1 {
        let _ = writeln!(
            out,
            "| **total** | | **{}** | **{}** | **{}** |",
            t.added, t.changed, t.removed
        );
    }
    if t.total() == 0 {
        out.push_str("\nNo changes to the rendered manifests.\n");
    }
    out
}

/// The title of a service's collapsible block.
pub(super) fn group_title(group: &Group) -> String {
    match &group.service {
        Some(s) => format!("<code>{}</code>", html_escape(s)),
        None => "environment".to_string(),
    }
}

/// A merge-request comment: a summary table, then per environment one
/// collapsible block per service. Diffs that would take the text past
/// [`MARKDOWN_LIMIT`] are left out and counted at the end.
pub fn render_markdown(envs: &[EnvChanges]) -> String {
    render_markdown_within(envs, MARKDOWN_LIMIT)
}

/// [`render_markdown`] kept under `limit` bytes instead.
pub fn render_markdown_within(envs: &[EnvChanges], limit: usize) -> String {
    let mut out = render_summary(envs);
    if total(envs).total() == 0 {
        return out;
    }

    // Each object's block is added only while the whole text, with room for
    // the closing note, stays under the limit.
    let reserve = 300;
    let mut omitted = 0;
    let mut body = String::new();
    for env in envs.iter().filter(|e| e.counts().total() > 0) {
        let _ = write!(body, "\n#### `{}`\n", env.name);
        for group in &env.groups {
            let title = group_title(group);
            let mut block = format!(
                "\n<details><summary>{title}: {}</summary>\n\n",
                group.counts().nonzero_words()
            );
            let mut shown = 0;
            for change in &group.changes {
                let f = fence(&change.diff);
                let diff = format!("{f}diff\n{}{f}\n\n", change.diff);
                if out.len() + body.len() + block.len() + diff.len() + reserve > limit {
                    continue;
                }
                block.push_str(&diff);
                shown += 1;
            }
            let left_out = group.changes.len() - shown;
            omitted += left_out;
            if shown == 0 && out.len() + body.len() + block.len() + reserve > limit {
                continue;
            }
            if left_out > 0 {
                let _ = writeln!(block, "{} not shown.\n", plural(left_out, "diff"));
            }
            block.push_str("</details>\n");
            body.push_str(&block);
        }
    }
    out.push_str(&body);
    if omitted > 0 {
        let _ = write!(
            out,
            "\n_{} left out to keep this comment short; run `manifold diff` to see everything._\n",
            plural(omitted, "object diff")
        );
    }
    out
}

pub(super) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::{Tree, compare};
    use super::*;

    #[test]
    fn markdown_is_a_table_and_collapsible_blocks() {
        assert_eq!(
            render_markdown(&sample()),
            "\
### manifold diff

| environment | against | added | changed | removed |
|---|---|--:|--:|--:|
| `dev` | `gitops:dev` | 0 | 1 | 0 |
| `prod` | `gitops:prod` | 0 | 0 | 0 |
| **total** | | **0** | **1** | **0** |

#### `dev`

<details><summary><code>web</code>: 1 changed</summary>

```diff
--- a/dev/web/d.yaml
+++ b/dev/web/d.yaml
@@ -1 +1 @@
-a: 1
+a: 2
```

</details>
"
        );
    }

    #[test]
    fn markdown_stays_under_the_comment_limit() {
        let big: String = (0..5000).map(|i| format!("line{i}: {i}\n")).collect();
        let new: Tree = (0..20)
            .map(|i| (format!("s{i:02}/x.yaml"), big.clone().into_bytes()))
            .collect();
        let envs = vec![compare("dev", "gitops:dev", &Tree::new(), &new)];
        let md = render_markdown(&envs);
        assert!(md.len() <= MARKDOWN_LIMIT, "{}", md.len());
        assert!(md.contains("object diffs left out"), "{md}");
        assert!(md.contains("| `dev` | `gitops:dev` | 20 | 0 | 0 |"));
    }

    #[test]
    fn a_fence_is_longer_than_any_backtick_run_inside() {
        assert_eq!(fence("a"), "```");
        assert_eq!(fence("x ```` y"), "`````");
    }
}
