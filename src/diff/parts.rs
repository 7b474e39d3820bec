//! Markdown at any size: the comment of `render_markdown` split into
//! numbered parts that each fit a comment, nothing left out. Part one holds
//! the summary table; every part starts with a hidden marker
//! (`<!-- manifold-diff part N -->`) by which a CI job finds the comment it
//! posted before. An object's diff goes whole into the next part when it
//! does not fit in this one; one larger than a part is split at line
//! boundaries across parts (a line longer than a part, at a character
//! boundary), its code block closed at the end of a part and opened again
//! in the next with a note, so every part is valid Markdown on its own.

use super::markdown::{fence, group_title, render_summary};
use super::{EnvChanges, total};

/// GitHub's limit on a comment, in characters: the default part size.
pub const PART_LIMIT: usize = 65_536;

/// The smallest part size `render_markdown_parts` accepts: room for the
/// headings and notes a part repeats, and some diff.
pub const MIN_PART: usize = 2_000;

/// Room for the marker and heading of any part: numbers of up to six
/// digits.
const HEADER_RESERVE: usize = 120;

/// The hidden first line of part `n`.
pub fn part_marker(n: usize) -> String {
    format!("<!-- manifold-diff part {n} -->")
}

/// Why the diff cannot be split into parts of the size asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooSmall {
    pub limit: usize,
    pub needed: usize,
}

/// A code block being written: its fence and the file it shows.
struct Code {
    fence: String,
    path: String,
}

/// Fills part bodies one after another, closing what is open at the end of
/// a part and opening it again at the start of the next.
struct Packer {
    /// What a body may take: the limit less the header's room.
    capacity: usize,
    parts: Vec<String>,
    current: String,
    env: Option<String>,
    group: Option<String>,
    /// Where the open block's title starts in this part, while no diff
    /// follows it yet: moved whole to the next part rather than left empty.
    group_start: Option<usize>,
    code: Option<Code>,
}

const DETAILS_END: &str = "</details>\n";

impl Packer {
    /// What closing the open block and code block would add.
    fn closing(&self) -> usize {
        let code = self
            .code
            .as_ref()
            .map_or(0, |c| c.fence.len() + 1 + NOTE_NEXT.len());
        code + if self.group.is_some() {
            DETAILS_END.len()
        } else {
            0
        }
    }

    fn fits(&self, extra: usize) -> bool {
        self.current.len() + extra + self.closing() <= self.capacity
    }

    /// Ends this part and starts the next with what was open; a block
    /// title with nothing after it yet moves to the next part as it is.
    fn next_part(&mut self) {
        if let Some(at) = self.group_start.take() {
            let title = self.group.take().unwrap_or_default();
            self.current.truncate(at);
            self.next_part();
            self.group_start = Some(self.current.len());
            self.current.push_str(&details_start(&title));
            self.group = Some(title);
            return;
        }
        if let Some(code) = &self.code {
            self.current.push_str(&code.fence);
            self.current.push('\n');
            self.current.push_str(NOTE_NEXT);
        }
        if self.group.is_some() {
            self.current.push_str(DETAILS_END);
        }
        self.parts.push(std::mem::take(&mut self.current));
        if let Some(env) = &self.env {
            self.current.push_str(&env_heading(env, true));
        }
        if let Some(title) = &self.group {
            self.current
                .push_str(&details_start(&format!("{title} (continued)")));
        }
        if let Some(code) = &self.code {
            self.current.push_str(&format!(
                "_`{}`, continued:_\n\n{}diff\n",
                code.path, code.fence
            ));
        }
    }

    /// Room left in this part for diff lines.
    fn room(&self) -> usize {
        self.capacity
            .saturating_sub(self.current.len() + self.closing())
    }

    /// Adds a whole block (a heading, an object's diff) to this part, or to
    /// the next when this one has no room for it.
    fn block(&mut self, text: &str) {
        if !self.fits(text.len()) {
            self.next_part();
        }
        self.current.push_str(text);
    }

    /// Adds one object's diff: whole, in this part or the next, or split
    /// across parts when it is larger than a part.
    fn object(&mut self, path: &str, diff: &str) -> Result<(), TooSmall> {
        let f = fence(diff);
        let whole = format!("{f}diff\n{diff}{f}\n\n");
        if !self.fits(whole.len()) {
            self.next_part();
        }
        self.group_start = None;
        if self.fits(whole.len()) {
            self.current.push_str(&whole);
            return Ok(());
        }
        self.current.push_str(&format!("{f}diff\n"));
        self.code = Some(Code {
            fence: f.clone(),
            path: path.to_string(),
        });
        for line in diff.split_inclusive('\n') {
            let mut rest = line;
            while !rest.is_empty() {
                if rest.len() > self.room() {
                    self.next_part();
                }
                let room = self.room();
                if room < 16 {
                    return Err(TooSmall {
                        limit: self.capacity + HEADER_RESERVE,
                        needed: self.capacity + HEADER_RESERVE + 16 - room,
                    });
                }
                // A piece of a cut line ends with a line break of its own.
                let mut cut = if rest.len() <= room {
                    rest.len()
                } else {
                    room - 1
                };
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                self.current.push_str(&rest[..cut]);
                if cut < rest.len() {
                    self.current.push('\n');
                }
                rest = &rest[cut..];
            }
        }
        self.code = None;
        self.current.push_str(&format!("{f}\n\n"));
        Ok(())
    }
}

/// What ends a part whose code block goes on in the next.
const NOTE_NEXT: &str = "\n_Continued in the next part._\n\n";

fn env_heading(env: &str, continued: bool) -> String {
    let more = if continued { " (continued)" } else { "" };
    format!("\n#### `{env}`{more}\n")
}

fn details_start(summary: &str) -> String {
    format!("\n<details><summary>{summary}</summary>\n\n")
}

/// The Markdown comment in parts of at most `limit` bytes each (a byte
/// count is never below GitHub's or GitLab's character count), every part
/// starting with its [`part_marker`]; part one holds the summary table.
/// Nothing is left out. Fails when `limit` leaves no room for the summary
/// table and some diff.
pub fn render_markdown_parts(envs: &[EnvChanges], limit: usize) -> Result<Vec<String>, TooSmall> {
    let summary = render_summary(envs);
    let capacity = limit.saturating_sub(HEADER_RESERVE);
    if limit < MIN_PART || summary.len() + 200 > capacity {
        return Err(TooSmall {
            limit,
            needed: (summary.len() + 200 + HEADER_RESERVE).max(MIN_PART),
        });
    }
    let mut p = Packer {
        capacity,
        parts: Vec::new(),
        current: summary,
        env: None,
        group: None,
        group_start: None,
        code: None,
    };
    if total(envs).total() > 0 {
        for env in envs.iter().filter(|e| e.counts().total() > 0) {
            p.env = None;
            p.block(&env_heading(&env.name, false));
            p.env = Some(env.name.clone());
            for group in &env.groups {
                let title = format!("{}: {}", group_title(group), group.counts().nonzero_words());
                // A block's title is not left alone at the end of a part.
                let start = details_start(&title);
                if !p.fits(start.len() + 200) {
                    p.next_part();
                }
                p.group_start = Some(p.current.len());
                p.current.push_str(&start);
                p.group = Some(title);
                for change in &group.changes {
                    p.object(&format!("{}/{}", env.name, change.path), &change.diff)?;
                }
                p.group = None;
                p.group_start = None;
                p.current.push_str(DETAILS_END);
            }
        }
    }
    p.parts.push(p.current);
    let n = p.parts.len();
    Ok(p.parts
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let k = i + 1;
            let marker = part_marker(k);
            match (k, n) {
                (_, 1) => format!("{marker}\n{body}"),
                (1, _) => format!(
                    "{marker}\n{body}\n_Part 1 of {n}: the diffs go on in the next {}._\n",
                    if n == 2 { "comment" } else { "comments" }
                ),
                _ => format!("{marker}\n### manifold diff, part {k} of {n}\n{body}"),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::{Tree, compare};
    use super::*;

    /// The text inside the code blocks of `parts`, in order, the fences,
    /// notes and headings around them left out.
    fn code_content(parts: &[String]) -> String {
        let mut out = String::new();
        for part in parts {
            let mut fence: Option<&str> = None;
            for line in part.split_inclusive('\n') {
                match fence {
                    None if line.starts_with("```") && line.trim_end().ends_with("diff") => {
                        fence = Some(line.trim_end().trim_end_matches("diff"));
                    }
                    Some(f) if line.trim_end() == f => fence = None,
                    Some(_) => out.push_str(line),
                    None => {}
                }
            }
            assert!(fence.is_none(), "a code block is left open:\n{part}");
        }
        out
    }

    pub(super) fn big_envs(files: usize, lines: usize) -> Vec<EnvChanges> {
        let new: Tree = (0..files)
            .map(|i| {
                let text: String = (0..lines).map(|l| format!("key{l}: value {i}\n")).collect();
                (format!("s{i:02}/x.yaml"), text.into_bytes())
            })
            .collect();
        vec![
            compare("dev", "gitops:dev", &Tree::new(), &new),
            compare("prod", "gitops:prod", &Tree::new(), &Tree::new()),
        ]
    }

    #[test]
    fn parts_fit_the_limit_and_lose_nothing() {
        let envs = big_envs(12, 400);
        let all: String = envs
            .iter()
            .flat_map(|e| &e.groups)
            .flat_map(|g| &g.changes)
            .map(|c| c.diff.as_str())
            .collect();
        for limit in [MIN_PART, 5_000, 20_000, PART_LIMIT] {
            let parts = render_markdown_parts(&envs, limit).unwrap();
            assert!(parts.len() > 1, "{limit}");
            for (i, part) in parts.iter().enumerate() {
                assert!(
                    part.len() <= limit,
                    "part {} of {limit}: {}",
                    i + 1,
                    part.len()
                );
                assert!(part.starts_with(&format!("{}\n", part_marker(i + 1))));
                assert_eq!(
                    part.matches("<details>").count(),
                    part.matches("</details>").count()
                );
            }
            assert!(parts[0].contains("| `dev` | `gitops:dev` | 12 | 0 | 0 |"));
            assert!(parts.iter().skip(1).all(|p| !p.contains("| environment |")));
            let content = code_content(&parts);
            assert!(
                content == all,
                "{limit}: the parts' diffs differ from the whole"
            );
        }
    }

    #[test]
    fn a_diff_larger_than_a_part_is_split_with_notes() {
        let envs = big_envs(1, 600);
        let parts = render_markdown_parts(&envs, 5_000).unwrap();
        assert!(parts.len() > 3, "{}", parts.len());
        assert!(parts[0].ends_with(&format!(
            "\n_Part 1 of {}: the diffs go on in the next comments._\n",
            parts.len()
        )));
        // Part one has the summary; the diff starts whole in part two.
        assert!(parts[1].starts_with(&format!(
            "<!-- manifold-diff part 2 -->\n### manifold diff, part 2 of {}\n\n#### `dev` (continued)\n\n<details><summary><code>s00</code>: 1 added</summary>\n\n```diff\n--- /dev/null\n",
            parts.len()
        )), "{}", parts[1]);
        assert!(
            parts[1].ends_with("```\n\n_Continued in the next part._\n\n</details>\n"),
            "{}",
            parts[1]
        );
        assert!(parts[2].starts_with(&format!(
            "<!-- manifold-diff part 3 -->\n### manifold diff, part 3 of {}\n\n#### `dev` (continued)\n\n<details><summary><code>s00</code>: 1 added (continued)</summary>\n\n_`dev/s00/x.yaml`, continued:_\n\n```diff\n+key",
            parts.len()
        )), "{}", parts[2]);
    }

    #[test]
    fn a_line_longer_than_a_part_is_cut_and_kept_whole_across_parts() {
        let long = "x".repeat(9_000);
        let new: Tree = [(
            "web/cm.yaml".to_string(),
            format!("data: {long}\n").into_bytes(),
        )]
        .into();
        let envs = vec![compare("dev", "gitops:dev", &Tree::new(), &new)];
        let parts = render_markdown_parts(&envs, 3_000).unwrap();
        assert!(parts.iter().all(|p| p.len() <= 3_000));
        let content: String = code_content(&parts).lines().collect();
        assert!(content.contains(&format!("+data: {long}")), "{content}");
    }

    #[test]
    fn everything_in_one_part_when_it_fits() {
        let envs = big_envs(2, 3);
        let parts = render_markdown_parts(&envs, PART_LIMIT).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0],
            format!(
                "{}\n{}",
                part_marker(1),
                super::super::render_markdown(&envs)
            )
        );
    }

    #[test]
    fn a_limit_without_room_for_the_summary_is_refused() {
        let envs = big_envs(1, 1);
        assert_eq!(
            render_markdown_parts(&envs, 100),
            Err(TooSmall {
                limit: 100,
                needed: MIN_PART
            })
        );
    }
}
