"""The log export's usage model for `make cost` (tools/cost.py): gigabytes exported and months kept."""

from __future__ import annotations

from typing import Any

from tools.cost import PRICES, Line, Usage, lambda_usd

# The named inputs of `make cost --usage log-export.<input>=<n>`, with their defaults.
USAGE: dict[str, float] = {"gbPerLogGroupMonth": 1, "monthsKept": 12}


def dimension_values(settings: Any) -> dict[str, int]:
    """The metric `logGroup` dimension takes one value per configured log group."""
    return {"logGroup": len(settings.log_groups)}


def lines(settings: Any, common: Any, usage: Usage) -> list[Line]:
    groups, gigabytes = len(settings.log_groups), usage["gbPerLogGroupMonth"]
    exports = groups  # one closed month per group and month, in the steady state
    standard_months = settings.archive_after_days / 30
    kept = usage["monthsKept"]
    return [
        Line("Step Functions", f"{exports} exports x about 13 transitions, 2 runs", (exports * 13 + 8) * PRICES["sfn_state_transition"]),
        Line("Lambda", f"{exports} exports x about 4 invocations of 300 ms at 256 MB", lambda_usd(exports * 4 + 2, 0.3, 256)),
        Line("S3 Standard", f"{groups} groups x {gigabytes:g} GB x {standard_months:.1f} months (archiveAfterDays)", groups * gigabytes * standard_months * PRICES["s3_standard_gb_month"]),
        Line("S3 Glacier IR", f"the rest of {kept:g} months kept", groups * gigabytes * max(kept - standard_months, 0) * PRICES["s3_glacier_ir_gb_month"]),
    ]  # fmt: skip
