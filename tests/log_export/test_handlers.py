"""The three handlers against moto: decisions, bad input (typed error, nothing changed), retries off."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from lwk_log_export import aws, contract, errors, handlers, inputs
from lwk_log_export.months import Month
from moto.logs import models as logs_models

from stacks.settings.common import APP_NAME
from support.emf import MetricPoint, emf_points
from support.log_export_run import (
    ACCOUNT,
    BUCKET,
    REGION,
    WRITE_TEST_OBJECT,
    ExportFaults,
    closed_months,
    export_prefix,
    lambda_context,
)

NAMESPACE = f"{APP_NAME}-test"
GROUP = "/app/orders"
OTHER_GROUP = "/app/payments"
CONTEXT = lambda_context()
RUN_START = {"runStartedAt": "2026-03-10T04:00:00+00:00"}
MONTHS = ["2025-12", "2026-01", "2026-02"]  # the three closed months before March 2026


@pytest.fixture
def env(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_BUCKET", BUCKET)
    monkeypatch.setenv("LOG_GROUPS", f'["{GROUP}", "{OTHER_GROUP}"]')
    monkeypatch.setenv("MONTHS_BACK", "3")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    logs = boto3.client("logs")
    for group in (GROUP, OTHER_GROUP):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")


def keys() -> list[str]:
    return sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", []))


def tasks() -> list[dict[str, Any]]:
    return boto3.client("logs").describe_export_tasks()["exportTasks"]


def start_task(group: str, month: str, status: str) -> str:
    start, end = Month.parse(month).time_range_ms()
    task_id = boto3.client("logs").create_export_task(
        logGroupName=group, fromTime=start, to=end, destination=BUCKET, destinationPrefix=export_prefix(group, month)
    )["taskId"]
    logs_models.logs_backends[ACCOUNT][REGION].export_tasks[task_id].status = {"code": status, "message": status}
    return task_id


# --- bucket_check ----------------------------------------------------------------------------------


def test_bucket_check_names_the_oldest_month_of_the_first_group(env: None) -> None:
    assert handlers.bucket_check(RUN_START, CONTEXT) == {
        "action": "export",
        "logGroup": GROUP,
        "month": MONTHS[0],
        "slot": 0,
        "remaining": 6,
        "leftForNextRun": 0,
        "underWay": 0,
        "recorded": 0,
    }


def test_bucket_check_names_only_slots_after_the_one_the_run_tried_last(env: None) -> None:
    # Slot 2 is the first group's last month; slot 3 the second group's first. A failed slot is not
    # proposed again in the same run, so it can neither loop nor hold up the others.
    result = handlers.bucket_check({**RUN_START, "after": 2}, CONTEXT)
    assert (result["logGroup"], result["month"], result["slot"]) == (OTHER_GROUP, MONTHS[0], 3)
    assert (result["remaining"], result["leftForNextRun"]) == (3, 3)
    assert handlers.bucket_check({**RUN_START, "after": 5.0}, CONTEXT)["action"] == "fin"


@pytest.mark.parametrize("after", [-2, 480, 1.5, True, "1", None, float("inf"), float("nan"), 10**40])
def test_bucket_check_refuses_a_cursor_that_is_not_a_slot_index(env: None, after: Any) -> None:
    with pytest.raises(errors.InvalidRequest, match="after: .* is not a slot index from -1 to 479"):
        handlers.bucket_check({**RUN_START, "after": after}, CONTEXT)
    assert keys() == []


def test_bucket_check_ignores_the_write_test_object(env: None) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key=WRITE_TEST_OBJECT, Body=b"Permission Check Successful")
    s3.put_object(Bucket=BUCKET, Key=f"{export_prefix(GROUP, MONTHS[0])}/{WRITE_TEST_OBJECT}", Body=b"x")

    assert handlers.bucket_check(RUN_START, CONTEXT)["month"] == MONTHS[0]


def test_bucket_check_does_not_propose_a_month_under_way(env: None) -> None:
    start_task(GROUP, MONTHS[0], "RUNNING")
    start_task(GROUP, MONTHS[1], "PENDING")

    result = handlers.bucket_check(RUN_START, CONTEXT)

    assert (result["logGroup"], result["month"], result["underWay"]) == (GROUP, MONTHS[2], 2)


def test_bucket_check_records_a_completed_export_and_counts_it_done(env: None) -> None:
    task_id = start_task(GROUP, MONTHS[0], "COMPLETED")

    result = handlers.bucket_check(RUN_START, CONTEXT)

    assert (result["month"], result["recorded"]) == (MONTHS[1], 1)
    record = boto3.client("s3").get_object(
        Bucket=BUCKET, Key=f"{export_prefix(GROUP, MONTHS[0])}/_export-completed.json"
    )
    assert b'"taskId": "' + task_id.encode() in record["Body"].read()
    # Recorded once: a second check finds the record and writes nothing.
    assert handlers.bucket_check(RUN_START, CONTEXT)["recorded"] == 0


def test_bucket_check_exports_again_a_month_whose_export_failed_or_was_partial(env: None) -> None:
    start_task(GROUP, MONTHS[0], "FAILED")
    # A completed export of only part of the month (a hand-made one) does not make the month done.
    logs = boto3.client("logs")
    start, _ = Month.parse(MONTHS[1]).time_range_ms()
    logs.create_export_task(
        logGroupName=GROUP, fromTime=start, to=start + 1000, destination=BUCKET,
        destinationPrefix=export_prefix(GROUP, MONTHS[1]),
    )  # fmt: skip

    result = handlers.bucket_check(RUN_START, CONTEXT)

    assert (result["month"], result["remaining"], result["recorded"]) == (MONTHS[0], 6, 0)


def test_bucket_check_says_fin_when_every_closed_month_is_recorded_never_the_current_one(env: None) -> None:
    for group in (GROUP, OTHER_GROUP):
        for month in MONTHS:
            start_task(group, month, "COMPLETED")

    # March 2026, the run's own month, is never proposed although nothing of it is exported.
    assert handlers.bucket_check(RUN_START, CONTEXT) == {
        "action": "fin",
        "remaining": 0,
        "leftForNextRun": 0,
        "underWay": 0,
        "recorded": 6,
    }
    assert handlers.bucket_check(RUN_START, CONTEXT)["recorded"] == 0


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "runStartedAt is missing"),
        ({"runStartedAt": "last tuesday"}, "is not an ISO 8601 timestamp"),
        ({"runStartedAt": "2026-03-10T04:00:00"}, "has no time zone"),
        ({"runStartedAt": "٢٠٢٦-03-10T04:00:00+00:00"}, "is not an ISO 8601 timestamp"),
        # Extremes whose conversion to UTC overflowed (OverflowError), or that lie ahead of now.
        ({"runStartedAt": "0001-01-01T00:00:00+01:00"}, "is not an ISO 8601 timestamp"),
        ({"runStartedAt": "9999-12-31T23:59:59-01:00"}, "is not an ISO 8601 timestamp"),
        ({"runStartedAt": "9999-12-31T23:59:59+00:00"}, "lies in the future"),
        ({"runStartedAt": "0001-01-01T00:00:00+00:00"}, "CloudWatch Logs time starts in 1970-01"),
        # January 1970 planned December 1969 (and earlier), which LogsExport then refused.
        ({"runStartedAt": "1970-01-15T00:00:00+00:00"}, r"would export 1969-10 to 1969-12 \(3 months back\)"),
        (["runStartedAt"], "must be a JSON object"),
    ],
)
def test_bucket_check_refuses_bad_input_and_changes_nothing(env: None, event: Any, message: str) -> None:
    with pytest.raises(errors.InvalidRequest, match=message):
        handlers.bucket_check(event, CONTEXT)
    assert keys() == []


def test_bucket_check_refuses_a_broken_configuration(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_GROUPS", "/app/orders")
    with pytest.raises(errors.ConfigError, match="LOG_GROUPS"):
        handlers.bucket_check(RUN_START, CONTEXT)


# --- logs_export -----------------------------------------------------------------------------------


def test_logs_export_creates_the_task_of_that_month_under_its_prefix(env: None) -> None:
    result = handlers.logs_export({"logGroup": GROUP, "month": "2026-02"}, CONTEXT)

    (task,) = tasks()
    assert task["taskId"] == result["taskId"]
    assert (task["logGroupName"], task["destination"], task["destinationPrefix"]) == (
        GROUP,
        BUCKET,
        "app/orders/2026-02",
    )
    # February 2026, both ends inclusive, in milliseconds.
    assert (task["from"], task["to"]) == (1769904000000, 1772323199999)
    assert result["destination"] == f"s3://{BUCKET}/app/orders/2026-02/"


@pytest.mark.parametrize(
    ("event", "error", "message"),
    [
        ({"month": "2026-02"}, errors.InvalidRequest, "logGroup is missing"),
        ({"logGroup": GROUP}, errors.InvalidRequest, "month is missing"),
        ({"logGroup": GROUP, "month": "2026-2"}, errors.InvalidRequest, "not a month written YYYY-MM"),
        ({"logGroup": GROUP, "month": "2026-13"}, errors.InvalidRequest, "not a month written YYYY-MM"),
        ({"logGroup": 7, "month": "2026-02"}, errors.InvalidRequest, "logGroup: a number is not"),
        ({"logGroup": "/not/configured", "month": "2026-02"}, errors.LogGroupNotConfigured, "is not one of the log"),
        # Arabic-Indic and fullwidth digits: `\d` matched them and int() read them as 2026-02.
        ({"logGroup": GROUP, "month": "٢٠٢٦-٠٢"}, errors.InvalidRequest, "in ASCII digits"),
        ({"logGroup": GROUP, "month": "\uff12\uff10\uff12\uff16-02"}, errors.InvalidRequest, "in ASCII digits"),
        ({"logGroup": GROUP, "month": "1969-12"}, errors.InvalidRequest, "before 1970"),
        ({"logGroup": GROUP, "month": "current"}, errors.MonthNotClosed, "is not over yet"),
        ({"logGroup": GROUP, "month": "future"}, errors.MonthNotClosed, "is not over yet"),
    ],
)
def test_logs_export_refuses_bad_input_and_changes_nothing(
    env: None, event: dict[str, Any], error: type[Exception], message: str
) -> None:
    now = Month.of(datetime.now(UTC))
    if event.get("month") == "current":
        event = {**event, "month": str(now)}
    elif event.get("month") == "future":
        event = {**event, "month": str(now.shifted(2))}
    with pytest.raises(error, match=message):
        handlers.logs_export(event, CONTEXT)
    assert tasks() == []
    assert keys() == []


def test_logs_export_names_a_log_group_that_does_not_exist(env: None) -> None:
    boto3.client("logs").delete_log_group(logGroupName=OTHER_GROUP)
    with pytest.raises(errors.LogGroupNotFound, match=f"'{OTHER_GROUP}' does not exist"):
        handlers.logs_export({"logGroup": OTHER_GROUP, "month": "2026-02"}, CONTEXT)
    assert tasks() == []


def test_logs_export_lets_limit_exceeded_through_after_one_call(env: None, export_faults: ExportFaults) -> None:
    export_faults.queue = ["limit"] * 10

    with pytest.raises(errors.LimitExceededException, match="one at a time"):
        handlers.logs_export({"logGroup": GROUP, "month": "2026-02"}, CONTEXT)

    assert export_faults.create_calls == 1


def test_a_default_logs_client_would_retry_limit_exceeded_itself(env: None, export_faults: ExportFaults) -> None:
    # Why the export client switches retries off: botocore treats the error as throttling.
    export_faults.queue = ["limit"] * 10
    with pytest.raises(ClientError, match="LimitExceededException"):
        boto3.client("logs").create_export_task(
            logGroupName=GROUP, fromTime=0, to=1, destination=BUCKET, destinationPrefix="p"
        )
    assert export_faults.create_calls > 1
    assert aws.logs_client(retries=False).meta.config.retries["total_max_attempts"] == 1


# --- export_status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "COMPLETED"])
def test_export_status_reports_the_status(env: None, status: str) -> None:
    assert handlers.export_status({"taskId": start_task(GROUP, "2026-01", status)}, CONTEXT) == {"code": status}


@pytest.mark.parametrize(
    ("status", "error"), [("FAILED", errors.ExportTaskFailed), ("CANCELLED", errors.ExportTaskCancelled)]
)
def test_export_status_raises_with_the_status_when_the_task_ended_badly(
    env: None, status: str, error: type[Exception]
) -> None:
    task_id = start_task(GROUP, "2026-01", status)
    with pytest.raises(error, match=f"{task_id} of {GROUP} to s3://{BUCKET}/app/orders/2026-01/ ended {status}"):
        handlers.export_status({"taskId": task_id}, CONTEXT)


@pytest.mark.parametrize(
    ("event", "error", "message"),
    [
        ({}, errors.InvalidRequest, "taskId is missing"),
        ({"taskId": ""}, errors.InvalidRequest, "is not an export task id"),
        ({"taskId": "no-such-task"}, errors.ExportTaskNotFound, "no export task has the id 'no-such-task'"),
    ],
)
def test_export_status_refuses_bad_input(
    env: None, event: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        handlers.export_status(event, CONTEXT)


# --- months ----------------------------------------------------------------------------------------


def test_closed_months_cross_the_year_and_leave_out_the_current_month() -> None:
    from lwk_log_export.months import closed_months as handler_months

    assert [str(m) for m in handler_months(Month(2026, 2), 3)] == ["2025-11", "2025-12", "2026-01"]
    now = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    assert [str(m) for m in handler_months(Month.of(now), 1)] == closed_months(1, now)


def test_a_leap_february_covers_29_days_to_the_last_millisecond() -> None:
    start, end = Month(2028, 2).time_range_ms()
    assert end - start + 1 == 29 * 24 * 3600 * 1000
    assert datetime.fromtimestamp((end + 1) / 1000, UTC) == datetime(2028, 3, 1, tzinfo=UTC)


# --- contract and logging --------------------------------------------------------------------------


def test_the_error_the_retry_matches_is_the_one_the_handler_raises() -> None:
    from lwk_log_export import contract

    assert errors.LimitExceededException.__name__ == contract.LIMIT_EXCEEDED


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the handlers' Powertools logger writes (to stdout, which Lambda sends to the log group)."""
    buffer = io.StringIO()
    handler = handlers.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_every_log_line_is_json_with_the_service_name_and_request_id(env: None, log_output: io.StringIO) -> None:
    from lwk_log_export import contract

    handlers.bucket_check(RUN_START, CONTEXT)

    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["bucket check"]
    assert lines[0]["service"] == contract.SERVICE_NAME == f"{APP_NAME}-log-export"
    assert lines[0]["function_request_id"] == CONTEXT.aws_request_id


def test_the_first_run_that_may_export_starts_months_back_after_1970(env: None) -> None:
    result = handlers.bucket_check({"runStartedAt": "1970-04-01T00:00:00+00:00"}, CONTEXT)
    assert (result["action"], result["month"]) == ("export", "1970-01")


# --- no payload in the logs ------------------------------------------------------------------------

# Planted in every event field a handler receives, accepted or refused: it must never reach a log line
# (Powertools' output) nor an error message (which the Lambda runtime writes to the log).
MARKER = "planted secret 7f3a!"


def _events_with_the_marker() -> list[tuple[Any, Any]]:
    accepted_month = closed_months(1)[0]
    return [
        (handlers.bucket_check, {**RUN_START, "extra": MARKER}),
        (handlers.bucket_check, {"runStartedAt": MARKER}),
        (handlers.bucket_check, [MARKER]),
        (handlers.logs_export, {"logGroup": GROUP, "month": accepted_month, "note": MARKER}),
        (handlers.logs_export, {"logGroup": MARKER, "month": accepted_month}),
        (handlers.logs_export, {"logGroup": GROUP, "month": MARKER}),
        (handlers.logs_export, {"logGroup": {"nested": MARKER}, "month": accepted_month}),
        (handlers.export_status, {"taskId": MARKER}),
        (handlers.export_status, MARKER),
    ]


def test_no_handler_logs_event_content_accepted_or_refused(env: None, log_output: io.StringIO) -> None:
    error_messages = []
    for handler, event in _events_with_the_marker():
        try:
            handler(event, CONTEXT)
        except errors.LogExportError as error:
            error_messages.append(f"{type(error).__name__}: {error}")

    logged = log_output.getvalue()
    assert logged.count('"level":"INFO"') >= 2  # the accepted events did log
    assert len(error_messages) == 7  # the refused ones raised typed errors
    assert MARKER not in logged
    assert not [message for message in error_messages if MARKER in message or "7f3a" in message]


@settings(max_examples=50, deadline=None)
@given(
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_the_slot_cursor_is_a_whole_slot_index_or_a_typed_refusal(value: Any) -> None:
    whole = isinstance(value, int | float) and not isinstance(value, bool) and value == value and value % 1 == 0
    if whole and -1 <= value < 480:
        assert inputs.slot_cursor({"after": value}) == int(value)
    else:
        with pytest.raises(errors.InvalidRequest, match=r"^after: .* is not a slot index from -1 to 479$"):
            inputs.slot_cursor({"after": value})


# --- business metrics (EMF lines on stdout) ---------------------------------------------------------


def _metrics(capsys: pytest.CaptureFixture[str]) -> list[MetricPoint]:
    points = emf_points(capsys.readouterr().out)
    for point in points:
        # Bounded: the service and a configured log group, never a task id or a month.
        assert point.namespace == NAMESPACE
        assert set(point.dimensions) == {"service", contract.LOG_GROUP_DIMENSION}
        assert point.dimensions["service"] == contract.SERVICE_NAME
        assert point.dimensions[contract.LOG_GROUP_DIMENSION] in (GROUP, OTHER_GROUP)
    return points


def test_each_handler_counts_its_outcome_per_log_group(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    handlers.logs_export({"logGroup": GROUP, "month": "2026-02"}, CONTEXT)
    assert [(p.name, p.dimensions["logGroup"], p.value) for p in _metrics(capsys)] == [
        (contract.EXPORTS_STARTED, GROUP, 1)
    ]
    start_task(OTHER_GROUP, MONTHS[0], "COMPLETED")
    handlers.bucket_check(RUN_START, CONTEXT)
    # moto completes the first task at once: both are recorded now, each counted once.
    assert sorted((p.name, p.dimensions["logGroup"], p.value) for p in _metrics(capsys)) == [
        (contract.EXPORTS_DONE, GROUP, 1),
        (contract.EXPORTS_DONE, OTHER_GROUP, 1),
    ]
    with pytest.raises(errors.ExportTaskFailed):
        handlers.export_status({"taskId": start_task(GROUP, MONTHS[1], "FAILED")}, CONTEXT)
    assert [(p.name, p.dimensions["logGroup"], p.value) for p in _metrics(capsys)] == [
        (contract.EXPORTS_FAILED, GROUP, 1)
    ]
    handlers.export_status({"taskId": start_task(GROUP, MONTHS[2], "RUNNING")}, CONTEXT)
    assert _metrics(capsys) == []


def test_the_end_of_a_run_reports_the_months_it_leaves_behind_per_group(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for month in MONTHS:
        start_task(OTHER_GROUP, month, "COMPLETED")
    capsys.readouterr()
    # The run tried every slot (the cursor is past the last): GROUP's three months stay behind.
    result = handlers.bucket_check({**RUN_START, "after": 5}, CONTEXT)
    assert result["action"] == "fin"
    behind = {p.dimensions["logGroup"]: p.value for p in _metrics(capsys) if p.name == contract.MONTHS_BEHIND}
    assert behind == {GROUP: 3, OTHER_GROUP: 0}


def test_a_check_in_the_middle_of_a_run_reports_no_months_behind(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert handlers.bucket_check(RUN_START, CONTEXT)["action"] == "export"
    assert [p for p in _metrics(capsys) if p.name == contract.MONTHS_BEHIND] == []
