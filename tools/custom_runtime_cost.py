"""The custom runtime's usage model for `make cost` (tools/cost.py): invocations a month."""

from __future__ import annotations

from typing import Any

from tools.cost import Line, Usage, lambda_usd

# The named inputs of `make cost --usage custom-runtime.<input>=<n>`, with their defaults.
USAGE: dict[str, float] = {"invocationsPerMonth": 1_000_000}


def lines(settings: Any, common: Any, usage: Usage) -> list[Line]:
    calls = usage["invocationsPerMonth"]
    return [
        Line(
            "Lambda",
            f"{calls:,.0f} invocations of 25 ms at {settings.memory_mb} MB",
            lambda_usd(calls, 0.025, settings.memory_mb),
        )
    ]
