#!/usr/bin/env python3
"""mypy over the kit (settings in pyproject.toml), with each Lambda's asset root on the search path.

Lambda imports `lwk_<workload>` from `lambdas/<workload>/`; so do the tests (support.paths). mypy
gets the same roots through MYPYPATH, found here rather than listed in the config, so that a new
workload needs no edit to it. Arguments are passed on to mypy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["app.py", "stacks", "support", "tools", "tests", "bench"]


def main(argv: list[str]) -> int:
    packages = sorted(REPO_ROOT.glob("lambdas/*/lwk_*/__init__.py"))
    roots = [str(package.parent.parent) for package in packages]
    environment = {**os.environ, "MYPYPATH": os.pathsep.join(roots)}
    # With explicit package bases, lambdas/<workload>/lwk_<workload>/x.py is the module lwk_<workload>.x.
    targets = [*CHECKED, *(str(package.parent.relative_to(REPO_ROOT)) for package in packages)]
    command = [sys.executable, "-m", "mypy", *argv, *targets]
    return subprocess.run(command, cwd=REPO_ROOT, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
