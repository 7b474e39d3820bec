//! `kind = "job"`: a Job's pod template is immutable in the cluster, so the
//! Job is named `<name>-<hash>` after what cannot change in it, and a change
//! there publishes a new Job instead of one that cannot be applied.

use std::fs;
use std::path::Path;

use crate::support::*;

const MIGRATE: &str = r#"kind = "job"
image = "shop/migrate"
version = "1.0"
command = ["migrate", "up"]

[job]
backoff_limit = 3
restart = "Never"
"#;

/// The one Job file of `migrate` in dev: its name, from the file name.
fn job_name(repo: &Path) -> String {
    let dir = repo.join("out/dev/migrate");
    let files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0]
        .strip_prefix("job-")
        .and_then(|f| f.strip_suffix(".yaml"))
        .unwrap()
        .to_string();
    let yaml = fs::read_to_string(dir.join(&files[0])).unwrap();
    assert!(yaml.contains(&format!("\n  name: {name}\n")), "{yaml}");
    name
}

fn rebuild(repo: &Path, service: &str) -> String {
    fs::write(repo.join("services/migrate.toml"), service).unwrap();
    let run = manifold(repo, &["build", "-e", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    job_name(repo)
}

/// A new image (or command, or `completions`) is a new Job, which runs;
/// what Kubernetes updates in place (`backoff_limit`, `parallelism`,
/// `active_deadline`) keeps the name, so the Job does not run again.
#[test]
fn a_job_gets_a_new_name_when_what_cannot_change_in_it_changes() {
    let repo = fixture("minimal");
    let first = rebuild(repo.path(), MIGRATE);
    // Pinned: a change of the hash renames every Job, an output change.
    assert_eq!(first, "migrate-e9a515eb6d");
    let listed = fs::read_to_string(repo.path().join("out/dev/kustomization.yaml")).unwrap();
    assert!(
        listed.contains(&format!("- migrate/job-{first}.yaml\n")),
        "{listed}"
    );

    let mutable = MIGRATE.replace(
        "backoff_limit = 3\n",
        "backoff_limit = 6\nparallelism = 2\nactive_deadline = \"1h\"\n",
    );
    assert_eq!(rebuild(repo.path(), &mutable), first);

    let bumped = rebuild(repo.path(), &MIGRATE.replace("1.0", "1.1"));
    assert_ne!(bumped, first);
    assert!(
        !repo
            .path()
            .join(format!("out/dev/migrate/job-{first}.yaml"))
            .exists()
    );
    let command = rebuild(repo.path(), &MIGRATE.replace("\"up\"", "\"redo\""));
    let completions = rebuild(repo.path(), &format!("{MIGRATE}completions = 2\n"));
    let names = [&first, &bumped, &command, &completions];
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

/// Patches find the Job by its service's name, and the hash is taken after
/// them, so what a patch changes in the template renames the Job too.
#[test]
fn patches_name_the_job_by_its_service_and_count_in_its_hash() {
    let repo = fixture("minimal");
    let unpatched = rebuild(repo.path(), MIGRATE);
    let patched = format!(
        "{MIGRATE}\n[patches.\"job/migrate\".spec.template.metadata.annotations]\n\"sidecar.istio.io/inject\" = \"false\"\n"
    );
    let name = rebuild(repo.path(), &patched);
    assert_ne!(name, unpatched);
    let yaml =
        fs::read_to_string(repo.path().join(format!("out/dev/migrate/job-{name}.yaml"))).unwrap();
    assert_eq!(
        yaml,
        format!(
            r#"apiVersion: batch/v1
kind: Job
metadata:
  labels:
    app: migrate
    app.kubernetes.io/managed-by: manifold
    app.kubernetes.io/name: migrate
    app.kubernetes.io/version: "1.0"
    env: dev
    track: stable
    version: "1.0"
  name: {name}
  namespace: shop
spec:
  backoffLimit: 3
  template:
    metadata:
      annotations:
        sidecar.istio.io/inject: "false"
      labels:
        app: migrate
        app.kubernetes.io/managed-by: manifold
        app.kubernetes.io/name: migrate
        app.kubernetes.io/version: "1.0"
        env: dev
        track: stable
        version: "1.0"
    spec:
      containers:
      - command:
        - migrate
        - up
        image: registry.example.com/shop/migrate:1.0
        name: migrate
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
"#
        )
    );
}
