"""Settings of the __Title__ workload (`kit.__camel__` in cdk.json); each key is documented in docs/__key__.md."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.settings.common import CommonSettings
from stacks.settings.reader import SettingsReader
from stacks.shared.contracts import load_contract
from stacks.shared.sqs_event_source import MAX_BATCH_SIZE, MAX_BATCHING_WINDOW_SECONDS, MAX_CONCURRENCY_RANGE

contract = load_contract("__key__")


@dataclass(frozen=True)
class __Pascal__Settings:
    batch_size: int
    max_batching_window_seconds: int
    max_concurrency: int
    max_receive_count: int
    results_prefix: str
    memory_mb: int
    timeout_seconds: int


def read___snake__(reader: SettingsReader, common: CommonSettings) -> __Pascal__Settings:
    settings = __Pascal__Settings(
        batch_size=reader.integer("batchSize", minimum=1, maximum=MAX_BATCH_SIZE, default=10),
        max_batching_window_seconds=reader.integer(
            "maxBatchingWindowSeconds", minimum=0, maximum=MAX_BATCHING_WINDOW_SECONDS, default=0
        ),
        max_concurrency=reader.integer(
            "maxConcurrency", minimum=MAX_CONCURRENCY_RANGE[0], maximum=MAX_CONCURRENCY_RANGE[1], default=2
        ),
        max_receive_count=reader.integer("maxReceiveCount", minimum=1, maximum=1000, default=5),
        results_prefix=reader.string(
            "resultsPrefix",
            pattern=contract.RESULTS_PREFIX_PATTERN,
            meaning="one to eight path segments of letters, digits, '_', '.', '-', each ending in '/'",
            default=contract.DEFAULT_RESULTS_PREFIX,
        ),
        memory_mb=reader.integer("memoryMb", minimum=128, maximum=10240, default=256),
        timeout_seconds=reader.integer("timeoutSeconds", minimum=1, maximum=900, default=30),
    )
    if settings.batch_size > 10 and settings.max_batching_window_seconds == 0:
        raise reader.fail(
            "batchSize", settings.batch_size, "more than 10 unless maxBatchingWindowSeconds is at least 1"
        )
    return settings
