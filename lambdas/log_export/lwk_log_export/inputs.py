"""The handlers' inputs, validated into typed values before anything touches AWS.

A refused value is described by its type and size, never quoted: Lambda writes an unhandled error's
message to the function's log, and logs carry no event content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .contract import FIRST_EXPORTABLE_YEAR, MAX_SLOTS, NO_SLOT_YET
from .errors import InvalidRequest, LogGroupNotConfigured, MonthNotClosed, describe
from .months import Month, closed_months

# $$.Execution.StartTime is the time the run started: never later than now, bar clock skew.
FUTURE_TOLERANCE = timedelta(minutes=15)
# An export task id as CloudWatch Logs hands them out (a UUID); checked before it reaches a log line.
_TASK_ID = re.compile(r"[0-9A-Za-z-]{1,128}")


def _object(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidRequest(f"the input must be a JSON object, not {describe(event)}")
    return event


def required_string(event: Any, field: str, meaning: str) -> str:
    value = _object(event).get(field)
    if value is None:
        raise InvalidRequest(f"{field} is missing: {meaning} is required")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field}: {describe(value)} is not {meaning}")
    return value


def task_id(event: Any) -> str:
    """`taskId`: the export task to report on."""
    value = required_string(event, "taskId", "an export task id")
    if not _TASK_ID.fullmatch(value):
        raise InvalidRequest(f"taskId: {describe(value)} is not an export task id (1 to 128 of A-Z, a-z, 0-9, -)")
    return value


def run_started_at(event: Any, *, now: datetime) -> datetime:
    """`runStartedAt`: when the execution started (`$$.Execution.StartTime`), which fixes its months."""
    text = required_string(event, "runStartedAt", "an ISO 8601 timestamp")
    try:
        # astimezone raises OverflowError where the time zone pushes the moment past year 1 or 9999.
        moment = datetime.fromisoformat(text)
        in_utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"runStartedAt: {describe(text)} is not an ISO 8601 timestamp with a time zone between the years "
            f"{FIRST_EXPORTABLE_YEAR} and now"
        ) from None
    if in_utc is None:
        raise InvalidRequest(f"runStartedAt: {describe(text)} has no time zone")
    if in_utc > now + FUTURE_TOLERANCE:
        raise InvalidRequest(f"runStartedAt: {in_utc.isoformat()} lies in the future (it is {now.isoformat()} now)")
    return in_utc


def slot_cursor(event: Any) -> int:
    """`after`: the index of the slot this run tried last (NO_SLOT_YET before its first). A run only
    moves forward, so one slot's failure can neither block the slots after it nor be tried twice."""
    value = _object(event).get("after", NO_SLOT_YET)
    # A whole number may arrive as a JSON float (-1.0): Step Functions' JSONPath numbers are not typed.
    whole = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
    if not whole or not NO_SLOT_YET <= value < MAX_SLOTS:
        raise InvalidRequest(f"after: {describe(value)} is not a slot index from {NO_SLOT_YET} to {MAX_SLOTS - 1}")
    return int(value)


def run_months(event: Any, *, months_back: int, now: datetime) -> list[Month]:
    """The closed months a run considers: the `months_back` months before the month it started in."""
    started = run_started_at(event, now=now)
    months = closed_months(Month.of(started), months_back)
    if months[0].year < FIRST_EXPORTABLE_YEAR:
        raise InvalidRequest(
            f"runStartedAt: a run started in {Month.of(started)} would export {months[0]} to {months[-1]} "
            f"({months_back} months back), but CloudWatch Logs time starts in {FIRST_EXPORTABLE_YEAR}-01"
        )
    return months


@dataclass(frozen=True)
class ExportRequest:
    log_group: str
    month: Month

    @classmethod
    def parse(cls, event: Any, *, configured_groups: Sequence[str], now: datetime) -> ExportRequest:
        log_group = required_string(event, "logGroup", "a CloudWatch Logs log group name")
        month = Month.parse(required_string(event, "month", "a month written YYYY-MM"))
        if log_group not in configured_groups:
            raise LogGroupNotConfigured(
                f"logGroup: {describe(log_group)} is not one of the log groups this deployment exports "
                f"(configured: {', '.join(configured_groups)})"
            )
        current = Month.of(now)
        if month >= current:
            raise MonthNotClosed(
                f"month {month} is not over yet (it is {current} now, UTC): only closed months are exported"
            )
        return cls(log_group=log_group, month=month)
