"""The ETL past one execution: fan-out over shards as child durable executions, run by the SDK's
runner with the real worker handler on moto (strict limits), with each execution's cost measured."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import lwk_durable_etl.steps
import lwk_durable_etl.workflow
import pytest
from lwk_durable_etl import contract

from support.etl_datasets import write_dataset
from tests.durable_etl.conftest import Aws

# 16 KB of source per shard (the setting's minimum) cuts a few hundred records into several shards.
SMALL_SHARDS = "16"


def _summary(execution: Any) -> dict[str, Any]:
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    return json.loads(execution.result.result)


def _invokes(execution: Any, *, groups_too: bool = False) -> Counter[str]:
    """How often the coordinator (and, `groups_too`, every group execution) invoked each child, by
    the name of its first attempt."""
    histories = [execution.events, *execution.children.values()] if groups_too else [execution.events]
    names = [e.name or "" for events in histories for e in events if e.event_type == "ChainedInvokeStarted"]
    return Counter(name.split("-attempt-")[0] for name in names)


def _shard_never_loads(monkeypatch: pytest.MonkeyPatch, shard: int) -> list[tuple[int, int]]:
    def fail(failing: int, _batch: int) -> None:
        if failing == shard:
            raise ConnectionError(f"injected: shard {shard} cannot reach DynamoDB today")

    return _written_batches(monkeypatch, fail)


def _written_batches(monkeypatch: pytest.MonkeyPatch, fail: Any = None) -> list[tuple[int, int]]:
    """Record (shard, batch) of every load step body that ran; `fail(shard, batch)` may raise first."""
    written: list[tuple[int, int]] = []
    real = lwk_durable_etl.steps.load_batch
    lock = threading.Lock()

    def load_batch(run: Any, shard: int, batch: int, share: float, step: Any) -> dict[str, int]:
        if fail is not None:
            fail(shard, batch)
        with lock:
            written.append((shard, batch))
        return real(run, shard, batch, share, step)

    monkeypatch.setattr(lwk_durable_etl.workflow, "load_batch", load_batch)
    return written


def test_a_dataset_far_past_what_one_execution_holds_fans_out_and_every_execution_stays_small(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tree's shape, not volume, is what scales: with units of 20 batches and 4 children per
    # execution, 200 one-record batches need units, several per shard, and group executions, and no
    # execution may hold more than a unit's batches plus a few operations, whatever the dataset's size.
    # (At the real UNIT_BATCHES of 1,000 the same shape carries 10^6 records: docs/durable-etl.md.)
    unit_batches, fan_out, batches = 20, 4, 200
    monkeypatch.setenv("SHARD_KILOBYTES", SMALL_SHARDS)
    monkeypatch.setattr(contract, "UNIT_BATCHES", unit_batches)
    monkeypatch.setattr(contract, "FAN_OUT_PER_EXECUTION", fan_out)
    dataset = write_dataset(aws.s3, aws.bucket, "wide", records=batches, objects=5, invalid_every=97)

    execution = run_execution({"datasetId": "wide", "batchSize": 1})
    summary = _summary(execution)

    assert summary["batches"] == batches
    assert summary["shards"] > 1 and summary["units"] > summary["shards"]
    assert summary["recordsLoaded"] == len(dataset.valid_ids) == aws.item_count()
    assert summary["recordsRejected"] == len(dataset.rejects)
    # Both ways a user reads the table: every row of the dataset, and one row by dataset and id.
    assert sorted(aws.query_ids("wide")) == sorted(aws.ids("wide")) == sorted(dataset.valid_ids)
    some_id = sorted(dataset.valid_ids)[7]
    assert aws.item("wide", some_id)["datasetId"] == {"S": "wide"}
    # The writes spread over many partition keys of the dataset.
    from lwk_durable_etl.contract import table_partition_key

    assert len({table_partition_key("wide", rid) for rid in dataset.valid_ids}) > 48
    # Every execution stays small: no execution holds more than a unit's batches plus a few
    # operations (the dataset has 10x that many batches), no checkpointed result grows with the
    # dataset, and the run used group executions.
    assert len(execution.costs) > summary["units"] * 2
    most_operations = max(cost.operations for cost in execution.costs)
    assert most_operations <= unit_batches + 12 and batches >= 10 * unit_batches
    # The largest is a unit's map of per-batch counts: under 100 bytes a batch, UNIT_BATCHES at most
    # (about 100 KB at the real 1,000, under the 256 KB a checkpointed result may hold).
    assert max(cost.largest_result for cost in execution.costs) < 100 * unit_batches
    assert any("-to-" in (e.name or "") for e in execution.events if e.event_type == "ChainedInvokeStarted")


def test_group_executions_nest_and_units_never_run_wider_than_the_fan_out_width(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two invokes per execution and phase: a phase of 8+ units needs groups of groups. Width 3 is
    # shared out down the tree, so at most 3 unit executions may be running at any moment.
    monkeypatch.setenv("SHARD_KILOBYTES", SMALL_SHARDS)
    monkeypatch.setenv("FAN_OUT_WIDTH", "3")
    monkeypatch.setattr(contract, "UNIT_BATCHES", 4)
    monkeypatch.setattr(contract, "FAN_OUT_PER_EXECUTION", 2)
    dataset = write_dataset(aws.s3, aws.bucket, "tree", records=400, objects=4)
    running, most, lock = [0], [0], threading.Lock()
    real_run_unit = lwk_durable_etl.workflow.run_unit

    def run_unit(*args: Any) -> dict[str, int]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.15)  # long enough for units that may overlap to overlap
            return real_run_unit(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(lwk_durable_etl.workflow, "run_unit", run_unit)
    execution = run_execution({"datasetId": "tree", "batchSize": 10})
    summary = _summary(execution)

    assert summary["units"] >= 8 and set(aws.ids("tree")) == dataset.valid_ids
    # Every execution, coordinator and groups alike, invoked at most two children per phase.
    for events in [execution.events, *execution.children.values()]:
        started = Counter((e.name or "").split("-")[0] for e in events if e.event_type == "ChainedInvokeStarted")
        assert max(started.values(), default=0) <= 2
    # Groups of groups: a group execution that itself started groups.
    assert any(
        "-to-" in (e.name or "")
        for events in execution.children.values()
        for e in events
        if e.event_type == "ChainedInvokeStarted"
    )
    # The width held across the tree, and was used (units did run side by side).
    assert 2 <= most[0] <= 3


def test_a_unit_that_fails_twice_is_retried_alone_and_the_run_completes(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARD_KILOBYTES", SMALL_SHARDS)
    dataset = write_dataset(aws.s3, aws.bucket, "flaky", records=600, objects=3)
    failures: Counter[int] = Counter()
    # Shard 1's first batch fails 10 times: its step's 5 attempts in each of two child executions.
    step_attempts = 5

    def fail(shard: int, batch: int) -> None:
        if (shard, batch) == (1, 0) and failures[shard] < 2 * step_attempts:
            failures[shard] += 1
            raise ConnectionError("injected: the connection to DynamoDB dropped")

    written = _written_batches(monkeypatch, fail)
    execution = run_execution({"datasetId": "flaky", "batchSize": 50})
    summary = _summary(execution)

    assert summary["shards"] > 2 and failures[1] == 10
    assert summary["recordsLoaded"] == 600 == aws.item_count() and set(aws.ids("flaky")) == dataset.valid_ids
    invokes = _invokes(execution)
    failed_unit = next(name for name, count in invokes.items() if count > 1)
    assert invokes[failed_unit] == 3 and failed_unit.startswith("load-")
    # Every other unit of every phase ran once; every other batch was written once.
    assert {count for name, count in invokes.items() if name != failed_unit} == {1}
    assert set(Counter(b for b in written if b[0] != 1).values()) == {1}


def test_a_unit_below_a_group_gets_its_attempts_once_not_once_per_level(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Groups of groups (two children per execution); one shard's load never succeeds.
    monkeypatch.setenv("SHARD_KILOBYTES", SMALL_SHARDS)
    monkeypatch.setattr(contract, "FAN_OUT_PER_EXECUTION", 2)
    write_dataset(aws.s3, aws.bucket, "stuck", records=600, objects=3)
    _shard_never_loads(monkeypatch, 1)
    execution = run_execution({"datasetId": "stuck", "batchSize": 50})

    assert execution.result.status.value == "FAILED"
    invokes = _invokes(execution, groups_too=True)
    groups = [name for name in invokes if "-to-" in name]
    units = {name: count for name, count in invokes.items() if "-to-" not in name}
    assert groups and all(invokes[name] == 1 for name in groups)
    # The failing shard's load unit: its UNIT_ATTEMPTS, however many groups lie above it.
    assert [count for name, count in units.items() if count > 1] == [contract.UNIT_ATTEMPTS]


def test_a_re_run_resumes_the_run_without_reloading_finished_units(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARD_KILOBYTES", SMALL_SHARDS)
    dataset = write_dataset(aws.s3, aws.bucket, "again", records=600, objects=3)
    _shard_never_loads(monkeypatch, 2)
    first = run_execution({"datasetId": "again", "batchSize": 50})
    assert first.result.status.value == "FAILED"
    assert "shard 2 cannot reach DynamoDB" in first.result.error.message
    run_id = next(key.split("/")[2] for key in aws.keys("_etl/again/"))

    written = _written_batches(monkeypatch)
    second = run_execution({"datasetId": "again", "batchSize": 50, "runId": run_id})
    summary = _summary(second)

    assert summary["runId"] == run_id
    assert summary["recordsLoaded"] == 600 == aws.item_count() and set(aws.ids("again")) == dataset.valid_ids
    # Only the shard that had failed was loaded again; finished units answered from their records.
    assert {shard for shard, _ in written} == {2}
    # Finished units were invoked again and answered from their records without redoing the work.
    assert not [event for arn, events in second.children.items() for event in events
                if event.event_type == "StepStarted" and (event.name or "").startswith("extract-")
                and not (event.name or "").endswith("-done")]  # fmt: skip


def test_a_crash_mid_load_resumes_with_nothing_loaded_twice(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One batch at a time, so that when the invocation dies exactly one batch is in flight.
    monkeypatch.setenv("MAP_CONCURRENCY", "1")
    dataset = write_dataset(aws.s3, aws.bucket, "crash", records=400, objects=1)
    holder: dict[str, Any] = {}
    crashed = threading.Event()

    def crash_while_writing_batch_seven(shard: int, batch: int) -> None:
        # While batch 7 is being written the invocation is cut off, as a crash or timeout would: the
        # local service stops taking its checkpoints and starts a fresh invocation, which replays.
        if batch == 7 and not crashed.is_set():
            crashed.set()

            def cut_off() -> None:
                holder["runner"].pause_execution(holder["arn"], timeout=60)
                holder["runner"].resume_execution(holder["arn"])

            threading.Thread(target=cut_off, daemon=True).start()

    written = _written_batches(monkeypatch, crash_while_writing_batch_seven)
    execution = run_execution(
        {"datasetId": "crash", "batchSize": 20},
        started=lambda runner, arn: holder.update(runner=runner, arn=arn),
    )
    summary = _summary(execution)

    assert crashed.is_set()
    invocations = [e for e in execution.events if e.event_type == "InvocationCompleted"]
    assert len(invocations) == 4  # the three of a run with two waits, and the one cut off
    assert summary["recordsLoaded"] == 400 == aws.item_count() and set(aws.ids("crash")) == dataset.valid_ids
    # The replay took batches 0-6 from their checkpoints: none was written again. Only batch 7, in
    # flight when the invocation died, may have been written twice (same keys, same items).
    counts = Counter(batch for _, batch in written)
    assert set(counts) == set(range(20))
    assert {batch for batch, count in counts.items() if count > 1} <= {7}
    assert all(counts[batch] == 1 for batch in range(7))
