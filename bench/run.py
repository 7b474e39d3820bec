#!/usr/bin/env python3
"""Benchmark manifold against kubectl kustomize and against the floor.

    python3 bench/run.py [--sizes 100,1000,10000] [--envs 3] [--runs 5]
                         [--kustomize-cap 900] [--no-kustomize] [--seed 1]
                         [--scratch DIR]

Builds manifold and the floor program in release mode, generates (or reuses)
a repository of N services x E environments per size with bench/generate.py
under target/bench/repos/, then measures for each size, each a median of
several runs after one warm-up run that is not counted:

  build      `manifold build` of every environment into a missing directory
  rebuild    `manifold build` again over that identical output
  kustomize  `kubectl kustomize overlays/<env>` for every environment, summed
  floor      writing the built tree with examples/floor.rs (write phase only)
  validate   `manifold validate`
  publish    `manifold publish` on an unchanged tree (once the branch exists)
  diff       `manifold diff` with one service's version bumped

and once, before the sizes:

  startup    `manifold validate` of a repository of one service in one
             environment (median of --startup-runs runs): the fixed cost of
             a run, from process start to the schemas it compiles

Wall time comes from time.perf_counter() around each process, peak memory
from the process's own rusage (os.wait4). The caches are warm: the page cache
cannot be dropped without root, so every figure is a warm-cache figure. Every
run starts after a sync(), so no run pays for writing back an earlier one.
On a shared machine, each run first waits (up to 5 minutes) for other
processes to leave the CPUs mostly idle, and a run during which they kept
more than a quarter of the CPUs busy anyway is repeated (see measure());
what they used is in the JSON, and a contended median is marked in the table.

Nothing is deleted while measuring: each run writes into a new directory
under target/bench/scratch/ (or --scratch DIR), removed when the benchmark
ends. Deleting tens of thousands of files makes creating files slow for
minutes afterwards on some file systems (ext4 without a journal skips
recently freed inodes, at a cost per candidate inode), which would bill one
run for the clean-up of another.

Prints a Markdown table and writes everything to target/bench/results.json.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import generate  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BENCH = os.path.join(TARGET, "bench")
MANIFOLD = os.path.join(TARGET, "release", "manifold")
FLOOR = os.path.join(TARGET, "release", "examples", "floor")
SLOW = 10.0  # seconds: a warm-up slower than this means at most 3 counted runs
SLOW_RUNS = 3
VERY_SLOW = 60.0  # seconds: a first run slower than this is the only one
NPROC = os.cpu_count() or 1  # /proc/stat counts every CPU
CONTENDED = 0.25  # share of all CPUs used by other processes during a run
RETRIES = 10
SLOW_RETRY = 30.0
QUIET_WAIT = 300.0  # seconds a run may wait for other processes to calm down


class Run:
    """One process: wall seconds, peak resident memory, CPU seconds, status."""

    def __init__(self, wall: float, rusage, status: int, timed_out: bool, stderr: str) -> None:
        self.wall = wall
        self.maxrss_mib = rusage.ru_maxrss / 1024  # KiB on Linux
        self.cpu = rusage.ru_utime + rusage.ru_stime
        self.code = os.waitstatus_to_exitcode(status)
        self.timed_out = timed_out
        self.stderr = stderr


def spawn(cmd: list[str], cwd: str | None = None, stdout: str | None = None, cap: float | None = None) -> Run:
    """Runs `cmd`, its stdout to the file `stdout` (or nowhere), killed after
    `cap` seconds. The rusage is that of this child and the children it
    waited for, not of anything else this script ran."""
    err_path = os.path.join(BENCH, "last-stderr.txt")
    with open(stdout or os.devnull, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:  # it finished just now
                pass

        timer = threading.Timer(cap, kill) if cap else None
        if timer:
            timer.start()
        _, status, rusage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    with open(err_path, encoding="utf-8", errors="replace") as f:
        return Run(wall, rusage, status, killed.is_set(), f.read())


def check(run: Run, what: str, ok: tuple[int, ...] = (0,)) -> Run:
    if run.timed_out or run.code not in ok:
        sys.exit(f"bench: {what} failed (exit {run.code}):\n{run.stderr}")
    return run


def busy_seconds() -> float:
    """CPU time the whole machine has been busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float) -> None:
    """Waits, up to `limit` seconds, until other processes leave the CPUs
    mostly idle (this script is asleep meanwhile, so all busy time is theirs)."""
    deadline = time.monotonic() + limit
    while True:
        busy = busy_seconds()
        time.sleep(0.3)
        if (busy_seconds() - busy) / (0.3 * NPROC) <= CONTENDED or time.monotonic() > deadline:
            return


def measure(runs: int, once, before=None) -> dict:
    """A warm-up call of `once`, then `runs` counted ones (at most SLOW_RUNS
    when the warm-up took longer than SLOW seconds; none when it took longer
    than VERY_SLOW, and the warm-up is the figure). `before` runs untimed
    ahead of every call. `once` returns a Run or a list of Runs summed (one
    per environment); the result holds medians of wall time and peak memory.

    The machine may be shared: every run waits for the CPUs to be quiet
    first, and a run during which other processes still kept more than
    CONTENDED of the CPUs busy is done again, up to RETRIES times per
    measurement (runs over SLOW_RETRY seconds are kept); what others used is
    recorded with every run."""
    samples = []
    retries = 0
    while len(samples) < runs + 1:
        if before:
            before()
        os.sync()
        wait_for_quiet(QUIET_WAIT)
        busy = busy_seconds()
        start = time.perf_counter()
        r = once()
        elapsed = time.perf_counter() - start
        parts = r if isinstance(r, list) else [r]
        cpu = sum(p.cpu for p in parts)
        others = max(0.0, busy_seconds() - busy - cpu) / (elapsed * NPROC)
        wall = sum(getattr(p, "write_seconds", p.wall) for p in parts)
        if samples and others > CONTENDED and elapsed < SLOW_RETRY and retries < RETRIES:
            retries += 1
            continue
        samples.append((wall, max(p.maxrss_mib for p in parts), cpu, others))
        if len(samples) == 1 and wall > VERY_SLOW:
            # Minutes per run (Kustomize at N = 1,000): a warm cache changes
            # nothing measurable, and repeating it would take an hour.
            break
        if len(samples) == 1 and wall > SLOW:
            runs = min(runs, SLOW_RUNS)
    counted = samples[1:] or samples
    return {
        "seconds": statistics.median(s[0] for s in counted),
        "peak_mib": statistics.median(s[1] for s in counted),
        "cpu_seconds": statistics.median(s[2] for s in counted),
        "others_cpu_share": statistics.median(s[3] for s in counted),
        "runs": [round(s[0], 4) for s in counted],
        "runs_others_cpu_share": [round(s[3], 3) for s in counted],
        "retried": retries,
        "warmup_seconds": round(samples[0][0], 4),
    }


def rmtree(path: str) -> None:
    if os.path.lexists(path):
        shutil.rmtree(path)


class Scratch:
    """Fresh directories for outputs, all removed at the end, none before."""

    MARKER = ".bench-scratch"

    def __init__(self, root: str) -> None:
        self.root = root
        self.count = 0
        if os.path.isdir(root) and os.listdir(root):
            if not os.path.exists(os.path.join(root, self.MARKER)):
                sys.exit(f"bench: {root} is not empty and was not made by this script; choose another --scratch")
            print(f"bench: removing {root} left by an earlier run", file=sys.stderr)
            rmtree(root)
        os.makedirs(root, exist_ok=True)
        open(os.path.join(root, self.MARKER), "w").close()

    def fresh(self, name: str) -> str:
        self.count += 1
        return os.path.join(self.root, f"{self.count:03d}-{name}")

    def remove(self) -> None:
        print(f"bench: removing {self.root}", file=sys.stderr)
        rmtree(self.root)


# --- set-up --------------------------------------------------------------------


def build_binaries() -> None:
    print("bench: cargo build --release --locked --bin manifold --example floor", file=sys.stderr)
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--bin", "manifold", "--example", "floor"],
        cwd=ROOT,
        check=True,
    )


def repo(n: int, envs: int, seed: int) -> str:
    """The generated trees for (n, envs, seed), generated once and cached."""
    path = os.path.join(BENCH, "repos", f"n{n}-e{envs}-s{seed}")
    want = {"services": n, "envs": envs, "seed": seed, "generator": generate.GENERATOR_VERSION}
    try:
        with open(os.path.join(path, "params.json")) as f:
            if json.load(f) == want:
                return path
    except (OSError, ValueError):
        pass
    print(f"bench: generating {n} services x {envs} environments", file=sys.stderr)
    tmp = path + ".tmp"
    rmtree(tmp)
    rmtree(path)
    generate.generate(n, envs, seed, tmp)
    os.rename(tmp, path)
    return path


def machine(scratch: str) -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
            mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass

    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    mount = ("unknown", "")
    try:
        with open("/proc/self/mounts") as f:
            best = ""
            for line in f:
                _, point, fstype, options = line.split()[:4]
                if (scratch + "/").startswith(point.rstrip("/") + "/") and len(point) >= len(best):
                    best, mount = point, (fstype, options)
    except (OSError, ValueError):
        pass
    kubectl = out(["kubectl", "version", "--client"])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": mem,
        "kernel": f"{platform.system()} {platform.release()}",
        "filesystem": mount[0],
        "mount_options": mount[1],
        "rustc": out(["rustc", "--version"]),
        "kustomize": next((line.split(":", 1)[1].strip() for line in kubectl.splitlines() if "Kustomize" in line), "none"),
        "manifold_commit": out(["git", "describe", "--always", "--dirty", "--exclude", "*"]),
        "date": datetime.date.today().isoformat(),
    }


def has_subcommand(name: str) -> bool:
    return subprocess.run([MANIFOLD, name, "--help"], capture_output=True).returncode == 0


def count_objects(out: str) -> int:
    """One object per file, apart from the environments' kustomization.yaml
    and manifold's own marker and journal."""
    return sum(
        1
        for _, _, files in os.walk(out)
        for f in files
        if f.endswith(".yaml") and f != "kustomization.yaml"
    )


def count_documents(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return (text.count("\n---\n") + 1) if text.strip() else 0


# --- one size ------------------------------------------------------------------


def predicted_kustomize(state: dict, n: int) -> float:
    """Seconds one environment of N services is expected to take in Kustomize,
    from the growth between the last two sizes measured (quadratic when only
    one was): 0 when nothing was measured yet."""
    measured = state.get("measured", [])
    if not measured:
        return 0.0
    n2, t2 = measured[-1]
    exponent = 2.0
    if len(measured) >= 2:
        n1, t1 = measured[-2]
        exponent = math.log(t2 / t1) / math.log(n2 / n1)
    return t2 * (n / n2) ** exponent


def bench_size(n: int, args, scratch: Scratch, kustomize_state: dict, publish: bool, diff: bool) -> dict:
    src = repo(n, args.envs, args.seed)
    mrepo = os.path.join(src, "manifold")
    envs = generate.env_names(args.envs)
    work = scratch.fresh(f"n{n}")
    os.makedirs(work)
    row: dict = {"services": n, "envs": args.envs}
    dirs = {}

    def fresh(key: str) -> None:
        dirs[key] = scratch.fresh(f"n{n}-{key}")

    def manifold(*cmd: str, repo_dir: str = mrepo, ok=(0,), stdout=None) -> Run:
        return check(spawn([MANIFOLD, "-C", repo_dir, *cmd], stdout=stdout), f"manifold {cmd[0]}", ok)

    print(f"bench: N={n}: validate", file=sys.stderr)
    row["validate"] = measure(args.runs, lambda: manifold("validate"))

    print(f"bench: N={n}: build", file=sys.stderr)
    row["build"] = measure(args.runs, lambda: manifold("build", "-o", dirs["out"]), before=lambda: fresh("out"))
    out = dirs["out"]
    row["objects"] = count_objects(out)
    row["output_files"] = sum(len(f) for _, _, f in os.walk(out))
    row["output_bytes"] = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)

    print(f"bench: N={n}: rebuild over unchanged output", file=sys.stderr)
    row["rebuild"] = measure(args.runs, lambda: manifold("build", "-o", out))

    print(f"bench: N={n}: floor", file=sys.stderr)

    def floor() -> Run:
        r = check(spawn([FLOOR, out, dirs["floor"]]), "floor")
        m = re.search(r"in ([0-9.]+) s", r.stderr)
        if not m:
            sys.exit(f"bench: unexpected output of floor: {r.stderr}")
        r.write_seconds = float(m.group(1))
        return r

    row["floor"] = measure(args.runs, floor, before=lambda: fresh("floor"))

    row["kustomize"] = None
    if args.no_kustomize:
        row["kustomize_note"] = "not run (--no-kustomize)"
    elif kustomize_state.get("capped_at"):
        row["kustomize_note"] = f"skipped: over the cap at N={kustomize_state['capped_at']}"
    elif predicted_kustomize(kustomize_state, n) > args.kustomize_cap:
        guess = predicted_kustomize(kustomize_state, n)
        row["kustomize_note"] = (
            f"skipped: about {guess / 60:.0f} min per environment expected from the growth "
            f"measured so far, over the {args.kustomize_cap:g} s cap"
        )
        row["kustomize_capped"] = args.kustomize_cap
    else:
        print(f"bench: N={n}: kubectl kustomize", file=sys.stderr)
        kroot = os.path.join(src, "kustomize", "overlays")
        capped = []

        def kustomize() -> list[Run]:
            runs = []
            for env in envs:
                r = spawn(
                    ["kubectl", "kustomize", os.path.join(kroot, env)],
                    stdout=os.path.join(work, f"kustomize-{env}.yaml"),
                    cap=args.kustomize_cap,
                )
                if r.timed_out:
                    capped.append(env)
                    raise TimeoutError
                check(r, f"kubectl kustomize overlays/{env}")
                runs.append(r)
            return runs

        try:
            row["kustomize"] = measure(args.runs, kustomize)
            kustomize_state.setdefault("measured", []).append((n, row["kustomize"]["seconds"] / len(envs)))
            row["kustomize_objects"] = sum(count_documents(os.path.join(work, f"kustomize-{e}.yaml")) for e in envs)
        except TimeoutError:
            kustomize_state["capped_at"] = n
            row["kustomize_note"] = f"> {args.kustomize_cap:g} s (overlays/{capped[0]} alone hit the cap)"
            row["kustomize_capped"] = args.kustomize_cap

    if publish or diff:
        print(f"bench: N={n}: publish and diff", file=sys.stderr)
        grepo = scratch.fresh(f"n{n}-git")
        shutil.copytree(mrepo, grepo)
        git_env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        }
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
            subprocess.run(["git", *cmd], cwd=grepo, env=git_env, check=True)
        if publish:
            manifold("publish", repo_dir=grepo)  # creates the branch: not timed
            tip = subprocess.run(["git", "rev-parse", "gitops"], cwd=grepo, capture_output=True, text=True).stdout
            row["publish"] = measure(args.runs, lambda: manifold("publish", repo_dir=grepo))
            after = subprocess.run(["git", "rev-parse", "gitops"], cwd=grepo, capture_output=True, text=True).stdout
            row["publish_commits_added"] = tip != after
        if diff:
            overlay = os.path.join(grepo, "environments", envs[0], "svc-00001.toml")
            with open(overlay, encoding="utf-8") as f:
                original = f.read()
            bumped = re.sub(
                r'^version = "(\d+)\.(\d+)\.(\d+)"',
                lambda m: f'version = "{m[1]}.{m[2]}.{int(m[3]) + 1}"',
                original,
                count=1,
                flags=re.M,
            )
            try:
                with open(overlay, "w", encoding="utf-8") as f:
                    f.write(bumped)
                diff_out = os.path.join(work, "diff.txt")
                # diff may exit 1 to say "there are changes", as diff(1) does.
                row["diff"] = measure(args.runs, lambda: manifold("diff", repo_dir=grepo, ok=(0, 1), stdout=diff_out))
            finally:
                with open(overlay, "w", encoding="utf-8") as f:
                    f.write(original)
    return row


def bench_startup(args) -> dict:
    """`manifold validate` of one service in one environment: what every run
    pays before its size starts to matter."""
    mrepo = os.path.join(repo(1, 1, args.seed), "manifold")
    print("bench: startup: validate a one-service repository", file=sys.stderr)
    return measure(
        args.startup_runs,
        lambda: check(spawn([MANIFOLD, "-C", mrepo, "validate"]), "manifold validate (one service)"),
    )


# --- the table -----------------------------------------------------------------


def secs(m: dict | None) -> str:
    if not m:
        return "—"
    s = m["seconds"]
    mark = " *" if m["others_cpu_share"] > CONTENDED else ""
    if s < 0.01:
        return f"{s * 1000:.1f} ms{mark}"
    return (f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s") + mark


def mib(m: dict | None) -> str:
    return f"{m['peak_mib']:.0f}" if m else "—"


def ratio(a: float, b: float, lower_bound: bool = False) -> str:
    r = a / b
    if lower_bound:  # round down, so the bound stays true
        return f"> {math.floor(r):,}×" if r >= 10 else f"> {math.floor(r * 10) / 10:.1f}×"
    return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×"


def table(rows: list[dict], publish: bool, diff: bool) -> str:
    head = [
        "N",
        "envs",
        "objects (manifold / kustomize)",
        "build",
        "build MiB",
        "rebuild",
        "kustomize",
        "kustomize MiB",
        "floor",
        "validate",
        "validate MiB",
        "publish",
        "diff",
        "kustomize ÷ build",
        "build ÷ floor",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        k = r["kustomize"]
        if k:
            kcell, kmib = secs(k), mib(k)
            kratio = ratio(k["seconds"], r["build"]["seconds"])
            kobj = f"{r['kustomize_objects']:,}"
        else:
            note = r.get("kustomize_note", "")
            kcell, kmib, kobj = note, "—", "—"
            kratio = "—"
            if r.get("kustomize_capped"):
                kratio = ratio(r["kustomize_capped"], r["build"]["seconds"], lower_bound=True)
        cells = [
            f"{r['services']:,}",
            str(r["envs"]),
            f"{r['objects']:,} / {kobj}",
            secs(r["build"]),
            mib(r["build"]),
            secs(r["rebuild"]),
            kcell,
            kmib,
            secs(r["floor"]),
            secs(r["validate"]),
            mib(r["validate"]),
            secs(r.get("publish")) if publish else "n/a (not built)",
            secs(r.get("diff")) if diff else "n/a (not built)",
            kratio,
            ratio(r["build"]["seconds"], r["floor"]["seconds"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,1000,10000", help="numbers of services, comma-separated (default 100,1000,10000)")
    p.add_argument("--envs", type=int, default=3, help="environments per repository (default 3)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--runs", type=int, default=5, help=f"counted runs per measurement (default 5; {SLOW_RUNS} when a run takes over {SLOW:g} s)")
    p.add_argument("--kustomize-cap", type=float, default=900, metavar="SECONDS", help="stop kustomize when one environment takes longer, and skip it at larger sizes (default 900)")
    p.add_argument("--no-kustomize", action="store_true", help="measure manifold and the floor only")
    p.add_argument("--startup-runs", type=int, default=100, help="counted runs of the one-service validate (default 100)")
    p.add_argument("--scratch", default=os.path.join(BENCH, "scratch"), metavar="DIR", help="where outputs are written (default target/bench/scratch); removed at the end")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.runs < 1 or args.startup_runs < 1:
        p.error("--runs and --startup-runs must be at least 1")

    os.makedirs(BENCH, exist_ok=True)
    build_binaries()
    if not args.no_kustomize and not shutil.which("kubectl"):
        sys.exit("bench: kubectl is not on PATH (or pass --no-kustomize)")
    publish, diff = has_subcommand("publish"), has_subcommand("diff")
    scratch = Scratch(os.path.abspath(args.scratch))
    info = machine(scratch.root)
    state: dict = {}
    try:
        startup = bench_startup(args)
        rows = [bench_size(n, args, scratch, state, publish, diff) for n in sorted(sizes)]
    finally:
        scratch.remove()

    print()
    print("| startup: validate a one-service repository | MiB |")
    print("|---|---|")
    print(f"| {secs(startup)} | {mib(startup)} |")
    print()
    print(table(rows, publish, diff))
    print()
    print(
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']}, {info['kernel']}, "
        f"{info['filesystem']} file system; {info['rustc']}; kustomize {info['kustomize']}; "
        f"manifold {info['manifold_commit']}; {info['date']}."
    )
    print(
        f"Medians of {args.runs} run{'s' if args.runs != 1 else ''} after one uncounted warm-up (at most {SLOW_RUNS} when a run takes over {SLOW:g} s; a single run when one takes over {VERY_SLOW:g} s), "
        "warm page cache. kustomize sums one `kubectl kustomize` per environment; "
        "floor is the write phase of examples/floor.rs. "
        f"* marks a median taken while other processes kept over {CONTENDED:.0%} of the CPUs busy."
    )
    results = {"machine": info, "settings": vars(args), "startup": startup, "rows": rows}
    path = os.path.join(BENCH, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(f"Results: {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
