"""Every benchmark runs in its smoke mode (tiny sizes, seconds), so none can rot unseen.

The benchmarks are found the way `make bench` finds them (`bench/*.py`): a new one is covered as
soon as it exists, and must take `--smoke`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.hermetic import REPO_ROOT, clean_environment

BENCHMARKS = sorted((REPO_ROOT / "bench").glob("*.py"))
# Generous for a loaded 2-core machine: smoke modes take seconds; a full run takes minutes.
SMOKE_TIMEOUT_SECONDS = 300


def test_the_benchmarks_are_found() -> None:
    # The kit's own; each workload may add bench/<python_name>.py, found by the same glob.
    assert {"synth.py", "suite.py"} <= {path.name for path in BENCHMARKS}


def test_make_bench_runs_what_this_test_runs() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "for script in bench/*.py" in makefile


@pytest.mark.slow  # each smoke run starts the real script: synths, runs, emulators
@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_the_benchmark_runs_in_smoke_mode(script: Path, cdk_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script.relative_to(REPO_ROOT)), "--smoke"],
        cwd=REPO_ROOT,
        env=clean_environment(cdk_home=cdk_home),
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-5000:]}"
    assert result.stdout.strip(), "a benchmark prints its figures"
