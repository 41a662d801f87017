"""The fast tier's wall time (`make test` without lint) and where it goes, on this machine.

Runs `pytest -m "not slow"` as `make test` does (one worker per core), warm: the caches a second
run finds (jsii, Lambda dependencies, the synth cache) are filled by a first run unless
`--no-warm-up`. Prints the wall time against the 90 s target, the slowest test phases against their
budgets (pytest.ini), and the time by test folder, so a regression shows where it came from.

    python bench/suite.py [--no-warm-up] [--smoke]

`--smoke`: one small test file, no warm-up (seconds), so the suite keeps this script working.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 90.0
DURATION = re.compile(r"^([0-9.]+)s (setup|call|teardown)\s+(\S+)$")
SHELL_SETTINGS = ("AWS_", "CDK_", "POWERTOOLS_", "LWK_")


def _budgets() -> dict[str, float]:
    ini = configparser.ConfigParser()
    ini.read(REPO_ROOT / "pytest.ini")
    section = ini["pytest"]
    return {
        "call": float(section["budget_call_seconds"]),
        "setup": float(section["budget_setup_seconds"]),
        "teardown": float(section["budget_setup_seconds"]),
    }


def _pytest(arguments: list[str]) -> tuple[float, str]:
    # The suite ignores the shell's AWS/CDK/kit settings; so does its benchmark.
    env = {k: v for k, v in os.environ.items() if not k.startswith(SHELL_SETTINGS)}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *arguments], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"bench/suite.py: pytest exited with {result.returncode}\n{result.stdout[-5000:]}{result.stderr[-2000:]}"
        )
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-warm-up", action="store_true", help="measure the first run (caches as they are)")
    parser.add_argument("--smoke", action="store_true", help="one small test file: checks that the bench runs")
    arguments = parser.parse_args()
    if arguments.smoke:
        selection = ["-n", "0", "-p", "no:cacheprovider", "tests/test_synth_cache.py"]
    else:
        selection = ["-m", "not slow", "-p", "no:cacheprovider"]
    if not (arguments.smoke or arguments.no_warm_up):
        _pytest(["-q", *selection])
    wall, output = _pytest(["-q", "--durations=0", "--durations-min=0", *selection])
    phases = [(float(m[1]), m[2], m[3]) for line in output.splitlines() if (m := DURATION.match(line.strip()))]
    budgets = _budgets()
    tests = {test for _, _, test in phases}
    print(f"fast tier: {len(tests)} tests in {wall:.1f} s wall (target <= {TARGET_SECONDS:.0f} s: ratio {wall / TARGET_SECONDS:.2f}),"
          f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("slowest phases (share of their budget):")
    for seconds, phase, test in sorted(phases, reverse=True)[:12]:
        print(f"  {seconds:6.2f} s  {seconds / budgets[phase]:4.0%}  {phase:8} {test}")
    by_folder: dict[str, float] = defaultdict(float)
    for seconds, _, test in phases:
        path = Path(test.split("::")[0])
        by_folder[str(path.parent) if path.parent != Path("tests") else str(path)] += seconds
    print("time by folder or app-wide file (summed over both workers):")
    for folder, seconds in sorted(by_folder.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds:7.1f} s  {folder}")


if __name__ == "__main__":
    main()
