"""The durable workflow: extract -> rate-limit wait -> transform -> off-peak wait -> load -> verify.

Lambda runs this function again from the top after every wait and retry; completed operations
return their checkpointed results instead of running again, so everything outside a step must be
deterministic (no clock, no I/O) and everything inside one must be safe to repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from aws_durable_execution_sdk_python import BatchResult, DurableContext, DurableOperationError
from aws_durable_execution_sdk_python.config import Duration, MapConfig, NestingType, StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.serdes import JsonSerDes, SerDes, SerDesContext
from aws_durable_execution_sdk_python.types import StepContext

from .aws import aws_clients
from .config import EtlConfig
from .errors import EtlError, reraise_as_etl_error
from .event import parse_event
from .layout import RunLayout, run_id_for
from .steps import ExtractProgress, Run, extract_part, load_batch, off_peak_delay, transform_batch, verify

T = TypeVar("T")

_backoff = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=5,
        initial_delay=Duration.from_seconds(2),
        max_delay=Duration.from_minutes(2),
        backoff_rate=2,
    )
)


def retry_transient(error: Exception, attempts_made: int) -> RetryDecision:
    """Retry what may pass (S3/DynamoDB hiccups, throttling); never bad input or a failed check."""
    if isinstance(error, EtlError) and not error.retryable:
        return RetryDecision.no_retry()
    return _backoff(error, attempts_made)


STEP_CONFIG = StepConfig(retry_strategy=retry_transient)


def _step(context: DurableContext, name: str, body: Callable[[StepContext], T]) -> T:
    try:
        return context.step(body, name=name, config=STEP_CONFIG)
    except DurableOperationError as error:
        reraise_as_etl_error(error)


def _extract(run: Run, context: DurableContext) -> dict[str, Any]:
    progress = ExtractProgress()
    while not progress.done:
        result = _step(context, f"extract-part-{progress.parts + 1}", partial(extract_part, run, progress))
        progress = ExtractProgress.from_dict(result)
    return progress.to_dict()


class PlainBatchResultSerDes(SerDes[BatchResult]):
    """A map's result as plain JSON: about half the size of the SDK's typed default, so that the
    counts of 1,400 batches (the most one run may have) checkpoint in about 140 KB, under 256 KB."""

    def serialize(self, value: BatchResult, _context: SerDesContext) -> str:
        return json.dumps(value.to_dict(), separators=(",", ":"))

    def deserialize(self, data: str, _context: SerDesContext) -> BatchResult:
        return BatchResult.from_dict(json.loads(data))


def _map_config(config: EtlConfig) -> MapConfig:
    return MapConfig(
        max_concurrency=config.map_concurrency,
        # FLAT: the batch steps sit directly under the map, without a context operation each,
        # which halves the operations a batch costs (an execution holds at most 3,000).
        nesting_type=NestingType.FLAT,
        serdes=PlainBatchResultSerDes(),
        item_serdes=JsonSerDes(),
    )


def run_etl(event: Any, context: DurableContext, config: EtlConfig) -> dict[str, Any]:
    """The workflow body: validate the event (before any operation), then the six phases."""
    request = parse_event(event, default_batch_size=config.default_batch_size)
    layout = RunLayout(request.dataset_id, run_id_for(context.execution_context.durable_execution_arn))
    s3, dynamodb = aws_clients(config)
    run = Run(config=config, request=request, layout=layout, s3=s3, dynamodb=dynamodb)
    context.logger.info(
        "ETL of dataset %s (run %s) in batches of %d records", request.dataset_id, layout.run_id, request.batch_size
    )
    try:
        manifest = ExtractProgress.from_dict(context.run_in_child_context(partial(_extract, run), name="extract"))
        context.logger.info("Extracted %d records in %d batches", manifest.records, manifest.batches)

        context.wait(Duration.from_seconds(config.rate_limit_wait_seconds), name="rate-limit")

        def transform_item(ctx: DurableContext, batch: int, _index: int, _all: object) -> dict[str, int]:
            return _step(ctx, f"transform-batch-{batch:06d}", partial(transform_batch, run, batch))

        batches = list(range(manifest.batches))
        transformed = context.map(batches, transform_item, name="transform", config=_map_config(config))
        transformed.throw_if_error()
        counts = sorted(transformed.get_results(), key=lambda c: c["batch"])
        kept = sum(c["kept"] for c in counts)
        rejected = sum(c["rejected"] for c in counts)
        context.logger.info("Transformed: %d records kept, %d rejected", kept, rejected)

        delay = _step(context, "off-peak-delay", partial(off_peak_delay, config))
        if delay["waitSeconds"] > 0:
            context.wait(Duration.from_seconds(delay["waitSeconds"]), name="off-peak")

        def load_item(ctx: DurableContext, batch: int, _index: int, _all: object) -> dict[str, int]:
            return _step(ctx, f"load-batch-{batch:06d}", partial(load_batch, run, batch))

        loadable = [c["batch"] for c in counts if c["kept"]]
        loaded = context.map(loadable, load_item, name="load", config=_map_config(config))
        loaded.throw_if_error()

        summary = _step(
            context,
            "verify",
            lambda _step_context: verify(
                run, batches=loadable, extracted=manifest.records, rejected=rejected, transformed=kept,
                total_batches=manifest.batches,
            ),  # fmt: skip
        )
    except DurableOperationError as error:
        # A child context or map reports a failed step as its own error type: restore ours.
        reraise_as_etl_error(error)
    context.logger.info(
        "Loaded %d records of dataset %s; %d rejected", summary["recordsLoaded"], request.dataset_id, rejected
    )
    return summary
