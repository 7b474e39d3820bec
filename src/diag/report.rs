//! Diagnostics as the reports CI systems read: SARIF 2.1.0 for GitHub code
//! scanning, and the Code Quality JSON of GitLab's merge-request widget.
//!
//! Both map every finding to its file and line, and give it a fingerprint
//! that stays the same when lines are added above it: a hash of the file,
//! the code, the finding's anchor (the key path it is at, which the caller
//! supplies, since this module reads no TOML) and its message, never its
//! line. Findings with the same four get a counter, so every fingerprint
//! of a report is unique. Nothing is printed here.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::{Code, Diagnostic, Severity, Sources, records};

/// The SARIF schema a report names.
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The file a finding is in, as the report names it (`.`, the
/// repository, for the few about no file).
fn place<'a>(d: &Diagnostic, sources: &'a Sources) -> &'a str {
    d.file.map_or(".", |f| sources.get(f).path.as_str())
}

/// One fingerprint a diagnostic, from its file, code, anchor and message;
/// `anchors[i]` is the anchor of `diags[i]`.
pub fn fingerprints(diags: &[Diagnostic], sources: &Sources, anchors: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    diags
        .iter()
        .zip(anchors)
        .map(|(d, anchor)| {
            let mut hash = Sha256::new();
            for part in [place(d, sources), d.code.as_str(), anchor, &d.message] {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            let base: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            if *n == 1 { base } else { format!("{base}-{n}") }
        })
        .collect()
}

/// The message and the hint, as one text.
fn text(d: &Diagnostic) -> String {
    match &d.hint {
        Some(hint) => format!("{}\nhelp: {hint}", d.message),
        None => d.message.clone(),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A SARIF 2.1.0 log of one run: a rule for every code, a result for
/// every diagnostic. Columns count Unicode code points.
pub fn sarif(diags: &[Diagnostic], sources: &Sources, anchors: &[String]) -> Json {
    let rules: Vec<Json> = Code::ALL
        .iter()
        .map(|c| {
            let mut rule = json!({
                "id": c.as_str(),
                "shortDescription": { "text": c.summary() },
            });
            if let Some(severity) = c.policy_default() {
                rule["defaultConfiguration"] = json!({ "level": level(severity) });
                rule["properties"] = json!({ "tags": ["policy"] });
            }
            rule
        })
        .collect();
    let fingerprints = fingerprints(diags, sources, anchors);
    let results: Vec<Json> = diags
        .iter()
        .zip(records(diags, sources))
        .zip(fingerprints)
        .map(|((d, r), fingerprint)| {
            let index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text(d) },
                "partialFingerprints": { "manifold/v1": fingerprint },
            });
            if let (Some(file), Some(line), Some(column)) = (r.file, r.line, r.column) {
                let end_line = r.end_line.unwrap_or(line);
                let end_column = r.end_column.unwrap_or(column);
                // SARIF regions end after their last column; a whole-file
                // finding marks its first character.
                let end_column = if (end_line, end_column) == (line, column) {
                    column + 1
                } else {
                    end_column
                };
                result["locations"] = json!([location(file, line, column, end_line, end_column)]);
            }
            if !r.related.is_empty() {
                let related: Vec<Json> = r
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, rel)| {
                        let mut l = location(
                            rel.file,
                            rel.line,
                            rel.column,
                            rel.end_line,
                            rel.end_column
                                .max(rel.column + usize::from(rel.end_line == rel.line)),
                        );
                        l["id"] = json!(i);
                        l["message"] = json!({ "text": rel.message });
                        l
                    })
                    .collect();
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "manifold",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn location(file: &str, line: usize, column: usize, end_line: usize, end_column: usize) -> Json {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": file },
            "region": {
                "startLine": line,
                "startColumn": column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        },
    })
}

/// GitLab's Code Quality report: one issue a diagnostic, errors `major`,
/// warnings `minor`.
pub fn code_quality(diags: &[Diagnostic], sources: &Sources, anchors: &[String]) -> Json {
    let fingerprints = fingerprints(diags, sources, anchors);
    let issues: Vec<Json> = diags
        .iter()
        .zip(records(diags, sources))
        .zip(fingerprints)
        .map(|((d, r), fingerprint)| {
            let mut issue = json!({
                "type": "issue",
                "description": d.message,
                "check_name": d.code.as_str(),
                "fingerprint": fingerprint,
                "severity": match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "location": {
                    "path": place(d, sources),
                    "lines": { "begin": r.line.unwrap_or(1) },
                },
            });
            if let Some(hint) = &d.hint {
                issue["content"] = json!({ "body": hint });
            }
            issue
        })
        .collect();
    Json::Array(issues)
}
