"""The log export's invariant, on generated configurations run through the synthesized state machine
in moto's ASL interpreter with the real handlers (docs/log-export.md, "The invariant"):

    every event still in retention when its month closes is exported exactly once, and no log group
    (or month) blocks another.

Hypothesis picks which of three log groups are missing, which (group, month) slots keep failing and
how (an export task that ends FAILED or CANCELLED, LimitExceededException on every attempt), and how
many events each month holds. A first run must export every healthy slot exactly once, name every
troubled one in a notice and end failed (the alarm), within the bound; once the trouble is gone a
second run exports the rest, and no slot is ever exported twice.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.logs import models as logs_models

from stacks.settings.common import APP_NAME
from support.log_export_run import (
    ACCOUNT,
    REGION,
    ExportFaults,
    LogExportWorld,
    Recorder,
    closed_months,
    export_prefix,
    outside_the_last_minute_of_a_month,
    synth_log_export,
)

GROUPS = [f"/{APP_NAME}/test/{name}" for name in ("orders", "payments", "shipping")]
MONTHS_BACK = 2
RECORD = "_export-completed.json"
FAULTS = st.sampled_from(["FAILED", "CANCELLED", "limit"])


class Synthesized(dict[str, Any]):
    """A template that Hypothesis reports by name, not by its 200 KB of JSON."""

    def __repr__(self) -> str:
        return "<three-group log export template>"


@pytest.fixture(scope="module")
def three_group_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return Synthesized(
        synth_log_export(
            tmp_path_factory.mktemp("log-export-three-groups"),
            {
                "kit.logExport.logGroups": json.dumps(GROUPS),
                "kit.logExport.monthsBack": str(MONTHS_BACK),
                "kit.logExport.maxPolls": "2",
                "kit.logExport.retry.maxAttempts": "1",
            },
        )
    )


@pytest.fixture
def world(world_factory: Any, three_group_template: dict[str, Any]) -> LogExportWorld:
    """One deployment for all the examples (deploying takes seconds); each example starts from an empty
    account again (`fresh`)."""
    return world_factory(three_group_template)


def fresh(world: LogExportWorld) -> None:
    """No log group, export task, object or notice left from an earlier example."""
    backend = logs_models.logs_backends[ACCOUNT][REGION]
    for group in GROUPS:
        backend.groups.pop(group, None)
    backend.export_tasks.clear()
    for key in world.object_keys():
        world.s3.delete_object(Bucket=world.bucket, Key=key)
    world.notices()


def completed(world: LogExportWorld, faults: ExportFaults, group: str, month: str) -> list[str] | None:
    """The messages of the export the slot's completion record names, or None without a record."""
    key = f"{export_prefix(group, month)}/{RECORD}"
    if key not in world.object_keys():
        return None
    record = json.loads(world.s3.get_object(Bucket=world.bucket, Key=key)["Body"].read())
    return world.task_messages(faults.written[record["taskId"]])


# Each example runs the state machine in moto's interpreter (about 2 s): the fast tier runs 3
# generated configurations, the slow tier 30 more through the same check.
CONFIGURATIONS = {
    "missing": st.sets(st.sampled_from(GROUPS), max_size=len(GROUPS)),
    "failing": st.dictionaries(st.tuples(st.sampled_from(GROUPS), st.integers(0, MONTHS_BACK - 1)), FAULTS, max_size=4),
    "counts": st.lists(st.integers(0, 3), min_size=len(GROUPS) * MONTHS_BACK, max_size=len(GROUPS) * MONTHS_BACK),
}


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**CONFIGURATIONS)
def test_every_event_is_exported_exactly_once_and_no_group_blocks_another(
    world: LogExportWorld,
    recorder: Recorder,
    export_faults: ExportFaults,
    missing: set[str],
    failing: dict[tuple[str, int], str],
    counts: list[int],
) -> None:
    _exported_exactly_once_and_no_group_blocks_another(world, recorder, export_faults, missing, failing, counts)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**CONFIGURATIONS)
def test_every_event_is_exported_exactly_once_and_no_group_blocks_another_in_more_configurations(
    world: LogExportWorld,
    recorder: Recorder,
    export_faults: ExportFaults,
    missing: set[str],
    failing: dict[tuple[str, int], str],
    counts: list[int],
) -> None:
    _exported_exactly_once_and_no_group_blocks_another(world, recorder, export_faults, missing, failing, counts)


def _exported_exactly_once_and_no_group_blocks_another(
    world: LogExportWorld,
    recorder: Recorder,
    export_faults: ExportFaults,
    missing: set[str],
    failing: dict[tuple[str, int], str],
    counts: list[int],
) -> None:
    outside_the_last_minute_of_a_month()
    export_faults.__init__()  # type: ignore[misc]  # a fresh account per example
    recorder.invocations.clear()
    months = closed_months(MONTHS_BACK)
    events = {(g, m): counts[i * MONTHS_BACK + j] for i, g in enumerate(GROUPS) for j, m in enumerate(months)}
    troubled = {(g, m) for g, m in events if g in missing} | {(g, months[j]) for g, j in failing}
    export_faults.by_prefix = {export_prefix(g, months[j]): fault for (g, j), fault in failing.items()}
    fresh(world)
    for group in GROUPS:
        if group not in missing:
            world.add_log_group(group, {m: events[(group, m)] for m in months})

    first = world.run()

    # Bounded: each slot is tried at most once per run, then the run ends.
    assert len(recorder.calls("bucket_check")) <= len(events) + 1
    assert (first.status, first.error) == (("FAILED", "ExportsFailed") if troubled else ("SUCCEEDED", None))
    notices = world.notices()
    for group, month in events:
        expected = [f"{group} {month} event {i}" for i in range(events[(group, month)])]
        if (group, month) in troubled:
            assert completed(world, export_faults, group, month) is None
            assert any(f"could not export {group} {month}:" in notice for notice in notices), (group, month)
        else:  # no other slot's trouble kept it from being exported
            assert completed(world, export_faults, group, month) == sorted(expected)

    # The trouble is gone (the group is back, with the events it had): the next run catches up.
    export_faults.by_prefix = {}
    for group in missing:
        world.add_log_group(group, {m: events[(group, m)] for m in months})
    recorder.invocations.clear()
    second = world.run()

    assert second.status == "SUCCEEDED"
    assert len(recorder.calls("logs_export")) == len(troubled)
    completed_tasks: dict[str, int] = {}
    for task in world.export_tasks():
        if task["status"]["code"] == "COMPLETED":
            completed_tasks[task["destinationPrefix"]] = completed_tasks.get(task["destinationPrefix"], 0) + 1
    assert completed_tasks == {export_prefix(g, m): 1 for g, m in events}
    for group, month in events:
        expected = [f"{group} {month} event {i}" for i in range(events[(group, month)])]
        assert completed(world, export_faults, group, month) == sorted(expected)
