"""The per-test time budget fails a test that runs over it, by tier, and nothing else."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT

pytest_plugins = ["pytester"]

SLEEPY = """
import time
import pytest

def test_quick():
    pass

def test_over_the_call_budget():
    time.sleep(0.6)

@pytest.mark.slow
def test_slow_tier_gets_more():
    time.sleep(0.6)

def test_failing_stays_failing_and_says_why():
    assert 1 == 2
"""


def test_a_test_over_its_tiers_budget_fails_and_says_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(
        "[pytest]\nmarkers =\n    slow: the slow tier\n"
        "budget_call_seconds = 0.3\nbudget_setup_seconds = 5\nbudget_slow_seconds = 5\n"
    )
    pytester.makepyfile(test_sleepy=SLEEPY)
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))  # `tests.budget`, as the suite loads it
    result = pytester.runpytest_subprocess("-p", "tests.budget", "-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*call took 0.* s, over the 0 s budget of a fast-tier test*"])
    outcomes = {line.split("::")[-1].split(" ")[0] for line in result.stdout.lines if line.startswith("FAILED")}
    assert outcomes == {"test_over_the_call_budget", "test_failing_stays_failing_and_says_why"}
