"""Check a compiled output tree: OUT_DIR/<environment>/**/*.yaml.

For every YAML file:
  - YAML 1.1 (PyYAML) and YAML 1.2 (ruamel.yaml) must load it identically,
    so that kubectl, kustomize, Argo CD, Helm and friends all read the same
    values whichever YAML version their parser implements;
  - no value may load as a date/timestamp;
  - every object except kustomization.yaml must validate in strict mode
    against the Kubernetes version of its environment (kubernetes-validate),
    and Gateway API objects against the vendored CRD of their kind
    (schemas/gateway-api/), its openAPIV3Schema made strict (see strict());
  - <environment>/kustomization.yaml must list exactly the other .yaml files
    of the environment as `resources`.

Usage: target/pytools/bin/python scripts/check-output.py OUT_DIR [--kube ENV=1.35 ...]
Exit status: 0 no problems, 1 problems found, 2 usage error.
"""

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

DEFAULT_KUBE = "1.35"
GATEWAY_API = Path(__file__).resolve().parent.parent / "schemas" / "gateway-api"
OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# The vendored HTTPRoute CRD (source.json) predates the Gateway API's v1,
# which is v1beta1 promoted: v1 objects are checked against v1beta1, and the
# report says so.
STAND_INS = {("gateway.networking.k8s.io/v1", "HTTPRoute"): "v1beta1"}
KUSTOMIZATION = "kustomization.yaml"
SUPPORTED = sorted({kv.major_minor(v) for v in kv.all_versions()}, key=lambda v: tuple(map(int, v.split("."))))


class Kube:
    """Strict validators for one Kubernetes version.

    kubernetes_validate.validate() re-reads and re-parses the 1.5 MB
    _definitions.json on every call (~10 ms per object, against ~0.4 ms for
    the validation itself), so the same schema files are loaded here once and
    the validators are cached per kind.
    """

    def __init__(self, version):
        self.version = version
        self.dir = f"kubernetes-json-schema/v{version}.0-local-strict"
        defs = kv.schema_contents(f"{self.dir}/_definitions.json", version)
        self.registry = Registry().with_resource(defs["$id"], Resource.from_contents(defs))
        self.validators = {}

    def validator(self, api_version, kind):
        key = (api_version, kind)
        if key not in self.validators and key in CRDS.kinds:
            self.validators[key] = jsonschema.Draft202012Validator(
                CRDS.schema(api_version, kind), registry=self.registry)
        if key not in self.validators:
            # Same file naming as kubernetes_validate.validate():
            # rbac.authorization.k8s.io/v1 Role -> role-rbac-v1.json
            group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                schema = kv.schema_contents(f"{self.dir}/{kind.lower()}-{group_version}.json", self.version)
                self.validators[key] = jsonschema.Draft202012Validator(schema, registry=self.registry)
            except FileNotFoundError:
                self.validators[key] = None
        return self.validators[key]


def strict(node):
    """A CRD's structural schema as a strict JSON Schema (draft 2020-12).

    An object that lists its properties admits no others, unless it has
    x-kubernetes-preserve-unknown-fields (or its own additionalProperties,
    a map); x-kubernetes-int-or-string admits an integer or a string;
    nullable admits null; x-kubernetes-embedded-resource admits apiVersion,
    kind and metadata. Descriptions and CEL rules (x-kubernetes-validations,
    which need a CEL evaluator) are dropped; every other keyword means the
    same in both dialects.
    """
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: strict(schema) for name, schema in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = strict(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [strict(schema) for schema in value]
        elif key not in ("description", "x-kubernetes-validations"):
            out[key] = value
    if node.get("x-kubernetes-embedded-resource") is True:
        out["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"}, **out.get("properties", {})}
    if ("properties" in node and "additionalProperties" not in node
            and node.get("x-kubernetes-preserve-unknown-fields") is not True):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class Crds:
    """The vendored Gateway API CRDs, by the (apiVersion, kind) they serve."""

    def __init__(self, directory):
        self.versions = {}
        self.notes = {}
        self.used = set()
        source = json.loads((directory / "source.json").read_text(encoding="utf-8"))
        for name, info in sorted(source["files"].items()):
            crd = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    self.versions[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
            for (api_version, stand_in_kind), stand_in in STAND_INS.items():
                if stand_in_kind == kind and api_version.startswith(f"{group}/"):
                    self.versions.setdefault((api_version, kind), self.versions[(f"{group}/{stand_in}", kind)])
                    self.notes[(api_version, kind)] = (
                        f"{api_version} {kind} is checked against {stand_in} of the vendored CRD "
                        f"(Gateway API {info['bundle_version']}, {source['package']} {source['version']})")
        self.kinds = set(self.versions)

    def schema(self, api_version, kind):
        self.used.add((api_version, kind))
        schema = strict(self.versions[(api_version, kind)])
        schema["properties"]["apiVersion"] = {"const": api_version}
        schema["properties"]["kind"] = {"const": kind}
        schema["properties"]["metadata"] = {"$ref": OBJECT_META}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
        return schema


CRDS = Crds(GATEWAY_API)


def kube_arg(text):
    env, sep, version = text.partition("=")
    match = re.fullmatch(r"v?(\d+\.\d+)(\.\d+)?", version)
    if not (env and sep and match):
        raise argparse.ArgumentTypeError(f"expected ENV=VERSION (e.g. prod=1.35), got {text!r}")
    if match[1] not in SUPPORTED:
        raise argparse.ArgumentTypeError(f"Kubernetes {version} not in {SUPPORTED[0]}..{SUPPORTED[-1]}")
    return env, match[1]


def pointer(path):
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def short(text, limit=300):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def yaml_error(err):
    """One-line form of a PyYAML or ruamel.yaml error."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    if mark is None or problem is None:
        return short(" ".join(str(err).split()))
    context = getattr(err, "context", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: {', '.join(filter(None, (context, problem)))}"


def plain(value):
    """ruamel's safe loader may return subclasses; compare on the builtin types."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):  # bool first: it is an int subclass
        if isinstance(value, kind):
            return kind(value)
    return value


def differences(v11, v12, path=()):
    """Yield (path, message) wherever the YAML 1.1 and 1.2 loads differ."""
    if isinstance(v11, dict) and isinstance(v12, dict):
        only11 = [k for k in v11 if k not in v12]
        only12 = [k for k in v12 if k not in v11]
        if only11 or only12:
            yield path, short(f"mapping keys differ: YAML 1.1 reads {only11!r}, YAML 1.2 reads {only12!r}")
        for key in v11:
            if key in v12:
                yield from differences(v11[key], v12[key], (*path, key))
    elif isinstance(v11, list) and isinstance(v12, list) and len(v11) == len(v12):
        for index, (a, b) in enumerate(zip(v11, v12)):
            yield from differences(a, b, (*path, index))
    # type() too: True == 1 == 1.0 in Python, but not in YAML; x != x is NaN.
    elif type(v11) is not type(v12) or (v11 != v12 and not (v11 != v11 and v12 != v12)):
        yield path, short(f"YAML 1.1 reads {v11!r}, YAML 1.2 reads {v12!r}")


def dates(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, datetime.date):
                yield path, f"mapping key {key!r} loads as a date"
            yield from dates(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from dates(item, (*path, index))
    elif isinstance(value, datetime.date):
        yield path, f"{value!r} loads as a date/timestamp, not a string"


def check_file(file, name, kube, yaml12, report):
    """Check one file; return its first document, None if it did not load."""
    try:
        text = file.read_text(encoding="utf-8")
        docs11 = list(yaml.safe_load_all(text))
    except (OSError, UnicodeDecodeError) as err:
        return report(f"cannot read it: {err}")
    except yaml.YAMLError as err:
        return report(f"YAML 1.1 (PyYAML) cannot load it: {yaml_error(err)}")
    try:
        docs12 = [plain(doc) for doc in yaml12.load_all(text)]
    except RuamelError as err:
        return report(f"YAML 1.2 (ruamel.yaml) cannot load it: {yaml_error(err)}")
    if len(docs11) != len(docs12):
        return report(f"YAML 1.1 reads {len(docs11)} documents, YAML 1.2 reads {len(docs12)}")

    docs = [(i, doc) for i, doc in enumerate(docs11) if doc is not None]
    if not docs:
        return report("no YAML document")
    for index, doc in enumerate(docs11):
        where = f"document {index + 1} " if len(docs11) > 1 else ""
        for path, message in (*differences(doc, docs12[index]), *dates(doc)):
            report(f"{where}{pointer(path)}: {message}")

    for index, doc in docs:
        where = f"document {index + 1} " if len(docs11) > 1 else ""
        if not isinstance(doc, dict):
            report(f"{where}is a {type(doc).__name__}, not a mapping")
        elif name != KUSTOMIZATION:
            api_version, kind = doc.get("apiVersion"), doc.get("kind")
            if not (isinstance(api_version, str) and isinstance(kind, str)):
                report(f"{where}has no string apiVersion and kind")
            elif (validator := kube.validator(api_version, kind)) is None:
                report(f"{where}no schema for {api_version} {kind} in Kubernetes {kube.version}")
            else:
                against = ("vendored CRD, strict" if (api_version, kind) in CRDS.kinds
                           else f"Kubernetes {kube.version} strict")
                for err in validator.iter_errors(doc):
                    report(f"{where}{pointer(err.absolute_path)}: {short(err.message)} ({against})")
    return docs[0][1]


def check_kustomization(env_dir, kustomization, files, report):
    expected = {f.relative_to(env_dir).as_posix() for f in files} - {KUSTOMIZATION}
    resources = kustomization.get("resources") if isinstance(kustomization, dict) else None
    if not (isinstance(resources, list) and all(isinstance(r, str) for r in resources)):
        return report("`resources` is not a list of paths")
    listed = set(resources)
    for duplicate in sorted({r for r in resources if resources.count(r) > 1}):
        report(f"resource {duplicate} listed more than once")
    for missing in sorted(expected - listed):
        report(f"resources does not list {missing}")
    for extra in sorted(listed - expected):
        report(f"resources lists {extra}, which is not a .yaml file of the environment")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--kube", type=kube_arg, action="append", default=[], metavar="ENV=VERSION",
                        help=f"Kubernetes version of an environment (default {DEFAULT_KUBE})")
    args = parser.parse_args()
    if not args.out_dir.is_dir():
        parser.error(f"{args.out_dir} is not a directory")
    versions = dict(args.kube)

    problems = 0
    kubes = {}
    yaml12 = YAML(typ="safe", pure=True)
    files = sorted(f for f in args.out_dir.rglob("*.yaml") if f.is_file())
    envs = {}
    for file in files:
        rel = file.relative_to(args.out_dir)

        def report(message, file=file):
            nonlocal problems
            problems += 1
            print(f"{file}: {message}")

        if len(rel.parts) == 1:
            report("not inside an environment directory")
        env = rel.parts[0] if len(rel.parts) > 1 else None
        version = versions.get(env, DEFAULT_KUBE)
        if version not in kubes:
            kubes[version] = Kube(version)
        kube = kubes[version]
        first = check_file(file, rel.name, kube, yaml12, report)
        if env is not None:
            envs.setdefault(env, {"files": [], "kustomization": None})["files"].append(file)
            if rel.parts[1:] == (KUSTOMIZATION,):
                envs[env]["kustomization"] = report, first

    for env, info in sorted(envs.items()):
        env_dir = args.out_dir / env
        if info["kustomization"] is None:
            problems += 1
            print(f"{env_dir / KUSTOMIZATION}: missing")
        elif info["kustomization"][1] is not None:  # else: load error already reported
            report, first = info["kustomization"]
            check_kustomization(env_dir, first, info["files"], report)

    for key in sorted(CRDS.used & CRDS.notes.keys()):
        print(f"note: {CRDS.notes[key]}")
    print(f"checked {len(files)} files in {len(envs)} environments: {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
