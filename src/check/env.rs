//! Environment variables: a `$(VAR)` reference must name a variable that is
//! rendered earlier, and a variable whose name looks like a secret must
//! reference a Secret rather than carry a literal value.

use std::collections::BTreeMap;

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic};
use crate::input::tree::Step;
use crate::model::{self, EnvValue};

/// Environment variable names that must never carry a literal value.
pub(super) fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "SECRET_KEY",
        "CREDENTIALS",
    ]
    .iter()
    .any(|s| upper.ends_with(s))
}

impl ServiceCheck<'_> {
    pub(super) fn env(&mut self) {
        let svc = self.svc;
        self.env_at(&[], &svc.env);
    }

    /// The variables of one container or track; `base` is its path.
    pub(super) fn env_at(&mut self, base: &[Step], env: &BTreeMap<String, EnvValue>) {
        for (name, value) in env {
            if let EnvValue::Literal(model::Scalar::String(text)) = value {
                // Kubernetes expands `$(VAR)` only for variables listed
                // earlier, and variables are rendered sorted by name.
                for var in references(text) {
                    if env.contains_key(var) && var >= name.as_str() {
                        let mut at = base.to_vec();
                        at.extend([key("env"), key(name)]);
                        let d = Diagnostic::error(
                            Code::EnvOrder,
                            format!("`$({var})` in `{name}` will not be expanded: `{var}` is rendered after `{name}`"),
                        )
                        .hint(format!(
                            "variables are rendered sorted by name and Kubernetes expands only earlier ones; rename `{name}` or `{var}` so that `{var}` sorts first"
                        ));
                        self.report(&at, false, d);
                    }
                }
            }
            if let EnvValue::Literal(_) = value {
                if looks_secret(name) {
                    let mut at = base.to_vec();
                    at.extend([key("env"), key(name)]);
                    let d = Diagnostic::error(Code::SecretLiteral, format!("`{name}` looks like a secret but has a literal value"))
                        .hint(format!("reference a Secret instead: `{name} = {{ secret = \"<secret name>\", key = \"<key>\" }}`"));
                    self.report(&at, false, d);
                }
            }
        }
    }
}

/// The names of `$(NAME)` references in a value (`$$(` is a literal `$(`).
fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("$(") {
        if rest[..i].ends_with('$') {
            rest = &rest[i + 2..];
            continue;
        }
        let after = &rest[i + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_references_are_found_and_escapes_skipped() {
        assert_eq!(references("http://$(HOST):$(PORT)/x"), vec!["HOST", "PORT"]);
        assert_eq!(references("cost: $$(not) $5 $(A"), Vec::<&str>::new());
    }

    #[test]
    fn secret_looking_names() {
        assert!(looks_secret("DB_PASSWORD"));
        assert!(looks_secret("MYSQL_ROOT_PASSWORD"));
        assert!(looks_secret("GITHUB_TOKEN"));
        assert!(!looks_secret("PASSWORD_MIN_LENGTH"));
        assert!(!looks_secret("NODE_ENV"));
    }
}
