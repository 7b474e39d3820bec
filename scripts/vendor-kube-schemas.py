"""Vendor the strict Kubernetes JSON schemas into schemas/kubernetes/v1.X.json,
and which kinds are namespaced into schemas/kubernetes/scopes.json.

Source of the schemas: the `_definitions.json` of each `v1.X.0-local-strict`
directory shipped by the pinned kubernetes-validate package
(tests/requirements.txt). Descriptions are dropped to keep the files small;
everything that affects validation is kept. The output has one definition per
line so that git diffs between schema updates stay readable.

Source of the scopes: the schemas carry none, so they come from the official
Python client of each version (`kubernetes` on PyPI, pinned in CLIENTS),
generated from the API server's OpenAPI paths: in the API class of a group
and version, a kind is namespaced when its methods take a namespace
(`create_namespaced_<kind>`, or `read_`/`list_` for kinds that cannot be
created) and cluster-scoped when they do not (`create_<kind>`). The wheels
are downloaded once with pip into target/kube-clients/ and read as zip files,
never imported. Every kind of the vendored schemas that can be stored must
get a scope, and all client versions must agree; scopes.json has one
`"group/Kind":"Namespaced"|"Cluster"` line a kind (core kinds without a
group), the values CustomResourceDefinitions use in `spec.scope`.

Usage: target/pytools/bin/python scripts/vendor-kube-schemas.py [--check]
  --check  exit 1 if the committed files differ from what would be generated
"""

import importlib.resources
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

VERSIONS = ["1.33", "1.34", "1.35", "1.36", "1.37"]
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "schemas" / "kubernetes"
SCOPES = OUT_DIR / "scopes.json"
WHEELS = ROOT / "target" / "kube-clients"

# The official Python client generated from each vendored version's API.
CLIENTS = {
    "1.33": "33.1.0",
    "1.34": "34.1.0",
    "1.35": "35.0.0",
    "1.36": "36.0.3",
    "1.37": "37.0.2",
}

# Kinds of the schemas that are never stored (discovery documents, replies,
# subresources): no API class creates, reads or lists them on their own.
NOT_STORED = {
    ("", "APIGroup"),
    ("", "APIGroupList"),
    ("", "APIResourceList"),
    ("", "APIVersions"),
    ("", "Status"),
    ("authentication.k8s.io", "TokenRequest"),
    ("autoscaling", "Scale"),
    ("policy", "Eviction"),
}

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
    # The kinds with a schema of their own (shared types list several).
    kinds = {
        (gvk["group"], gvk["version"], gvk["kind"])
        for schema in doc["$defs"].values()
        for gvk in [schema.get("x-kubernetes-group-version-kind", [])]
        if len(gvk) == 1
        for gvk in gvk
    }
    return text, kinds


def client_wheel(version):
    """The client wheel of a Kubernetes version, downloaded once."""
    client = CLIENTS[version]
    wheel = WHEELS / f"kubernetes-{client}-py2.py3-none-any.whl"
    if not wheel.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary", ":all:", "--disable-pip-version-check",
             "-d", str(WHEELS), f"kubernetes=={client}"],
            check=True, stdin=subprocess.DEVNULL,
        )
    return wheel


def snake(kind):
    """`HorizontalPodAutoscaler` -> `horizontal_pod_autoscaler`, `APIService`
    -> `api_service`: how the client names a kind in its methods."""
    kind = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", kind)
    kind = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", kind)
    return kind.lower()


def client_methods(wheel):
    """(group, version) -> the names of its API class's methods."""
    methods = {}
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not (name.startswith("kubernetes/client/api/") and name.endswith("_api.py")):
                continue
            text = z.read(name).decode("utf-8")
            paths = set(re.findall(r"'/apis/([^/'{]+)/([^/'{]+)/", text))
            paths |= {("", v) for v in re.findall(r"'/api/(v1)/", text)}
            if len(paths) != 1:
                continue  # group discovery classes, custom objects
            methods[paths.pop()] = set(re.findall(r"def (\w+)\(", text))
    return methods


def scope_of(methods, kind):
    """"Namespaced", "Cluster", or None when no method names the kind."""
    name = snake(kind)
    for verb in ("create", "read", "list"):
        if f"{verb}_namespaced_{name}" in methods:
            return "Namespaced"
        if f"{verb}_{name}" in methods:
            return "Cluster"
    return None


def scopes(kinds_by_version):
    """"group/Kind" -> scope, from every version's client."""
    found = {}
    for version, kinds in kinds_by_version.items():
        methods = client_methods(client_wheel(version))
        names = {kind for _, _, kind in kinds}
        for group, api_version, kind in sorted(kinds):
            if (group, kind) in NOT_STORED:
                continue
            if kind.endswith("List") and kind[: -len("List")] in names:
                continue  # a list of another kind, not a kind of its own
            scope = scope_of(methods.get((group, api_version), set()), kind)
            if scope is None:
                sys.exit(f"v{version}: no scope for {group}/{api_version} {kind} in client {CLIENTS[version]}")
            key = f"{group}/{kind}" if group else kind
            if found.setdefault(key, scope) != scope:
                sys.exit(f"v{version}: {key} is {scope}, another version says {found[key]}")
    return found


def render_scopes(found):
    lines = ",\n".join(f"{json.dumps(key)}:{json.dumps(found[key])}" for key in sorted(found))
    return f"{{\n{lines}\n}}\n"


def main(argv):
    if argv not in ([], ["--check"]):
        print("usage: vendor-kube-schemas.py [--check]", file=sys.stderr)
        return 2
    stale = []
    outputs = {}
    kinds_by_version = {}
    for version in VERSIONS:
        text, kinds = generate(version)
        outputs[OUT_DIR / f"v{version}.json"] = text
        kinds_by_version[version] = kinds
    outputs[SCOPES] = render_scopes(scopes(kinds_by_version))
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
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
