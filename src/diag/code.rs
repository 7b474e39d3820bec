//! Diagnostic codes: the stable names of every kind of problem manifold
//! reports.
//!
//! A code is part of the JSON output contract (`"code"` in
//! `--format json`): scripts and CI templates match on it, so a code is never
//! renamed or reused for another meaning; a new kind of problem gets a new
//! code. README's table of codes is generated from [`Code::ALL`] and checked by
//! a test, so the two cannot drift apart.

use std::fmt;

use super::Severity;

/// Every kind of problem, one variant a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Syntax,
    Encoding,
    Unreadable,
    Type,
    UnknownKey,
    InvalidKey,
    MissingKey,
    InvalidValue,
    Layout,
    DuplicateName,
    UnknownEnvironment,
    UnknownService,
    UnknownReference,
    UnknownVariable,
    WrongKind,
    RequestAboveLimit,
    SecretLiteral,
    EnvOrder,
    Capacity,
    UnmatchedPatch,
    KubernetesSchema,
    GitopsClash,
    Internal,
    InvalidName,
    TooLarge,
    LargeObject,
    ReservedLabel,
    ImagePath,
    EnvUndefined,
    JobTtl,
    Crd,
    CrdSchema,
    ClusterScoped,
    SecurityProfile,
    RunAsUser,
    Manifest,
    CronNever,
    ByteUnits,
    MessageTemplate,
    ReadinessProbe,
    Resources,
    FloatingTag,
    NoDigest,
    DisruptionBudget,
    CronConcurrency,
    Registry,
    Exception,
}

impl Code {
    /// Every code, in the order of README's table: from the first parse to
    /// the last check.
    pub const ALL: [Code; 47] = [
        Code::Syntax,
        Code::Encoding,
        Code::Unreadable,
        Code::Type,
        Code::UnknownKey,
        Code::InvalidKey,
        Code::MissingKey,
        Code::InvalidValue,
        Code::Layout,
        Code::DuplicateName,
        Code::UnknownEnvironment,
        Code::UnknownService,
        Code::UnknownReference,
        Code::UnknownVariable,
        Code::WrongKind,
        Code::RequestAboveLimit,
        Code::SecretLiteral,
        Code::EnvOrder,
        Code::Capacity,
        Code::UnmatchedPatch,
        Code::KubernetesSchema,
        Code::GitopsClash,
        Code::Internal,
        Code::InvalidName,
        Code::TooLarge,
        Code::LargeObject,
        Code::ReservedLabel,
        Code::ImagePath,
        Code::EnvUndefined,
        Code::JobTtl,
        Code::Crd,
        Code::CrdSchema,
        Code::ClusterScoped,
        Code::SecurityProfile,
        Code::RunAsUser,
        Code::Manifest,
        Code::CronNever,
        Code::ByteUnits,
        Code::MessageTemplate,
        Code::ReadinessProbe,
        Code::Resources,
        Code::FloatingTag,
        Code::NoDigest,
        Code::DisruptionBudget,
        Code::CronConcurrency,
        Code::Registry,
        Code::Exception,
    ];

    /// The code as written in messages and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::Encoding => "encoding",
            Code::Unreadable => "unreadable",
            Code::Type => "type",
            Code::UnknownKey => "unknown-key",
            Code::InvalidKey => "invalid-key",
            Code::MissingKey => "missing-key",
            Code::InvalidValue => "invalid-value",
            Code::Layout => "layout",
            Code::DuplicateName => "duplicate-name",
            Code::UnknownEnvironment => "unknown-environment",
            Code::UnknownService => "unknown-service",
            Code::UnknownReference => "unknown-reference",
            Code::UnknownVariable => "unknown-variable",
            Code::WrongKind => "wrong-kind",
            Code::RequestAboveLimit => "request-above-limit",
            Code::SecretLiteral => "secret-literal",
            Code::EnvOrder => "env-order",
            Code::Capacity => "capacity",
            Code::UnmatchedPatch => "unmatched-patch",
            Code::KubernetesSchema => "kubernetes-schema",
            Code::GitopsClash => "gitops-clash",
            Code::Internal => "internal",
            Code::InvalidName => "invalid-name",
            Code::TooLarge => "too-large",
            Code::LargeObject => "large-object",
            Code::ReservedLabel => "reserved-label",
            Code::ImagePath => "image-path",
            Code::EnvUndefined => "env-undefined",
            Code::JobTtl => "job-ttl",
            Code::Crd => "crd",
            Code::CrdSchema => "crd-schema",
            Code::ClusterScoped => "cluster-scoped",
            Code::SecurityProfile => "security-profile",
            Code::RunAsUser => "run-as-user",
            Code::Manifest => "manifest",
            Code::CronNever => "cron-never",
            Code::ByteUnits => "byte-units",
            Code::MessageTemplate => "message-template",
            Code::ReadinessProbe => "readiness-probe",
            Code::Resources => "resources",
            Code::FloatingTag => "floating-tag",
            Code::NoDigest => "no-digest",
            Code::DisruptionBudget => "disruption-budget",
            Code::CronConcurrency => "cron-concurrency",
            Code::Registry => "registry",
            Code::Exception => "exception",
        }
    }

    /// What the code means, for README's table.
    pub fn summary(self) -> &'static str {
        match self {
            Code::Syntax => {
                "The file is not valid TOML, or a value cannot be read (an unterminated string, a bad date)."
            }
            Code::Encoding => {
                "A file is not UTF-8 text; the position of the first bad byte is shown."
            }
            Code::Unreadable => {
                "A file cannot be read, or a symbolic link is broken; the other files are still checked."
            }
            Code::Type => {
                "A value has the wrong type for its key, such as a number where text is required."
            }
            Code::UnknownKey => {
                "A key the format does not have, usually a typo; the hint names the closest key."
            }
            Code::InvalidKey => {
                "A key of a free-form table (labels, annotations, variables) that Kubernetes would reject."
            }
            Code::MissingKey => {
                "A required key is missing, or a feature needs a key that is not set (an autoscaler without a request)."
            }
            Code::InvalidValue => {
                "A value outside what its key accepts: an unknown enum value, a pattern not matched, a number out of range, a bad cron expression."
            }
            Code::Layout => {
                "The repository has no `services/` or `environments/` directory, or a symbolic link leaves the repository or loops."
            }
            Code::DuplicateName => {
                "Two services, ports, containers, volumes or tracks share a name, or two rendered objects (those of `manifests/` included) would."
            }
            Code::UnknownEnvironment => {
                "An overlay, an environment's `manifests/` folder, a `promote_from` or a command-line `-e` names an environment that has no file."
            }
            Code::UnknownService => "An overlay names a service that has no file.",
            Code::UnknownReference => {
                "A key refers to a port, volume, track, container or service that is not declared."
            }
            Code::UnknownVariable => "A `${name}` variable that is not defined.",
            Code::WrongKind => {
                "A key that does not apply to the service's workload kind (replicas on a CronJob)."
            }
            Code::RequestAboveLimit => "A resource request is above its limit.",
            Code::SecretLiteral => {
                "A variable that looks like a secret has a literal value, or a Secret in `objects` or `manifests/` is not encrypted."
            }
            Code::EnvOrder => {
                "A `$(VAR)` in a variable's value refers to a variable defined after it in `env`, which Kubernetes does not expand."
            }
            Code::Capacity => {
                "The requests of an environment add up to more than its `[capacity]`."
            }
            Code::UnmatchedPatch => "A patch names an object the service does not render.",
            Code::KubernetesSchema => {
                "A rendered object, or an object of `manifests/`, is invalid for the environment's Kubernetes version (official strict schema)."
            }
            Code::GitopsClash => {
                "Two environments are published to the same path of the same branch, or an environment's path is not valid."
            }
            Code::Internal => {
                "manifold could not read a merged service: a bug; please report it with the input."
            }
            Code::InvalidName => {
                "A name Kubernetes would reject, as composed (`<name>-<track>`, `<name>-headless`, ...): a service or environment file name, a Service that is not a DNS-1035 label, a CronJob or StatefulSet name over 52 characters, a job's name over 52 (its Job is `<name>-<hash>`), a raw object's name or kind that is not a safe file name."
            }
            Code::TooLarge => {
                "A ConfigMap or Secret above 1 MiB, or the annotations of an object above 256 KiB: the API server rejects it."
            }
            Code::LargeObject => {
                "A warning, not an error: a ConfigMap or Secret above 256 KiB, too large for the last-applied annotation of client-side `kubectl apply` (use server-side apply)."
            }
            Code::ImagePath => {
                "A warning, not an error: the registry ends with the path segment the image starts with (`.../myorg` and `myorg/web`), so the reference repeats it."
            }
            Code::ReservedLabel => {
                "A label manifold sets itself (`app`, `track`, `version`, `env`, `group` and their `app.kubernetes.io/` forms): a value written for it would be replaced, or part a Service from its selector."
            }
            Code::EnvUndefined => {
                "A `$(VAR)` reference to a variable that neither `env` nor `[config]` defines, which Kubernetes leaves as written; not reported when an `env_from` source may define it, and a warning in `command` and `args`."
            }
            Code::JobTtl => {
                "A warning, not an error: a job with `ttl_after_finished`; Flux and Argo CD create the deleted Job again, and it runs again."
            }
            Code::Crd => {
                "A file in `crds/` is not YAML or JSON, holds something other than an `apiextensions.k8s.io/v1` CustomResourceDefinition, lacks what validation needs (group, kind, scope, versions, a schema), or defines a group and kind that another file defines too."
            }
            Code::CrdSchema => {
                "A custom resource in `objects` or `manifests/` (or a patched one) does not match the schema of its CRD in `crds/`, or its `apiVersion` names a version the CRD does not serve."
            }
            Code::ClusterScoped => {
                "A cluster-scoped object (a built-in kind such as ClusterRole, or a custom resource whose CRD says `scope: Cluster`) sets `metadata.namespace`."
            }
            Code::SecurityProfile => {
                "Policy, an error by default: a security setting the service's `security.profile` forbids (`privileged = true` outside `privileged`, host network, PID or IPC outside `privileged`, a capability outside the profile's list, root or privilege escalation under `restricted`), in the service's keys or in what its patches and raw objects render; the hint names a profile that allows it."
            }
            Code::RunAsUser => {
                "A warning, not an error: a container must run as non-root (the profile or `run_as_non_root`) and has no numeric `run_as_user`, so the kubelet starts it only if its image's USER is a number other than 0."
            }
            Code::Manifest => {
                "A file in `manifests/` is not YAML or JSON, is a kustomization, holds a document that is not a Kubernetes object with a `metadata.name`, writes a plain value that kubectl and kustomize read differently (`yes`, `on`), or holds a SOPS-encrypted Secret that cannot be published byte for byte."
            }
            Code::CronNever => {
                "A cronjob schedule that matches no day, so Kubernetes accepts it and never starts a job: days the chosen months do not have (`0 2 31 2 *`, February 31st), with the day of the week left at `*`."
            }
            Code::ByteUnits => {
                "A warning, not an error: memory or ephemeral storage under 1Mi written as a bare number (bytes) or in thousandths (`512m`), where `Mi` or `M` was left out; a container with so little memory cannot start."
            }
            Code::MessageTemplate => {
                "The file of `publish --message-template` names a placeholder manifold does not have, leaves a `{` unclosed or a `}` unopened, or is empty."
            }
            Code::ReadinessProbe => {
                "Policy, a warning by default: a container that a Service sends traffic to has no readiness probe, so it gets requests before it can answer them."
            }
            Code::Resources => {
                "Policy, a warning by default: a container of a rendered workload has no cpu or memory request or limit, so the scheduler cannot place it fairly or a runaway container takes the node's memory."
            }
            Code::FloatingTag => {
                "Policy, a warning by default: an image whose tag moves (`latest`, `stable`, `main`, `master`, `dev`, ...) or that has no tag at all, so the same output runs different code from one pull to the next."
            }
            Code::NoDigest => {
                "Policy, an error by default, in environments with `[policy] require_digest = true`: an image without a `@sha256:` digest."
            }
            Code::DisruptionBudget => {
                "Policy, a warning by default, in environments with `production = true`: a Deployment or StatefulSet of more than one replica with no PodDisruptionBudget, so a node drain may take every pod down at once."
            }
            Code::CronConcurrency => {
                "Policy, a warning by default: a CronJob without a concurrency policy, so Kubernetes starts a run while the previous one still runs (`Allow`)."
            }
            Code::Registry => {
                "Policy, an error by default, in environments with `[policy] registries`: an image pulled from a registry outside that allow-list."
            }
            Code::Exception => {
                "An `[[exceptions]]` entry of a service file whose `expires` date is past (an error: the finding it waived is reported again) or less than two weeks away (a warning). A `check` that names no policy check is an `invalid-value`, with the closest id."
            }
        }
    }

    /// The policy checks: codes whose severity an environment's `[policy]`
    /// sets and that a service's `[[exceptions]]` may waive, in the order
    /// of README's table.
    pub const POLICIES: [Code; 8] = [
        Code::SecurityProfile,
        Code::ReadinessProbe,
        Code::Resources,
        Code::FloatingTag,
        Code::NoDigest,
        Code::DisruptionBudget,
        Code::CronConcurrency,
        Code::Registry,
    ];

    /// The severity of a policy check when the environment does not set
    /// one; `None` for a code that is not a policy check.
    pub fn policy_default(self) -> Option<Severity> {
        match self {
            Code::SecurityProfile | Code::NoDigest | Code::Registry => Some(Severity::Error),
            Code::ReadinessProbe
            | Code::Resources
            | Code::FloatingTag
            | Code::DisruptionBudget
            | Code::CronConcurrency => Some(Severity::Warning),
            _ => None,
        }
    }

    /// The code of a policy check, by its id.
    pub fn policy(id: &str) -> Option<Code> {
        Code::POLICIES.into_iter().find(|c| c.as_str() == id)
    }

    /// README's table of codes, generated from [`Code::ALL`].
    pub fn markdown_table() -> String {
        let mut out = String::from("| code | meaning |\n|---|---|\n");
        for code in Code::ALL {
            out.push_str(&format!("| `{}` | {} |\n", code.as_str(), code.summary()));
        }
        out
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_spelled_in_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            names.iter().all(|n| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            })
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn every_policy_check_has_a_default_severity_and_others_none() {
        for code in Code::ALL {
            assert_eq!(
                code.policy_default().is_some(),
                Code::POLICIES.contains(&code),
                "{code}"
            );
        }
        assert_eq!(Code::policy("floating-tag"), Some(Code::FloatingTag));
        assert_eq!(Code::policy("unknown-key"), None);
    }

    /// README's table is the documented contract: it must list exactly the
    /// codes the binary can print. Refresh with `MANIFOLD_BLESS=1 cargo test`.
    #[test]
    fn the_readme_table_of_codes_matches_the_enum() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (start, end) = ("<!-- codes:start -->\n", "<!-- codes:end -->");
        let from = readme
            .find(start)
            .expect("README has the codes start marker")
            + start.len();
        let to = readme.find(end).expect("README has the codes end marker");
        let generated = Code::markdown_table();
        if std::env::var_os("MANIFOLD_BLESS").is_some() {
            let fresh = format!("{}{generated}{}", &readme[..from], &readme[to..]);
            std::fs::write(&path, fresh).unwrap();
            return;
        }
        assert_eq!(
            &readme[from..to],
            generated,
            "README's table of codes is stale; refresh it with `MANIFOLD_BLESS=1 cargo test --lib`"
        );
    }
}
