"""The durable workflow: extract -> rate-limit wait -> transform -> off-peak wait -> load -> verify.

One run is a coordinator execution (the `handler` entry) that plans the run and then fans every
phase out over its units, each a child durable execution of the worker function (the `shard`
entry), started with the SDK's chained invoke (`context.invoke`):

    plan                      list the dataset, cut it into slices (by bytes) and shards
    extract   per slice       parse the slice's objects, route each record to its shard by its id
    gather    per shard       the shard's records in source order, duplicates marked, in batches
    plan-units                the shards' batches in units of at most UNIT_BATCHES
    rate-limit wait
    transform per unit        one step per batch
    off-peak wait
    load      per unit        one step per batch, then the unit's verification

A dataset that makes one slice and one shard runs every phase inside the coordinator instead, as a
child context with the same body: the small path is one execution, as before.

Lambda runs each execution again from the top after every wait, retry and child result; completed
operations return their checkpointed results instead of running again, so everything outside a
step must be deterministic (no clock, no I/O) and everything inside one must be safe to repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple
from functools import partial
from typing import Any

from aws_durable_execution_sdk_python import BatchResult, DurableContext, DurableOperationError
from aws_durable_execution_sdk_python.config import (
    CompletionConfig,
    Duration,
    MapConfig,
    NestingType,
    StepConfig,
)
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.serdes import JsonSerDes, SerDes, SerDesContext
from aws_durable_execution_sdk_python.types import StepContext

from . import contract
from .aws import aws_clients
from .config import EtlConfig
from .errors import ConfigurationError, EtlError, EtlInputError, error_class, reraise_as_etl_error
from .event import EtlRequest, UnitRequest, parse_event, parse_unit_event
from .layout import RunLayout, run_id_for
from .metrics import emit_run_metrics
from .sharding import Unit, split_range
from .staging import get_json, put_json
from .steps import (
    ExtractProgress,
    Run,
    discard_run,
    extract_part,
    gather_shard,
    load_batch,
    load_unit,
    off_peak_delay,
    plan,
    plan_units,
    transform_batch,
    verify_unit,
)

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


def _step[T](context: DurableContext, name: str, body: Callable[[StepContext], T]) -> T:
    try:
        return context.step(body, name=name, config=STEP_CONFIG)
    except DurableOperationError as error:
        reraise_as_etl_error(error)


class PlainBatchResultSerDes(SerDes[BatchResult[Any]]):
    """A map's result as plain JSON: about half the size of the SDK's typed default, so that the
    counts of UNIT_BATCHES batches (or FAN_OUT_PER_EXECUTION units) checkpoint far under 256 KB."""

    def serialize(self, value: BatchResult[Any], _context: SerDesContext) -> str:
        return json.dumps(value.to_dict(), separators=(",", ":"))

    def deserialize(self, data: str, _context: SerDesContext) -> BatchResult[Any]:
        return BatchResult.from_dict(json.loads(data))


def _map_config(max_concurrency: int, *, every_item: bool = False) -> MapConfig[Any]:
    options: dict[str, Any] = {}
    if every_item:
        # A fan-out lets every unit finish (a failed unit is retried alone, the others go on).
        options["completion_config"] = CompletionConfig.all_completed()  # type: ignore[no-untyped-call]
    return MapConfig(
        max_concurrency=max_concurrency,
        # FLAT: an item's operations sit directly under the map, without a context operation each,
        # which halves the operations a batch costs (an execution holds at most 3,000).
        nesting_type=NestingType.FLAT,
        serdes=PlainBatchResultSerDes(),
        item_serdes=JsonSerDes(),
        **options,
    )


def _sums(results: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for result in results:
        for name, value in result.items():
            total[name] = total.get(name, 0) + value
    return total


# region units: the same bodies run in a child execution of the worker or inline in the coordinator


def _unit_done(run: Run, phase: str, index: int, body: Callable[[], dict[str, int]], context: DurableContext) -> Any:
    """Run a unit once per run: its result is kept in S3, and a re-run (same runId) or a repeated
    invocation of a finished unit returns it without doing the work again."""
    key = run.layout.done_key(phase, index)
    earlier = _step(context, f"{phase}-{index:06d}-done", lambda _: get_json(run.s3, run.bucket, key))
    if earlier is not None:
        context.logger.info("%s unit %d of run %s was done already", phase, index, run.layout.run_id)
        return earlier
    result = body()
    _step(context, f"{phase}-{index:06d}-record", lambda _: put_json(run.s3, run.bucket, key, result))
    return result


def _extract_slice(run: Run, index: int, context: DurableContext) -> dict[str, int]:
    progress = ExtractProgress()
    while not progress.done:
        name = f"extract-part-{progress.parts + 1}" if index == 0 else f"extract-{index}-part-{progress.parts + 1}"
        progress = ExtractProgress.from_dict(_step(context, name, partial(extract_part, run, index, progress)))
    return {"records": progress.records}


def _gather(run: Run, shard: int, context: DurableContext) -> dict[str, int]:
    return _step(context, "gather" if shard == 0 else f"gather-{shard}", partial(gather_shard, run, shard))


def _transform(run: Run, index: int, context: DurableContext) -> dict[str, Any]:
    unit = load_unit_step(run, "transform", index, context)

    def item(ctx: DurableContext, batch: int, _index: int, _all: object) -> dict[str, int]:
        return _step(
            ctx, f"transform-batch-{unit.shard:05d}-{batch:06d}", partial(transform_batch, run, unit.shard, batch)
        )

    counts = _batch_map(context, "transform", list(unit.batches), item, run.config)
    return {
        "kept": sum(c["kept"] for c in counts),
        "rejected": sum(c["rejected"] for c in counts),
        # The load unit loads only these (a batch whose records were all rejected has no items).
        "loadable": [c["batch"] for c in counts if c["kept"]],
    }


def _load(run: Run, index: int, writers: int, context: DurableContext) -> dict[str, int]:
    unit = load_unit_step(run, "load", index, context)
    transformed = _step(
        context, "load-plan", lambda _: get_json(run.s3, run.bucket, run.layout.done_key("transform", index))
    )
    if transformed is None:
        raise ConfigurationError(f"unit {index} of run {run.layout.run_id} was never transformed")
    # Each load step writing at once takes an equal share of the run's write budget.
    share = run.config.write_units_per_second / (writers * run.config.map_concurrency)

    def item(ctx: DurableContext, batch: int, _index: int, _all: object) -> dict[str, int]:
        body = partial(load_batch, run, unit.shard, batch, share)
        return _step(ctx, f"load-batch-{unit.shard:05d}-{batch:06d}", body)

    _batch_map(context, "load", transformed["loadable"], item, run.config)
    return _step(
        context,
        "verify",
        lambda _: verify_unit(run, unit, transformed["loadable"], transformed["kept"]),
    )


def load_unit_step(run: Run, phase: str, index: int, context: DurableContext) -> Unit:
    shard, first, last = _step(context, f"{phase}-unit", lambda _: list(astuple(load_unit(run, index))))
    return Unit(shard, first, last)


def _batch_map(
    context: DurableContext, name: str, batches: list[int], item: Callable[..., dict[str, int]], config: EtlConfig
) -> list[dict[str, int]]:
    if not batches:
        return []
    result: BatchResult[dict[str, int]] = context.map(
        batches, item, name=f"{name}-batches", config=_map_config(config.map_concurrency)
    )
    result.throw_if_error()
    return sorted(result.get_results(), key=lambda c: c["batch"])


def run_unit(run: Run, phase: str, index: int, writers: int, context: DurableContext) -> dict[str, int]:
    """One unit of one phase: what a worker execution runs, or the coordinator inline."""
    bodies: dict[str, Callable[[], Any]] = {
        "extract": lambda: _extract_slice(run, index, context),
        "gather": lambda: _gather(run, index, context),
        "transform": lambda: _transform(run, index, context),
        "load": lambda: _load(run, index, writers, context),
    }
    result = _unit_done(run, phase, index, bodies[phase], context)
    # What goes back to the coordinator: counts only (a transform unit's batch list stays in S3).
    return {name: value for name, value in result.items() if isinstance(value, int)}


# endregion
# region fan-out


class FanOut:
    """Runs a phase's units: inline when there is one and the run is small, else as child executions
    of the worker, `fan_out_width` at a time, through a tree of group executions past
    FAN_OUT_PER_EXECUTION units so that no execution's operations grow with the dataset."""

    def __init__(self, context: DurableContext, run: Run, *, inline: bool) -> None:
        self.context, self.run, self.inline = context, run, inline

    def phase(self, phase: str, count: int, *, writers: int = 1) -> dict[str, int]:
        if count == 0:
            return {}
        if self.inline and count == 1:
            return self.context.run_in_child_context(partial(run_unit, self.run, phase, 0, writers), name=phase)
        target = self.run.config.shard_function
        if target is None:
            raise ConfigurationError(f"environment variable {contract.SHARD_FUNCTION} is not set")
        width = self.run.config.fan_out_width
        return fan_out(self.context, target, UnitRequest(phase, self.run.request, 0, count, writers, width))


def fan_out(context: DurableContext, target: str, request: UnitRequest) -> dict[str, int]:
    """Invoke the worker for every unit of `request`'s range and sum their counts. A range of more
    than FAN_OUT_PER_EXECUTION units is cut into that many sub-ranges instead, each a group
    execution that does the same with its share of the width: every execution invokes at most
    FAN_OUT_PER_EXECUTION children per phase, and at most `request.width` units run at once below it.

    A unit that fails for a reason that may pass is invoked again, alone, up to UNIT_ATTEMPTS times;
    every other unit goes on meanwhile."""
    grouped = request.last - request.first > contract.FAN_OUT_PER_EXECUTION
    ranges = (
        split_range(request.first, request.last, contract.FAN_OUT_PER_EXECUTION)
        if grouped
        else [(index, index + 1) for index in range(request.first, request.last)]
    )
    # The width is shared out: the groups running at once take `request.width` units between them
    # (the first `spare` groups one more than the rest), so no level of the tree runs wider.
    at_once = min(len(ranges), request.width)
    share, spare = divmod(request.width, at_once)

    def item(ctx: DurableContext, bounds: list[int], index: int, _all: object) -> dict[str, int]:
        first, last = bounds
        name = f"{request.phase}-{first:06d}" + (f"-to-{last - 1:06d}" if last - first > 1 else "")
        width = share + (1 if index < spare else 0)
        unit = UnitRequest(request.phase, request.request, first, last, request.writers, width)
        # A group fails only when one of its units has used up its attempts: invoking the group
        # again would multiply a unit's attempts by UNIT_ATTEMPTS at every level of the tree.
        attempts = contract.UNIT_ATTEMPTS if last - first == 1 else 1
        return _invoke_with_retries(ctx, target, unit.to_event(), name, attempts)

    result: BatchResult[dict[str, int]] = context.map([list(r) for r in ranges], item, name=f"{request.phase}-units",
                         config=_map_config(at_once, every_item=True))  # fmt: skip
    result.throw_if_error()
    return _sums(result.get_results())


def _invoke_with_retries(
    ctx: DurableContext, target: str, payload: dict[str, Any], name: str, attempts: int
) -> dict[str, int]:
    for attempt in range(1, attempts + 1):
        try:
            return ctx.invoke(target, payload, name=name if attempt == 1 else f"{name}-attempt-{attempt}")
        except DurableOperationError as error:
            cls = error_class(getattr(error, "error_type", None))
            if (cls is not None and not cls.retryable) or attempt == attempts:
                reraise_as_etl_error(error)
            # A durable wait: the coordinator is suspended, not billed, while the unit cools off.
            ctx.wait(Duration.from_seconds(30 * 2 ** (attempt - 1)), name=f"{name}-backoff-{attempt}")
    raise AssertionError("unreachable")  # pragma: no cover


# endregion
# region entries


def _run_for(request: EtlRequest, run_id: str, config: EtlConfig) -> Run:
    s3, dynamodb = aws_clients(config)
    request = EtlRequest(request.dataset_id, request.batch_size, run_id)
    return Run(config=config, request=request, layout=RunLayout(request.dataset_id, run_id), s3=s3, dynamodb=dynamodb)


def run_etl(event: Any, context: DurableContext, config: EtlConfig) -> dict[str, Any]:
    """The coordinator: validate the event (before any operation), plan, then the phases."""
    request = parse_event(event, default_batch_size=config.default_batch_size)
    run = _run_for(request, request.run_id or run_id_for(context.execution_context.durable_execution_arn), config)
    layout = run.layout
    context.logger.info(
        "ETL of dataset %s (run %s) in batches of %d records", request.dataset_id, layout.run_id, request.batch_size
    )
    try:
        planned = _step(context, "plan", partial(plan, run))
        fan = FanOut(context, run, inline=planned["slices"] == 1 and planned["shards"] == 1)
        try:
            fan.phase("extract", planned["slices"])
            fan.phase("gather", planned["shards"])
            units = _step(context, "plan-units", partial(plan_units, run, planned["shards"], contract.UNIT_BATCHES))
        except (EtlInputError, DurableOperationError) as error:
            # Bad input fails the run and removes its work (every unit has finished: all_completed);
            # a resumed run keeps what its earlier attempt did.
            cls = type(error) if isinstance(error, EtlError) else error_class(getattr(error, "error_type", None))
            if cls is not None and issubclass(cls, EtlInputError) and request.run_id is None:
                _step(context, "discard-run", partial(discard_run, run))
            raise
        context.logger.info(
            "Extracted %d records (%d duplicates) of %d objects into %d shards, %d batches, %d units",
            units["records"], units["duplicates"], planned["objects"], planned["shards"], units["batches"],
            units["units"],
        )  # fmt: skip

        context.wait(Duration.from_seconds(config.rate_limit_wait_seconds), name="rate-limit")

        transformed = fan.phase("transform", units["units"])
        kept, rejected = transformed.get("kept", 0), transformed.get("rejected", 0)
        context.logger.info("Transformed: %d records kept, %d rejected", kept, rejected)

        delay = _step(context, "off-peak-delay", partial(off_peak_delay, config))
        if delay["waitSeconds"] > 0:
            context.wait(Duration.from_seconds(delay["waitSeconds"]), name="off-peak")

        writers = min(config.fan_out_width, units["units"])
        loaded = fan.phase("load", units["units"], writers=writers).get("loaded", 0)
    except DurableOperationError as error:
        # A child context, map or child execution reports a failed step as its own error type: restore ours.
        reraise_as_etl_error(error)
    context.logger.info("Loaded %d records of dataset %s; %d rejected", loaded, request.dataset_id, rejected)
    # In a step: the handler runs again from the top after every wait, a step's body only once.
    counts = {"read": units["records"], "loaded": loaded, "rejected": rejected, "duplicates": units["duplicates"]}
    _step(context, "metrics", lambda _step_context: emit_run_metrics(namespace=config.metrics_namespace, **counts))
    return {
        "datasetId": request.dataset_id,
        "recordsExtracted": units["records"],
        "recordsRejected": rejected,
        "recordsLoaded": loaded,
        "batches": units["batches"],
        "shards": planned["shards"],
        "units": units["units"],
        "runId": layout.run_id,
        "rejectsPrefix": f"s3://{run.bucket}/{layout.rejects_prefix}",
    }


def run_worker(event: Any, context: DurableContext, config: EtlConfig) -> dict[str, int]:
    """A worker execution: one unit of a phase, or a group of them (which it fans out again)."""
    unit = parse_unit_event(event)
    assert unit.request.run_id is not None  # parse_unit_event refuses an event without one
    run = _run_for(unit.request, unit.request.run_id, config)
    try:
        if unit.last - unit.first == 1:
            return run_unit(run, unit.phase, unit.first, unit.writers, context)
        # A group: its units run as executions of this same function, through the alias it was invoked by.
        own_arn = context.lambda_context.invoked_function_arn if context.lambda_context else None
        if not own_arn:
            raise ConfigurationError("a group execution needs its own function ARN to invoke its units")
        return fan_out(context, own_arn, unit)
    except DurableOperationError as error:
        reraise_as_etl_error(error)


# endregion
