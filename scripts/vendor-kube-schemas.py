"""Vendor the strict Kubernetes JSON schemas into schemas/kubernetes/v1.X.json.

Source: the `_definitions.json` of each `v1.X.0-local-strict` directory
shipped by the pinned kubernetes-validate package (tests/requirements.txt).
Descriptions are dropped to keep the files small; everything that affects
validation is kept. The output has one definition per line so that git diffs
between schema updates stay readable.

Usage: target/pytools/bin/python scripts/vendor-kube-schemas.py [--check]
  --check  exit 1 if the committed files differ from what would be generated
"""

import importlib.resources
import json
import sys
from pathlib import Path

VERSIONS = ["1.33", "1.34", "1.35", "1.36", "1.37"]
OUT_DIR = Path(__file__).resolve().parent.parent / "schemas" / "kubernetes"

# Kinds the compiler emits; generation fails if one of them is missing.
REQUIRED_GVKS = [
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "StatefulSet"),
    ("batch", "v1", "CronJob"),
    ("batch", "v1", "Job"),
    ("", "v1", "Service"),
    ("", "v1", "ConfigMap"),
    ("", "v1", "ServiceAccount"),
    ("", "v1", "Namespace"),
    ("", "v1", "Secret"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
]


def strip_descriptions(node, in_properties=False):
    """Drop the "description" annotation everywhere.

    Inside a "properties" map the keys are field names, not schema keywords:
    PriorityClass, JSONSchemaProps and others have a real field called
    "description" (JSONSchemaProps even has "$ref"), which must stay.
    """
    if isinstance(node, dict):
        return {
            key: strip_descriptions(value, key == "properties" and not in_properties)
            for key, value in node.items()
            if in_properties or key != "description"
        }
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def gvk_index(defs):
    """Map (group, version, kind) to the definition name declaring it."""
    return {
        (gvk["group"], gvk["version"], gvk["kind"]): name
        for name, schema in defs.items()
        for gvk in schema.get("x-kubernetes-group-version-kind", [])
    }


def transform(raw):
    doc = {"$defs": strip_descriptions(raw["$defs"])}
    if "$schema" in raw:
        doc["$schema"] = raw["$schema"]
    return doc


def render(doc):
    def dump(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    defs = ",\n".join(f"{dump(name)}:{dump(doc['$defs'][name])}" for name in sorted(doc["$defs"]))
    tail = "".join(f",{dump(key)}:{dump(doc[key])}" for key in sorted(doc) if key != "$defs")
    return f'{{"$defs":{{\n{defs}\n}}{tail}}}\n'


def generate(version):
    source = importlib.resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{version}.0-local-strict", "_definitions.json"
    )
    doc = transform(json.loads(source.read_text(encoding="utf-8")))
    index = gvk_index(doc["$defs"])
    missing = [gvk for gvk in REQUIRED_GVKS if gvk not in index]
    if missing:
        sys.exit(f"v{version}: no definition for {missing}")
    text = render(doc)
    assert json.loads(text) == doc, "rendering does not round-trip"
    return text


def main(argv):
    if argv not in ([], ["--check"]):
        print("usage: vendor-kube-schemas.py [--check]", file=sys.stderr)
        return 2
    stale = []
    for version in VERSIONS:
        path = OUT_DIR / f"v{version}.json"
        text = generate(version)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(OUT_DIR.parent.parent))
        if not argv:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if argv and stale:
        print("stale vendored schemas (regenerate with "
              "`target/pytools/bin/python scripts/vendor-kube-schemas.py`):", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
