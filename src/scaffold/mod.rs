//! The files a new configuration repository starts from: `manifold init`
//! (environments, an example service and its overlay, the editor schemas,
//! `.gitignore`, the pre-commit configuration and a CI file) and
//! `manifold new` (one service file of a given kind).
//!
//! Pure: it returns paths and texts, and checks the names it is given with
//! the rules `load` applies to file names. Writing them, and refusing to
//! replace a file that exists, is the caller's job. Every text is one that
//! `manifold validate` accepts without a warning, and the `#:schema` line
//! of each TOML file points, by relative path, at the schema written next
//! to it, so an editor checks the file as it is typed.

mod repository;
mod service;

use crate::model::names::{Grammar, grammar_problem, suggest_label};
use crate::schema;

pub use repository::{Ci, repository};
pub use service::service;

/// The folder of the editor schemas in a configuration repository, as
/// `manifold init` and `manifold schema` write them.
pub const SCHEMA_DIR: &str = "schemas";

/// The release of manifold the written files pin (pre-commit's `rev:`,
/// the CI's `MANIFOLD_REV`): the tag the release process gives this version.
pub const RELEASE_TAG: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// A file to write: its path relative to the repository (`/` separators),
/// and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// The input schemas, as files under `dir` (relative to where they are
/// written from).
pub fn schemas(dir: &str) -> Vec<File> {
    schema::FILES
        .iter()
        .map(|(name, text)| File {
            path: join(dir, name),
            text: (*text).to_string(),
        })
        .collect()
}

fn join(dir: &str, name: &str) -> String {
    match dir.trim_end_matches('/') {
        "" | "." => name.to_string(),
        dir => format!("{dir}/{name}"),
    }
}

/// A name that cannot be used, in words: what is wrong, and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub hint: String,
}

/// Why `name` cannot name a service or environment file (`what`), with
/// a name that can: the rule `load` applies to file stems.
pub fn name_problem(what: &str, name: &str) -> Option<Refused> {
    let problem = grammar_problem(Grammar::Dns1123Label, name)?;
    let suggestion = match suggest_label(name) {
        Some(better) if better != name => format!("; try `{better}`"),
        _ => String::new(),
    };
    Some(Refused {
        message: format!(
            "`{}` is not a valid {what} name: it {problem}",
            name.escape_debug()
        ),
        hint: format!(
            "names are {}, at most 63 characters{suggestion}",
            Grammar::Dns1123Label.describe()
        ),
    })
}

/// The newest Kubernetes version the environment schema accepts, for the
/// `kube_version` of new environments.
fn newest_kube_version() -> String {
    let env: serde_json::Value =
        serde_json::from_str(schema::ENVIRONMENT_SCHEMA).expect("embedded schema is JSON");
    env["properties"]["kube_version"]["enum"]
        .as_array()
        .and_then(|versions| versions.last())
        .and_then(serde_json::Value::as_str)
        .expect("the environment schema lists Kubernetes versions")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_load_checks_file_names() {
        assert_eq!(name_problem("service", "web"), None);
        assert_eq!(
            name_problem("service", "My_Web").unwrap(),
            Refused {
                message: "`My_Web` is not a valid service name: it has uppercase letters".into(),
                hint: "names are a DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters; try `my-web`".into()
            }
        );
        assert!(name_problem("environment", "").is_some());
    }

    #[test]
    fn schemas_are_written_as_embedded() {
        let files = schemas("schemas");
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "schemas/service.schema.json",
                "schemas/environment.schema.json",
                "schemas/overlay.schema.json"
            ]
        );
        assert_eq!(files[1].text, schema::ENVIRONMENT_SCHEMA);
        assert_eq!(schemas(".")[0].path, "service.schema.json");
    }

    #[test]
    fn the_kube_version_of_new_environments_is_the_newest_checked() {
        assert!(newest_kube_version().starts_with("1."));
    }
}
