"""Whether an EventBridge Scheduler cron expression can ever fire: `cron(0 3 31 2 ? *)` (February 31)
follows the grammar, deploys, and never runs.

The fields and wildcards are EventBridge's (EventBridge user guide, "Cron expressions reference"):
day-of-month 1-31 with `, - * ? / L W`, month 1-12 or JAN-DEC with `, - * /`, day-of-week 1-7 or
SUN-SAT (1 is Sunday) with `, - * ? L #`, year 1970-2199 with `, - * /`. The expression has already
passed the settings reader's grammar check; this only asks whether some day from `today` to the end
of 2199 matches day-of-month, month, day-of-week and year together (minutes and hours always match).
The settings ask from 1970 on, so that a synth does not depend on the day it runs.
"""

from __future__ import annotations

import calendar
import datetime

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
LAST_YEAR = 2199


def _values(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values a list of `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s` items names."""

    def value(token: str) -> int:
        return names.index(token) + low if token in names else int(token)

    found: set[int] = set()
    for item in text.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            first, last = low, high
        else:
            start, dash, end = base.partition("-")
            first = value(start)
            last = value(end) if dash else (high if step else first)
        found.update(range(first, last + 1, int(step) if step else 1))
    return found


def _weekday(day: datetime.date) -> int:
    """EventBridge's day-of-week number: 1 is Sunday, 7 is Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, wanted: int) -> int | None:
    """`nW`: the weekday nearest to day n within the month (n past the month's end: no day)."""
    length = calendar.monthrange(year, month)[1]
    if wanted > length:
        return None
    day = datetime.date(year, month, wanted)
    if day.weekday() == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return wanted - 1 if wanted > 1 else wanted + 2
    if day.weekday() == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return wanted + 1 if wanted < length else wanted - 2
    return wanted


def _day_of_month_matches(text: str, day: datetime.date) -> bool:
    length = calendar.monthrange(day.year, day.month)[1]
    for item in text.split(","):
        if item == "L":
            if day.day == length:
                return True
        elif item.endswith("W"):
            if _nearest_weekday(day.year, day.month, int(item[:-1])) == day.day:
                return True
        elif day.day in _values(item, 1, 31):
            return True
    return False


def _day_of_week_matches(text: str, day: datetime.date) -> bool:
    weekday = _weekday(day)
    if "#" in text:
        name, nth = text.split("#")
        return weekday == _values(name, 1, 7, DAYS).pop() and (day.day - 1) // 7 + 1 == int(nth)
    for item in text.split(","):
        if item == "L":
            if weekday == 7:
                return True
        elif item.endswith("L") and item != "L":
            length = calendar.monthrange(day.year, day.month)[1]
            if weekday == _values(item[:-1], 1, 7, DAYS).pop() and day.day > length - 7:
                return True
        elif weekday in _values(item, 1, 7, DAYS):
            return True
    return False


def first_day(expression: str, today: datetime.date) -> datetime.date | None:
    """The first day from `today` on which the cron expression fires, or None if there is none.
    Rate and at(...) expressions are not asked about here (a rate always fires)."""
    if not expression.startswith("cron("):
        raise ValueError(f"{expression!r} is not a cron expression")
    _minutes, _hours, day_of_month, month, day_of_week, year = expression[5:-1].split(" ")
    months = _values(month, 1, 12, MONTHS)
    years = sorted(y for y in _values(year, 1970, LAST_YEAR) if y >= today.year)
    for candidate_year in years:
        for candidate_month in sorted(months):
            length = calendar.monthrange(candidate_year, candidate_month)[1]
            for number in range(1, length + 1):
                day = datetime.date(candidate_year, candidate_month, number)
                if day < today:
                    continue
                if day_of_month != "?" and not _day_of_month_matches(day_of_month, day):
                    continue
                if day_of_week != "?" and not _day_of_week_matches(day_of_week, day):
                    continue
                return day
    return None
