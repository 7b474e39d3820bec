#!/usr/bin/env python3
"""Check that a generated repository means the same to manifold and Kustomize.

    target/pytools/bin/python bench/compare.py OUT_DIR

OUT_DIR is what bench/generate.py wrote. Builds OUT_DIR/manifold with
target/release/manifold, renders every OUT_DIR/kustomize/overlays/<env> with
`kubectl kustomize`, and compares the objects of each environment by kind,
namespace and name. Three differences are expected and normalised away:
the value of the `app.kubernetes.io/managed-by` label, the content hash at
the end of ConfigMap names (each tool hashes its own way), and the order of
a container's `env` list (manifold sorts it, a strategic-merge patch puts
the patched variable first). Anything else is printed as a diff, and the
exit status is 1.

Needs PyYAML, hence the tools venv (`scripts/pytools` creates it).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
MANIFOLD = os.path.join(TARGET, "release", "manifold")
HASHED = re.compile(r"(-config)-[a-z0-9]{10}\b")


def normalise(obj: dict) -> dict:
    text = HASHED.sub(r"\1-HASH", json.dumps(obj, sort_keys=True))
    obj = json.loads(text)

    def walk(x: object) -> None:
        if isinstance(x, dict):
            labels = x.get("labels")
            if isinstance(labels, dict) and "app.kubernetes.io/managed-by" in labels:
                labels["app.kubernetes.io/managed-by"] = "TOOL"
            env = x.get("env")
            if isinstance(env, list):
                env.sort(key=lambda e: e["name"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(obj)
    return obj


def key(obj: dict) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace", ""), meta["name"])


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    gen = sys.argv[1]
    envs = sorted(f[:-5] for f in os.listdir(os.path.join(gen, "manifold", "environments")) if f.endswith(".toml"))
    problems = 0
    totals = [0, 0]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        subprocess.run([MANIFOLD, "-C", os.path.join(gen, "manifold"), "build", "-o", out], check=True)
        for env in envs:
            ours = {}
            for d, _, files in os.walk(os.path.join(out, env)):
                for f in files:
                    if f != "kustomization.yaml":
                        with open(os.path.join(d, f), encoding="utf-8") as fh:
                            obj = normalise(yaml.safe_load(fh))
                        ours[key(obj)] = obj
            rendered = subprocess.run(
                ["kubectl", "kustomize", os.path.join(gen, "kustomize", "overlays", env)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            theirs = {key(o): o for o in map(normalise, yaml.safe_load_all(rendered))}
            totals[0] += len(ours)
            totals[1] += len(theirs)
            print(f"{env}: manifold {len(ours)} objects, kustomize {len(theirs)}")
            for k in sorted(ours.keys() ^ theirs.keys()):
                problems += 1
                print(f"  only in {'manifold' if k in ours else 'kustomize'}: {'/'.join(k)}")
            for k in sorted(ours.keys() & theirs.keys()):
                if ours[k] != theirs[k]:
                    problems += 1
                    a = yaml.safe_dump(ours[k]).splitlines()
                    b = yaml.safe_dump(theirs[k]).splitlines()
                    print(f"  differs: {'/'.join(k)}")
                    print("\n".join(difflib.unified_diff(a, b, "manifold", "kustomize", lineterm="", n=1)))
    print(f"total: manifold {totals[0]} objects, kustomize {totals[1]}; {problems} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
