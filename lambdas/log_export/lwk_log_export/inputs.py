"""The handlers' inputs, validated into typed values before anything touches AWS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidRequest, LogGroupNotConfigured, MonthNotClosed
from .months import Month


def _object(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidRequest(f"the input must be a JSON object, not {type(event).__name__}")
    return event


def required_string(event: Any, field: str, meaning: str) -> str:
    value = _object(event).get(field)
    if value is None:
        raise InvalidRequest(f"{field} is missing: {meaning} is required")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field}: {value!r} is not {meaning}")
    return value


def run_started_at(event: Any) -> datetime:
    """`runStartedAt`: when the execution started (`$$.Execution.StartTime`), which fixes its months."""
    text = required_string(event, "runStartedAt", "an ISO 8601 timestamp")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"runStartedAt: {text!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"runStartedAt: {text!r} has no time zone")
    return moment


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
                f"log group {log_group!r} is not exported by this deployment (configured: {', '.join(configured_groups)})"
            )
        current = Month.of(now)
        if month >= current:
            raise MonthNotClosed(
                f"month {month} is not over yet (it is {current} now, UTC): only closed months are exported"
            )
        return cls(log_group=log_group, month=month)
