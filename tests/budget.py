"""Per-test time budgets: a test phase that passes but takes longer than its tier allows fails.

Budgets are pytest.ini settings (`budget_call_seconds`, `budget_setup_seconds`, `budget_slow_seconds`);
a test marked `slow` belongs to the slow tier (`make check`). Loaded by tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("budget_call_seconds", "longest a fast-tier test's call may take", default="60")
    parser.addini("budget_setup_seconds", "longest a fast-tier test's setup or teardown may take", default="180")
    parser.addini("budget_slow_seconds", "longest any phase of a slow-tier test may take", default="900")


def phase_budget(config: pytest.Config, *, slow: bool, phase: str) -> float:
    """The seconds a phase (`setup`, `call`, `teardown`) of a test of that tier may take (pytest.ini)."""
    if slow:
        return float(config.getini("budget_slow_seconds"))
    return float(config.getini("budget_call_seconds" if phase == "call" else "budget_setup_seconds"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A phase that passed but took longer than its tier's budget fails, saying by how much."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    slow = item.get_closest_marker("slow") is not None
    budget = phase_budget(item.config, slow=slow, phase=call.when)
    if report.passed and call.duration > budget:
        report.outcome = "failed"
        report.longrepr = (
            f"{call.when} took {call.duration:.1f} s, over the {budget:.0f} s budget of a "
            f"{'slow' if slow else 'fast'}-tier test (pytest.ini budget_*): make it cheaper, "
            "or mark it slow if it cannot be (README, Tests)"
        )
