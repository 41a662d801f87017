"""The destinations workload's usage model for `make cost` (tools/cost.py): jobs and failures a month."""

from __future__ import annotations

from typing import Any

from tools.cost import PRICES, Line, Usage, lambda_usd

# The named inputs of `make cost --usage destinations.<input>=<n>`, with their defaults.
USAGE: dict[str, float] = {"jobsPerMonth": 1_000_000, "failureShare": 0.01}


def lines(settings: Any, common: Any, usage: Usage) -> list[Line]:
    jobs, share = usage["jobsPerMonth"], usage["failureShare"]
    failures = jobs * share
    return [
        Line("Lambda", f"{jobs:,.0f} jobs x 2 invocations of 100 ms at 256 MB", lambda_usd(2 * jobs, 0.1, 256)),
        Line(
            "SQS",
            f"{failures:,.0f} failures x 6 requests (record + kept failure)",
            6 * failures * PRICES["sqs_request"],
        ),
    ]
