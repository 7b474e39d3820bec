//! Variables: `${name}`, `${env}`, `${namespace}` and the environment's own
//! `[vars]`, expanded in every string of a merged tree before it is
//! deserialized. `$${` writes a literal `${`; `$(VAR)` is Kubernetes' own
//! syntax and passes through untouched.

use std::collections::BTreeMap;

use super::tree::{Node, Value};
use crate::diag::{Code, Diagnostic, did_you_mean, one_of};

/// Replaces `${name}`-style variables in every string of the tree. `$${` writes
/// a literal `${`. Unknown variables are reported where they are written.
pub fn interpolate(node: &mut Node, vars: &BTreeMap<&str, String>, diags: &mut Vec<Diagnostic>) {
    match &mut node.value {
        Value::String(s) if s.contains('$') => match expand(s, vars) {
            Ok(expanded) => *s = expanded,
            Err(unknown) => {
                let names: Vec<&str> = vars.keys().copied().collect();
                let mut d = Diagnostic::error(
                    Code::UnknownVariable,
                    format!("unknown variable `${{{unknown}}}`"),
                )
                .at(node.origin.file, node.origin.span.clone());
                d = match did_you_mean(&unknown, names.iter().copied()) {
                    Some(better) => d.hint(format!(
                        "did you mean `${{{better}}}`? write `$${{` for a literal `${{`"
                    )),
                    None => d.hint(format!(
                        "variables are {}; write `$${{` for a literal `${{`",
                        one_of(
                            &names
                                .iter()
                                .map(|n| format!("${{{n}}}"))
                                .collect::<Vec<_>>()
                        )
                    )),
                };
                diags.push(d);
            }
        },
        Value::Array(items) => {
            for item in items {
                interpolate(item, vars, diags);
            }
        }
        Value::Table(table) => {
            for value in table.values_mut() {
                interpolate(value, vars, diags);
            }
        }
        _ => {}
    }
}

fn expand(s: &str, vars: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(tail.to_string());
            };
            let name = &tail[..end];
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => return Err(name.to_string()),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::input::tree::parse;

    #[test]
    fn variables_expand_and_dollar_dollar_escapes() {
        let vars = BTreeMap::from([("name", "http".to_string()), ("env", "prod".to_string())]);
        assert_eq!(
            expand("topic=${name}-${env}", &vars).unwrap(),
            "topic=http-prod"
        );
        assert_eq!(
            expand("echo $${HOME} $1 $(VAR)", &vars).unwrap(),
            "echo ${HOME} $1 $(VAR)"
        );
        assert_eq!(expand("${nmae}", &vars).unwrap_err(), "nmae");
    }

    #[test]
    fn unknown_variables_are_located_and_suggested() {
        let mut t = parse(FileId(0), "path = \"/${nmae}/metrics\"\n").unwrap();
        let vars = BTreeMap::from([("name", "http".to_string())]);
        let mut diags = Vec::new();
        interpolate(&mut t, &vars, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "unknown variable `${nmae}`");
        assert_eq!(diags[0].span, Some(7..25));
        assert!(
            diags[0]
                .hint
                .as_deref()
                .unwrap()
                .starts_with("did you mean `${name}`?")
        );
    }
}
