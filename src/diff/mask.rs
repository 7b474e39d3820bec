//! Secret masking: every value under `data` and `stringData` of a Secret is
//! replaced before anything is diffed, line by line on the YAML text, so no
//! renderer can print it; an entry whose value changed is marked as changed.

use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use super::super::tests::SECRET;
    use super::*;

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
}
