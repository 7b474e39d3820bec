//! Emitting: objects become YAML text, laid out as the output tree.
//!
//! YAML is written by [`to_yaml`], a small emitter over JSON values. No YAML
//! library is used: `serde_yaml` is archived, its forks differ in how they
//! quote, and the quoting *is* the guarantee this stage makes — every string is
//! read back as the same string by YAML 1.1 readers (PyYAML, Kubernetes' own
//! decoder) and YAML 1.2 readers alike, so `yes`, `on`, `0755`, `1_000` and
//! `12:30:00` are quoted. Keys are sorted, so output is deterministic.
//! [`toml_string`] quotes a TOML string, for the service files and
//! annotated views other commands write.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Serializes one value as a YAML document.
pub fn to_yaml(value: &Json) -> String {
    let mut out = String::with_capacity(1024);
    match value {
        Json::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Json::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Json>, level: usize) {
    // serde_json's map is a BTreeMap, so keys come sorted (a test guards that
    // no dependency switches on its `preserve_order` feature).
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        // A key is never a block: quote anything that is not plain.
        if is_plain_safe(key) {
            out.push_str(key);
        } else {
            write_quoted(out, key);
        }
        out.push(':');
        write_child(out, value, level, level + 2);
    }
}

/// Sequences are written at the parent key's indentation, as kubectl does.
fn write_seq(out: &mut String, items: &[Json], level: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        out.push('-');
        match item {
            Json::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, level + 2);
            }
            Json::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                write_seq(out, inner, level + 2);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, level + 2);
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:`.
fn write_child(out: &mut String, value: &Json, level: usize, nested: usize) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('\n');
            indent(out, nested);
            write_map(out, map, nested);
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('\n');
            indent(out, level);
            write_seq(out, items, level);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, nested);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, value: &Json, level: usize) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or_default();
                // Rust never writes exponents; YAML 1.1 floats need a dot.
                let text = f.to_string();
                out.push_str(&text);
                if !text.contains('.') {
                    out.push_str(".0");
                }
            } else {
                out.push_str(&n.to_string());
            }
        }
        Json::String(s) => write_string(out, s, level),
        Json::Object(_) => out.push_str("{}"),
        Json::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if is_block_safe(s) {
        write_block(out, s, level);
    } else {
        write_quoted(out, s);
    }
}

/// A literal block (`|`) for multi-line text: readable, and exact.
fn write_block(out: &mut String, s: &str, level: usize) {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    let body = if trailing == 1 {
        &s[..s.len() - 1]
    } else {
        s.trim_end_matches('\n')
    };
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
    }
    // `|+` keeps every trailing newline: write the extra ones as empty lines.
    for _ in 1..trailing.max(1) {
        out.push('\n');
    }
}

fn is_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars()
            .all(|c| c == '\n' || c == '\t' || !needs_escape(c))
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
}

/// Characters written as `\u` escapes: outside YAML's printable set
/// (controls, U+FFFE, U+FFFF), or read differently by some readers (the byte
/// order mark, line and paragraph separators, NEL).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A TOML basic string: one line, always, with TOML's escapes.
pub fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a string can be written without quotes and read back as the same
/// string by both YAML 1.1 and YAML 1.2. Errs on the side of quoting.
pub fn is_plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    // Indicators that start other syntax, and surrounding blanks.
    if b"[]{},#&*!|>'\"%@` \t".contains(&first) || matches!(last, b' ' | b'\t' | b':') {
        return false;
    }
    // `- x`, `? x`, `: x` and the lone indicators; `--port` and `-1` pass
    // here (numbers are caught below).
    if matches!(first, b'-' | b'?' | b':') && matches!(b.get(1), None | Some(b' ')) {
        return false;
    }
    if s == "---" || s == "..." {
        return false;
    }
    // One pass: control characters, `: ` and ` #`.
    let mut prev = 0u8;
    for &c in b {
        if c < 0x20 || c == 0x7f || (prev == b':' && c == b' ') || (prev == b' ' && c == b'#') {
            return false;
        }
        prev = c;
    }
    if !s.is_ascii() && s.chars().any(needs_escape) {
        return false;
    }
    !resolves_to_non_string(s)
}

/// Whether a plain scalar would be read as something other than a string by
/// a YAML 1.1 or 1.2 reader: null, booleans (1.1 has `yes`, `on`, `y` ...),
/// numbers in any base or with `_`, sexagesimal `12:30:00`, dates, `.inf`,
/// `.nan`, `<<` and `=`.
fn resolves_to_non_string(s: &str) -> bool {
    // Fast path: every special form starts with one of these.
    let Some(&first) = s.as_bytes().first() else {
        return true;
    };
    if !matches!(
        first,
        b'0'..=b'9'
            | b'.'
            | b'+'
            | b'-'
            | b'~'
            | b'<'
            | b'='
            | b'y'
            | b'Y'
            | b'n'
            | b'N'
            | b't'
            | b'T'
            | b'f'
            | b'F'
            | b'o'
            | b'O'
    ) {
        return false;
    }
    const WORDS: [&str; 28] = [
        "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        "<<", "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, ".inf" | ".nan") {
        return true;
    }
    // Anything that starts like a number and uses only number-ish characters:
    // decimal, 0x/0o/0b, octal 0755, `1_000`, floats, exponents, 12:30:00.
    let starts_numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if starts_numeric
        && unsigned
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xob._:+-e".contains(c))
        && unsigned.chars().any(|c| c.is_ascii_digit())
    {
        return true;
    }
    // Dates and timestamps: 2001-12-14, 2001-12-14t21:59:43.10-05:00.
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// The output tree: relative path -> file content, sorted.
pub type Tree = BTreeMap<String, Vec<u8>>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_lookalikes_are_quoted() {
        for s in [
            "yes",
            "on",
            "Off",
            "y",
            "N",
            "0755",
            "1_000",
            "12:30:00",
            "0x1F",
            "1e3",
            "3.14",
            ".5",
            "-1",
            "+1",
            "null",
            "~",
            "",
            "2024-01-01",
            ".inf",
            "-.inf",
            ".NaN",
            "<<",
            "=",
            "1:20",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        for s in [
            "http",
            "ccgame:*",
            "nats://xxx:xxx@nats:4222",
            "metadata.labels['env']",
            "--port",
            "-c",
            "100m",
            "200Mi",
            "v1.0.0",
            "apps/v1",
            "a b",
        ] {
            assert!(is_plain_safe(s), "{s:?} should be plain");
        }
    }

    #[test]
    fn indicators_and_comments_are_quoted() {
        for s in [
            "*", "&a", "!tag", "- x", "a: b", "a #b", "#x", "@x", "`x", "'x", "\"x", "[x]", "{x}",
            "x:", " x", "x ",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn documents_are_written_in_kubectl_style() {
        let v = json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "spec": {"replicas": 3, "args": ["npm", "run", "start:testCron"], "empty": {}, "none": []},
            "env": [{"name": "C_FORCE_ROOT", "value": "true"}, {"name": "PORT", "value": "80"}],
        });
        assert_eq!(
            to_yaml(&v),
            "apiVersion: apps/v1\nenv:\n- name: C_FORCE_ROOT\n  value: \"true\"\n- name: PORT\n  value: \"80\"\nkind: Deployment\nspec:\n  args:\n  - npm\n  - run\n  - start:testCron\n  empty: {}\n  none: []\n  replicas: 3\n"
        );
    }

    #[test]
    fn multi_line_text_is_a_literal_block() {
        let v = json!({"data": {"a.properties": "x=1\ny=2\n", "b": "no newline\nat end", "c": "two\n\n"}});
        assert_eq!(
            to_yaml(&v),
            "data:\n  a.properties: |\n    x=1\n    y=2\n  b: |-\n    no newline\n    at end\n  c: |+\n    two\n\n"
        );
    }

    #[test]
    fn json_maps_iterate_in_sorted_order() {
        // Fails if a dependency enables serde_json's `preserve_order`, which
        // would make the output follow insertion order.
        let mut map = serde_json::Map::new();
        map.insert("b".into(), json!(1));
        map.insert("a".into(), json!(2));
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn control_characters_are_escaped() {
        let v = json!({"a": "tab\there", "b": "bell\u{7}"});
        assert_eq!(to_yaml(&v), "a: \"tab\\there\"\nb: \"bell\\u0007\"\n");
    }
}
