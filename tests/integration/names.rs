//! Names and sizes Kubernetes limits, where a data case would not do: a
//! ConfigMap above 1 MiB and one above 256 KiB (generated, not committed),
//! and a raw object named out of the output directory under `build`.

use std::fs;

use crate::support::*;

/// The minimal fixture with a `[config]` value of `bytes` bytes.
fn with_config(bytes: usize) -> tempfile::TempDir {
    let repo = fixture("minimal");
    let service = format!(
        "image = \"shop/web\"\nversion = \"1.0\"\n\n[config]\nBIG = \"{}\"\n",
        "x".repeat(bytes)
    );
    fs::write(repo.path().join("services/web.toml"), service).unwrap();
    repo
}

#[test]
fn a_config_above_one_mebibyte_is_an_error_at_its_table() {
    let repo = with_config(1024 * 1024 + 1);
    let run = manifold(repo.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "error: `[config]` holds 1.0 MiB; a ConfigMap or Secret holds at most 1 MiB\n --> services/web.toml:4:2\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: keep large content out"),
        "{}",
        run.stderr
    );
    let json = manifold(repo.path(), &["validate", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["diagnostics"][0]["code"], "too-large");
    assert_eq!(value["errors"], 1);
}

#[test]
fn a_config_above_256_kib_is_a_warning_that_does_not_fail_the_run() {
    let repo = with_config(300 * 1024);
    let run = manifold(repo.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "warning: `[config]` holds 300.0 KiB; client-side `kubectl apply` fails above 256 KiB\n --> services/web.toml:4:2\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("server-side apply"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("\n1 warning found\nok: 1 service in 2 environments"),
        "{}",
        run.stderr
    );

    let json = manifold(repo.path(), &["validate", "--format", "json"]);
    assert_eq!(json.code, 0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["errors"], 0);
    assert_eq!(value["warnings"], 1);
    assert_eq!(value["diagnostics"][0]["severity"], "warning");
    assert_eq!(value["diagnostics"][0]["code"], "large-object");

    let out = repo.path().join("out");
    let run = manifold(repo.path(), &["build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning:"), "{}", run.stderr);
    assert!(out.join("dev/web").is_dir());
}

#[test]
fn a_raw_object_named_out_of_the_output_directory_writes_nothing() {
    let repo = fixture("minimal");
    let service = "image = \"shop/web\"\nversion = \"1.0\"\n\n[objects.x]\napiVersion = \"example.com/v1\"\nkind = \"Widget\"\nmetadata = { name = \"../../../escaped\" }\n";
    fs::write(repo.path().join("services/web.toml"), service).unwrap();
    let out = repo.path().join("out");
    let run = manifold(repo.path(), &["build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: invalid Widget name `../../../escaped`: it contains `/`"),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    assert!(!repo.path().join("escaped.yaml").exists());
}
