"""The synthesized state machine, run in moto's ASL interpreter with the real handlers in process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.aws_limits import STATES_MAX_PAYLOAD_BYTES
from support.log_export_run import (
    SMALL_BOUND,
    TWO_GROUPS,
    ExportFaults,
    LogExportWorld,
    Recorder,
    closed_months,
    export_prefix,
    exported_group,
    synth_log_export,
)
from tests.conftest import cdk_json_context

GROUP = exported_group()

RECORD = "_export-completed.json"
# What `template` was built from: the checks expect these numbers.
SETTINGS = cdk_json_context()["kit"]["logExport"]


def exported_months(world: LogExportWorld, group: str) -> list[str]:
    return [t["destinationPrefix"].rsplit("/", 1)[1] for t in world.export_tasks() if t["logGroupName"] == group]


def messages(world: LogExportWorld, group: str, month: str) -> list[str]:
    """The exported events' messages: each exported line is '<ISO timestamp> <message>'."""
    return sorted(line.split(" ", 1)[1] for line in world.exported_lines(export_prefix(group, month)))


def completed_messages(world: LogExportWorld, faults: ExportFaults, group: str, month: str) -> list[str]:
    """The messages of the export the month's completion record names: a failed attempt may have left
    data beside it, which a reader skips (docs/log-export.md)."""
    prefix = export_prefix(group, month)
    record = json.loads(world.s3.get_object(Bucket=world.bucket, Key=f"{prefix}/{RECORD}")["Body"].read())
    return world.task_messages(faults.written[record["taskId"]])


@pytest.fixture
def world(world_factory: Any, template: dict[str, Any]) -> LogExportWorld:
    return world_factory(template)


@pytest.fixture
def two_group_world(world_factory: Any, two_group_template: dict[str, Any]) -> LogExportWorld:
    return world_factory(two_group_template)


def test_three_months_are_exported_in_order_with_a_notice_each(world: LogExportWorld, recorder: Recorder) -> None:
    months = closed_months(3)
    world.add_log_group(GROUP, dict.fromkeys(months, 2))

    run = world.run()

    assert run.status == "SUCCEEDED"
    assert run.states[-1] == "AllExported"
    assert [call.event["month"] for call in recorder.calls("logs_export")] == months
    for month in months:
        assert messages(world, GROUP, month) == [f"{GROUP} {month} event {i}" for i in range(2)]
        assert f"{export_prefix(GROUP, month)}/{RECORD}" in world.object_keys()
    notices = world.notices()
    assert len(notices) == 3
    for month, notice in zip(months, notices, strict=True):
        assert notice.startswith(f"Exported {GROUP} {month} to s3://{world.bucket}/{export_prefix(GROUP, month)}/")
    # One status check per export, each after the configured wait.
    assert recorder.waits == [SETTINGS["pollIntervalSeconds"]] * 3
    assert run.output["exportsStarted"] == 3


def test_an_export_that_takes_time_is_checked_until_it_has_completed(
    world: LogExportWorld, recorder: Recorder, export_faults: ExportFaults
) -> None:
    world.add_log_group(GROUP, dict.fromkeys(closed_months(3), 1))
    export_faults.running_checks = 2  # each task reports RUNNING twice, then COMPLETED

    run = world.run()

    assert run.status == "SUCCEEDED"
    assert [c.result["code"] for c in recorder.calls("export_status")] == ["RUNNING", "RUNNING", "COMPLETED"] * 3
    assert recorder.waits == [SETTINGS["pollIntervalSeconds"]] * 9
    assert run.states.count("CountPoll") == 6
    assert len(world.notices()) == 3


def test_a_second_run_right_after_exports_nothing(world: LogExportWorld, recorder: Recorder) -> None:
    world.add_log_group(GROUP, dict.fromkeys(closed_months(3), 1))
    assert world.run().status == "SUCCEEDED"
    world.notices()
    tasks_before, keys_before = world.export_tasks(), world.object_keys()

    again = world.run()

    assert again.status == "SUCCEEDED"
    assert again.states == ["StartRun", "BucketCheck", "ResultCheck", "AllExported"]
    assert world.export_tasks() == tasks_before
    assert world.object_keys() == keys_before
    assert world.notices() == []


def test_an_empty_month_is_exported_once_not_on_every_run(world: LogExportWorld) -> None:
    # The seed's trap: an empty month leaves only the write test object, which must not look "not done".
    oldest, *others = closed_months(3)
    world.add_log_group(GROUP, dict.fromkeys(others, 1))

    assert world.run().status == "SUCCEEDED"
    assert messages(world, GROUP, oldest) == []
    assert f"{export_prefix(GROUP, oldest)}/{RECORD}" in world.object_keys()

    assert world.run().states == ["StartRun", "BucketCheck", "ResultCheck", "AllExported"]
    assert sorted(exported_months(world, GROUP)) == closed_months(3)


def test_limit_exceeded_twice_then_success_backs_off_by_the_configured_intervals(
    world: LogExportWorld, recorder: Recorder, export_faults: ExportFaults
) -> None:
    retry = SETTINGS["retry"]
    world.add_log_group(GROUP, dict.fromkeys(closed_months(3), 1))
    export_faults.queue = ["limit", "limit"]

    run = world.run()

    assert run.status == "SUCCEEDED"
    first = retry["intervalSeconds"]
    assert recorder.retry_sleeps == [first, first * retry["backoffRate"]]
    attempts = recorder.calls("logs_export")
    assert [a.error_type for a in attempts] == ["LimitExceededException"] * 2 + [None] * 3
    # One CreateExportTask per invocation: botocore did not retry LimitExceededException by itself.
    assert export_faults.create_calls == len(attempts)
    assert sorted(exported_months(world, GROUP)) == closed_months(3)


def test_limit_exceeded_on_every_attempt_fails_each_slot_after_the_configured_attempts(
    world: LogExportWorld, recorder: Recorder, export_faults: ExportFaults
) -> None:
    retry = SETTINGS["retry"]
    months = closed_months(3)
    world.add_log_group(GROUP, dict.fromkeys(months, 1))
    export_faults.queue = ["limit"] * 50

    run = world.run()

    assert run.status == "FAILED"
    assert run.error == "ExportsFailed"
    assert run.states[-2:] == ["ResultCheck", "ExportsFailed"]
    # Every slot is tried once in the run, each with the configured back-off, then the run ends.
    assert len(recorder.calls("logs_export")) == 3 * (1 + retry["maxAttempts"])
    assert (
        recorder.retry_sleeps
        == [retry["intervalSeconds"] * retry["backoffRate"] ** n for n in range(retry["maxAttempts"])] * 3
    )
    assert world.export_tasks() == []
    notices = world.notices()
    assert len(notices) == 3
    for month, notice in zip(months, notices, strict=True):
        assert f"could not export {GROUP} {month}: LimitExceededException" in notice


@pytest.mark.parametrize(("status", "error"), [("FAILED", "ExportTaskFailed"), ("CANCELLED", "ExportTaskCancelled")])
def test_an_export_task_that_ends_failed_or_cancelled_is_reported_and_the_run_goes_on(
    world: LogExportWorld, recorder: Recorder, export_faults: ExportFaults, status: str, error: str
) -> None:
    oldest, *others = closed_months(3)
    world.add_log_group(GROUP, dict.fromkeys(closed_months(3), 1))
    export_faults.queue = [status]

    run = world.run()

    assert run.status == "FAILED"
    assert run.error == "ExportsFailed"
    assert run.output is None
    # No retry loop around it in this run: one export, one status check for it, then the next months.
    assert [c.event["month"] for c in recorder.calls("logs_export")] == closed_months(3)
    assert len(recorder.calls("export_status")) == 3
    assert f"{export_prefix(GROUP, oldest)}/{RECORD}" not in world.object_keys()
    for month in others:
        assert messages(world, GROUP, month) == [f"{GROUP} {month} event 0"]
    failed, *exported = world.notices()
    assert f"could not export {GROUP} {oldest}: {error}" in failed and f"ended {status}" in failed
    assert len(exported) == 2
    # The next run exports the failed month, and only it.
    export_faults.queue = []
    again = world.run()
    assert again.status == "SUCCEEDED"
    assert sorted(exported_months(world, GROUP)) == sorted([oldest, *closed_months(3)])
    assert completed_messages(world, export_faults, GROUP, oldest) == [f"{GROUP} {oldest} event 0"]


def test_a_log_group_that_does_not_exist_is_reported_for_each_month(world: LogExportWorld) -> None:
    # The configured log group is gone (or never was: it may be a kit function's own, made by the stack).
    if world.logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]:
        world.logs.delete_log_group(logGroupName=GROUP)
    run = world.run()

    assert run.status == "FAILED"
    assert run.error == "ExportsFailed"
    notices = world.notices()
    assert len(notices) == 3
    assert all("LogGroupNotFound" in notice and GROUP in notice for notice in notices)
    assert world.export_tasks() == []


def test_a_missing_first_log_group_does_not_block_the_second(
    two_group_world: LogExportWorld, recorder: Recorder
) -> None:
    # The case: two groups, the first deleted; every run used to end at its LogGroupNotFound.
    months = closed_months(3)
    missing, present = TWO_GROUPS
    two_group_world.add_log_group(present, dict.fromkeys(months, 1))

    runs = [two_group_world.run() for _ in range(2)]

    assert [r.error for r in runs] == ["ExportsFailed"] * 2
    assert sorted(exported_months(two_group_world, present)) == months
    for month in months:
        assert messages(two_group_world, present, month) == [f"{present} {month} event 0"]
    assert exported_months(two_group_world, missing) == []


def test_an_export_still_running_after_max_polls_is_reported_and_not_started_twice(
    two_group_world: LogExportWorld, recorder: Recorder, export_faults: ExportFaults
) -> None:
    months = closed_months(3)
    for group in TWO_GROUPS:
        two_group_world.add_log_group(group, dict.fromkeys(months, 1))
    export_faults.queue = ["RUNNING"]  # the first export never finishes while this run waits

    run = two_group_world.run()

    assert run.status == "FAILED"
    assert run.error == "ExportsFailed"
    still_running = two_group_world.notices()[0]
    assert "ExportStillRunning" in still_running and "after 3 status checks" in still_running
    # 3 checks of the first export (maxPolls in two_group_template), one of each of the next three.
    assert len(recorder.calls("export_status")) == 3 + 3
    assert len(recorder.calls("logs_export")) == SMALL_BOUND

    two_group_world.run()
    # The month still under way was not exported again; the bound (4) limited the second run.
    first_group_months = exported_months(two_group_world, TWO_GROUPS[0])
    assert first_group_months.count(months[0]) == 1


def test_a_run_ends_cleanly_at_the_bound_when_there_is_more_work(
    two_group_world: LogExportWorld, recorder: Recorder
) -> None:
    for group in TWO_GROUPS:
        two_group_world.add_log_group(group, dict.fromkeys(closed_months(3), 1))

    run = two_group_world.run()

    assert run.status == "SUCCEEDED"
    assert run.states[-1] == "RunBoundReached"
    assert len(recorder.calls("logs_export")) == SMALL_BOUND
    assert run.output["exportsStarted"] == SMALL_BOUND
    assert run.output["check"]["remaining"] == 2 * 3 - SMALL_BOUND


def test_two_log_groups_every_group_and_month_exported_exactly_once(two_group_world: LogExportWorld) -> None:
    months = closed_months(3)
    for group in TWO_GROUPS:
        two_group_world.add_log_group(group, dict.fromkeys(months, 1))

    runs = [two_group_world.run() for _ in range(3)]

    assert [r.states[-1] for r in runs] == ["RunBoundReached", "AllExported", "AllExported"]
    exported = sorted((t["logGroupName"], t["destinationPrefix"]) for t in two_group_world.export_tasks())
    assert exported == sorted((g, export_prefix(g, m)) for g in TWO_GROUPS for m in months)
    for group in TWO_GROUPS:
        for month in months:
            assert messages(two_group_world, group, month) == [f"{group} {month} event 0"]
    assert runs[2].states == ["StartRun", "BucketCheck", "ResultCheck", "AllExported"]


# --- Step Functions' 256 KiB state input/output quota ---------------------------------------------------

LONGEST_GROUPS = ["/" + "a" * 511, "/" + "b" * 511]  # CloudWatch Logs' longest names: 512 characters


def test_an_execution_input_at_the_quota_is_accepted_and_dropped_by_the_first_state(
    world: LogExportWorld, recorder: Recorder
) -> None:
    # StartRun builds the run's state from nothing: whatever a start by hand passes in, up to the
    # quota, never reaches a later state.
    world.add_log_group(GROUP, dict.fromkeys(closed_months(3), 1))
    padding = STATES_MAX_PAYLOAD_BYTES - len('{"padding":""}')
    at_the_quota = json.dumps({"padding": "x" * padding}, separators=(",", ":"))
    assert len(at_the_quota.encode()) == STATES_MAX_PAYLOAD_BYTES

    run = world.run(execution_input=at_the_quota)

    assert run.status == "SUCCEEDED"
    assert run.largest_state_bytes == STATES_MAX_PAYLOAD_BYTES  # StartRun's input, and only it
    assert run.output == {
        "exportsStarted": 3,
        "failures": 0,
        **{k: run.output[k] for k in ("check", "export", "status", "polls")},
    }
    assert len(json.dumps(run.output).encode()) < 2048


def test_an_execution_input_over_the_quota_is_refused_as_step_functions_does(world: LogExportWorld) -> None:
    over = json.dumps({"padding": "x" * (STATES_MAX_PAYLOAD_BYTES - len('{"padding":""}') + 1)}, separators=(",", ":"))
    with pytest.raises(ClientError, match="ValidationException"):
        world.run(execution_input=over)


def test_every_state_stays_far_under_the_quota_with_the_longest_names(
    world_factory: Any, recorder: Recorder, export_faults: ExportFaults, tmp_path: Any
) -> None:
    # The run's state holds one check, one export and counters, never a list that grows with the
    # number of log groups or months; the longest log group names bound it.
    template = synth_log_export(
        tmp_path, {"kit.logExport.logGroups": json.dumps(LONGEST_GROUPS), "kit.logExport.monthsBack": "2"}
    )
    world = world_factory(template)
    for group in LONGEST_GROUPS:
        world.add_log_group(group, dict.fromkeys(closed_months(2), 1))
    export_faults.running_checks = 2

    run = world.run()

    assert run.status == "SUCCEEDED"
    assert len(recorder.calls("logs_export")) == 4
    assert run.largest_state_bytes < 4096 < STATES_MAX_PAYLOAD_BYTES
