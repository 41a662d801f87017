"""The durable ETL's usage model for `make cost` (tools/cost.py): runs, records and minutes a month."""

from __future__ import annotations

from typing import Any

from tools.cost import PRICES, Line, Usage, lambda_usd

# The named inputs of `make cost --usage durable-etl.<input>=<n>`, with their defaults.
USAGE: dict[str, float] = {"runsPerMonth": 30, "recordsPerRun": 1_000_000, "invocationMinutesPerRun": 25}


def dimension_values(settings: Any) -> dict[str, int]:
    """The metric `reason` dimension takes one value per reject reason of the contract."""
    from stacks.shared.contracts import load_contract

    return {"reason": len(load_contract("durable-etl").REJECT_REASONS)}


def lines(settings: Any, common: Any, usage: Usage) -> list[Line]:
    runs, records, minutes = usage["runsPerMonth"], usage["recordsPerRun"], usage["invocationMinutesPerRun"]
    total = runs * records
    batches = runs * -(-records // settings.default_batch_size)
    return [
        Line("DynamoDB writes", f"{total:,.0f} records (1 WRU each, items under 1 KB)", total * PRICES["dynamodb_write_request_unit"]),
        Line("DynamoDB verify reads", f"{total:,.0f} records", total * PRICES["dynamodb_read_request_unit"]),
        Line("Durable operations", f"about 2 per batch of {settings.default_batch_size}: {2 * batches:,.0f}", 2 * batches * PRICES["durable_operation"]),
        Line("Lambda", f"{runs:g} runs x {minutes:g} min at {settings.memory_mb} MB", lambda_usd(runs, minutes * 60, settings.memory_mb)),
        Line("S3 requests", f"about 3 PUTs and 4 GETs per batch: {batches:,.0f} batches", batches * (3 * PRICES["s3_put"] + 4 * PRICES["s3_get"])),
    ]  # fmt: skip
