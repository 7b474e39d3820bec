#!/usr/bin/env python3
"""Write a synthetic configuration repository for the benchmark.

    python3 bench/generate.py --services N --envs E --seed S OUT_DIR

writes two trees that describe the same Kubernetes objects:

    OUT_DIR/manifold/   services/svc-NNNNN.toml, environments/<env>.toml,
                        environments/<env>/svc-NNNNN.toml (one overlay each)
    OUT_DIR/kustomize/  base/svc-NNNNN/ (deployment.yaml, service.yaml,
                        ingress.yaml, kustomization.yaml with a
                        configMapGenerator) and overlays/<env>/
                        (kustomization.yaml with `images` and `replicas`
                        as `kustomize edit set image/replicas` write them,
                        namespace.yaml, patches/svc-NNNNN.yaml: one patch
                        per service for resources and a variable)
    OUT_DIR/params.json the arguments, to tell cached trees apart

Every service is a Deployment and a Service; every fifth also has an Ingress
and a ConfigMap whose name carries a hash of its content. Each environment
sets, per service, the replicas, the image tag, the resources and one
environment variable. Each environment also renders its Namespace.

The output depends only on the arguments: the same seed gives a
byte-identical tree on any machine and Python version (the random numbers
come from SplitMix64 here, not from the `random` module), and a service
is the same whatever N is, so svc-00042 reads alike at N = 100 and
N = 10,000. Standard library only, so it runs without the tools venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

GENERATOR_VERSION = 2

ENV_NAMES = ["dev", "staging", "prod", "qa", "perf", "sandbox", "prod-eu", "prod-us", "prod-ap"]
GROUPS = [
    "payments",
    "search",
    "identity",
    "catalog",
    "checkout",
    "billing",
    "messaging",
    "analytics",
    "media",
    "platform",
    "shipping",
    "ledger",
]
TEAMS = ["core", "edge", "data", "infra"]
HTTP_PORTS = [8080, 8000, 3000, 9000]
REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-1"]
REGISTRY = "registry.example.com"
MASK64 = (1 << 64) - 1


class Rng:
    """SplitMix64: tiny, fast, and the same on every platform."""

    def __init__(self, *key: int) -> None:
        state = 0x9E3779B97F4A7C15
        for k in key:
            state = self._mix((state ^ (k & MASK64)) + 0x9E3779B97F4A7C15)
        self.state = state

    @staticmethod
    def _mix(z: int) -> int:
        z &= MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        return self._mix(self.state)

    def below(self, n: int) -> int:
        return self.next() % n

    def pick(self, items: list):
        return items[self.below(len(items))]


# --- the model: what a service and its overlays say, independent of format ---


def env_names(count: int) -> list[str]:
    names = ENV_NAMES[:count]
    names += [f"env-{i + 1:02d}" for i in range(len(names), count)]
    return names


def profile(env: str) -> str:
    if env.startswith("prod"):
        return "prod"
    if env in ("staging", "perf"):
        return "staging"
    return "dev"


def service_model(seed: int, index: int) -> dict:
    rng = Rng(seed, index)
    name = f"svc-{index:05d}"
    group = rng.pick(GROUPS)
    port = rng.pick(HTTP_PORTS)
    env: dict[str, object] = {
        "LOG_LEVEL": "info",
        "HTTP_PORT": port,
        "DB_PASSWORD": {"secret": f"{name}-db", "key": "password"},
    }
    if index > 1:
        env["UPSTREAM_URL"] = f"http://svc-{1 + rng.below(index - 1):05d}"
    if rng.below(2):
        env["POD_NAME"] = {"field": "metadata.name"}
    model = {
        "name": name,
        "group": group,
        "team": f"{group}-{rng.pick(TEAMS)}",
        "image": f"{group}/{name}",
        "minor": rng.below(20),
        "port": port,
        "metrics": index % 3 == 0,
        "env": env,
        "liveness_http": bool(rng.below(2)),
        "rollout": bool(rng.below(2)),
        "ingress": index % 5 == 0,
        "config": None,
    }
    if model["ingress"]:
        model["config"] = {
            "CACHE_TTL_SECONDS": str(60 * (1 + rng.below(10))),
            "FEATURE_FLAGS": rng.pick(["search-v2", "fast-checkout", "search-v2,fast-checkout"]),
            "MAX_CONNECTIONS": 10 * (1 + rng.below(20)),
            "REGION": rng.pick(REGIONS),
            "UPSTREAM_TIMEOUT": f"{1 + rng.below(10)}s",
        }
    return model


def overlay_model(seed: int, env: str, svc: dict, index: int) -> dict:
    rng = Rng(seed, index, sum(ord(c) << (8 * (i % 7)) for i, c in enumerate(env)))
    kind = profile(env)
    ahead = {"dev": 2, "staging": 1, "prod": 0}[kind]
    scale = {"dev": 1, "staging": 2, "prod": 4}[kind]
    cpu_request = 50 * scale * (1 + rng.below(4))
    memory_request = 64 * scale * (1 + rng.below(4))
    return {
        "version": f"1.{svc['minor']}.{rng.below(30) + ahead}",
        "replicas": {"dev": 1, "staging": 2, "prod": 2 + rng.below(5)}[kind],
        "cpu": (f"{cpu_request}m", f"{cpu_request * 4}m"),
        "memory": (f"{memory_request}Mi", f"{memory_request * 2}Mi"),
        "log_level": {"dev": "debug", "staging": "info", "prod": "warn"}[kind],
    }


# --- manifold's format ---------------------------------------------------------


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def manifold_service(seed: int, svc: dict, index: int) -> str:
    lines = [
        f"# Synthetic service {index} (bench/generate.py, seed {seed}).",
        f'group = "{svc["group"]}"',
        f'image = "{svc["image"]}"',
        f'version = "1.{svc["minor"]}.0"',
        f'labels = {{ team = "{svc["team"]}" }}',
        "",
        "[env]",
    ]
    lines += [f"{k} = {toml_value(v)}" for k, v in svc["env"].items()]
    lines += ["", "[[ports]]", 'name = "http"', f"port = {svc['port']}"]
    if svc["metrics"]:
        lines += ["", "[[ports]]", 'name = "metrics"', "port = 9090"]
        lines += ["", "[metrics]", 'port = "metrics"']
    lines += ["", "[probes.readiness]", 'http = { path = "/healthz", port = "http" }', 'period = "5s"']
    lines += ["", "[probes.liveness]"]
    if svc["liveness_http"]:
        lines.append('http = { path = "/livez", port = "http" }')
    else:
        lines.append('tcp = { port = "http" }')
    lines += ['initial_delay = "10s"', 'period = "10s"']
    lines += [
        "",
        "[resources]",
        'cpu = { request = "100m", limit = "500m" }',
        'memory = { request = "128Mi", limit = "256Mi" }',
    ]
    if svc["rollout"]:
        lines += ["", "[rollout]", 'max_surge = "25%"', "max_unavailable = 0"]
    lines += ["", "[service]", 'ports = [{ name = "http", port = 80 }]']
    if svc["ingress"]:
        lines += [
            "",
            "[ingress]",
            'class = "nginx"',
            f'host = "{svc["name"]}.example.com"',
            'tls = "wildcard-tls"',
        ]
    if svc["config"]:
        lines += ["", "[config]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in svc["config"].items()]
    return "\n".join(lines) + "\n"


def manifold_environment(seed: int, env: str) -> str:
    return (
        f"# Synthetic environment (bench/generate.py, seed {seed}).\n"
        f'namespace = "apps-{env}"\n'
        'kube_version = "1.35"\n'
        f'registry = "{REGISTRY}"\n'
        'pull_secrets = ["regsecret"]\n'
        f'labels = {{ tier = "{profile(env)}" }}\n'
        "\n"
        "[defaults]\n"
        "replicas = 1\n"
        "\n"
        "[defaults.env]\n"
        'LOG_FORMAT = "json"\n'
    )


def manifold_overlay(ov: dict) -> str:
    return (
        f'version = "{ov["version"]}"\n'
        f"replicas = {ov['replicas']}\n"
        "\n"
        "[env]\n"
        f'LOG_LEVEL = "{ov["log_level"]}"\n'
        "\n"
        "[resources]\n"
        f'cpu = {{ request = "{ov["cpu"][0]}", limit = "{ov["cpu"][1]}" }}\n'
        f'memory = {{ request = "{ov["memory"][0]}", limit = "{ov["memory"][1]}" }}\n'
    )


# --- the equivalent Kustomize tree ---------------------------------------------

PLAIN = re.compile(r"[A-Za-z./][A-Za-z0-9_./:=*@-]*")
YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def yaml_scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        if PLAIN.fullmatch(v) and v.lower() not in YAML_WORDS:
            return v
        return json.dumps(v)
    raise TypeError(v)


def yaml_lines(v: object, indent: str) -> list[str]:
    """Block-style YAML of a value that is a non-empty dict or list."""
    out = []
    if isinstance(v, dict):
        for k, x in v.items():
            key = yaml_scalar(k)
            if isinstance(x, (dict, list)) and x:
                out.append(f"{indent}{key}:")
                out += yaml_lines(x, indent if isinstance(x, list) else indent + "  ")
            elif isinstance(x, (dict, list)):
                out.append(f"{indent}{key}: {'{}' if isinstance(x, dict) else '[]'}")
            else:
                out.append(f"{indent}{key}: {yaml_scalar(x)}")
    else:
        for x in v:
            if isinstance(x, (dict, list)) and x:
                inner = yaml_lines(x, indent + "  ")
                out.append(f"{indent}- {inner[0].lstrip()}")
                out += inner[1:]
            else:
                out.append(f"{indent}- {yaml_scalar(x)}")
    return out


def yaml_doc(v: dict) -> str:
    return "\n".join(yaml_lines(v, "")) + "\n"


def labels_of(svc: dict) -> dict:
    return {
        "app": svc["name"],
        "app.kubernetes.io/managed-by": "kustomize",
        "app.kubernetes.io/name": svc["name"],
        "app.kubernetes.io/part-of": svc["group"],
        "group": svc["group"],
        "team": svc["team"],
    }


def version_labels(version: str) -> dict:
    return {"app.kubernetes.io/version": version, "version": version}


def env_var(name: str, value: object) -> dict:
    if isinstance(value, dict) and "secret" in value:
        ref = {"key": value["key"], "name": value["secret"]}
        return {"name": name, "valueFrom": {"secretKeyRef": ref}}
    if isinstance(value, dict):
        return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": value["field"]}}}
    return {"name": name, "value": str(value)}


def kustomize_deployment(svc: dict) -> dict:
    name = svc["name"]
    version = f"1.{svc['minor']}.0"
    labels = dict(sorted({**labels_of(svc), **version_labels(version), "track": "stable"}.items()))
    env = dict(svc["env"], LOG_FORMAT="json")
    ports = [{"containerPort": svc["port"], "name": "http", "protocol": "TCP"}]
    if svc["metrics"]:
        ports.append({"containerPort": 9090, "name": "metrics", "protocol": "TCP"})
    if svc["liveness_http"]:
        liveness: dict = {"httpGet": {"path": "/livez", "port": "http"}}
    else:
        liveness = {"tcpSocket": {"port": "http"}}
    liveness.update(initialDelaySeconds=10, periodSeconds=10)
    container = {
        "env": [env_var(k, env[k]) for k in sorted(env)],
        "image": f"{REGISTRY}/{svc['image']}:{version}",
        "livenessProbe": liveness,
        "name": name,
        "ports": ports,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
        "resources": {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }
    if svc["config"]:
        container = {"envFrom": [{"configMapRef": {"name": f"{name}-config"}}], **container}
        container = dict(sorted(container.items()))
    template_meta: dict = {"labels": labels}
    if svc["metrics"]:
        template_meta = {
            "annotations": {
                "prometheus.io/path": "/metrics",
                "prometheus.io/port": "9090",
                "prometheus.io/scrape": "true",
            },
            "labels": labels,
        }
    rolling = {"maxSurge": "25%", "maxUnavailable": 0} if svc["rollout"] else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": labels, "name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name, "track": "stable"}},
            "strategy": {"rollingUpdate": rolling, "type": "RollingUpdate"},
            "template": {
                "metadata": template_meta,
                "spec": {
                    "containers": [container],
                    "imagePullSecrets": [{"name": "regsecret"}],
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                },
            },
        },
    }


def kustomize_service(svc: dict) -> dict:
    port = {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"labels": labels_of(svc), "name": svc["name"]},
        "spec": {
            "ports": [port],
            "selector": {"app": svc["name"], "track": "stable"},
            "type": "ClusterIP",
        },
    }


def kustomize_ingress(svc: dict) -> dict:
    host = f"{svc['name']}.example.com"
    backend = {"service": {"name": svc["name"], "port": {"name": "http"}}}
    path = {"backend": backend, "path": "/", "pathType": "Prefix"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"labels": labels_of(svc), "name": svc["name"]},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": host, "http": {"paths": [path]}}],
            "tls": [{"hosts": [host], "secretName": "wildcard-tls"}],
        },
    }


def kustomize_base(svc: dict) -> dict:
    resources = ["deployment.yaml", "service.yaml"]
    if svc["ingress"]:
        resources.append("ingress.yaml")
    k: dict = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    if svc["config"]:
        k["configMapGenerator"] = [
            {
                "name": f"{svc['name']}-config",
                "literals": [f"{key}={value}" for key, value in sorted(svc["config"].items())],
                "options": {"labels": labels_of(svc)},
            }
        ]
    return k


def kustomize_patch(svc: dict, ov: dict) -> dict:
    labels = version_labels(ov["version"])
    # Image tag and replicas are set by the overlay's `images` and `replicas`
    # (see kustomize_overlay); the patch carries what those cannot.
    container = {
        "env": [{"name": "LOG_LEVEL", "value": ov["log_level"]}],
        "name": svc["name"],
        "resources": {
            "limits": {"cpu": ov["cpu"][1], "memory": ov["memory"][1]},
            "requests": {"cpu": ov["cpu"][0], "memory": ov["memory"][0]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": labels, "name": svc["name"]},
        "spec": {
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def kustomize_overlay(env: str, names: list[str], releases: list[tuple[dict, dict]]) -> dict:
    """The overlay as `kustomize edit set image` and `kustomize edit set
    replicas` leave it, which is how per-environment tags and counts are
    usually set, plus one patch per service."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": f"apps-{env}",
        "labels": [
            {"pairs": {"env": env, "tier": profile(env)}, "includeTemplates": True},
        ],
        "resources": ["namespace.yaml"] + [f"../../base/{n}" for n in names],
        "images": [{"name": f"{REGISTRY}/{svc['image']}", "newTag": ov["version"]} for svc, ov in releases],
        "replicas": [{"name": svc["name"], "count": ov["replicas"]} for svc, ov in releases],
        "patches": [{"path": f"patches/{n}.yaml"} for n in names],
    }


def kustomize_namespace(env: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "kustomize"}, "name": f"apps-{env}"},
    }


# --- writing -------------------------------------------------------------------


def generate(services: int, envs: int, seed: int, out: str) -> int:
    """Writes both trees into `out`; returns the number of files written."""
    count = 0
    made: set[str] = set()

    def write(rel: str, text: str) -> None:
        nonlocal count
        path = os.path.join(out, rel)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        count += 1

    names = env_names(envs)
    svc_names = [f"svc-{i:05d}" for i in range(1, services + 1)]
    releases: dict[str, list[tuple[dict, dict]]] = {env: [] for env in names}
    for index, name in enumerate(svc_names, start=1):
        svc = service_model(seed, index)
        write(f"manifold/services/{name}.toml", manifold_service(seed, svc, index))
        base = f"kustomize/base/{name}"
        write(f"{base}/kustomization.yaml", yaml_doc(kustomize_base(svc)))
        write(f"{base}/deployment.yaml", yaml_doc(kustomize_deployment(svc)))
        write(f"{base}/service.yaml", yaml_doc(kustomize_service(svc)))
        if svc["ingress"]:
            write(f"{base}/ingress.yaml", yaml_doc(kustomize_ingress(svc)))
        for env in names:
            ov = overlay_model(seed, env, svc, index)
            releases[env].append((svc, ov))
            write(f"manifold/environments/{env}/{name}.toml", manifold_overlay(ov))
            write(f"kustomize/overlays/{env}/patches/{name}.yaml", yaml_doc(kustomize_patch(svc, ov)))
    for env in names:
        write(f"manifold/environments/{env}.toml", manifold_environment(seed, env))
        write(f"kustomize/overlays/{env}/namespace.yaml", yaml_doc(kustomize_namespace(env)))
        overlay = kustomize_overlay(env, svc_names, releases[env])
        write(f"kustomize/overlays/{env}/kustomization.yaml", yaml_doc(overlay))
    params = {"services": services, "envs": envs, "seed": seed, "generator": GENERATOR_VERSION}
    write("params.json", json.dumps(params, sort_keys=True) + "\n")
    return count


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", type=int, required=True, metavar="N", help="number of services")
    p.add_argument("--envs", type=int, default=3, metavar="E", help="number of environments (default 3)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    p.add_argument("out", metavar="OUT_DIR", help="a missing or empty directory")
    a = p.parse_args()
    if not 1 <= a.services <= 99999:
        p.error("--services must be between 1 and 99999")
    if a.envs < 1:
        p.error("--envs must be at least 1")
    if os.path.isdir(a.out) and os.listdir(a.out):
        p.error(f"{a.out} is not empty")
    n = generate(a.services, a.envs, a.seed, a.out)
    print(f"wrote {n} files for {a.services} services x {a.envs} environments into {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
