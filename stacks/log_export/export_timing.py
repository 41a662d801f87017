"""When the log export runs and how long a run can take, worked out from the settings at synth time.

Pure arithmetic (standard library only), so the settings can refuse what would lose logs or never end:

- `schedule_fires` evaluates an EventBridge rule schedule (`cron(...)`, `rate(...)`) over a reference
  window of 28 whole years: from 1901 to 2099 the Gregorian calendar repeats its weekdays and leap
  years every 28 years, so any month of any year in that range has its twin in the window.
- `month_attempts` names, for each month, the scheduled runs that consider it: those after the month
  closes and no later than `monthsBack` months on (a run considers the `monthsBack` months before its own).
- `run_seconds` bounds a run's duration from the definition's own bounds (slots, Lambda timeouts and
  retries, the LimitExceededException back-off, the status checks).
- `retention_needed_seconds` is how long an exported group must keep an event so that the run that
  first considers its month, and the run after it (one retry), both find it: from the start of the
  month to the end of the second run, plus slack.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from stacks.settings.cron import MONTHS, day_matches, field_values

DAY = 86400
# Step Functions' maximum execution time for a Standard workflow: one year (Step Functions quotas).
MAX_EXECUTION_SECONDS = 365 * DAY
# Runs after the first one that must still find a month's events: a failed slot is tried again by
# the next scheduled run, after the failure notice and alarm gave someone the time to fix the cause.
RETRY_RUNS = 1
# Margin on top of the computed need: EventBridge starts a scheduled rule "within a minute" and
# CloudWatch Logs' retention counts whole days from the event's timestamp; a day covers both.
SLACK_SECONDS = DAY
WINDOW_FIRST_YEAR = 2000  # a leap year, as 2000 was (divisible by 400)
WINDOW_YEARS = 28

# The handlers' timeouts (export_handlers): BucketCheck lists one key per slot, the others make one call.
BUCKET_CHECK_TIMEOUT_SECONDS = 120
TASK_TIMEOUT_SECONDS = 30

# Lambda's own transient faults are retried by every task (export_definition): 6 more attempts, 2 s x 2^n.
LAMBDA_SERVICE_ATTEMPTS = 1 + 6
LAMBDA_SERVICE_BACKOFF_SECONDS = sum(2 << n for n in range(6))  # 2 s, 4 s, ... 64 s


@dataclass(frozen=True)
class RunBounds:
    """What bounds one run: every figure comes from the settings and the definition."""

    slots: int  # log groups x monthsBack: a run tries each at most once
    retry_interval_seconds: int
    retry_max_attempts: int
    retry_backoff_rate: float
    poll_interval_seconds: int
    max_polls: int
    bucket_check_timeout_seconds: int = BUCKET_CHECK_TIMEOUT_SECONDS
    task_timeout_seconds: int = TASK_TIMEOUT_SECONDS  # LogsExport and ExportStatus
    notice_seconds: int = 60  # one SNS Publish, generously


def limit_back_off_seconds(bounds: RunBounds) -> float:
    """The longest LimitExceededException back-off of one slot: interval x rate^n over the retries."""
    return float(
        sum(bounds.retry_interval_seconds * bounds.retry_backoff_rate**n for n in range(bounds.retry_max_attempts))
    )


def _lambda_task_seconds(timeout: int) -> int:
    return LAMBDA_SERVICE_ATTEMPTS * timeout + LAMBDA_SERVICE_BACKOFF_SECONDS


def run_seconds(bounds: RunBounds) -> float:
    """The longest a run can take: each slot's check, export (with its back-off), status checks and
    notice, and the final check. A run ends within this, whatever AWS answers."""
    export_attempts = 1 + bounds.retry_max_attempts
    per_slot = (
        _lambda_task_seconds(bounds.bucket_check_timeout_seconds)
        + export_attempts * _lambda_task_seconds(bounds.task_timeout_seconds)
        + limit_back_off_seconds(bounds)
        + bounds.max_polls * (bounds.poll_interval_seconds + _lambda_task_seconds(bounds.task_timeout_seconds))
        + bounds.notice_seconds
    )
    return bounds.slots * per_slot + _lambda_task_seconds(bounds.bucket_check_timeout_seconds)


# ---- schedules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fires:
    """A schedule's first and second start of each day it fires on, in the reference window (UTC)."""

    days: list[date]
    first: list[datetime]
    second: list[datetime | None]
    period_seconds: int | None = None  # rate(...): EventBridge picks the phase, so only the period is known

    def after(self, moment: datetime, count: int) -> list[datetime]:
        """The first `count` starts at or after `moment` (fewer if the window ends first)."""
        if self.period_seconds is not None:
            # Worst phase: the first start comes a whole period after `moment`.
            return [moment + timedelta(seconds=self.period_seconds * n) for n in range(1, count + 1)]
        found: list[datetime] = []
        index = bisect.bisect_left(self.days, moment.date())
        while len(found) < count and index < len(self.days):
            for start in (self.first[index], self.second[index]):
                if start is not None and start >= moment and len(found) < count:
                    found.append(start)
            index += 1
        return found


@functools.lru_cache(maxsize=64)
def schedule_fires(expression: str) -> Fires:
    """The starts of an EventBridge rule schedule expression already checked by `schedule_problem`."""
    if rate := re.fullmatch(r"rate\(([0-9]+) (minutes?|hours?|days?)\)", expression):
        unit = {"m": 60, "h": 3600, "d": DAY}[rate.group(2)[0]]
        return Fires([], [], [], period_seconds=int(rate.group(1)) * unit)
    minutes, hours, day_of_month, month, day_of_week, year = expression[len("cron(") : -1].split(" ")
    if year != "*":
        raise ValueError("a schedule limited to some years stops exporting after them")
    minute_set, hour_set = sorted(field_values(minutes, 0, 59)), sorted(field_values(hours, 0, 23))
    months = field_values(month, 1, 12, MONTHS)
    times = [(h, m) for h in hour_set for m in minute_set][:2]
    days: list[date] = []
    first: list[datetime] = []
    second: list[datetime | None] = []
    # The window and the 24 months (monthsBack at most) after it.
    for calendar_year in range(WINDOW_FIRST_YEAR, WINDOW_FIRST_YEAR + WINDOW_YEARS + 3):
        for number in sorted(months):
            for day_number in range(1, calendar.monthrange(calendar_year, number)[1] + 1):
                day = date(calendar_year, number, day_number)
                if not day_matches(day, day_of_month, day_of_week):
                    continue
                starts = [datetime(calendar_year, number, day_number, h, m, tzinfo=UTC) for h, m in times]
                days.append(day)
                first.append(starts[0])
                second.append(starts[1] if len(starts) > 1 else None)
    return Fires(days, first, second)


def window_months() -> Iterator[tuple[int, int]]:
    """The months whose closing is checked: the reference window."""
    for year in range(WINDOW_FIRST_YEAR, WINDOW_FIRST_YEAR + WINDOW_YEARS):
        for month in range(1, 13):
            yield year, month


def month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MonthAttempts:
    year: int
    month: int
    starts: list[datetime]  # the runs that consider the month, at most 1 + RETRY_RUNS of them

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_attempts(fires: Fires, months_back: int) -> Iterator[MonthAttempts]:
    """For every month of the window, the first 1 + RETRY_RUNS runs that consider it."""
    for year, month in window_months():
        closes = month_start(year, month + 1)
        # A run in month X considers X-monthsBack .. X-1: runs from `closes` until `last_considered` ends.
        too_late = month_start(year, month + 1 + months_back)
        starts = [s for s in fires.after(closes, 1 + RETRY_RUNS) if s < too_late]
        yield MonthAttempts(year, month, starts)


def retention_needed_seconds(expression: str, months_back: int, bounds: RunBounds) -> tuple[float, str]:
    """The shortest retention that keeps every event of every month until the run that first considers
    its month and the one after it have ended, and the month where that is tightest. Raises
    ValueError naming a month that fewer than 1 + RETRY_RUNS runs consider."""
    fires = schedule_fires(expression)
    worst, where = 0.0, ""
    for attempts in month_attempts(fires, months_back):
        if len(attempts.starts) < 1 + RETRY_RUNS:
            raise ValueError(attempts.label + f" is considered by {len(attempts.starts)} run(s)")
        need = (attempts.starts[-1] - month_start(attempts.year, attempts.month)).total_seconds()
        if need > worst:
            worst, where = need, attempts.label
    return worst + run_seconds(bounds) + SLACK_SECONDS, where


def never_fires(expression: str) -> bool:
    """True if the schedule starts no run at all (`cron(0 3 31 2 ? *)`: February has no 31st)."""
    fires = schedule_fires(expression)
    return fires.period_seconds is None and not fires.days
