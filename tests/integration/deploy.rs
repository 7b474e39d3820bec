//! The cluster side: Flux and Argo CD read what `publish` commits.

use std::fs;

use crate::support::git::GitRepo;
use crate::support::*;

/// Reads the Flux and Argo CD examples with PyYAML and prints, as JSON, the
/// (branch, path) each of them deploys, after checking that pruning is on.
const DEPLOY_TARGETS: &str = r#"
import json, sys, pathlib, yaml
root = pathlib.Path(sys.argv[1])
docs = [d for f in sorted((root / "flux").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
branches = {d["metadata"]["name"]: d["spec"]["ref"]["branch"] for d in docs if d["kind"] == "GitRepository"}
flux = []
for d in docs:
    if d["kind"] == "Kustomization":
        assert d["spec"]["prune"] is True, d["metadata"]["name"]
        path = d["spec"]["path"].removeprefix("./")
        flux.append([branches[d["spec"]["sourceRef"]["name"]], path])
argo = []
for f in sorted((root / "argocd").glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        assert d["kind"] == "ApplicationSet"
        auto = d["spec"]["template"]["spec"]["syncPolicy"]["automated"]
        assert auto["prune"] is True and auto["selfHeal"] is True
        source = d["spec"]["template"]["spec"]["source"]
        for g in d["spec"]["generators"]:
            for e in g["list"]["elements"]:
                fill = lambda s: s.replace("{{.branch}}", e["branch"]).replace("{{.path}}", e["path"])
                argo.append([fill(source["targetRevision"]), fill(source["path"])])
print(json.dumps({"flux": sorted(flux), "argo": sorted(argo)}))
"#;

#[test]
fn flux_and_argo_deploy_every_published_environment_and_kustomize_renders_it() {
    let repo = GitRepo::new("example");
    let run = repo.manifold(&["publish"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Each published environment directory: (branch, path), exported from
    // git objects the way Flux and Argo CD fetch it.
    let export = repo.scratch("export");
    let mut published: Vec<(String, String)> = Vec::new();
    for branch in ["gitops", "gitops-us"] {
        let tree = repo.tree(branch);
        for (path, content) in &tree {
            let file = export.join(branch).join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, content).unwrap();
            if let Some(dir) = path.strip_suffix("/kustomization.yaml") {
                published.push((branch.to_string(), dir.to_string()));
            }
        }
    }
    published.sort();
    assert_eq!(
        published,
        [
            ("gitops", "dev"),
            ("gitops", "prod"),
            ("gitops", "test"),
            ("gitops-us", "prod")
        ]
        .map(|(b, p)| (b.to_string(), p.to_string()))
    );
    for (branch, dir) in &published {
        let rendered = kubectl_kustomize(&export.join(branch).join(dir));
        assert!(rendered.contains("kind: Namespace"), "{branch}:{dir}");
    }
    let script = repo.scratch("deploy_targets.py");
    fs::write(&script, DEPLOY_TARGETS).unwrap();
    let out = python(
        &[PYYAML],
        &[
            script.to_str().unwrap(),
            repo_root().join("deploy").to_str().unwrap(),
        ],
    );
    let targets: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected: Vec<[&str; 2]> = published
        .iter()
        .map(|(b, p)| [b.as_str(), p.as_str()])
        .collect();
    assert_eq!(targets["flux"], serde_json::json!(expected), "deploy/flux");
    assert_eq!(
        targets["argo"],
        serde_json::json!(expected),
        "deploy/argocd"
    );
}
