//! `manifold init`: the files of a new configuration repository.

use super::{
    File, RELEASE_TAG, Refused, SCHEMA_DIR, name_problem, newest_kube_version, schemas, service,
};
use crate::model::WorkloadKind;

/// The GitLab CI template, as `ci/` holds it and `init` writes it.
pub const GITLAB_CI: &str = include_str!("../../ci/gitlab-ci.yml");
/// The GitHub Actions template, as `ci/` holds it and `init` writes it.
pub const GITHUB_ACTIONS: &str = include_str!("../../ci/github-actions.yml");

/// The CI a repository is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ci {
    Gitlab,
    Github,
}

/// The example service of a new repository.
const EXAMPLE: &str = "web";

/// Every file of a new configuration repository with environments `envs`
/// (in the order given) and the CI file of `ci`, if any. The last of
/// several environments gets an overlay of the example service. An
/// environment name that is not a valid file name, or given twice, is
/// refused.
pub fn repository(envs: &[String], ci: Option<Ci>) -> Result<Vec<File>, Refused> {
    let refused = |message: String| Refused {
        message,
        hint: "name each environment once, such as `--envs dev,prod`".into(),
    };
    if envs.is_empty() {
        return Err(refused("no environments".into()));
    }
    for (i, env) in envs.iter().enumerate() {
        if let Some(problem) = name_problem("environment", env) {
            return Err(problem);
        }
        if envs[..i].contains(env) {
            return Err(refused(format!("the environment `{env}` is named twice")));
        }
    }
    let kube_version = newest_kube_version();
    let mut files: Vec<File> = envs
        .iter()
        .map(|env| File {
            path: format!("environments/{env}.toml"),
            text: environment(env, &kube_version),
        })
        .collect();
    files.push(File {
        path: format!("services/{EXAMPLE}.toml"),
        text: service(EXAMPLE, WorkloadKind::Deployment)?,
    });
    if let [_, .., last] = envs {
        files.push(File {
            path: format!("environments/{last}/{EXAMPLE}.toml"),
            text: overlay(last),
        });
    }
    files.extend(schemas(SCHEMA_DIR));
    files.push(File {
        path: ".gitignore".into(),
        text: GITIGNORE.into(),
    });
    files.push(File {
        path: ".pre-commit-config.yaml".into(),
        text: pre_commit_config(),
    });
    match ci {
        Some(Ci::Gitlab) => {
            files.push(File {
                path: ".gitlab-ci.yml".into(),
                text: GITLAB_INCLUDE.into(),
            });
            files.push(File {
                path: "ci/manifold.yml".into(),
                text: GITLAB_CI.into(),
            });
        }
        Some(Ci::Github) => files.push(File {
            path: ".github/workflows/manifold.yml".into(),
            text: GITHUB_ACTIONS.into(),
        }),
        None => {}
    }
    Ok(files)
}

fn environment(env: &str, kube_version: &str) -> String {
    format!(
        r#"#:schema ../{SCHEMA_DIR}/environment.schema.json
# The `{env}` environment: one cluster. `manifold build` renders its
# services into out/{env}/, and `manifold publish` commits them to the
# `gitops` branch, folder `{env}/`, for Flux or Argo CD to apply.

# The namespace of every service that does not set its own.
namespace = "{env}"
# The Kubernetes version of the cluster: every object is checked against
# its API. Set it to your cluster's.
kube_version = "{kube_version}"
# Prepended to every image that names no registry of its own. CHANGE ME.
registry = "registry.example.com/team"

# Keys applied under every service of the environment; a service file and
# its overlays (environments/{env}/<service>.toml) override them.
[defaults.env]
ENVIRONMENT = "{env}"

# Where `manifold publish` commits the environment (these are the defaults).
[gitops]
branch = "gitops"
path = "{env}"
"#
    )
}

fn overlay(env: &str) -> String {
    format!(
        r#"#:schema ../../{SCHEMA_DIR}/overlay.schema.json
# `{EXAMPLE}` in `{env}`: keys written here replace those of
# services/{EXAMPLE}.toml in this environment only (tables merge key by key).
replicas = 3

[resources]
memory = {{ request = "256Mi", limit = "512Mi" }}
"#
    )
}

const GITIGNORE: &str = "\
# The output of `manifold build`: `manifold publish` commits it to the
# gitops branch, so it is never committed here.
out/
";

fn pre_commit_config() -> String {
    format!(
        r#"# pre-commit (https://pre-commit.com) runs `manifold validate` before every
# commit that changes services/ or environments/; `pre-commit install`
# turns it on in a clone. The hook builds manifold with cargo once per
# `rev` (a Rust toolchain is needed); `manifold-validate-system` uses the
# `manifold` on PATH instead.
repos:
  - repo: https://git.example.com/platform/manifold.git  # CHANGE ME: manifold's sources
    # A release tag (or a commit) of that repository. `pre-commit autoupdate`
    # pins the newest release, or the newest commit while none is tagged.
    rev: {RELEASE_TAG}
    hooks:
      - id: manifold-validate
"#
    )
}

const GITLAB_INCLUDE: &str = "\
# The pipeline of this repository: manifold's jobs come from
# ci/manifold.yml (set MANIFOLD_GIT and MANIFOLD_REV there); add your own
# jobs below.
include:
  - local: ci/manifold.yml

variables:
  # Every branch the environments publish to.
  MANIFOLD_BRANCHES: \"gitops\"
";

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(files: &[File]) -> Vec<&str> {
        files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn a_repository_has_every_environment_the_example_and_the_chosen_ci() {
        let envs = ["dev".to_string(), "prod".to_string()];
        let files = repository(&envs, Some(Ci::Gitlab)).unwrap();
        assert_eq!(
            paths(&files),
            [
                "environments/dev.toml",
                "environments/prod.toml",
                "services/web.toml",
                "environments/prod/web.toml",
                "schemas/service.schema.json",
                "schemas/environment.schema.json",
                "schemas/overlay.schema.json",
                ".gitignore",
                ".pre-commit-config.yaml",
                ".gitlab-ci.yml",
                "ci/manifold.yml",
            ]
        );
        let files = repository(&envs[..1], Some(Ci::Github)).unwrap();
        assert!(!paths(&files).contains(&"environments/dev/web.toml"));
        assert_eq!(
            paths(&files).last(),
            Some(&".github/workflows/manifold.yml")
        );
        assert_eq!(files.last().unwrap().text, GITHUB_ACTIONS);
    }

    #[test]
    fn bad_environment_lists_are_refused_in_words() {
        let list =
            |names: &[&str]| -> Vec<String> { names.iter().map(|n| n.to_string()).collect() };
        assert_eq!(
            repository(&list(&["dev", "dev"]), None)
                .unwrap_err()
                .message,
            "the environment `dev` is named twice"
        );
        assert_eq!(
            repository(&list(&["Prod"]), None).unwrap_err().message,
            "`Prod` is not a valid environment name: it has uppercase letters"
        );
        assert_eq!(
            repository(&[], None).unwrap_err().message,
            "no environments"
        );
    }
}
