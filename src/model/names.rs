//! Kubernetes names, and the paths of output files built from them.
//!
//! The grammars are small pure functions: DNS-1123 labels and subdomains,
//! DNS-1035 labels, label and annotation keys (`prefix/name`) and label
//! values. [`name_rule`] says which grammar and length a kind's names
//! follow, [`name_problem`] checks a name as composed (`<name>-<track>`,
//! `<name>-headless`, ...), and [`object_file`] and [`manifest_file`] are
//! the one place an output path is put together from input: each segment
//! is checked, so no name can reach outside the output directory. Every check returns the reason
//! in words, or `None`; the callers turn it into a located diagnostic.

/// The most a DNS-1123 or DNS-1035 label may hold.
pub const LABEL_MAX: usize = 63;
/// The most a DNS-1123 subdomain may hold.
pub const SUBDOMAIN_MAX: usize = 253;
/// The most the annotations of one object may hold, keys and values.
pub const ANNOTATIONS_MAX: usize = 256 * 1024;
/// The most the data of a ConfigMap or Secret may hold.
pub const DATA_MAX: usize = 1024 * 1024;
/// Above this, client-side `kubectl apply` cannot store the object in its
/// last-applied annotation.
pub const DATA_WARN: usize = 256 * 1024;

/// A grammar of names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grammar {
    /// Lowercase letters, digits and `-`, starting and ending with a letter
    /// or digit.
    Dns1123Label,
    /// DNS-1123 labels joined by `.`.
    Dns1123Subdomain,
    /// A DNS-1123 label that starts with a letter.
    Dns1035Label,
    /// Anything but `/`, `%`, `.` and `..` (RBAC names).
    PathSegment,
}

impl Grammar {
    /// The grammar in words, for hints.
    pub fn describe(self) -> &'static str {
        match self {
            Grammar::Dns1123Label => {
                "a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit"
            }
            Grammar::Dns1123Subdomain => {
                "a DNS-1123 subdomain: lowercase letters, digits, `-` and `.`, each part starting and ending with a letter or digit"
            }
            Grammar::Dns1035Label => {
                "a DNS-1035 label: lowercase letters, digits and `-`, starting with a letter and ending with a letter or digit"
            }
            Grammar::PathSegment => "any text without `/` or `%`, other than `.` and `..`",
        }
    }
}

/// What the names of one kind must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameRule {
    pub grammar: Grammar,
    pub max: usize,
    /// Why the limit is shorter than the grammar's, if it is.
    pub why: Option<&'static str>,
}

/// The rule for names of `kind`. Kinds not listed (custom resources
/// included) take DNS-1123 subdomains, as the API server does.
pub fn name_rule(kind: &str) -> NameRule {
    let rule = |grammar, max, why| NameRule { grammar, max, why };
    match kind {
        "Service" => rule(Grammar::Dns1035Label, LABEL_MAX, None),
        "Namespace" => rule(Grammar::Dns1123Label, LABEL_MAX, None),
        "CronJob" => rule(
            Grammar::Dns1123Subdomain,
            52,
            Some("the CronJob controller adds 11 characters to name its Jobs, which must fit 63"),
        ),
        "StatefulSet" => rule(
            Grammar::Dns1123Subdomain,
            52,
            Some(
                "the StatefulSet controller adds 11 characters for its pods' `controller-revision-hash` label, which must fit 63",
            ),
        ),
        "Job" => rule(
            Grammar::Dns1123Subdomain,
            LABEL_MAX,
            Some("the name is the value of the pods' `job-name` label"),
        ),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            rule(Grammar::PathSegment, SUBDOMAIN_MAX, None)
        }
        _ => rule(Grammar::Dns1123Subdomain, SUBDOMAIN_MAX, None),
    }
}

/// Why `name` is not a valid name of a `kind` object, as the end of a
/// sentence about the name ("starts with a digit"), or `None`.
pub fn name_problem(kind: &str, name: &str) -> Option<String> {
    let rule = name_rule(kind);
    let len = name.chars().count();
    if len > rule.max {
        let why = rule.why.map(|w| format!(": {w}")).unwrap_or_default();
        return Some(format!(
            "has {len} characters; a {kind} name has at most {}{why}",
            rule.max
        ));
    }
    grammar_problem(rule.grammar, name)
}

/// Why `s` does not follow `grammar`, as the end of a sentence about `s`
/// ("starts with a digit"), or `None`.
pub fn grammar_problem(grammar: Grammar, s: &str) -> Option<String> {
    match grammar {
        Grammar::Dns1123Label => label_problem(s, LABEL_MAX, false),
        Grammar::Dns1035Label => label_problem(s, LABEL_MAX, true),
        Grammar::Dns1123Subdomain => {
            if s.is_empty() {
                return Some("is empty".into());
            }
            if s.len() > SUBDOMAIN_MAX {
                return Some(format!("is longer than {SUBDOMAIN_MAX} characters"));
            }
            if let Some(c) = s
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')))
            {
                return Some(if c.is_ascii_uppercase() {
                    "has uppercase letters".into()
                } else {
                    format!("contains `{}`", c.escape_debug())
                });
            }
            s.split('.').find_map(|part| {
                if part.is_empty() {
                    return Some("has an empty part between dots".into());
                }
                label_problem(part, usize::MAX, false)
            })
        }
        Grammar::PathSegment => segment_problem(s).map(str::to_string),
    }
}

/// The first thing wrong with `s` as a label of at most `max` characters.
fn label_problem(s: &str, max: usize, letter_first: bool) -> Option<String> {
    let Some(first) = s.chars().next() else {
        return Some("is empty".into());
    };
    let len = s.chars().count();
    if len > max {
        return Some(format!("has {len} characters; at most {max}"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if c.is_ascii_uppercase() {
            "has uppercase letters".into()
        } else {
            format!("contains `{}`", c.escape_debug())
        });
    }
    if first == '-' {
        return Some("starts with `-`".into());
    }
    if letter_first && first.is_ascii_digit() {
        return Some("starts with a digit".into());
    }
    if s.ends_with('-') {
        return Some("ends with `-`".into());
    }
    None
}

pub fn is_dns1123_label(s: &str) -> bool {
    grammar_problem(Grammar::Dns1123Label, s).is_none()
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    grammar_problem(Grammar::Dns1123Subdomain, s).is_none()
}

pub fn is_dns1035_label(s: &str) -> bool {
    grammar_problem(Grammar::Dns1035Label, s).is_none()
}

/// The name part of a label or annotation key, and a label value when not
/// empty: letters, digits, `-`, `_` and `.`, starting and ending with a
/// letter or digit, at most 63 characters.
fn qualified_name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("is empty".into());
    }
    if s.len() > LABEL_MAX {
        return Some(format!("has {} characters; at most {LABEL_MAX}", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Some(if c == ' ' {
            "contains a space".into()
        } else {
            format!("contains `{}`", c.escape_debug())
        });
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(s.chars().next()) || !alnum(s.chars().last()) {
        return Some("must start and end with a letter or digit".into());
    }
    None
}

/// Why `key` is not a valid label or annotation key (`[prefix/]name`, the
/// prefix a DNS-1123 subdomain), or `None`.
pub fn key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if name.contains('/') {
            return Some("has more than one `/`; a key is `prefix/name`".into());
        }
        if let Some(p) = grammar_problem(Grammar::Dns1123Subdomain, prefix) {
            return Some(format!(
                "has a prefix that {p}; the prefix is a DNS-1123 subdomain"
            ));
        }
    }
    qualified_name_problem(name).map(|p| match prefix {
        Some(_) => format!("has a name part that {p}"),
        None => p,
    })
}

pub fn is_label_key(key: &str) -> bool {
    key_problem(key).is_none()
}

/// Why `value` is not a valid label value (empty, or a qualified name), or
/// `None`.
pub fn label_value_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    qualified_name_problem(value)
}

/// Why `s` cannot be one segment of an output path, or `None`: empty, `.`,
/// `..`, or holding `/`, `\`, `%`, NUL or another control character.
pub fn segment_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("is empty");
    }
    if s == "." || s == ".." {
        return Some("is a relative path (`.` or `..`)");
    }
    if s.contains(['/', '\\']) {
        return Some("contains a path separator");
    }
    if s.contains('%') {
        return Some("contains `%`");
    }
    if s.chars().any(char::is_control) {
        return Some("contains a control character (NUL, a newline, ...)");
    }
    None
}

/// Why `kind` cannot name a kind of object, or `None`: kinds are
/// identifiers, `ConfigMap` or `ExternalSecret`.
pub fn kind_problem(kind: &str) -> Option<&'static str> {
    let mut chars = kind.chars();
    match chars.next() {
        None => Some("is empty"),
        Some(c) if !c.is_ascii_alphabetic() => Some("does not start with a letter"),
        _ if !chars.all(|c| c.is_ascii_alphanumeric()) => {
            Some("has characters other than letters and digits")
        }
        _ => None,
    }
}

/// The folder of plain Kubernetes YAML published as it is: `manifests/` in
/// the repository and in each environment's folder of both the repository
/// and the output.
pub const MANIFESTS: &str = "manifests";

/// The file of one object in its environment's directory:
/// `<service>/<kind>-<name>.yaml`, the kind in lowercase. Every segment is
/// checked; the error says which one is not a safe path segment and why.
pub fn object_file(service: &str, kind: &str, name: &str) -> Result<String, String> {
    if let Some(p) = segment_problem(service) {
        return Err(format!("the service name `{}` {p}", service.escape_debug()));
    }
    Ok(format!("{service}/{}", file_name(kind, name)?))
}

/// The file of one object of a manifest file in its environment's
/// directory: `manifests/<folder>/<kind>-<name>.yaml`, where `folder` is
/// the file's path below its `manifests/` folder without the extension
/// (`cert-manager/release`). Every segment is checked, as by
/// [`object_file`].
pub fn manifest_file(folder: &str, kind: &str, name: &str) -> Result<String, String> {
    for segment in folder.split('/') {
        if let Some(p) = segment_problem(segment) {
            return Err(format!(
                "the file's path `{}` has a part that {p}",
                folder.escape_debug()
            ));
        }
    }
    Ok(format!("{MANIFESTS}/{folder}/{}", file_name(kind, name)?))
}

/// `<kind>-<name>.yaml`, the kind in lowercase, both checked.
fn file_name(kind: &str, name: &str) -> Result<String, String> {
    if let Some(p) = kind_problem(kind) {
        return Err(format!("the kind `{}` {p}", kind.escape_debug()));
    }
    if let Some(p) = segment_problem(name) {
        return Err(format!("the name `{}` {p}", name.escape_debug()));
    }
    Ok(format!("{}-{name}.yaml", kind.to_lowercase()))
}

/// The file of a namespace other than the environment's own:
/// `namespace-<ns>.yaml`.
pub fn namespace_file(namespace: &str) -> Result<String, String> {
    match grammar_problem(Grammar::Dns1123Label, namespace) {
        Some(p) => Err(format!("the namespace `{}` {p}", namespace.escape_debug())),
        None => Ok(format!("namespace-{namespace}.yaml")),
    }
}

/// A DNS-1123 label close to `s`, to propose in a hint: lowercase, accents
/// dropped, `_`, `.` and spaces as `-`, other characters left out, `-` not
/// doubled nor at either end, at most 63 characters. `None` when nothing
/// is left.
pub fn suggest_label(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'a'..='z' | '0'..='9' => c,
            '-' | '_' | '.' | ' ' => '-',
            'à'..='å' => 'a',
            'ç' => 'c',
            'è'..='ë' => 'e',
            'ì'..='ï' => 'i',
            'ñ' => 'n',
            'ò'..='ö' | 'ø' => 'o',
            'ù'..='ü' => 'u',
            'ý' | 'ÿ' => 'y',
            _ => continue,
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(LABEL_MAX);
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        for good in ["web", "a", "web-2", "2048-game", &"a".repeat(63)] {
            assert!(is_dns1123_label(good), "{good}");
        }
        for bad in [
            "",
            "Web",
            "My Web",
            "wéb",
            "-web",
            "web-",
            "a..b",
            "my_web",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
        assert!(is_dns1035_label("game-2048"));
        assert!(!is_dns1035_label("2048-game"));
        assert_eq!(
            grammar_problem(Grammar::Dns1035Label, "2048-game").as_deref(),
            Some("starts with a digit")
        );
        assert_eq!(
            grammar_problem(Grammar::Dns1123Label, "My Web").as_deref(),
            Some("has uppercase letters")
        );
    }

    #[test]
    fn dns_subdomains() {
        assert!(is_dns1123_subdomain("web.example.com"));
        assert!(is_dns1123_subdomain("db-credentials"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain("../etc"));
        assert!(!is_dns1123_subdomain(".web"));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
        assert!(is_dns1123_subdomain(&"a".repeat(253)));
    }

    #[test]
    fn keys_and_values() {
        for good in [
            "app",
            "app.kubernetes.io/name",
            "example.com/note-1",
            "A_b.c",
        ] {
            assert!(is_label_key(good), "{good}");
        }
        for bad in [
            "a/b/c",
            "bad key",
            "",
            "/a",
            "a/",
            "-a",
            "Ex.com/a",
            &"a".repeat(64),
        ] {
            assert!(!is_label_key(bad), "{bad}");
        }
        assert_eq!(
            key_problem("a/b/c").as_deref(),
            Some("has more than one `/`; a key is `prefix/name`")
        );
        assert_eq!(key_problem("bad key").as_deref(), Some("contains a space"));
        assert!(label_value_problem("").is_none());
        assert!(label_value_problem("1.0").is_none());
        assert!(label_value_problem("a b").is_some());
        assert!(label_value_problem(&"a".repeat(64)).is_some());
    }

    #[test]
    fn rules_per_kind() {
        assert!(name_problem("Service", "2048-game").is_some());
        assert!(name_problem("Deployment", "2048-game").is_none());
        assert!(name_problem("CronJob", &"a".repeat(52)).is_none());
        assert!(name_problem("CronJob", &"a".repeat(53)).is_some());
        assert!(name_problem("StatefulSet", &"a".repeat(53)).is_some());
        assert!(name_problem("Job", &"a".repeat(63)).is_none());
        assert!(name_problem("Job", &"a".repeat(64)).is_some());
        assert!(name_problem("Deployment", &"a".repeat(200)).is_none());
        assert!(name_problem("Namespace", "a.b").is_some());
        assert!(name_problem("ClusterRole", "system:reader").is_none());
        assert!(name_problem("ClusterRole", "../x").is_some());
        assert!(name_problem("ConfigMap", "../../etc/passwd").is_some());
        assert!(name_problem("ExternalSecret", "db").is_none());
    }

    #[test]
    fn object_files_stay_inside_the_output() {
        assert_eq!(
            object_file("web", "ConfigMap", "web-config-0a1b2c3d4e").unwrap(),
            "web/configmap-web-config-0a1b2c3d4e.yaml"
        );
        for (service, kind, name) in [
            ("..", "Deployment", "web"),
            ("web", "Deployment", "../../x"),
            ("web", "Deployment", ".."),
            ("web", "Deployment", "a/b"),
            ("web", "Deployment", "a\0b"),
            ("web", "Deployment", ""),
            ("web", "../Deployment", "web"),
            ("web", "", "web"),
            ("", "Deployment", "web"),
        ] {
            assert!(
                object_file(service, kind, name).is_err(),
                "{service} {kind} {name}"
            );
        }
        assert_eq!(
            manifest_file("cert-manager/release", "ClusterRole", "cert-manager:edit").unwrap(),
            "manifests/cert-manager/release/clusterrole-cert-manager:edit.yaml"
        );
        for (folder, kind, name) in [
            ("a/../b", "Deployment", "web"),
            ("..", "Deployment", "web"),
            ("a//b", "Deployment", "web"),
            ("a", "Deployment", "../x"),
            ("a%2f", "Deployment", "web"),
            ("a", "", "web"),
        ] {
            assert!(
                manifest_file(folder, kind, name).is_err(),
                "{folder} {kind} {name}"
            );
        }
        assert_eq!(namespace_file("sms").unwrap(), "namespace-sms.yaml");
        assert!(namespace_file("../x").is_err());
    }

    #[test]
    fn suggestions_are_valid_labels() {
        for (from, to) in [
            ("My Web", "my-web"),
            ("Web", "web"),
            ("wéb", "web"),
            ("-web", "web"),
            ("a..b", "a-b"),
            ("my_web", "my-web"),
            ("Dev Env", "dev-env"),
        ] {
            assert_eq!(suggest_label(from).as_deref(), Some(to), "{from}");
        }
        assert_eq!(suggest_label(&"a".repeat(64)).unwrap().len(), 63);
        assert_eq!(suggest_label(".."), None);
        let long = format!("{}-b", "a".repeat(62));
        assert!(is_dns1123_label(&suggest_label(&long).unwrap()));
    }
}
