"""Whether an EventBridge Scheduler cron expression can ever fire: `cron(0 3 31 2 ? *)` (February 31)
follows the grammar, deploys, and never runs.

The days each field names are read by `stacks/settings/cron.py`; this only asks whether some day
from `today` to the end of 2199 matches day-of-month, month, day-of-week and year together
(minutes and hours always match).
The settings ask from 1970 on, so that a synth does not depend on the day it runs.
"""

from __future__ import annotations

import calendar
import datetime

from stacks.settings.cron import MONTHS, day_matches, field_values

LAST_YEAR = 2199


def first_day(expression: str, today: datetime.date) -> datetime.date | None:
    """The first day from `today` on which the cron expression fires, or None if there is none.
    Rate and at(...) expressions are not asked about here (a rate always fires)."""
    if not expression.startswith("cron("):
        raise ValueError(f"{expression!r} is not a cron expression")
    _minutes, _hours, day_of_month, month, day_of_week, year = expression[5:-1].split(" ")
    months = field_values(month, 1, 12, MONTHS)
    years = sorted(y for y in field_values(year, 1970, LAST_YEAR) if y >= today.year)
    for candidate_year in years:
        for candidate_month in sorted(months):
            length = calendar.monthrange(candidate_year, candidate_month)[1]
            for number in range(1, length + 1):
                day = datetime.date(candidate_year, candidate_month, number)
                if day < today:
                    continue
                if day_matches(day, day_of_month, day_of_week):
                    return day
    return None
