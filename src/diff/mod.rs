//! Diffing: what a change does to the rendered output, environment by
//! environment, service by service, object by object.
//!
//! Two trees of one environment go in (what is published, what the working
//! tree renders); a structured change set comes out, with one unified diff per
//! object file, and three renderers: text for a terminal, Markdown for a
//! merge-request comment, JSON for machines. Values under `data` and
//! `stringData` of a Secret are masked before anything is diffed, so no
//! renderer can print them; a changed key still shows as changed.
//!
//! This stage is pure: it does not read git or files (`publish` and `main`
//! fetch the trees), and it does not decide exit codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::{Value as Json, json};
use similar::TextDiff;

use crate::emit::Tree;

/// How an object file differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Added,
    Changed,
    Removed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Changed => "changed",
            Status::Removed => "removed",
        }
    }

    /// The one-character mark used in summaries and commit messages.
    pub fn mark(self) -> char {
        match self {
            Status::Added => '+',
            Status::Changed => '~',
            Status::Removed => '-',
        }
    }
}

/// Added, changed and removed object files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Added => self.added += 1,
            Status::Changed => self.changed += 1,
            Status::Removed => self.removed += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.added + self.changed + self.removed
    }

    fn plus(self, other: Counts) -> Counts {
        Counts {
            added: self.added + other.added,
            changed: self.changed + other.changed,
            removed: self.removed + other.removed,
        }
    }

    /// `1 added, 2 changed, 0 removed`
    fn words(&self) -> String {
        format!(
            "{} added, {} changed, {} removed",
            self.added, self.changed, self.removed
        )
    }

    /// `1 added, 2 changed`: only what is not zero.
    fn nonzero_words(&self) -> String {
        let parts: Vec<String> = [
            (self.added, "added"),
            (self.changed, "changed"),
            (self.removed, "removed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        parts.join(", ")
    }
}

/// One object file that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    /// Relative to the environment's directory.
    pub path: String,
    pub status: Status,
    /// Unified diff with `a/<env>/<path>` and `b/<env>/<path>` headers,
    /// Secret values masked.
    pub diff: String,
}

/// The changes of one service, or of the environment's own files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// `None` for files of the environment itself (namespaces, kustomization).
    pub service: Option<String>,
    pub changes: Vec<ObjectChange>,
}

impl Group {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for change in &self.changes {
            c.add(change.status);
        }
        c
    }
}

/// What changes in one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvChanges {
    pub name: String,
    /// What the environment was compared with, e.g. `gitops:dev`.
    pub against: String,
    /// Environment files first, then services by name.
    pub groups: Vec<Group>,
}

impl EnvChanges {
    pub fn counts(&self) -> Counts {
        self.groups
            .iter()
            .fold(Counts::default(), |acc, g| acc.plus(g.counts()))
    }
}

/// Sums the counts of several environments.
pub fn total(envs: &[EnvChanges]) -> Counts {
    envs.iter()
        .fold(Counts::default(), |acc, e| acc.plus(e.counts()))
}

/// The paths that differ between two listings, sorted, compared by value
/// (file contents, or object ids when only those are at hand).
pub fn statuses<T: PartialEq>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) -> Vec<(String, Status)> {
    let mut out = Vec::new();
    for (path, value) in new {
        match old.get(path) {
            None => out.push((path.clone(), Status::Added)),
            Some(v) if v != value => out.push((path.clone(), Status::Changed)),
            Some(_) => {}
        }
    }
    for path in old.keys() {
        if !new.contains_key(path) {
            out.push((path.clone(), Status::Removed));
        }
    }
    out.sort();
    out
}

/// The service a file belongs to: its first directory under the environment.
pub fn service_of(path: &str) -> Option<&str> {
    path.split_once('/').map(|(first, _)| first)
}

/// Compares one environment's published files (`old`) with its rendered files
/// (`new`), both relative to the environment's directory.
pub fn compare(name: &str, against: &str, old: &Tree, new: &Tree) -> EnvChanges {
    let mut groups: BTreeMap<Option<String>, Vec<ObjectChange>> = BTreeMap::new();
    for (path, status) in statuses(old, new) {
        let before = old.get(&path).map(|b| String::from_utf8_lossy(b));
        let after = new.get(&path).map(|b| String::from_utf8_lossy(b));
        let (before, after) = mask_secrets(
            before.as_deref().unwrap_or_default(),
            after.as_deref().unwrap_or_default(),
        );
        let a = match status {
            Status::Added => "/dev/null".to_string(),
            _ => format!("a/{name}/{path}"),
        };
        let b = match status {
            Status::Removed => "/dev/null".to_string(),
            _ => format!("b/{name}/{path}"),
        };
        let mut diff = TextDiff::from_lines(before.as_str(), after.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .to_string();
        if diff.is_empty() {
            // Only masked values differ in a way the mask cannot show.
            diff = format!("--- {a}\n+++ {b}\n(only Secret values differ; they are not shown)\n");
        }
        groups
            .entry(service_of(&path).map(str::to_string))
            .or_default()
            .push(ObjectChange { path, status, diff });
    }
    EnvChanges {
        name: name.to_string(),
        against: against.to_string(),
        // `None` sorts first: the environment's own files lead.
        groups: groups
            .into_iter()
            .map(|(service, changes)| Group { service, changes })
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Secrets

const REDACTED: &str = "<redacted>";
const REDACTED_CHANGED: &str = "<redacted, changed>";

/// A masked value: where it was and what it was.
struct Masked {
    /// (document, block key, entry key)
    key: (usize, String, String),
    /// Index of the line that stands for the value in the masked text.
    line: usize,
    raw: String,
}

/// Masks every value under `data` and `stringData` of the Secrets in `old`
/// and `new`. An entry whose value differs between the two is marked as
/// changed on the new side, so the diff shows that it changed but not how.
pub fn mask_secrets(old: &str, new: &str) -> (String, String) {
    let (old_lines, old_masked) = mask(old);
    let (mut new_lines, new_masked) = mask(new);
    if old_masked.is_empty() && new_masked.is_empty() {
        return (old.to_string(), new.to_string());
    }
    let before: BTreeMap<&(usize, String, String), &str> = old_masked
        .iter()
        .map(|m| (&m.key, m.raw.as_str()))
        .collect();
    for m in &new_masked {
        if before.get(&m.key).is_some_and(|raw| *raw != m.raw) {
            new_lines[m.line] = new_lines[m.line].replace(REDACTED, REDACTED_CHANGED);
        }
    }
    (join(old_lines, old), join(new_lines, new))
}

fn join(lines: Vec<String>, original: &str) -> String {
    let mut text = lines.join("\n");
    if original.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Splits a `key: value` line (after its indentation) into key and the rest.
/// Quoted keys keep their quotes.
fn split_key(s: &str) -> Option<(&str, &str)> {
    let end = match s.chars().next()? {
        q @ ('"' | '\'') => {
            let mut escaped = false;
            let mut close = None;
            for (i, c) in s.char_indices().skip(1) {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    close = Some(i + 1);
                    break;
                }
            }
            close?
        }
        _ => {
            let mut at = None;
            for (i, c) in s.char_indices() {
                if c == ':' && s[i + 1..].chars().next().is_none_or(|n| n == ' ') {
                    at = Some(i);
                    break;
                }
            }
            at?
        }
    };
    let rest = s[end..].strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((&s[..end], rest.trim()))
}

fn unquote(key: &str) -> &str {
    key.trim_matches(|c| c == '"' || c == '\'')
}

fn is_secret_document(lines: &[&str]) -> bool {
    lines.iter().any(|line| {
        let t = line.trim_start().trim_start_matches("- ");
        split_key(t).is_some_and(|(k, v)| {
            unquote(k) == "kind" && {
                let v = v.split(" #").next().unwrap_or_default().trim();
                unquote(v) == "Secret"
            }
        })
    })
}

/// Masks the Secret values of one YAML text: the masked lines, and each masked
/// value with its position.
fn mask(text: &str) -> (Vec<String>, Vec<Masked>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut masked = Vec::new();
    // Documents are separated by `---` lines.
    let mut start = 0;
    let mut doc = 0;
    while start < lines.len() {
        let end = (start + 1..lines.len())
            .find(|&i| lines[i].starts_with("---"))
            .unwrap_or(lines.len());
        let body = &lines[start..end];
        if is_secret_document(body) {
            mask_document(body, doc, &mut out, &mut masked);
        } else {
            out.extend(body.iter().map(|l| l.to_string()));
        }
        start = end;
        doc += 1;
    }
    (out, masked)
}

fn mask_document(lines: &[&str], doc: usize, out: &mut Vec<String>, masked: &mut Vec<Masked>) {
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = indentation(line);
        let block = split_key(&line[indent..])
            .map(|(k, rest)| (unquote(k).to_string(), rest))
            .filter(|(k, _)| k == "data" || k == "stringData");
        let Some((block, inline)) = block else {
            out.push(line.to_string());
            i += 1;
            continue;
        };
        // Lines deeper than the block key belong to it.
        let mut end = i + 1;
        while end < lines.len() && (is_blank(lines[end]) || indentation(lines[end]) > indent) {
            end += 1;
        }
        // Trailing blank lines are not part of the block.
        while end > i + 1 && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        let inline = inline.split(" #").next().unwrap_or_default().trim();
        if !inline.is_empty() {
            // A flow mapping (`data: {a: b}`) is masked as a whole.
            let raw = lines[i..end].join("\n");
            out.push(format!("{}{block}: {REDACTED}", &line[..indent]));
            masked.push(Masked {
                key: (doc, block, String::new()),
                line: out.len() - 1,
                raw,
            });
            i = end;
            continue;
        }
        out.push(line.to_string());
        let children = &lines[i + 1..end];
        let child_indent = children
            .iter()
            .find(|l| !is_blank(l))
            .map(|l| indentation(l));
        let mut j = 0;
        while j < children.len() {
            let child = children[j];
            let entry = child_indent
                .filter(|&ci| !is_blank(child) && indentation(child) == ci)
                .and_then(|ci| split_key(&child[ci..]).map(|(k, _)| (ci, k)));
            let Some((ci, key)) = entry else {
                // Comments and blank lines between entries carry no value.
                out.push(child.to_string());
                j += 1;
                continue;
            };
            let mut stop = j + 1;
            while stop < children.len()
                && (children[stop].trim().is_empty() || indentation(children[stop]) > ci)
            {
                stop += 1;
            }
            let raw = children[j..stop].join("\n");
            out.push(format!("{}{key}: {REDACTED}", &child[..ci]));
            masked.push(Masked {
                key: (doc, block.clone(), unquote(key).to_string()),
                line: out.len() - 1,
                raw,
            });
            j = stop;
        }
        i = end;
    }
}

// ---------------------------------------------------------------------------
// Renderers

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

/// The largest Markdown text [`render_markdown`] produces: GitHub refuses
/// comments above 65,536 characters; GitLab allows more.
pub const MARKDOWN_LIMIT: usize = 60_000;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
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

/// A merge-request comment: a summary table, then per environment one
/// collapsible block per service. Diffs that would take the text past
/// [`MARKDOWN_LIMIT`] are left out and counted at the end.
pub fn render_markdown(envs: &[EnvChanges]) -> String {
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
            let title = match &group.service {
                Some(s) => format!("<code>{}</code>", html_escape(s)),
                None => "environment".to_string(),
            };
            let mut block = format!(
                "\n<details><summary>{title}: {}</summary>\n\n",
                group.counts().nonzero_words()
            );
            let mut shown = 0;
            for change in &group.changes {
                let f = fence(&change.diff);
                let diff = format!("{f}diff\n{}{f}\n\n", change.diff);
                if out.len() + body.len() + block.len() + diff.len() + reserve > MARKDOWN_LIMIT {
                    continue;
                }
                block.push_str(&diff);
                shown += 1;
            }
            let left_out = group.changes.len() - shown;
            omitted += left_out;
            if shown == 0 && out.len() + body.len() + block.len() + reserve > MARKDOWN_LIMIT {
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

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The change set as one JSON document:
/// `{"added", "changed", "removed", "environments": [{"name", "against",
/// "added", "changed", "removed", "objects": [{"path", "service", "status",
/// "diff"}]}]}`. `service` is null for the environment's own files.
pub fn render_json(envs: &[EnvChanges]) -> Json {
    let t = total(envs);
    let environments: Vec<Json> = envs
        .iter()
        .map(|env| {
            let c = env.counts();
            let objects: Vec<Json> = env
                .groups
                .iter()
                .flat_map(|g| {
                    g.changes.iter().map(move |ch| {
                        json!({
                            "path": ch.path,
                            "service": g.service,
                            "status": ch.status.name(),
                            "diff": ch.diff,
                        })
                    })
                })
                .collect();
            json!({
                "name": env.name,
                "against": env.against,
                "added": c.added,
                "changed": c.changed,
                "removed": c.removed,
                "objects": objects,
            })
        })
        .collect();
    json!({
        "added": t.added,
        "changed": t.changed,
        "removed": t.removed,
        "environments": environments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    const SECRET: &str = "\
apiVersion: v1
data:
  password: aHVudGVyMg==
  user: YWRtaW4=
kind: Secret
metadata:
  name: db
stringData:
  config.yaml: |
    token: abc
    other: def
  \"quoted:key\": plain
type: Opaque
";

    #[test]
    fn statuses_are_sorted_by_path() {
        let old = tree(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = tree(&[("a", "1"), ("b", "22"), ("d", "4")]);
        assert_eq!(
            statuses(&old, &new),
            vec![
                ("b".to_string(), Status::Changed),
                ("c".to_string(), Status::Removed),
                ("d".to_string(), Status::Added),
            ]
        );
    }

    #[test]
    fn files_group_by_service_and_environment_files_lead() {
        let old = tree(&[("kustomization.yaml", "a\n"), ("web/x.yaml", "1\n")]);
        let new = tree(&[
            ("kustomization.yaml", "b\n"),
            ("api/y.yaml", "2\n"),
            ("namespace.yaml", "n\n"),
        ]);
        let env = compare("dev", "gitops:dev", &old, &new);
        type Summary<'a> = Vec<(Option<&'a str>, Vec<(&'a str, Status)>)>;
        let groups: Summary = env
            .groups
            .iter()
            .map(|g| {
                (
                    g.service.as_deref(),
                    g.changes
                        .iter()
                        .map(|c| (c.path.as_str(), c.status))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            vec![
                (
                    None,
                    vec![
                        ("kustomization.yaml", Status::Changed),
                        ("namespace.yaml", Status::Added)
                    ]
                ),
                (Some("api"), vec![("api/y.yaml", Status::Added)]),
                (Some("web"), vec![("web/x.yaml", Status::Removed)]),
            ]
        );
        assert_eq!(
            env.counts(),
            Counts {
                added: 2,
                changed: 1,
                removed: 1
            }
        );
    }

    #[test]
    fn object_diffs_are_unified_with_environment_paths() {
        let old = tree(&[("web/d.yaml", "a: 1\nb: 2\n"), ("web/gone.yaml", "x: 1\n")]);
        let new = tree(&[("web/d.yaml", "a: 1\nb: 3\n"), ("web/new.yaml", "y: 1\n")]);
        let env = compare("dev", "gitops:dev", &old, &new);
        let diffs: Vec<&str> = env.groups[0]
            .changes
            .iter()
            .map(|c| c.diff.as_str())
            .collect();
        assert_eq!(
            diffs,
            vec![
                "--- a/dev/web/d.yaml\n+++ b/dev/web/d.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n",
                "--- a/dev/web/gone.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x: 1\n",
                "--- /dev/null\n+++ b/dev/web/new.yaml\n@@ -0,0 +1 @@\n+y: 1\n",
            ]
        );
    }

    #[test]
    fn secret_values_are_masked_and_changes_marked() {
        let changed = SECRET
            .replace("aHVudGVyMg==", "c2VjcmV0")
            .replace("token: abc", "token: xyz");
        let (old, new) = mask_secrets(SECRET, &changed);
        assert_eq!(
            old,
            "\
apiVersion: v1
data:
  password: <redacted>
  user: <redacted>
kind: Secret
metadata:
  name: db
stringData:
  config.yaml: <redacted>
  \"quoted:key\": <redacted>
type: Opaque
"
        );
        assert_eq!(
            new,
            old.replace("password: <redacted>", "password: <redacted, changed>")
                .replace(
                    "config.yaml: <redacted>",
                    "config.yaml: <redacted, changed>"
                )
        );
        for secret in ["aHVudGVyMg", "c2VjcmV0", "abc", "xyz", "plain", "YWRtaW4"] {
            assert!(!old.contains(secret) && !new.contains(secret), "{secret}");
        }
    }

    #[test]
    fn a_changed_secret_key_shows_in_every_format_without_its_value() {
        let old = tree(&[("db/secret-db.yaml", SECRET)]);
        let new = tree(&[(
            "db/secret-db.yaml",
            &SECRET.replace("aHVudGVyMg==", "c2VjcmV0"),
        )]);
        let envs = vec![compare("dev", "gitops:dev", &old, &new)];
        assert_eq!(
            envs[0].groups[0].changes[0].diff,
            "--- a/dev/db/secret-db.yaml\n+++ b/dev/db/secret-db.yaml\n@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  password: <redacted>\n+  password: <redacted, changed>\n   user: <redacted>\n kind: Secret\n metadata:\n"
        );
        let outputs = [
            render_text(&envs, false),
            render_markdown(&envs),
            render_json(&envs).to_string(),
        ];
        for out in outputs {
            assert!(out.contains("password: <redacted, changed>"), "{out}");
            assert!(!out.contains("aHVudGVyMg") && !out.contains("c2VjcmV0"));
        }
    }

    #[test]
    fn flow_mappings_and_other_kinds() {
        let flow = "kind: Secret\ndata: {a: b}\n";
        let (old, new) = mask_secrets(flow, "kind: Secret\ndata: {a: c}\n");
        assert_eq!(old, "kind: Secret\ndata: <redacted>\n");
        assert_eq!(new, "kind: Secret\ndata: <redacted, changed>\n");
        // A ConfigMap's data is not secret.
        let cm = "kind: ConfigMap\ndata:\n  a: b\n";
        assert_eq!(mask_secrets(cm, cm), (cm.to_string(), cm.to_string()));
        // Only the Secret document of a multi-document file is masked.
        let multi = "kind: ConfigMap\ndata:\n  a: b\n---\nkind: Secret\ndata:\n  c: d\n";
        assert_eq!(
            mask_secrets(multi, "").0,
            "kind: ConfigMap\ndata:\n  a: b\n---\nkind: Secret\ndata:\n  c: <redacted>\n"
        );
    }

    fn sample() -> Vec<EnvChanges> {
        let old = tree(&[
            ("kustomization.yaml", "resources:\n- web/d.yaml\n"),
            ("web/d.yaml", "a: 1\n"),
        ]);
        let new = tree(&[
            ("kustomization.yaml", "resources:\n- web/d.yaml\n"),
            ("web/d.yaml", "a: 2\n"),
        ]);
        vec![
            compare("dev", "gitops:dev", &old, &new),
            compare("prod", "gitops:prod", &new, &new),
        ]
    }

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
        let big: String = (0..5000).map(|i| format!("line: {i}\n")).collect();
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

    #[test]
    fn json_lists_objects_with_their_service() {
        let json = render_json(&sample());
        assert_eq!(json["changed"], 1);
        assert_eq!(json["environments"][0]["objects"][0]["service"], "web");
        assert_eq!(json["environments"][0]["objects"][0]["status"], "changed");
        assert_eq!(json["environments"][1]["objects"], json!([]));
    }
}
