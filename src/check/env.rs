//! Environment variables: Kubernetes' `$(VAR)` rule, and variables named like
//! secrets that carry a literal value.
//!
//! Kubernetes expands `$(NAME)` in a variable's value when `NAME` comes from
//! `envFrom` (all of it, which comes first) or from a variable *above* it in
//! `env`; in `command` and `args` when the container defines `NAME` at all.
//! `$$` is a literal `$`, and a reference to nothing stays as written. So a
//! reference to a variable defined below is an error (`env-order`); one to a
//! name defined nowhere is an error (`env-undefined`) only when manifold knows
//! every name `envFrom` brings (the `[config]` keys, not a ConfigMap or Secret
//! of the cluster), and a warning in `command` and `args`, where a shell's
//! `$(date)` is left alone by Kubernetes too. Variables are checked in the
//! order they are rendered (see `model::Env`), per container and per track.
//! This module does not check `${...}`: those are expanded before (`input::vars`).

use std::collections::BTreeMap;

use super::{ServiceCheck, key};
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::input::tree::Step;
use crate::model::{self, Container, Env, EnvFrom, EnvValue, Scalar, Service, Track};

/// Environment variable names that must never carry a literal value.
pub(crate) fn looks_secret(name: &str) -> bool {
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

/// One container's environment as Kubernetes builds it.
struct View<'a> {
    /// The variables in rendering order, each with the path of the table
    /// that writes it (the service's `env`, a track's, a container's).
    vars: Vec<(&'a str, &'a EnvValue, Vec<Step>)>,
    /// The keys of `[config]`, for the main container (its generated
    /// ConfigMap is an `envFrom` source).
    config: Option<&'a BTreeMap<String, Scalar>>,
    /// The prefixes of the `env_from` sources manifold cannot see.
    external: Vec<Option<&'a str>>,
    /// `command` and `args`, each with its path.
    lines: Vec<(Vec<Step>, &'a [String])>,
}

impl View<'_> {
    /// Whether `envFrom` or Kubernetes itself may define `name`.
    fn may_define(&self, name: &str) -> bool {
        self.config.is_some_and(|c| c.contains_key(name))
            || self
                .external
                .iter()
                .any(|prefix| prefix.is_none_or(|p| name.starts_with(p)))
            || service_link(name)
    }

    /// Where a missing variable can be defined, for hints.
    fn define_in(&self) -> &'static str {
        if self.config.is_some() {
            "`env` or `[config]`"
        } else {
            "`env`"
        }
    }

    /// Every name the container defines, for suggestions.
    fn names(&self) -> Vec<&str> {
        let config = self.config.into_iter().flat_map(|c| c.keys());
        let mut names: Vec<&str> = self.vars.iter().map(|(n, _, _)| *n).collect();
        names.extend(config.map(String::as_str));
        names
    }
}

impl ServiceCheck<'_> {
    /// The main container's variables, as its stable track renders them.
    pub(super) fn env(&mut self) {
        let svc = self.svc;
        self.env_at(&[], &svc.env);
        let view = main_view(svc, &svc.env, None);
        self.references(&view);
    }

    /// A track's variables, set over the service's in the main container.
    pub(super) fn track_env(&mut self, index: usize, track: &Track) {
        let at = [key("tracks"), Step::Index(index)];
        self.env_at(&at, &track.env);
        let svc = self.svc;
        let env = svc.env.overlaid(&track.env);
        let view = main_view(svc, &env, Some((&at, &track.env)));
        self.references(&view);
    }

    /// A side or init container's variables; `at` is its path.
    pub(super) fn container_env(&mut self, at: &[Step], c: &Container) {
        self.env_at(at, &c.env);
        let within = |k: &str| {
            let mut path = at.to_vec();
            path.push(key(k));
            path
        };
        let view = View {
            vars: c.env.iter().map(|(n, v)| (n, v, within("env"))).collect(),
            config: None,
            external: c.env_from.iter().map(prefix).collect(),
            lines: lines(&c.command, &c.args, at),
        };
        self.references(&view);
    }

    /// Secrets written as literals, in one `env` table; `base` is its
    /// container's or track's path.
    pub(super) fn env_at(&mut self, base: &[Step], env: &Env) {
        for (name, value) in env.iter() {
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

    /// Kubernetes' rule for `$(VAR)`, in values and in `command` and `args`.
    fn references(&mut self, view: &View<'_>) {
        for (pos, (name, value, table)) in view.vars.iter().enumerate() {
            let EnvValue::Literal(model::Scalar::String(text)) = value else {
                continue;
            };
            let mut at = table.clone();
            at.push(key(name));
            for var in references(text) {
                let defined = view.vars.iter().position(|(n, _, _)| *n == var);
                let d = match defined {
                    Some(p) if p < pos => continue,
                    Some(p) if p > pos => forward(var, name),
                    _ if view.may_define(var) => continue,
                    _ => undefined(view, var, name),
                };
                self.report(&at, false, d);
            }
        }
        for (at, items) in &view.lines {
            for (i, item) in items.iter().enumerate() {
                for var in references(item) {
                    if view.vars.iter().any(|(n, _, _)| *n == var) || view.may_define(var) {
                        continue;
                    }
                    let mut path = at.clone();
                    path.push(Step::Index(i));
                    self.report(&path, false, undefined_in_line(view, var, at));
                }
            }
        }
    }
}

/// The main container with `env` rendered; `track` is the track's path
/// and own variables, which are written under it.
fn main_view<'a>(svc: &'a Service, env: &'a Env, track: Option<(&[Step], &Env)>) -> View<'a> {
    let table = |name: &str| -> Vec<Step> {
        match track {
            Some((at, own)) if own.get(name).is_some() => {
                let mut path = at.to_vec();
                path.push(key("env"));
                path
            }
            _ => vec![key("env")],
        }
    };
    View {
        vars: env.iter().map(|(n, v)| (n, v, table(n))).collect(),
        config: Some(&svc.config),
        external: svc.env_from.iter().map(prefix).collect(),
        lines: lines(&svc.command, &svc.args, &[]),
    }
}

/// `$(var)` in `name`'s value, with `var` defined below `name`.
fn forward(var: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        Code::EnvOrder,
        format!("`$({var})` in `{name}` refers to a variable defined after `{name}`"),
    )
    .hint(format!(
        "Kubernetes expands `$(VAR)` only from `env_from` and from variables above it in `env`; move `{var}` above `{name}` (across layers, a variable keeps the place where it was first written)"
    ))
}

/// `$(var)` in `name`'s value, with `var` defined nowhere.
fn undefined(view: &View<'_>, var: &str, name: &str) -> Diagnostic {
    let literal = format!("`$$({var})` for a literal `$({var})`");
    if var == name {
        return Diagnostic::error(
            Code::EnvUndefined,
            format!("`$({var})` in `{name}` refers to itself: Kubernetes leaves it as written"),
        )
        .hint(format!(
            "`$(VAR)` sees `env_from` and the variables above, not the image's own; write the whole value, or {literal}"
        ));
    }
    let fix = format!(
        "define `{var}` above `{name}` in {}, or write {literal}",
        view.define_in()
    );
    Diagnostic::error(
        Code::EnvUndefined,
        format!("`$({var})` in `{name}` is not defined: Kubernetes leaves it as written"),
    )
    .hint(suggest(view, var, fix))
}

/// `$(var)` in `command` or `args`, with `var` defined nowhere: a warning,
/// since it may be a shell's command substitution.
fn undefined_in_line(view: &View<'_>, var: &str, at: &[Step]) -> Diagnostic {
    let list = match at.last() {
        Some(Step::Key(k)) => k.as_str(),
        _ => "command",
    };
    let fix = format!(
        "define `{var}` in {}, or write `$$({var})` for a literal `$({var})` (a shell's command substitution)",
        view.define_in()
    );
    Diagnostic::warning(
        Code::EnvUndefined,
        format!("`$({var})` in `{list}` is not defined: Kubernetes passes it as written"),
    )
    .hint(suggest(view, var, fix))
}

fn suggest(view: &View<'_>, var: &str, fix: String) -> String {
    match did_you_mean(var, view.names()) {
        Some(better) => format!("did you mean `$({better})`? {fix}"),
        None => fix,
    }
}

/// The `command` and `args` of a container at `at`.
fn lines<'a>(
    command: &'a Option<Vec<String>>,
    args: &'a Option<Vec<String>>,
    at: &[Step],
) -> Vec<(Vec<Step>, &'a [String])> {
    [("command", command), ("args", args)]
        .into_iter()
        .filter_map(|(k, items)| {
            let mut path = at.to_vec();
            path.push(key(k));
            Some((path, items.as_deref()?))
        })
        .collect()
}

fn prefix(source: &EnvFrom) -> Option<&str> {
    match source {
        EnvFrom::ConfigMap { prefix, .. } | EnvFrom::Secret { prefix, .. } => prefix.as_deref(),
    }
}

/// Whether `name` has the shape of a variable Kubernetes defines for a
/// Service of the namespace (`KUBERNETES_SERVICE_HOST`, `DB_PORT`,
/// `DB_PORT_5432_TCP_ADDR`, ...): manifold does not know every Service there.
fn service_link(name: &str) -> bool {
    let after = |marker: &str| {
        name.match_indices(marker)
            .filter(|(i, _)| *i > 0)
            .map(move |(i, m)| &name[i + m.len()..])
            .collect::<Vec<_>>()
    };
    let docker_link = |rest: &str| {
        let mut parts = rest.split('_');
        parts.next() == Some("")
            && parts
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|p| ["TCP", "UDP", "SCTP"].contains(&p))
            && parts
                .next()
                .is_none_or(|s| ["PROTO", "PORT", "ADDR"].contains(&s))
            && parts.next().is_none()
    };
    after("_SERVICE_HOST").contains(&"")
        || after("_SERVICE_PORT")
            .iter()
            .any(|rest| rest.is_empty() || rest.starts_with('_'))
        || after("_PORT")
            .iter()
            .any(|rest| rest.is_empty() || docker_link(rest))
}

/// The names of the `$(NAME)` references in a value, read as Kubernetes
/// reads them: `$$` is a literal `$`, a `$(` without `)` is literal, and
/// `$(...)` around what cannot be a variable name (a shell's `$(date +%s)`)
/// is skipped.
fn references(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if bytes[i + 1] != b'(' {
            // `$$` and `$x`: the next character is taken as written.
            i += 2;
            continue;
        }
        let Some(end) = text[i + 2..].find(')') else {
            break;
        };
        let name = &text[i + 2..i + 2 + end];
        if is_variable_name(name) {
            out.push(name);
        }
        i += end + 3;
    }
    out
}

/// What a ConfigMap key or manifold's `env` may be called.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_as_kubernetes_reads_them() {
        assert_eq!(references("http://$(HOST):$(PORT)/x"), ["HOST", "PORT"]);
        assert_eq!(references("cost: $$(not) $5 $(A"), Vec::<&str>::new());
        // `$$` is a literal `$`, then `$(B)` is a reference.
        assert_eq!(references("$$$(B)"), ["B"]);
        assert_eq!(references("$$$$(C)"), Vec::<&str>::new());
        assert_eq!(references("$x$(D)$"), ["D"]);
        assert_eq!(references("é$(E)ü"), ["E"]);
        assert_eq!(references("$(date +%s) $() $(a$(B)) $(F.g-h)"), ["F.g-h"]);
        assert_eq!(references("$(A$(B)"), Vec::<&str>::new());
    }

    #[test]
    fn service_link_variables() {
        for name in [
            "KUBERNETES_SERVICE_HOST",
            "KUBERNETES_SERVICE_PORT",
            "KUBERNETES_SERVICE_PORT_HTTPS",
            "KUBERNETES_PORT",
            "KUBERNETES_PORT_443_TCP",
            "KUBERNETES_PORT_443_TCP_ADDR",
            "DB_PORT_5432_UDP_PROTO",
            "REDIS_MASTER_SERVICE_HOST",
        ] {
            assert!(service_link(name), "{name}");
        }
        for name in [
            "SERVICE_HOST",
            "PORT",
            "DB_HOST",
            "DB_PORT_X",
            "DB_PORT_5432",
            "DB_PORT_5432_TCP_HOST",
            "DB_SERVICE_HOSTNAME",
            "DB_SERVICE_PORTS",
        ] {
            assert!(!service_link(name), "{name}");
        }
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
