"""The destinations workload's usage model (tools/destinations_cost.py): named, checked inputs."""

from __future__ import annotations

import pytest

from tools import cost

WORKLOAD = "destinations"


def test_usage_inputs_are_named_and_checked() -> None:
    assert cost.usage_for(WORKLOAD, {f"{WORKLOAD}.jobsPerMonth": 5})["jobsPerMonth"] == 5
    with pytest.raises(SystemExit, match="has no input 'jobs'"):
        cost.usage_for(WORKLOAD, {f"{WORKLOAD}.jobs": 5})
