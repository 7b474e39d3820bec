//! Suggestions that validate: the replacement values a schema diagnostic
//! offers ("quote the value", "remove the quotes", a duration's unit, a
//! quantity's unit) are tried against the schema before they are shown, so
//! that following a hint never leads to another error.
//!
//! [`Trial`] puts a candidate value in place of the failing one in the
//! file's JSON and asks the validator whether anything at or below that
//! place still fails. The functions here propose candidates; `diagnose.rs`
//! words the diagnostic around the first one that fits. What a value means
//! (a Secret's name where `true` was written) comes from the schema's
//! `description` and `examples`, never from guessing.

use jsonschema::Validator;
use serde_json::Value as Json;

use crate::input::tree::Step;

/// A file's JSON and its validator, to try replacement values in.
pub(super) struct Trial<'a> {
    pub(super) validator: &'a Validator,
    pub(super) instance: &'a Json,
}

impl Trial<'_> {
    /// Whether `value`, put at `path`, leaves no schema error at `path` or
    /// below it.
    pub(super) fn fits(&self, path: &[Step], value: Json) -> bool {
        let mut instance = self.instance.clone();
        let mut slot = &mut instance;
        for step in path {
            let next = match step {
                Step::Key(k) => slot.get_mut(k.as_str()),
                Step::Index(i) => slot.get_mut(*i),
            };
            match next {
                Some(n) => slot = n,
                None => return false,
            }
        }
        *slot = value;
        let pointer = pointer(path);
        !self.validator.iter_errors(&instance).any(|e| {
            let at = e.instance_path().as_str().to_string();
            at == pointer || at.starts_with(&format!("{pointer}/"))
        })
    }

    /// The first of `candidates` (TOML text, JSON value) that fits at `path`.
    pub(super) fn first_fit(
        &self,
        path: &[Step],
        candidates: Vec<(String, Json)>,
    ) -> Option<String> {
        candidates
            .into_iter()
            .find(|(_, value)| self.fits(path, value.clone()))
            .map(|(text, _)| text)
    }
}

/// The JSON pointer of an instance path, as `jsonschema` writes it.
fn pointer(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        s.push('/');
        match step {
            Step::Key(k) => s.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

/// A TOML string holding `s` (the candidates never need escapes).
pub(super) fn quoted(s: &str) -> (String, Json) {
    (format!("\"{s}\""), Json::String(s.to_string()))
}

/// A duration written without its unit, or with a unit spelled out:
/// `5` or `"5"` -> `"5s"`, `"2 min"` -> `"2m"`, `"1h 30m"` -> `"1h30m"`.
/// `None` when no spelling of it is a duration.
pub(super) fn duration(written: &str) -> Option<String> {
    let mut s = written
        .trim()
        .to_ascii_lowercase()
        .replace(char::is_whitespace, "");
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.push('s');
    }
    // Longest words first, so that `seconds` does not leave `onds`.
    for (words, unit) in [
        (&["hours", "hour", "hrs", "hr"][..], "h"),
        (&["minutes", "minute", "mins", "min"][..], "m"),
        (&["seconds", "second", "secs", "sec"][..], "s"),
    ] {
        for word in words {
            s = s.replace(word, unit);
        }
    }
    let units: Vec<(u64, char)> = split_units(&s)?;
    let mut last = u8::MAX;
    for (_, unit) in &units {
        let rank = match unit {
            'h' => 2,
            'm' => 1,
            's' => 0,
            _ => return None,
        };
        if rank >= last {
            return None;
        }
        last = rank;
    }
    (s != written).then_some(s)
}

/// `1h30m` as `[(1, 'h'), (30, 'm')]`; `None` unless it is numbers each
/// followed by one letter.
fn split_units(s: &str) -> Option<Vec<(u64, char)>> {
    let mut out = Vec::new();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            out.push((digits.parse().ok()?, c));
            digits.clear();
        }
    }
    (digits.is_empty() && !out.is_empty()).then_some(out)
}

/// A quantity unit Kubernetes does not read, and what to write instead:
/// the replacement values, each with what it means, and why the written
/// one is wrong. `None` when the number or the unit is beyond guessing.
pub(super) fn quantity(written: &str) -> Option<(Vec<(String, &'static str)>, String)> {
    let s = written.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = (&s[..split], s[split..].trim());
    if number.is_empty() || number.parse::<f64>().is_err() {
        return None;
    }
    let as_written = written != s || s[split..].starts_with(char::is_whitespace);
    let lower = unit.to_ascii_lowercase();
    // `MB`, `MiB`, `mi`, `K`, `gb`, ...: the prefix letter and whether the
    // unit says binary (`i`).
    let bare = lower.strip_suffix('b').unwrap_or(&lower);
    let (prefix, binary) = match bare.strip_suffix('i') {
        Some(p) => (p, true),
        None => (bare, false),
    };
    let decimal = [
        (
            "k",
            "k",
            "Ki",
            "kilobytes, 1000 bytes",
            "kibibytes, 1024 bytes",
        ),
        (
            "m",
            "M",
            "Mi",
            "megabytes, 1000² bytes",
            "mebibytes, 1024² bytes",
        ),
        (
            "g",
            "G",
            "Gi",
            "gigabytes, 1000³ bytes",
            "gibibytes, 1024³ bytes",
        ),
        (
            "t",
            "T",
            "Ti",
            "terabytes, 1000⁴ bytes",
            "tebibytes, 1024⁴ bytes",
        ),
        (
            "p",
            "P",
            "Pi",
            "petabytes, 1000⁵ bytes",
            "pebibytes, 1024⁵ bytes",
        ),
        (
            "e",
            "E",
            "Ei",
            "exabytes, 1000⁶ bytes",
            "exbibytes, 1024⁶ bytes",
        ),
    ];
    if as_written && unit == "m" {
        let fix = format!("{number}m");
        let why = "a quantity is written without spaces".to_string();
        return Some((vec![(fix, "thousandths")], why));
    }
    if lower == "b" {
        return Some((
            vec![(number.to_string(), "bytes")],
            "`B` is not a Kubernetes unit (a number alone counts bytes)".to_string(),
        ));
    }
    let (_, dec, bin, dec_means, bin_means) = decimal.iter().find(|row| row.0 == prefix)?;
    let why = if as_written && (unit == *dec || unit == *bin) {
        "a quantity is written without spaces".to_string()
    } else if lower.ends_with('b') {
        format!("`{unit}` is not a Kubernetes unit (Kubernetes units have no `B`)")
    } else if binary {
        format!("`{unit}` is not a Kubernetes unit (units are case-sensitive)")
    } else {
        format!("`{unit}` is not a Kubernetes unit")
    };
    let binary_fix = (format!("{number}{bin}"), *bin_means);
    let decimal_fix = (format!("{number}{dec}"), *dec_means);
    let fixes = if binary || unit == *bin {
        vec![binary_fix]
    } else if unit == *dec {
        vec![decimal_fix]
    } else {
        vec![decimal_fix, binary_fix]
    };
    Some((fixes, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_get_their_unit() {
        for (written, want) in [
            ("5", Some("5s")),
            ("5 s", Some("5s")),
            ("5sec", Some("5s")),
            ("30 seconds", Some("30s")),
            ("2min", Some("2m")),
            ("1 hour", Some("1h")),
            ("1h 30m", Some("1h30m")),
            ("10S", Some("10s")),
            ("5s", None),
            ("30m1h", None),
            ("500ms", None),
            ("1.5h", None),
            ("soon", None),
        ] {
            assert_eq!(duration(written).as_deref(), want, "{written}");
        }
    }

    #[test]
    fn quantity_units_are_told_apart() {
        let fixes = |w: &str| {
            quantity(w).map(|(f, why)| (f.into_iter().map(|x| x.0).collect::<Vec<_>>(), why))
        };
        assert_eq!(
            fixes("512MB"),
            Some((
                vec!["512M".to_string(), "512Mi".to_string()],
                "`MB` is not a Kubernetes unit (Kubernetes units have no `B`)".to_string()
            ))
        );
        assert_eq!(
            fixes("256mi"),
            Some((
                vec!["256Mi".to_string()],
                "`mi` is not a Kubernetes unit (units are case-sensitive)".to_string()
            ))
        );
        assert_eq!(
            fixes("1GiB"),
            Some((
                vec!["1Gi".to_string()],
                "`GiB` is not a Kubernetes unit (Kubernetes units have no `B`)".to_string()
            ))
        );
        assert_eq!(fixes("250 m").unwrap().0, vec!["250m"]);
        assert_eq!(fixes("2 Gi").unwrap().0, vec!["2Gi"]);
        assert_eq!(fixes("1K").unwrap().0, vec!["1k", "1Ki"]);
        assert_eq!(fixes("64b").unwrap().0, vec!["64"]);
        assert_eq!(fixes("lots"), None);
        assert_eq!(fixes("1x"), None);
    }
}
