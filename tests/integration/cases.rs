//! The data cases: `tests/cases/<case>/case.toml` names the arguments and the
//! exact exit code, stdout and stderr; the case's `repo/` folder is laid over
//! the fixture named by `base` (from `tests/fixtures/`) to make the repository
//! it runs in.
//!
//! Each case is its own test, named after its folder with `-` as `_`:
//! `cargo test --test integration cases::bad_cron` runs `tests/cases/bad-cron`.
//! `MANIFOLD_BLESS=1` with the same command rewrites that case's expected
//! code, stdout and stderr from what the binary does now. A new folder needs
//! its line below; `every_case_folder_has_a_test` fails until it has one.

use std::collections::BTreeSet;
use std::fs;

use crate::support::*;

/// One `#[test]` per `name: "folder"` line, and `CASES`, every folder named.
macro_rules! cases {
    ($($name:ident: $folder:literal,)*) => {
        $(
            #[test]
            fn $name() {
                case($folder);
            }
        )*

        /// The folders of `tests/cases/` that have a test.
        const CASES: &[&str] = &[$($folder),*];
    };
}

cases! {
    bad_cron: "bad-cron",
    bad_digest: "bad-digest",
    bad_environment_file_name: "bad-environment-file-name",
    bad_service_file_names: "bad-service-file-names",
    build_clean: "build-clean",
    build_with_errors_writes_nothing: "build-with-errors-writes-nothing",
    capacity_counts_a_daemonset_once: "capacity-counts-a-daemonset-once",
    capacity_exceeded: "capacity-exceeded",
    cluster_scoped_namespace: "cluster-scoped-namespace",
    crd_custom_resource_typos: "crd-custom-resource-typos",
    crd_files_invalid: "crd-files-invalid",
    crd_unserved_version: "crd-unserved-version",
    cron_never_fires: "cron-never-fires",
    cronjob_name_too_long: "cronjob-name-too-long",
    daemonset_wrong_keys: "daemonset-wrong-keys",
    diff_against_nothing: "diff-against-nothing",
    diff_exit_code: "diff-exit-code",
    diff_json: "diff-json",
    diff_markdown: "diff-markdown",
    diff_output_dir_needs_markdown: "diff-output-dir-needs-markdown",
    diff_summary_only_json: "diff-summary-only-json",
    diff_summary_only_markdown: "diff-summary-only-markdown",
    diff_summary_only_text: "diff-summary-only-text",
    diff_no_changes: "diff-no-changes",
    diff_secret_masked: "diff-secret-masked",
    diff_text: "diff-text",
    env_reference_order: "env-reference-order",
    env_undefined: "env-undefined",
    every_problem_at_once: "every-problem-at-once",
    explain_built_in_default: "explain-built-in-default",
    explain_disabled_service: "explain-disabled-service",
    explain_env_layers_and_variables: "explain-env-layers-and-variables",
    explain_field_computed: "explain-field-computed",
    explain_field_from_patch: "explain-field-from-patch",
    explain_field_from_raw_object: "explain-field-from-raw-object",
    explain_field_from_typed_key: "explain-field-from-typed-key",
    explain_invalid_overlay: "explain-invalid-overlay",
    explain_json: "explain-json",
    explain_key_in_every_layer: "explain-key-in-every-layer",
    explain_replicas_beside_autoscale: "explain-replicas-beside-autoscale",
    explain_service_every_layer: "explain-service-every-layer",
    explain_track_merged_by_name: "explain-track-merged-by-name",
    explain_unknown_field: "explain-unknown-field",
    explain_unknown_key: "explain-unknown-key",
    finding_names_every_layer: "finding-names-every-layer",
    gitops_bad_branch: "gitops-bad-branch",
    gitops_path_clash: "gitops-path-clash",
    httproute_kind_capitals: "httproute-kind-capitals",
    import_cronjob_dry_run: "import-cronjob-dry-run",
    init_bad_environments: "init-bad-environments",
    init_refuses_to_replace_files: "init-refuses-to-replace-files",
    invalid_label_and_annotation_keys: "invalid-label-and-annotation-keys",
    invalid_toml: "invalid-toml",
    job_name_too_long: "job-name-too-long",
    job_ttl_recreated_by_gitops: "job-ttl-recreated-by-gitops",
    json_format: "json-format",
    kept_selector_errors: "kept-selector-errors",
    manifest_errors: "manifest-errors",
    manifest_identity_clash: "manifest-identity-clash",
    manifest_sops_secret: "manifest-sops-secret",
    kept_pod_labels_errors: "kept-pod-labels-errors",
    missing_version: "missing-version",
    network_policy_unknown_peer: "network-policy-unknown-peer",
    new_bad_name: "new-bad-name",
    new_outside_a_repository: "new-outside-a-repository",
    new_refuses_to_replace: "new-refuses-to-replace",
    no_services_directory: "no-services-directory",
    object_name_clash: "object-name-clash",
    overlay_renames_service: "overlay-renames-service",
    patch_checked_by_kubernetes_schema: "patch-checked-by-kubernetes-schema",
    patch_names_a_job_by_its_service: "patch-names-a-job-by-its-service",
    promote_dry_run: "promote-dry-run",
    promote_nothing_to_do: "promote-nothing-to-do",
    promotion_circle: "promotion-circle",
    raw_object_name_leaves_output: "raw-object-name-leaves-output",
    raw_objects: "raw-objects",
    raw_secret_refused: "raw-secret-refused",
    request_above_limit: "request-above-limit",
    reserved_labels: "reserved-labels",
    route_cookie_canary: "route-cookie-canary",
    route_problems: "route-problems",
    route_without_gateway: "route-without-gateway",
    restart_policy_misplaced: "restart-policy-misplaced",
    run_as_user_warning: "run-as-user-warning",
    secret_literal: "secret-literal",
    security_profile_refused: "security-profile-refused",
    service_name_starts_with_digit: "service-name-starts-with-digit",
    status_json: "status-json",
    status_markdown: "status-markdown",
    status_promotion_errors: "status-promotion-errors",
    status_selected_environments: "status-selected-environments",
    status_text: "status-text",
    time_zone_unknown: "time-zone-unknown",
    set_bad_arguments: "set-bad-arguments",
    set_invalid_value: "set-invalid-value",
    set_unknown_service: "set-unknown-service",
    set_value_in_the_way: "set-value-in-the-way",
    set_version: "set-version",
    typo_in_overlay: "typo-in-overlay",
    typo_in_service: "typo-in-service",
    unknown_environment_flag: "unknown-environment-flag",
    unknown_port: "unknown-port",
    unknown_service_overlay: "unknown-service-overlay",
    unknown_variable: "unknown-variable",
    unmatched_patch: "unmatched-patch",
    unnamed_port_references: "unnamed-port-references",
    validate_clean: "validate-clean",
    wrong_kind_keys: "wrong-kind-keys",
    wrong_types: "wrong-types",
    deny_warnings: "deny-warnings",
    policy_cron_concurrency: "policy-cron-concurrency",
    policy_disruption_budget: "policy-disruption-budget",
    policy_floating_tag: "policy-floating-tag",
    policy_readiness_probe: "policy-readiness-probe",
    policy_registry_and_digest: "policy-registry-and-digest",
    policy_resources: "policy-resources",
    policy_security_profile_in_patches: "policy-security-profile-in-patches",
    policy_severity_per_environment: "policy-severity-per-environment",
}

fn case(folder: &str) {
    if let Err(e) = run_case(&repo_root().join("tests/cases").join(folder)) {
        panic!("{folder}: {e}");
    }
}

#[test]
fn every_case_folder_has_a_test() {
    let folders: BTreeSet<String> = fs::read_dir(repo_root().join("tests/cases"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(folders.len() >= 10, "the case folder went missing");
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.to_string()).collect();
    assert_eq!(listed.len(), CASES.len(), "a folder is listed twice");
    let untested: Vec<&String> = folders.difference(&listed).collect();
    assert!(
        untested.is_empty(),
        "tests/cases/ folders without a test: {untested:?}; add a `name: \"folder\",` line to `cases!` in tests/integration/cases.rs"
    );
    let gone: Vec<&String> = listed.difference(&folders).collect();
    assert!(
        gone.is_empty(),
        "cases listed without a folder in tests/cases/: {gone:?}"
    );
    let incomplete: Vec<&String> = folders
        .iter()
        .filter(|f| {
            !repo_root()
                .join("tests/cases")
                .join(f)
                .join("case.toml")
                .is_file()
        })
        .collect();
    assert!(
        incomplete.is_empty(),
        "case folders without a case.toml: {incomplete:?}"
    );
}

/// A suggestion is printed once a diagnostic: under the caret or in the
/// help line, never in both (the help alone when JSON records need it).
#[test]
fn no_diagnostic_asks_did_you_mean_twice() {
    for folder in CASES {
        let path = repo_root()
            .join("tests/cases")
            .join(folder)
            .join("case.toml");
        let text = fs::read_to_string(path).unwrap();
        for block in text.split("\n\n") {
            assert!(
                block.matches("did you mean").count() <= 1,
                "{folder}: \"did you mean\" twice in\n{block}"
            );
        }
    }
}
