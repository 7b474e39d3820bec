//! The automation recipes of README's "Automation": the Renovate
//! configuration of `ci/renovate.json`, run by Renovate itself over the
//! bundled example, and the Kargo promotion of `deploy/kargo/`, read with
//! PyYAML and checked against the files it edits.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;

/// One image version: the file that holds it, the image, the version.
type Found = (String, String, String);

/// What Renovate must find in the example, read from the TOML itself: in
/// each service file the image and version of the service and of each
/// side and init container; in each overlay that sets `version`, that
/// version with its service's image. Track versions are left to people.
fn versions_in_the_example(root: &Path) -> BTreeSet<Found> {
    let read = |path: &Path| -> toml::Table { fs::read_to_string(path).unwrap().parse().unwrap() };
    let text = |table: &toml::Table, key: &str| {
        table.get(key).and_then(|v| v.as_str()).map(str::to_string)
    };
    let mut found = BTreeSet::new();
    for service in sorted_files(&root.join("services")) {
        let name = format!("services/{}", file_name(&service));
        let table = read(&service);
        let image = text(&table, "image").unwrap();
        found.insert((
            name.clone(),
            image.clone(),
            text(&table, "version").unwrap(),
        ));
        for key in ["containers", "init_containers"] {
            for container in table
                .get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let container = container.as_table().unwrap();
                if let (Some(image), Some(version)) =
                    (text(container, "image"), text(container, "version"))
                {
                    found.insert((name.clone(), image, version));
                }
            }
        }
        for env in sorted_files(&root.join("environments")) {
            let overlay = env.join(file_name(&service));
            if !env.is_dir() || !overlay.is_file() {
                continue;
            }
            if let Some(version) = text(&read(&overlay), "version") {
                let path = format!("environments/{}/{}", file_name(&env), file_name(&service));
                found.insert((path, image.clone(), version));
            }
        }
    }
    found
}

fn sorted_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The example's `services/` and `environments/` with `ci/renovate.json` as
/// the repository's `renovate.json`, as a user lays them out.
fn example_with_renovate() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for folder in ["services", "environments"] {
        overlay_dir(&repo_root().join(folder), &tmp.path().join(folder));
    }
    fs::copy(
        repo_root().join("ci/renovate.json"),
        tmp.path().join("renovate.json"),
    )
    .unwrap();
    tmp
}

/// Runs Renovate on the local platform in extract-only mode in `dir`, with
/// JSON logs and nothing from the caller's environment but `PATH`, and
/// returns the (file, image, version) of every dependency its regex
/// managers extracted, and the datasources they named.
fn renovate_extract(dir: &Path) -> (BTreeSet<Found>, BTreeSet<String>) {
    let renovate = npmtool("renovate");
    let home = dir.join(".renovate-home");
    let output = Command::new(renovate)
        .current_dir(dir)
        .args(["--platform=local", "--dry-run=extract"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LOG_FORMAT", "json")
        .env("LOG_LEVEL", "info")
        .env("RENOVATE_BASE_DIR", home.join("base"))
        .env("RENOVATE_CACHE_DIR", home.join("cache"))
        .output()
        .expect("renovate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "renovate failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|r| r["msg"] == "Extracted dependencies")
        .unwrap_or_else(|| {
            panic!("no \"Extracted dependencies\" record in Renovate's log:\n{stdout}")
        });
    let mut found = BTreeSet::new();
    let mut datasources = BTreeSet::new();
    let files = record["packageFiles"]["regex"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for file in files {
        for dep in file["deps"].as_array().unwrap() {
            let field = |key: &str| dep[key].as_str().unwrap_or_default().to_string();
            let mut version = field("currentValue");
            if !field("currentDigest").is_empty() {
                version = format!("{version}@{}", field("currentDigest"));
            }
            let path = file["packageFile"].as_str().unwrap().to_string();
            found.insert((
                path,
                field("depName"),
                version.trim_start_matches('@').to_string(),
            ));
            datasources.insert(field("datasource"));
        }
    }
    (found, datasources)
}

/// Renovate's regex managers, as `ci/renovate.json` writes them, find
/// every image version of the example in the right file: the services'
/// (image and version side by side) and the overlays' (named by the
/// `# renovate: image=` comment above `version`), and nothing else.
#[test]
fn renovate_finds_every_image_version_of_the_example() {
    let tmp = example_with_renovate();
    let (found, datasources) = renovate_extract(tmp.path());
    let want = versions_in_the_example(&repo_root());
    assert_eq!(found, want);
    // A few by hand, so the test cannot pass by reading nothing twice.
    for (path, image, version) in [
        ("services/http.toml", "game/http", "1.0.0000"),
        (
            "services/web3d.toml",
            "docker.io/splunk/universalforwarder",
            "9.4",
        ),
        ("environments/dev/http.toml", "game/http", "1.0.0003"),
        ("environments/dev/sms-web.toml", "sms/app", "2.4.0-rc.1"),
        (
            "environments/prod/microservice-user.toml",
            "microservice/user",
            "v2.1.0",
        ),
    ] {
        assert!(
            found.contains(&(path.into(), image.into(), version.into())),
            "{path}"
        );
    }
    assert_eq!(want.len(), 28, "{want:#?}");
    assert_eq!(datasources, BTreeSet::from(["docker".to_string()]));
}

/// A version pinned to a digest, or a digest alone, is split the way
/// Renovate updates it (tag in `currentValue`, digest in `currentDigest`),
/// in a service file and in an annotated overlay.
#[test]
fn renovate_reads_versions_pinned_to_a_digest() {
    let tmp = example_with_renovate();
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let service = tmp.path().join("services/cron.toml");
    let text = fs::read_to_string(&service).unwrap();
    let text = text.replace(
        "version = \"1.0.0000\"",
        &format!("version = \"1.0.0000@{digest}\""),
    );
    fs::write(&service, text).unwrap();
    let overlay = tmp.path().join("environments/dev/cron.toml");
    let text = fs::read_to_string(&overlay).unwrap();
    fs::write(
        &overlay,
        text.replace("\"1.0.0003\"", &format!("\"{digest}\"")),
    )
    .unwrap();
    let (found, _) = renovate_extract(tmp.path());
    assert!(
        found.contains(&(
            "services/cron.toml".into(),
            "game/cron".into(),
            format!("1.0.0000@{digest}")
        )),
        "{found:#?}"
    );
    assert!(
        found.contains(&(
            "environments/dev/cron.toml".into(),
            "game/cron".into(),
            digest.clone()
        )),
        "{found:#?}"
    );
}

/// `ci/renovate.json` follows Renovate's configuration schema (as
/// check-jsonschema ships it).
#[test]
fn the_renovate_config_follows_its_schema() {
    let output = Command::new(pytool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.renovate"])
        .arg(repo_root().join("ci/renovate.json"))
        .output()
        .expect("check-jsonschema runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads `deploy/kargo/promotion.yaml` with PyYAML and prints, as JSON, the
/// file and key of the PromotionTask's `toml-update` step and, for each
/// Stage, its name, the task and vars it passes, and its freight's origin.
const KARGO_PROMOTION: &str = r#"
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert all(d["apiVersion"] == "kargo.akuity.io/v1alpha1" for d in docs)
task = next(d for d in docs if d["kind"] == "PromotionTask")
uses = [s["uses"] for s in task["spec"]["steps"]]
assert uses == ["git-clone", "toml-update", "git-commit", "git-push"], uses
update = task["spec"]["steps"][1]["config"]
warehouses = {d["metadata"]["name"]: d["spec"]["subscriptions"][0]["image"]["repoURL"] for d in docs if d["kind"] == "Warehouse"}
stages = []
for d in docs:
    if d["kind"] == "Stage":
        step = d["spec"]["promotionTemplate"]["spec"]["steps"][0]
        origin = d["spec"]["requestedFreight"][0]["origin"]
        stages.append({
            "name": d["metadata"]["name"],
            "task": step["task"]["name"],
            "vars": {v["name"]: v["value"] for v in step["vars"]},
            "warehouse_image": warehouses[origin["name"]],
        })
print(json.dumps({
    "task": task["metadata"]["name"],
    "path": update["path"],
    "keys": [u["key"] for u in update["updates"]],
    "stages": stages,
}))
"#;

/// The Kargo recipe edits what `manifold set -e <stage> <service>
/// version=<tag>` edits: the top-level `version` of the stage's overlay,
/// which exists in every stage (toml-update cannot add a key); and that
/// value is the tag of the image the environment renders, the image the
/// Warehouse watches.
#[test]
fn the_kargo_promotion_edits_the_version_of_each_stages_overlay() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("kargo.py");
    fs::write(&script, KARGO_PROMOTION).unwrap();
    let file = repo_root().join("deploy/kargo/promotion.yaml");
    let out = python(
        &[PYYAML],
        &[script.to_str().unwrap(), file.to_str().unwrap()],
    );
    let kargo: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(kargo["keys"], serde_json::json!(["version"]));
    let path = kargo["path"].as_str().unwrap();
    assert_eq!(
        path,
        "./src/environments/${{ ctx.stage }}/${{ vars.service }}.toml"
    );
    let stages = kargo["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["test", "prod"]);
    let repo = tempfile::tempdir().unwrap();
    for folder in ["services", "environments"] {
        overlay_dir(&repo_root().join(folder), &repo.path().join(folder));
    }
    for (n, stage) in stages.iter().enumerate() {
        let (name, vars) = (stage["name"].as_str().unwrap(), &stage["vars"]);
        assert_eq!(stage["task"], kargo["task"]);
        let service = vars["service"].as_str().unwrap();
        let overlay = path
            .replace("${{ ctx.stage }}", name)
            .replace("${{ vars.service }}", service);
        let overlay = repo.path().join(overlay.strip_prefix("./src/").unwrap());
        let text = fs::read_to_string(&overlay).unwrap();
        let table: toml::Table = text.parse().unwrap();
        assert!(
            table.get("version").is_some_and(toml::Value::is_str),
            "{name}: no version to update"
        );
        let service_file: toml::Table =
            fs::read_to_string(repo.path().join(format!("services/{service}.toml")))
                .unwrap()
                .parse()
                .unwrap();
        let image = service_file["image"].as_str().unwrap();
        assert!(
            vars["image"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/{image}")),
            "{name}"
        );
        assert_eq!(stage["warehouse_image"], vars["image"], "{name}");
        // What toml-update does to the scalar: a new value, nothing else.
        let old = table["version"].as_str().unwrap();
        let edited = text.replacen(
            &format!("version = \"{old}\""),
            &format!("version = \"v9.{n}.0\""),
            1,
        );
        assert_ne!(edited, text);
        fs::write(&overlay, edited).unwrap();
    }
    let run = manifold(repo.path(), &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (env, tag) in [("test", "v9.0.0"), ("prod", "v9.1.0")] {
        let deployment = repo.path().join(format!(
            "out/{env}/microservice-user/deployment-microservice-user.yaml"
        ));
        let text = fs::read_to_string(&deployment).unwrap();
        assert!(
            text.contains(&format!(
                "image: registry.cn-hangzhou.aliyuncs.com/ccgame/microservice/user:{tag}\n"
            )),
            "{env}:\n{text}"
        );
    }
}

/// README shows the Kargo recipe as it is in `deploy/kargo/promotion.yaml`:
/// each YAML block of its Kargo section is a part of that file, word for
/// word, so the snippet a reader copies is the one the test above checks.
#[test]
fn readmes_kargo_snippets_are_the_tested_file() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let file = fs::read_to_string(repo_root().join("deploy/kargo/promotion.yaml")).unwrap();
    let section = readme
        .split("\n### Kargo\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a Kargo section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    for block in blocks {
        assert!(
            file.contains(block),
            "not in deploy/kargo/promotion.yaml:\n{block}"
        );
    }
}
