//! JSON Schema validation of input files, with errors mapped back to the TOML.
//!
//! The schemas in `schemas/` are embedded and compiled on first use, once per
//! process: one validator for services and overlays, one for environments.
//! Each file is self-contained (the environment and overlay schemas carry a
//! copy of the service schema's `$defs`), so an editor reads the very files
//! embedded here, and `manifold schema` writes them out unchanged.
//! A schema error arrives as an instance path; `diagnose.rs` walks the spanned
//! tree along it to find the key or value to underline, and reads the schema
//! itself to suggest the key the user probably meant. It checks shape only:
//! references between files and values that need context are the `check`
//! stage's job.

mod diagnose;
mod hints;

pub use diagnose::steps;

use std::sync::LazyLock;

use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::input::tree::Node;
use diagnose::diagnose;
use hints::Trial;

pub const SERVICE_SCHEMA: &str = include_str!("../../schemas/service.schema.json");
pub const ENVIRONMENT_SCHEMA: &str = include_str!("../../schemas/environment.schema.json");
pub const OVERLAY_SCHEMA: &str = include_str!("../../schemas/overlay.schema.json");

/// The input schemas as files: the name `manifold schema` writes each under,
/// and its text.
pub const FILES: [(&str, &str); 3] = [
    ("service.schema.json", SERVICE_SCHEMA),
    ("environment.schema.json", ENVIRONMENT_SCHEMA),
    ("overlay.schema.json", OVERLAY_SCHEMA),
];

/// Which schema a file is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `services/<name>.toml`: a full service.
    Service,
    /// `environments/<env>/<service>.toml`: service keys, nothing required.
    Overlay,
    /// `environments/<env>.toml`.
    Environment,
}

struct Compiled {
    /// The document the validator was built from: error schema paths point into it.
    document: Json,
    validator: Validator,
}

/// The embedded service schema, parsed once.
fn service_schema() -> &'static Json {
    static SERVICE: LazyLock<Json> = LazyLock::new(|| {
        serde_json::from_str(SERVICE_SCHEMA).expect("embedded service schema is JSON")
    });
    &SERVICE
}

/// Compiles the schema of a service (`Kind::Service`, which also checks
/// overlays) or of an environment.
fn compile(kind: Kind) -> Compiled {
    let mut document: Json = match kind {
        Kind::Service | Kind::Overlay => service_schema().clone(),
        Kind::Environment => {
            serde_json::from_str(ENVIRONMENT_SCHEMA).expect("embedded schema is JSON")
        }
    };
    // Editors use the descriptive `$schema`; validation is always 2020-12.
    if let Some(map) = document.as_object_mut() {
        map.remove("$schema");
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&document)
        .expect("embedded schema compiles");
    Compiled {
        document,
        validator,
    }
}

/// The validator of a kind, compiled on first use. An overlay is a service
/// without its required keys: the service schema is `$ref` to the service
/// definition plus a top-level `required`, so overlays share its validator
/// and ignore the errors of that one keyword (see [`only_for_services`]).
fn compiled(kind: Kind) -> &'static Compiled {
    static SERVICE: LazyLock<Compiled> = LazyLock::new(|| compile(Kind::Service));
    static ENVIRONMENT: LazyLock<Compiled> = LazyLock::new(|| compile(Kind::Environment));
    match kind {
        Kind::Service | Kind::Overlay => &SERVICE,
        Kind::Environment => &ENVIRONMENT,
    }
}

/// Whether `error` comes from the service schema's top-level `required`,
/// which overlays are exempt from.
fn only_for_services(error: &ValidationError<'_>) -> bool {
    error.schema_path().as_str() == "/required"
}

/// Validates one file's tree; returns every problem found.
/// `text` is the file's source, for quoting values as written.
pub fn validate(kind: Kind, tree: &Node, text: &str) -> Vec<Diagnostic> {
    let compiled = compiled(kind);
    let instance = tree.to_json();
    if compiled.validator.is_valid(&instance) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let trial = Trial {
        validator: &compiled.validator,
        instance: &instance,
    };
    for error in compiled.validator.iter_errors(&instance) {
        if kind == Kind::Overlay && only_for_services(&error) {
            continue;
        }
        diagnose(&compiled.document, tree, text, &trial, &error, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::input::tree::parse;

    fn check(kind: Kind, text: &str) -> Vec<(String, String, Option<String>)> {
        let tree = parse(FileId(0), text).unwrap();
        validate(kind, &tree, text)
            .into_iter()
            .map(|d| {
                let span = d.span.unwrap_or(0..0);
                (text[span].to_string(), d.message, d.hint)
            })
            .collect()
    }

    #[test]
    fn the_seed_probe_typo_points_at_the_key_with_a_suggestion() {
        let found = check(
            Kind::Service,
            "image = \"game/http\"\n[probes.readiness]\nhttp = { path = \"/\", port = 81 }\nperiodSecods = \"5s\"\n",
        );
        assert_eq!(
            found,
            vec![(
                "periodSecods".to_string(),
                "unknown key `periodSecods`".to_string(),
                Some("replace `periodSecods` with `period`".to_string())
            )]
        );
    }

    #[test]
    fn the_seed_rollout_typo_is_found_in_overlays_too() {
        let found = check(Kind::Overlay, "[rollout]\nmaxUnavailble = \"10%\"\n");
        assert_eq!(found[0].0, "maxUnavailble");
        assert_eq!(
            found[0].2.as_deref(),
            Some("replace `maxUnavailble` with `max_unavailable`")
        );
    }

    #[test]
    fn a_number_where_text_is_required_is_told_to_quote_it() {
        let found = check(Kind::Service, "image = \"game/http\"\nversion = 1.0\n");
        assert_eq!(
            found,
            vec![(
                "1.0".to_string(),
                "`version` must be a string, found a float".to_string(),
                Some("quote the value: `\"1.0\"`".to_string())
            )]
        );
    }

    #[test]
    fn a_bad_digest_says_what_is_wrong_with_it() {
        let hex = "9b2e35a9e0f4b1c8d7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
        let expected = "expected an image tag (letters, digits, `-`, `_` and `.`, at most 63 characters, also the `version` label), the tag pinned to a digest (`1.4.2@sha256:` and 64 lowercase hex digits), or the digest alone (`sha256:` and 64 lowercase hex digits)";
        for (version, problem) in [
            (
                format!("1.4@sha256:{}", &hex[1..]),
                "the digest has 63 hex digits; a sha256 digest has 64; ",
            ),
            (
                format!("sha256:{}", hex.to_uppercase()),
                "the digest has uppercase hex digits; write them in lowercase; ",
            ),
            (
                format!("1.4@sha512:{hex}"),
                "`sha512` digests are not accepted, only `sha256`; ",
            ),
            ("1.4 beta".to_string(), ""),
        ] {
            let text = format!("image = \"game/http\"\nversion = \"{version}\"\n");
            let found = check(Kind::Service, &text);
            assert_eq!(
                found,
                vec![(
                    format!("\"{version}\""),
                    format!("invalid value `{version}` for `version`"),
                    Some(format!("{problem}{expected}"))
                )]
            );
        }
        let fine = format!("image = \"game/http\"\nversion = \"1.4@sha256:{hex}\"\n");
        assert_eq!(check(Kind::Service, &fine), vec![]);
        let fine = format!("image = \"game/http\"\nversion = \"sha256:{hex}\"\n");
        assert_eq!(check(Kind::Service, &fine), vec![]);
        let long = format!("image = \"game/http\"\nversion = \"{}\"\n", "1".repeat(64));
        assert_eq!(check(Kind::Service, &long).len(), 1);
    }

    #[test]
    fn a_restart_policy_at_the_top_is_sent_to_job_restart() {
        for key in ["restart_policy", "restartPolicy", "restart"] {
            let text = format!("image = \"game/http\"\n{key} = \"Never\"\n");
            let found = check(Kind::Service, &text);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, key);
            assert_eq!(
                found[0].2.as_deref(),
                Some(
                    "a job's or cronjob's pods restart as `job.restart` says (`OnFailure`, the default, or `Never`): write `restart = \"Never\"` under `[job]`; a deployment's and a statefulset's pods always restart (`Always`), so they have no such key"
                )
            );
        }
        // Elsewhere the closest key is still the suggestion.
        let found = check(
            Kind::Service,
            "image = \"game/http\"\n[[init_containers]]\nname = \"a\"\nrestart_policy = \"Always\"\n",
        );
        assert_eq!(
            found[0].2.as_deref(),
            Some("replace `restart_policy` with `restart`")
        );
    }

    #[test]
    fn a_missing_required_key_names_it() {
        let found = check(Kind::Service, "name = \"http\"\n");
        assert_eq!(found[0].1, "missing required key `image` in this file");
    }

    #[test]
    fn overlays_get_the_diagnostics_of_a_schema_of_their_own() {
        // The overlay schema as it reads in `schemas/overlay.schema.json`.
        let mut document: Json = serde_json::from_str(OVERLAY_SCHEMA).unwrap();
        document.as_object_mut().unwrap().remove("$schema");
        let own = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&document)
            .unwrap();
        let overlays = [
            "replicas = 3\n",
            "replicas = \"3\"\nkind = \"statefullset\"\n",
            "image = 5\n[rollout]\nmaxUnavailble = \"10%\"\n",
            "name = \"Http_Server\"\n[probes.readiness]\nperiodSecods = \"5s\"\n",
            "[env]\nDB = { secret = \"mysql\", kye = \"password\" }\nX = 1\n",
            "required = 1\nimage = \"a/b\"\nport = -1\n",
        ];
        for text in overlays {
            let tree = parse(FileId(0), text).unwrap();
            let instance = tree.to_json();
            let mut want = Vec::new();
            let trial = Trial {
                validator: &own,
                instance: &instance,
            };
            for error in own.iter_errors(&instance) {
                diagnose(&document, &tree, text, &trial, &error, &mut want);
            }
            assert_eq!(want.is_empty(), text == "replicas = 3\n", "{text}");
            let got = validate(Kind::Overlay, &tree, text);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{text}");
        }
    }

    #[test]
    fn overlays_require_nothing() {
        assert!(check(Kind::Overlay, "replicas = 3\n").is_empty());
    }

    #[test]
    fn an_env_reference_typo_is_reported_inside_the_table_it_meant() {
        let found = check(
            Kind::Service,
            "image = \"a/b\"\n[env]\nDB_PASSWORD = { secret = \"mysql\", kye = \"password\" }\n",
        );
        let keys: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert!(keys.contains(&"kye"), "{found:?}");
    }

    #[test]
    fn enum_values_get_suggestions() {
        let found = check(Kind::Service, "image = \"a/b\"\nkind = \"statefullset\"\n");
        assert_eq!(found[0].1, "invalid value `statefullset` for `kind`");
        assert_eq!(
            found[0].2.as_deref(),
            Some("expected `deployment`, `statefulset`, `daemonset`, `cronjob` or `job`")
        );
    }

    #[test]
    fn patterns_are_explained_in_words() {
        let found = check(Kind::Service, "image = \"a/b\"\nname = \"Http_Server\"\n");
        assert_eq!(found[0].1, "invalid value `Http_Server` for `name`");
        assert!(
            found[0]
                .2
                .as_deref()
                .unwrap()
                .starts_with("expected a DNS-1123 label"),
            "{found:?}"
        );
    }

    #[test]
    fn environment_defaults_use_the_service_keys() {
        let found = check(
            Kind::Environment,
            "namespace = \"game\"\nkube_version = \"1.35\"\n[defaults]\nreplcas = 2\n",
        );
        assert_eq!(found[0].0, "replcas");
        assert_eq!(
            found[0].2.as_deref(),
            Some("replace `replcas` with `replicas`")
        );
    }
}
