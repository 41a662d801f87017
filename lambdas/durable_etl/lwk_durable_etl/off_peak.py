"""How long to wait for the next off-peak hour in a given time zone."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def seconds_until_off_peak(now: datetime, *, hour: int, zone: ZoneInfo) -> int:
    """Whole seconds from `now` (aware) until `hour`:00 local time; 0 while inside that hour.

    The target is built from the local calendar date, not by adding 24 h, so daylight-saving
    changes cannot shift it. On a spring-forward day, an hour the clock skips resolves (fold=0)
    to the moment the clock jumps; on a fall-back day, a repeated hour means its first occurrence.
    """
    local = now.astimezone(zone)
    if local.hour == hour:
        return 0
    day = local.date() if local.hour < hour else local.date() + timedelta(days=1)
    target = datetime.combine(day, time(hour), tzinfo=zone)
    return max(1, math.ceil((target.astimezone(UTC) - now.astimezone(UTC)).total_seconds()))
