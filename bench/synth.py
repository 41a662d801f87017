"""Synth time against its floor, and the warm `make test` time, on this machine.

full:  `python app.py` as `cdk synth` starts it: every stack, cdk-nag on, built-in validation off;
       into a fresh cdk.out (every asset bundled) and into a reused one (bundles already there,
       as on a second `make synth`).
floor: a process importing the same modules that synthesizes one empty stack, validation off.
Target: full <= 2x floor; warm `make test` <= 60 s.
"""

from __future__ import annotations

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
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _median(command: list[str], extra_env: dict[str, str], *, reuse_outdir: bool = False) -> float:
    timings = []
    with tempfile.TemporaryDirectory() as kept_outdir:
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as fresh_outdir:
                outdir = kept_outdir if reuse_outdir else fresh_outdir
                timings.append(_timed(command, {**os.environ, **extra_env, "CDK_OUTDIR": outdir}))
    return statistics.median(timings)


def main() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    env = {"CDK_CONTEXT_JSON": json.dumps(context), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    _median([sys.executable, "app.py"], env)  # warm the jsii cache and the Lambda dependency cache
    fresh = _median([sys.executable, "app.py"], env)
    reused = _median([sys.executable, "app.py"], env, reuse_outdir=True)
    floor = _median([sys.executable, "-c", FLOOR_PROGRAM], env)
    print(f"synth full, fresh cdk.out (4 stacks, cdk-nag on), median of {RUNS}: {fresh:.2f} s")
    print(f"synth full, reused cdk.out, median of {RUNS}: {reused:.2f} s")
    print(f"synth floor (empty stack, same imports), median of {RUNS}: {floor:.2f} s")
    print(f"ratio full/floor: fresh {fresh / floor:.2f}, reused {reused / floor:.2f} (target <= 2.00)")
    if "--skip-make-test" not in sys.argv:
        make_test = _timed(["make", "test"], dict(os.environ))
        print(f"make test, warm caches: {make_test:.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()
