"""The real durable handler, run by the SDK's local runner against moto S3 + DynamoDB."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import lwk_durable_etl.steps
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES
from lwk_durable_etl.config import load_config
from lwk_durable_etl.workflow import run_etl

from support.etl_datasets import write_dataset
from tests.durable_etl.conftest import Aws


def _result(execution: Any) -> dict[str, Any]:
    assert execution.result.status.value == "SUCCEEDED", execution.result.error
    return json.loads(execution.result.result)


def _step_result(execution: Any, name: str) -> Any:
    """A step's checkpointed result, decoded with the SDK's own default serializer."""
    (step,) = [step for step in execution.steps() if step.name == name]
    return EXTENDED_TYPES_SERDES.deserialize(step.result)  # type: ignore[call-arg]  # its context is optional


def _step_result_raw(execution: Any, name: str) -> str:
    (step,) = [step for step in execution.steps() if step.name == name]
    return step.result


def _rejects(aws: Aws, run_id: str, dataset_id: str) -> dict[str, dict[str, Any]]:
    """Reject lines by record id."""
    found = {}
    for key in aws.keys(f"_etl/{dataset_id}/{run_id}/rejects/"):
        for line in aws.lines(key):
            record = line["record"] if isinstance(line["record"], dict) else json.loads(line["record"])
            found[record["id"]] = line
    return found


def test_two_thousand_mixed_records_load_completely_with_each_step_once(aws: Aws, run_execution: Any) -> None:
    # 20 batches over six objects of both formats: every phase, both parsers and the rejects, at a
    # size that proves completeness without repeating the same batch hundreds of times (the
    # benchmark and the scale-out tests carry volume).
    dataset = write_dataset(aws.s3, aws.bucket, "daily", records=2_000, objects=6, invalid_every=400)
    assert len(dataset.rejects) == 5 and {k.rsplit(".", 1)[1] for k in dataset.keys} == {"jsonl", "csv"}

    execution = run_execution({"datasetId": "daily", "batchSize": 100})
    summary = _result(execution)

    assert summary["datasetId"] == "daily"
    assert summary["recordsExtracted"] == 2_000
    assert summary["recordsRejected"] == 5
    assert summary["recordsLoaded"] == 1_995
    assert summary["batches"] == 20
    ids = aws.ids("daily")
    assert set(ids) == dataset.valid_ids
    assert len(ids) == aws.item_count() == 1_995
    # Normalised: numbers as DynamoDB numbers, timestamps in UTC, lineage kept.
    first = aws.item("daily", "r0000001")
    assert first["amount"] == {"N": "1.01"}
    assert first["updatedAt"] == {"S": "2026-01-02T00:15:00Z"}
    assert first["etlRunId"] == {"S": summary["runId"]}
    assert first["etlSource"] == {"S": "daily/part-000.jsonl:2"}
    from_csv = aws.item("daily", "r0000409")
    assert from_csv["etlSource"] == {"S": "daily/part-001.csv:77"}  # r0000334 is on line 2, under the header
    assert from_csv["amount"] == {"N": "409.09"} and from_csv["region"] == {"S": "south"}

    # Rejects land in S3 with the reason, one line per broken record.
    rejects = _rejects(aws, summary["runId"], "daily")
    assert set(rejects) == set(dataset.rejects)
    for record_id, reason in dataset.rejects.items():
        assert reason in rejects[record_id]["reason"], rejects[record_id]

    # Each step ran exactly once: one attempt, one StepStarted event each.
    steps = execution.steps()
    names = Counter(step.name for step in steps)
    assert set(names.values()) == {1}
    assert {step.attempt for step in steps} == {1}
    # One slice and one shard: every phase runs inline, in the coordinator, as one child context.
    assert (summary["shards"], summary["units"]) == (1, 1) and execution.children == {}
    units = {
        f"{phase}-000000-{what}" for phase in ("extract", "gather", "transform", "load") for what in ("done", "record")
    }
    expected = {"plan", "extract-part-1", "gather", "plan-units", "off-peak-delay", "transform-unit", "load-unit",
                "load-plan", "verify", "metrics", *units}  # fmt: skip
    expected |= {f"transform-batch-00000-{b:06d}" for b in range(20)} | {f"load-batch-00000-{b:06d}" for b in range(20)}
    assert set(names) == expected
    started = Counter(event.name for event in execution.events if event.event_type == "StepStarted")
    assert set(started.values()) == {1}

    # The function ran once until each wait suspended it, then replayed from the top after it.
    sequence = [
        (event.event_type, event.name)
        for event in execution.events
        if event.event_type in {"WaitStarted", "WaitSucceeded", "InvocationCompleted"}
    ]
    assert sequence == [
        ("WaitStarted", "rate-limit"),
        ("InvocationCompleted", None),
        ("WaitSucceeded", "rate-limit"),
        ("WaitStarted", "off-peak"),
        ("InvocationCompleted", None),
        ("WaitSucceeded", "off-peak"),
        ("InvocationCompleted", None),
    ]
    # Started at noon UTC (13:00 Berlin): the load waits 13 hours for 02:00, as the step recorded once.
    delay = _step_result(execution, "off-peak-delay")
    assert delay == {"waitSeconds": 13 * 3600, "resumeAt": "2026-01-16T01:00:00+00:00"}
    # No step result carries records: they are counts and positions only. The map checkpoints the
    # per-batch counts as plain JSON, under 100 bytes a batch (1,400 batches stay below 256 KB).
    # The load unit's plan lists its loadable batches: at most UNIT_BATCHES of them, ~21 bytes each.
    assert max(len(step.result or "") for step in steps if step.name != "load-plan") < 400
    assert len(_step_result_raw(execution, "load-plan")) < 30 * 20
    batches = execution.result.get_context("transform").get_context("transform-batches").result
    transform = json.loads(batches)
    results = [entry["result"] for entry in transform["all"]]
    assert [r["batch"] for r in results] == list(range(20)) and {r["kept"] + r["rejected"] for r in results} == {100}
    assert (sum(r["kept"] for r in results), sum(r["rejected"] for r in results)) == (1_995, 5)
    assert len(batches) < 100 * 20


def test_extract_resumes_in_bounded_parts_and_rejects_duplicate_ids(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACT_RECORDS_PER_STEP", "1000")
    dataset = write_dataset(aws.s3, aws.bucket, "parts", records=3_500, objects=3)
    # The same id again (padded: ids are compared as stored, trimmed) in a later object, after
    # extraction has moved on to another part.
    aws.put("parts/zz-late.jsonl", json.dumps({"id": " r0000007 ", "name": "again", "amount": 1}) + "\n")

    summary = _result(run_execution({"datasetId": "parts", "batchSize": 250}))

    assert summary["recordsExtracted"] == 3_501
    assert summary["recordsRejected"] == 1
    assert summary["recordsLoaded"] == 3_500 == aws.item_count()
    assert set(aws.ids("parts")) == dataset.valid_ids
    # The first occurrence won; the later one is a reject that says why.
    assert aws.item("parts", "r0000007")["name"] == {"S": "customer 7"}
    [reject] = _rejects(aws, summary["runId"], "parts").values()
    assert "duplicate id 'r0000007'" in reject["reason"]
    assert reject["source"] == "parts/zz-late.jsonl" and reject["line"] == 1


def test_extract_runs_as_several_steps_each_once(aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACT_RECORDS_PER_STEP", "1000")
    write_dataset(aws.s3, aws.bucket, "long", records=2_600, objects=2)
    execution = run_execution({"datasetId": "long", "batchSize": 500})
    summary = _result(execution)
    extract_steps = sorted((s.name, s.attempt) for s in execution.steps() if s.name.startswith("extract-part"))
    assert extract_steps == [("extract-part-1", 1), ("extract-part-2", 1), ("extract-part-3", 1)]
    assert summary["batches"] == 6 and summary["recordsLoaded"] == 2_600


def test_context_logger_logs_once_across_replays_where_logging_logs_per_replay(
    aws: Aws, run_execution: Any, caplog: pytest.LogCaptureFixture
) -> None:
    write_dataset(aws.s3, aws.bucket, "seed", records=40, objects=2)
    message = "seed 000: starting dataset %s"

    def body(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        logging.getLogger("seed").info(message, event["datasetId"])
        context.logger.info(message, event["datasetId"])
        return run_etl(event, context, load_config(os.environ))

    caplog.set_level(logging.INFO)
    execution = run_execution({"datasetId": "seed"}, handler=durable_execution(body))
    _result(execution)

    invocations = sum(event.event_type == "InvocationCompleted" for event in execution.events)
    assert invocations == 3  # the first run, then one replay after each of the two waits
    said = [r for r in caplog.records if r.getMessage() == "seed 000: starting dataset seed"]
    assert Counter(r.name for r in said) == {"seed": invocations, "root": 1}
    # The handler's own context.logger lines obey the same rule.
    started = [r for r in caplog.records if r.getMessage().startswith("ETL of dataset seed ")]
    assert len(started) == 1
    loaded = [r for r in caplog.records if r.getMessage().startswith("Loaded 40 records of dataset seed")]
    assert len(loaded) == 1


def test_a_run_inside_the_off_peak_hour_loads_without_a_second_wait(
    aws: Aws, run_execution: Any, pin_clock: Callable[[datetime], None]
) -> None:
    write_dataset(aws.s3, aws.bucket, "night", records=30, objects=1)
    pin_clock(datetime(2026, 1, 15, 1, 30, tzinfo=UTC))  # 02:30 in Berlin

    execution = run_execution({"datasetId": "night"})

    assert _result(execution)["recordsLoaded"] == 30 and len(aws.ids("night")) == 30
    waits = [event.name for event in execution.events if event.event_type == "WaitStarted"]
    assert waits == ["rate-limit"]
    delay = _step_result(execution, "off-peak-delay")
    assert delay == {"waitSeconds": 0, "resumeAt": "2026-01-15T01:30:00+00:00"}


def test_a_load_step_that_fails_first_is_retried_without_duplicates_or_gaps(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = write_dataset(aws.s3, aws.bucket, "flaky", records=1_000, objects=2)
    real_write_items = lwk_durable_etl.steps.write_items  # type: ignore[attr-defined]  # patched where steps calls it
    failed: list[int] = []

    def write_half_then_fail(dynamodb: Any, table: str, items: list[dict[str, Any]], **kwargs: Any) -> int:
        # Batch 1's first attempt writes half its items, then the connection drops.
        if items[0]["id"]["S"] == "r0000200" and not failed:
            failed.append(len(items))
            real_write_items(dynamodb, table, items[: len(items) // 2], **kwargs)
            raise ConnectionError("injected: connection reset while writing batch 1")
        return real_write_items(dynamodb, table, items, **kwargs)

    monkeypatch.setattr(lwk_durable_etl.steps, "write_items", write_half_then_fail)
    execution = run_execution({"datasetId": "flaky", "batchSize": 200})
    summary = _result(execution)

    assert failed == [200]
    attempts = {step.name: step.attempt for step in execution.steps() if step.name.startswith("load-batch")}
    assert attempts == {f"load-batch-00000-{b:06d}": (2 if b == 1 else 1) for b in range(5)}
    ids = aws.ids("flaky")
    assert len(ids) == len(set(ids)) == aws.item_count() == 1_000  # no duplicates
    assert set(ids) == dataset.valid_ids  # no gaps
    assert summary["recordsLoaded"] == 1_000


def test_verify_fails_the_execution_when_a_row_is_missing(
    aws: Aws, run_execution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_dataset(aws.s3, aws.bucket, "lossy", records=300, objects=1)
    real_write_items = lwk_durable_etl.steps.write_items  # type: ignore[attr-defined]  # patched where steps calls it

    def drop_last(dynamodb: Any, table: str, items: list[dict[str, Any]], **kwargs: Any) -> int:
        return real_write_items(dynamodb, table, items[:-1], **kwargs) + 1

    monkeypatch.setattr(lwk_durable_etl.steps, "write_items", drop_last)
    execution = run_execution({"datasetId": "lossy", "batchSize": 100})

    assert execution.result.status.value == "FAILED"
    assert execution.result.error.type == "lwk_durable_etl.errors.VerificationError"
    assert "holds 297 items of dataset 'lossy'" in execution.result.error.message
    assert "but 300 records were transformed; missing or overwritten: 'r0000099', 'r0000199', 'r0000299'" in (
        execution.result.error.message
    )
    verify = next(step for step in execution.steps() if step.name == "verify")
    assert verify.attempt == 1  # a failed check is not retried


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "the event needs a non-empty string datasetId"),
        ({"datasetId": ""}, "the event needs a non-empty string datasetId"),
        ({"datasetId": 42}, "datasetId must be a string, not 42"),
        ({"datasetId": "a/../b"}, "must be 1 to 128 letters, digits"),
        ({"datasetId": "_etl"}, "starting with a letter or digit"),
        ({"datasetId": "bad", "batchSize": "10"}, 'batchSize must be a whole number, not "10"'),
        ({"datasetId": "bad", "batchSize": True}, "batchSize must be a whole number, not true"),
        ({"datasetId": "bad", "batchSize": 2.5}, "batchSize must be a whole number, not 2.5"),
        ({"datasetId": "bad", "batchSize": 0}, "batchSize 0 is out of range: it must be from 1 to 5000"),
        ({"datasetId": "bad", "batchSize": 5001}, "batchSize 5001 is out of range"),
        ({"datasetId": "bad", "batchsize": 10}, "unknown field 'batchsize'"),
        (["bad"], "the event must be a JSON object"),
    ],
)
def test_an_invalid_event_fails_before_any_operation(aws: Aws, run_execution: Any, event: Any, message: str) -> None:
    write_dataset(aws.s3, aws.bucket, "bad", records=10, objects=1)
    execution = run_execution(event)

    assert execution.result.status.value == "FAILED"
    assert execution.result.error.type == "lwk_durable_etl.errors.InvalidEventError"
    assert message in execution.result.error.message
    assert execution.result.operations == []
    assert aws.work_versions() == [] and aws.item_count() == 0


# case -> (objects to add, error type, part of the message)
BAD_DATASETS: dict[str, tuple[dict[str, str | bytes], str, str]] = {
    "no objects": ({}, "EmptyDatasetError", "/broken/ holds no .jsonl or .csv object"),
    "only other files": ({"broken/README.txt": "hello"}, "EmptyDatasetError", "holds no .jsonl or .csv object"),
    "objects without records": (
        {"broken/a.jsonl": "\n\n", "broken/b.csv": "id,name,amount\n"},
        "EmptyDatasetError",
        "hold no records",
    ),
    "invalid JSON line": (
        {"broken/b.jsonl": '{"id": "x1", "name": "n", "amount": 1}\n{"id": "x2", "name": \n'},
        "UnparseableRecordError",
        "/broken/b.jsonl line 2: Expecting value",
    ),
    "JSON line not an object": (
        {"broken/b.jsonl": '["x1"]\n'},
        "UnparseableRecordError",
        "line 1: a JSON Lines record must be a JSON object, not list",
    ),
    "NaN in JSON": (
        {"broken/b.jsonl": '{"id": "x", "amount": NaN}\n'},
        "UnparseableRecordError",
        "NaN is not a JSON number",
    ),
    "short CSV row": (
        {"broken/b.csv": "id,name,amount\nx1,n,1\nx2,n\n"},
        "UnparseableRecordError",
        "broken/b.csv line 3: 2 values, but the header names 3 columns",
    ),
    "unterminated CSV quote": (
        {"broken/b.csv": 'id,name,amount\nx1,"n,1\n'},
        "UnparseableRecordError",
        "/broken/b.csv line",
    ),
    "duplicate CSV column": (
        {"broken/b.csv": "id,name,id\n"},
        "UnparseableRecordError",
        "the header names column 'id' twice",
    ),
    # Longer than a DynamoDB item can hold: the csv module cannot skip one row and resume, so the run
    # stops with the typed error (a cell up to that long is parsed, test_invariant).
    "CSV cell past what an item holds": (
        {"broken/b.csv": b"id,name,amount\nx1," + b"y" * 409_601 + b",1\n"},
        "UnparseableRecordError",
        "broken/b.csv line 2: a cell is longer than 409600 characters, more than a DynamoDB item can hold",
    ),
    "not UTF-8": (
        {"broken/b.csv": b"id,name,amount\nx1,\xff\xfe,1\n"},
        "UnparseableRecordError",
        "not UTF-8 text",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATASETS))
def test_bad_source_data_fails_with_a_typed_error_and_leaves_nothing(aws: Aws, run_execution: Any, case: str) -> None:
    objects, error_type, message = BAD_DATASETS[case]
    if error_type != "EmptyDatasetError":
        # A good object first (keys sort before the broken one), so that batches are staged before
        # the bad line is found: the run must remove them again.
        good = "".join(json.dumps({"id": f"ok{i}", "name": "n", "amount": i}) + "\n" for i in range(25))
        aws.put("broken/a.jsonl", good)
    for key, body in objects.items():
        aws.put(key, body)

    execution = run_execution({"datasetId": "broken", "batchSize": 10})

    assert execution.result.status.value == "FAILED"
    assert execution.result.error.type == f"lwk_durable_etl.errors.{error_type}"
    assert message in execution.result.error.message
    names = [s.name for s in execution.steps()]
    if case == "no objects" or case == "only other files":
        assert names == ["plan"]  # nothing was written
    else:
        # Extraction (or counting its records) failed: nothing after it ran, and the run removed its work.
        assert not [name for name in names if name.startswith(("transform", "load"))], names
        assert "discard-run" in names
    assert aws.work_versions() == [] and aws.item_count() == 0


def test_a_dataset_whose_records_are_all_rejected_loads_nothing_and_says_so(aws: Aws, run_execution: Any) -> None:
    aws.put("nothing/a.csv", "id,name,amount\nx1,,1\nx2,n,many\n")
    execution = run_execution({"datasetId": "nothing"})
    summary = _result(execution)
    assert (summary["recordsExtracted"], summary["recordsRejected"], summary["recordsLoaded"]) == (2, 2, 0)
    assert not [step for step in execution.steps() if step.name.startswith("load-batch")]
    assert aws.item_count() == 0


def _nested(levels: int) -> Any:
    """A value whose innermost number sits at `levels` when the attribute holding it is level 1."""
    value: Any = 1
    for _ in range(levels - 1):
        value = {"a": value}
    return value


# Records DynamoDB would refuse (one bad item refuses its whole BatchWriteItem), each with the reason
# the ETL gives, and records exactly at the limits, which DynamoDB takes.
OVER_THE_LIMITS = {
    "deep": ({"tree": _nested(33)}, "nests lists and maps deeper than DynamoDB's 32 levels"),
    "digits": ({"amount": 10**38 + 1}, "amount holds a number DynamoDB cannot store"),
    "huge-number": ({"score": "1e126"}, "field 'score' is outside DynamoDB's number range 1E-130 to 9.99E+125"),
    "tiny-number": ({"score": "1e-131"}, "field 'score' is outside DynamoDB's number range 1E-130 to 9.99E+125"),
    "big-item": ({"note": "x" * (400 * 1024)}, "DynamoDB's item limit is 409600 (400 KB)"),
    "empty-key": ({"meta": {"": 1}}, "holds a map key that is empty"),
}
AT_THE_LIMITS = {
    "deep-ok": {"tree": _nested(32)},
    "digits-ok": {"amount": 10**37 + 1},
    "range-ok": {"big": "9.9999999999999999999999999999999999999e125", "small": "1e-130"},
    # Under 400 KB by our count; moto itself refuses items above about 405,000 bytes of its own measure.
    "big-item-ok": {"note": "x" * 400_000},
}


def test_records_dynamodb_would_refuse_are_rejected_with_reasons_and_every_good_record_loads(
    aws: Aws, run_execution: Any
) -> None:
    def line(record_id: str, extra: dict[str, Any]) -> str:
        record = {"id": record_id, "name": "n", "amount": 1, **extra}
        # Numbers given as text above are written as JSON numbers (the ETL reads them as Decimal).
        text = json.dumps(record)
        for value in ("1e126", "1e-131", "9.9999999999999999999999999999999999999e125", "1e-130"):
            text = text.replace(f'"{value}"', value)
        return text + "\n"

    good = [f"g{i:03d}" for i in range(40)]
    body = "".join(line(record_id, {}) for record_id in good[:20])
    body += "".join(line(record_id, extra) for record_id, (extra, _) in OVER_THE_LIMITS.items())
    body += "".join(line(record_id, extra) for record_id, extra in AT_THE_LIMITS.items())
    body += "".join(line(record_id, {}) for record_id in good[20:])
    aws.put("limits/records.jsonl", body)

    execution = run_execution({"datasetId": "limits", "batchSize": 7})
    summary = _result(execution)

    loadable = set(good) | set(AT_THE_LIMITS)
    assert summary["recordsRejected"] == len(OVER_THE_LIMITS)
    assert summary["recordsLoaded"] == len(loadable) == aws.item_count()
    assert set(aws.ids("limits")) == loadable
    rejects = _rejects(aws, summary["runId"], "limits")
    assert set(rejects) == set(OVER_THE_LIMITS)
    for record_id, (_, reason) in OVER_THE_LIMITS.items():
        assert reason in rejects[record_id]["reason"], rejects[record_id]["reason"]
    # No batch was refused: every load step succeeded on its first attempt.
    assert {s.attempt for s in execution.steps() if s.name.startswith("load-batch")} == {1}
