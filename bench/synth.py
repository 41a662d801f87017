"""Synth time against its floor, and the warm `make test` time, on this machine.

full:  `python app.py` as `cdk synth` starts it: every stack, cdk-nag on, built-in validation off;
       into a fresh cdk.out (every asset bundled) and into a reused one (bundles already there,
       as on a second `make synth`).
floor: a process importing the same modules that synthesizes one empty stack, validation off.
Target: full <= 2x floor; warm `make test` <= 60 s.

    python bench/synth.py [--skip-make-test] [--smoke]

`--smoke`: one run of each synth and no `make test` (seconds), so the suite keeps this script working.
A command that fails stops the bench with its exit status and everything it printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

FLOOR_PROGRAM = """
import aws_cdk as cdk
import stacks.kit_app  # the same modules as the full synth
app = cdk.App(builtin_cloud_formation_validation=False)
cdk.Stack(app, "Empty")
app.synth()
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        # The timing is worthless then; what the command said is what the reader needs.
        sys.exit(
            f"bench/synth.py: `{' '.join(command)}` exited with {result.returncode}\n"
            f"--- its stdout ---\n{result.stdout}--- its stderr ---\n{result.stderr}"
        )
    return elapsed


def _app_environment() -> dict[str, str]:
    # The environment-agnostic synth, as in the suite: the shell's account, region and AWS settings
    # would make `app.py` write environment-specific stacks.
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT_"))}


def _median(command: list[str], extra_env: dict[str, str], *, runs: int, reuse_outdir: bool = False) -> float:
    timings = []
    with tempfile.TemporaryDirectory() as kept_outdir:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as fresh_outdir:
                outdir = kept_outdir if reuse_outdir else fresh_outdir
                timings.append(_timed(command, {**_app_environment(), **extra_env, "CDK_OUTDIR": outdir}))
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-make-test", action="store_true", help="measure the synth only")
    parser.add_argument("--smoke", action="store_true", help="one run each, no make test: checks that the bench runs")
    arguments = parser.parse_args()
    runs = 1 if arguments.smoke else RUNS
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    env = {"CDK_CONTEXT_JSON": json.dumps(context), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    if not arguments.smoke:
        _median([sys.executable, "app.py"], env, runs=1)  # warm the jsii cache and the Lambda dependency cache
    fresh = _median([sys.executable, "app.py"], env, runs=runs)
    reused = _median([sys.executable, "app.py"], env, runs=runs, reuse_outdir=True)
    floor = _median([sys.executable, "-c", FLOOR_PROGRAM], env, runs=runs)
    print(f"synth full, fresh cdk.out (4 stacks, cdk-nag on), median of {runs}: {fresh:.2f} s")
    print(f"synth full, reused cdk.out, median of {runs}: {reused:.2f} s")
    print(f"synth floor (empty stack, same imports), median of {runs}: {floor:.2f} s")
    print(f"ratio full/floor: fresh {fresh / floor:.2f}, reused {reused / floor:.2f} (target <= 2.00)")
    if not (arguments.smoke or arguments.skip_make_test):
        make_test = _timed(["make", "test"], dict(os.environ))
        print(f"make test, warm caches: {make_test:.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()
