"""Synth time against its floor, on this machine.

full:  `python app.py` as `cdk synth` starts it: every stack, cdk-nag on, built-in validation off;
       into a fresh cdk.out (every asset bundled) and into a reused one (bundles already there,
       as on a second `make synth`).
floor: a process importing the same modules that synthesizes one empty stack, validation off.
Targets: full <= 1.5x floor into a reused cdk.out, <= 2x into a fresh one.

The three are run in turn (floor, fresh, reused, floor, ...) rather than one after the other, so
that a change of load on a shared machine weighs on each of them alike; medians are compared.
Besides wall time, each run's CPU time (this process's children: Python and jsii's Node) is
reported, which load changes less.

    python bench/synth.py [--runs N] [--smoke]

`--smoke`: one run of each (seconds), so the suite keeps this script working.
A command that fails stops the bench with its exit status and everything it printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
TARGET_REUSED, TARGET_FRESH = 1.5, 2.0

FLOOR_PROGRAM = """
import aws_cdk as cdk
import stacks.kit_app  # the same modules as the full synth
app = cdk.App(builtin_cloud_formation_validation=False)
cdk.Stack(app, "Empty")
app.synth()
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and what it started and waited for)."""
    cpu_before, start = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    if result.returncode != 0:
        # The timing is worthless then; what the command said is what the reader needs.
        sys.exit(
            f"bench/synth.py: `{' '.join(command)}` exited with {result.returncode}\n"
            f"--- its stdout ---\n{result.stdout}--- its stderr ---\n{result.stderr}"
        )
    return elapsed, cpu


def _app_environment() -> dict[str, str]:
    # The environment-agnostic synth, as in the suite: the shell's account, region and AWS settings
    # would make `app.py` write environment-specific stacks.
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT_"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs of each (default {RUNS})")
    parser.add_argument("--smoke", action="store_true", help="one run each: checks that the bench runs")
    arguments = parser.parse_args()
    runs = 1 if arguments.smoke else arguments.runs
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    env = {
        **_app_environment(),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    full, floor = [sys.executable, "app.py"], [sys.executable, "-c", FLOOR_PROGRAM]
    timings: dict[str, list[tuple[float, float]]] = {"floor": [], "fresh": [], "reused": []}
    with tempfile.TemporaryDirectory() as reused_outdir:
        # Warms the jsii and Lambda dependency caches, and leaves the bundles the reused runs find.
        _timed(full, {**env, "CDK_OUTDIR": reused_outdir})
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as fresh_outdir:
                timings["floor"].append(_timed(floor, {**env, "CDK_OUTDIR": fresh_outdir}))
            with tempfile.TemporaryDirectory() as fresh_outdir:
                timings["fresh"].append(_timed(full, {**env, "CDK_OUTDIR": fresh_outdir}))
            timings["reused"].append(_timed(full, {**env, "CDK_OUTDIR": reused_outdir}))

    def median(kind: str, index: int) -> float:
        return statistics.median(t[index] for t in timings[kind])

    load = os.getloadavg()[0]
    print(f"synth, median of {runs} runs taken in turn (load average {load:.1f} at the end):")
    for kind, label in (
        ("fresh", "full, fresh cdk.out (every stack, cdk-nag on)"),
        ("reused", "full, reused cdk.out"),
        ("floor", "floor (same imports, one empty stack)"),
    ):
        print(f"  {label}: {median(kind, 0):.2f} s wall, {median(kind, 1):.2f} s CPU")
    for index, measure in ((0, "wall"), (1, "CPU")):
        reused, fresh = (
            median("reused", index) / median("floor", index),
            median("fresh", index) / median("floor", index),
        )
        print(
            f"ratio full/floor ({measure}): reused {reused:.2f} (target <= {TARGET_REUSED}), "
            f"fresh {fresh:.2f} (target <= {TARGET_FRESH})"
        )


if __name__ == "__main__":
    main()
