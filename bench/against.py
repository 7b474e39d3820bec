#!/usr/bin/env python3
"""Compare this checkout's manifold with another revision's: same output, speed.

    python3 bench/against.py REV [--sizes 100,1000] [--runs 5]

builds REV (a commit, tag or branch of this repository) in a temporary git
worktree and this checkout, both in release mode, then for the bundled
example and for generated repositories (bench/generate.py, 3 environments)

- renders each with both binaries and compares the trees byte for byte
  (`.manifold-output` aside: its format differs between some revisions);
- times `validate` and a fresh `build` with both, alternating, and prints the
  medians and their ratio.

Exit status 1 when any tree differs. A refactoring that must not change the
output runs this against the revision before it; the ratios say whether it
cost speed (noise on these machines is a few percent).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd: list[str], cwd: str | None = None, env: dict | None = None, stderr=None) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=stderr)


def build_binary(source: str, target: str) -> str:
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=source, env=env)
    return os.path.join(target, "release", "manifold")


def different(a: str, b: str) -> list[str]:
    """Relative paths that differ between two trees, manifests aside."""
    out = []
    cmp = filecmp.dircmp(a, b, ignore=[".manifold-output"])
    stack = [("", cmp)]
    while stack:
        prefix, c = stack.pop()
        out += [prefix + n for n in c.left_only + c.right_only + c.funny_files]
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        out += [prefix + n for n in mismatch + errors]
        stack += [(prefix + n + "/", sub) for n, sub in c.subdirs.items()]
    return sorted(out)


def timed(binary: str, repo: str, args: list[str], scratch: str) -> float:
    # A fresh directory each run, removed only at the end: file systems
    # allocate slowly for a while after mass deletions, which would be timed.
    out = tempfile.mkdtemp(prefix="timed-", dir=scratch)
    os.rmdir(out)
    extra = ["-o", out] if args == ["build"] else []
    start = time.perf_counter()
    subprocess.run([binary, "-C", repo, *args, *extra], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the revision to compare with")
    p.add_argument("--sizes", default="100,1000", help="generated repositories, services each (default 100,1000)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per binary and command (default 5)")
    a = p.parse_args()

    scratch = tempfile.mkdtemp(prefix="manifold-against-")
    try:
        base_src = os.path.join(scratch, "base-src")
        run(["git", "worktree", "add", "--detach", "--quiet", base_src, a.rev], cwd=ROOT)
        try:
            print(f"building {a.rev} and this checkout (release)...", file=sys.stderr)
            base = build_binary(base_src, os.path.join(ROOT, "target", "against"))
            this = build_binary(ROOT, os.path.join(ROOT, "target"))
        finally:
            run(["git", "worktree", "remove", "--force", base_src], cwd=ROOT)

        repos = [("example", ROOT)]
        for n in [int(s) for s in a.sizes.split(",") if s]:
            gen = os.path.join(scratch, f"gen-{n}")
            run([sys.executable, os.path.join(ROOT, "bench", "generate.py"),
                 "--services", str(n), "--envs", "3", gen])
            repos.append((f"{n} services x 3 environments", os.path.join(gen, "manifold")))

        failed = False
        print(f"| repository | command | {a.rev} | this | ratio |")
        print("|---|---|---|---|---|")
        for label, repo in repos:
            outs = []
            for name, binary in (("base", base), ("this", this)):
                out = os.path.join(scratch, f"out-{name}")
                shutil.rmtree(out, ignore_errors=True)
                run([binary, "-C", repo, "build", "-o", out], stderr=subprocess.DEVNULL)
                outs.append(out)
            diff = different(*outs)
            if diff:
                failed = True
                print(f"DIFFERENT output for {label}: {', '.join(diff[:10])}", file=sys.stderr)
            for args in (["validate"], ["build"]):
                times = {base: [], this: []}
                for _ in range(a.runs):
                    for binary in (base, this):
                        times[binary].append(timed(binary, repo, args, scratch))
                b, t = statistics.median(times[base]), statistics.median(times[this])
                print(f"| {label} | {args[0]} | {b * 1000:.1f} ms | {t * 1000:.1f} ms | {t / b:.2f} |")
        print("output: " + ("DIFFERENT" if failed else "byte-identical for every repository"))
        return 1 if failed else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
