"""The retention and schedule arithmetic of the log export's settings (stacks/log_export/export_timing.py):
the kit keeps the events of a group it exports and owns until the run that first considers their month
and one retry run have ended, or refuses the settings at synth; it refuses a schedule that never
starts a run and Retry settings a run could never finish with. Checked against an independent
calendar computation over generated schedules, months, days and settings."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.kit_settings import KitSettings, settings_from_context
from stacks.log_export import export_timing as timing
from stacks.log_export.settings import run_bounds
from stacks.settings import SettingsError
from stacks.settings.common import LOG_RETENTION_DAYS
from support.log_export_run import exported_group
from tests.conftest import cdk_json_context

EXPORTED_GROUP = exported_group()

FAST = settings(max_examples=40, deadline=None)


def read(retention: int | None = None, /, **overrides: str) -> KitSettings:
    context: dict[str, Any] = {**cdk_json_context(), **{f"kit.logExport.{k}": v for k, v in overrides.items()}}
    if retention is not None:
        context["kit.logRetentionDays"] = str(retention)
    return settings_from_context(context)


# ---- the cases (each passed synth before) --------------------------------------------------


def test_the_defaults_keep_every_exported_event_until_its_retry_run() -> None:
    kit = read()
    assert kit.common.log_retention_days == 60
    assert kit.log_export.schedule_expression == "cron(0 3 2,9 * ? *)"


@pytest.mark.parametrize("retention", [1, 30])
def test_a_retention_too_short_for_an_exported_group_the_kit_owns_is_refused(retention: int) -> None:
    with pytest.raises(
        SettingsError,
        match=rf"^kit\.logRetentionDays: {retention} is not long enough for the log export of "
        rf"{re.escape(EXPORTED_GROUP)}: .* use 60 or more$",
    ):
        read(retention)


def test_a_monthly_schedule_needs_a_longer_retention_for_its_retry_run() -> None:
    with pytest.raises(SettingsError, match=r"kit\.logRetentionDays: 60 .*use 90 or more"):
        read(60, **{"schedule.expression": "cron(0 3 2 * ? *)"})
    assert read(90, **{"schedule.expression": "cron(0 3 2 * ? *)"}).log_export.months_back == 3


def test_a_group_the_kit_does_not_own_is_left_to_its_owner() -> None:
    # docs/log-export.md asks the owner to apply the same arithmetic; the kit cannot set its retention.
    assert read(1, logGroups='["/aws/lambda/someone-elses"]').common.log_retention_days == 1


def test_a_retry_that_could_never_finish_is_refused() -> None:
    with pytest.raises(
        SettingsError, match=r"^kit\.logExport\.retry\.maxAttempts: 10 is not a number of retries .*1-year maximum"
    ):
        read(None, **{"retry.intervalSeconds": "3600", "retry.backoffRate": "10", "retry.maxAttempts": "10"})


@pytest.mark.parametrize("expression", ["cron(0 3 31 2 ? *)", "cron(0 3 30 FEB ? *)", "cron(0 0 31 4,6,9,11 ? *)"])
def test_a_schedule_that_never_fires_is_refused(expression: str) -> None:
    with pytest.raises(SettingsError, match=r"^kit\.logExport\.schedule\.expression: .*ever starts a run"):
        read(None, **{"schedule.expression": expression})


def test_a_schedule_that_leaves_a_month_without_a_retry_run_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^kit\.logExport\.schedule\.expression: .*a run and a retry run"):
        read(None, monthsBack="1", **{"schedule.expression": "cron(0 3 2 * ? *)"})
    with pytest.raises(SettingsError, match=r"^kit\.logExport\.schedule\.expression: .*years"):
        read(None, **{"schedule.expression": "cron(0 3 2,9 * ? 2030)"})


# ---- properties against an independent calendar ---------------------------------------------------


def _starts_of(days: list[int], hour: int, minute: int, year: int, month: int) -> list[datetime]:
    """When cron(minute hour d1,d2 * ? *) fires in one month: the days that month has."""
    last = calendar.monthrange(year, month)[1]
    return [datetime(year, month, d, hour, minute, tzinfo=UTC) for d in sorted(days) if d <= last]


def _oracle_need(days: list[int], hour: int, minute: int, months_back: int) -> float | None:
    """Seconds from a month's start to the start of its second considering run, worst month; None if
    some month gets fewer than two runs."""
    worst = 0.0
    for year in range(timing.WINDOW_FIRST_YEAR, timing.WINDOW_FIRST_YEAR + timing.WINDOW_YEARS):
        for month in range(1, 13):
            start = datetime(year, month, 1, tzinfo=UTC)
            runs: list[datetime] = []
            for later in range(1, months_back + 1):  # the runs in the monthsBack months after it
                y, m = divmod(month - 1 + later, 12)
                runs += _starts_of(days, hour, minute, year + y, m + 1)
            if len(runs) < 2:
                return None
            worst = max(worst, (runs[1] - start).total_seconds())
    return worst


SCHEDULES = st.tuples(
    st.lists(st.integers(1, 31), min_size=1, max_size=3, unique=True), st.integers(0, 23), st.integers(0, 59)
)


@FAST
@given(
    schedule=SCHEDULES,
    months_back=st.integers(1, 4),
    retention=st.sampled_from(LOG_RETENTION_DAYS),
    polls=st.integers(1, 200),
)
def test_settings_are_accepted_exactly_when_every_month_keeps_its_events_through_its_retry_run(
    schedule: tuple[list[int], int, int], months_back: int, retention: int, polls: int
) -> None:
    days, hour, minute = schedule
    expression = f"cron({minute} {hour} {','.join(map(str, days))} * ? *)"
    overrides = {"schedule.expression": expression, "monthsBack": str(months_back), "maxPolls": str(polls)}
    need = _oracle_need(days, hour, minute, months_back)
    try:
        kit = read(retention, **overrides)
    except SettingsError as error:
        refused = str(error)
    else:
        refused = ""
    if need is None:
        assert refused.startswith("kit.logExport.schedule.expression: "), refused
        return
    bound = timing.run_seconds(run_bounds(read(3653, **overrides).log_export))
    keeps = retention * timing.DAY >= need + bound + timing.SLACK_SECONDS
    assert (refused == "") == keeps, (refused, need / timing.DAY)
    if not keeps:
        smallest = min(d for d in LOG_RETENTION_DAYS if d * timing.DAY >= need + bound + timing.SLACK_SECONDS)
        assert refused.startswith(f"kit.logRetentionDays: {retention} ") and f"use {smallest} or more" in refused
    else:
        assert kit.common.log_retention_days == retention


@FAST
@given(
    year=st.integers(timing.WINDOW_FIRST_YEAR, timing.WINDOW_FIRST_YEAR + timing.WINDOW_YEARS - 1),
    month=st.integers(1, 12),
    offset=st.floats(0, 1, exclude_max=True),
    expression=st.sampled_from(
        [
            "cron(0 3 2,9 * ? *)",
            "cron(0 3 2 * ? *)",
            "cron(30 23 L * ? *)",
            "cron(0 6 ? * MON *)",
            "rate(1 day)",
            "cron(0 3 1W * ? *)",
            "cron(15 2 ? * 2#1 *)",
            "cron(0 0 ? * 6L *)",
        ]  # fmt: skip
    ),
    months_back=st.integers(2, 6),
)
def test_an_event_at_any_moment_of_any_month_is_still_kept_when_its_retry_run_ends(
    year: int, month: int, offset: float, expression: str, months_back: int
) -> None:
    kit = read(3653, **{"schedule.expression": expression, "monthsBack": str(months_back)})
    needed_days = next(d for d in LOG_RETENTION_DAYS if d * timing.DAY >= _needed(kit))
    start = timing.month_start(year, month)
    event = start + (timing.month_start(year, month + 1) - start) * offset
    (attempts,) = [a for a in timing.month_attempts(timing.schedule_fires(expression), months_back)
                   if (a.year, a.month) == (year, month)]  # fmt: skip
    assert len(attempts.starts) == 1 + timing.RETRY_RUNS
    assert all(s >= timing.month_start(year, month + 1) for s in attempts.starts)  # only closed months
    retry_run_ends = attempts.starts[-1] + timedelta(seconds=timing.run_seconds(run_bounds(kit.log_export)))
    assert retry_run_ends < event + timedelta(days=needed_days)
    # The retention the kit asks for is needed: one valid step shorter loses this month's first second.
    shorter = [d for d in LOG_RETENTION_DAYS if d < needed_days]
    if shorter and (year, month) == _tightest(kit):
        assert retry_run_ends > start + timedelta(days=shorter[-1])


def _needed(kit: KitSettings) -> float:
    seconds, _ = timing.retention_needed_seconds(
        kit.log_export.schedule_expression, kit.log_export.months_back, run_bounds(kit.log_export)
    )
    return seconds


def _tightest(kit: KitSettings) -> tuple[int, int]:
    _, label = timing.retention_needed_seconds(
        kit.log_export.schedule_expression, kit.log_export.months_back, run_bounds(kit.log_export)
    )
    return int(label[:4]), int(label[5:])


@FAST
@given(interval=st.integers(1, 3600), attempts=st.integers(0, 10), rate=st.integers(1, 10))
def test_retry_settings_are_refused_exactly_when_a_run_could_outlast_a_year(
    interval: int, attempts: int, rate: int
) -> None:
    overrides = {
        "retry.intervalSeconds": str(interval),
        "retry.maxAttempts": str(attempts),
        "retry.backoffRate": str(rate),
    }
    back_off = sum(interval * rate**n for n in range(attempts))
    try:
        read(3653, **overrides)
    except SettingsError as error:
        refused = str(error)
    else:
        refused = ""
    # 3 slots (1 log group, 3 months back) each with its back-off: over a year, the run cannot finish.
    if 3 * back_off > timing.MAX_EXECUTION_SECONDS:
        assert refused.startswith("kit.logExport.retry.maxAttempts: "), refused
    elif 3 * back_off < timing.MAX_EXECUTION_SECONDS - timing.run_seconds(
        timing.RunBounds(
            slots=3,
            retry_interval_seconds=1,
            retry_max_attempts=attempts,
            retry_backoff_rate=1,
            poll_interval_seconds=30,
            max_polls=120,
        )  # fmt: skip
    ):
        assert not refused.startswith("kit.logExport.retry."), refused


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    day_of_month=st.sampled_from(["1", "15", "29", "30", "31", "L", "1W", "15W", "31W", "29-31", "*/10"]),
    months=st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True),
)
def test_never_fires_agrees_with_the_kits_one_reading_of_a_cron_expressions_days(
    day_of_month: str, months: list[int]
) -> None:
    # stacks/settings/cron.py reads the date fields for every schedule check of the kit (the durable
    # ETL's too); 28 years hold every weekday and leap-year arrangement of a month.
    from stacks.settings.cron import day_matches

    expression = f"cron(0 3 {day_of_month} {','.join(map(str, months))} ? *)"
    fires = any(
        day_matches(datetime(year, month, day, tzinfo=UTC).date(), day_of_month, "?")
        for year in range(1970, 1998)
        for month in months
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
    )
    assert timing.never_fires(expression) == (not fires), expression
