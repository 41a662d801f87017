"""Which days an EventBridge cron expression's date fields name: one reading for every workload's
schedule checks (the durable ETL's "can it ever fire", the log export's run timing).

The fields and wildcards are EventBridge's (EventBridge user guide, "Cron expressions reference"):
day-of-month 1-31 with `, - * ? / L W`, month 1-12 or JAN-DEC with `, - * /`, day-of-week 1-7 or
SUN-SAT (1 is Sunday) with `, - * ? L #`, year 1970-2199 with `, - * /`. The expression has already
passed the settings reader's grammar check. The reference does not say what `nW` means in a month
without day n; here it names no day of that month (a check then expects fewer runs, never more).
"""

from __future__ import annotations

import calendar
import datetime

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def field_values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values a list of `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s` items names (names count from `low`)."""

    def value(token: str) -> int:
        return names.index(token) + low if token in names else int(token)

    found: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            first, last = low, high
        else:
            start, dash, end = base.partition("-")
            first = value(start)
            last = value(end) if dash else (high if step else first)
        found.update(range(first, last + 1, int(step) if step else 1))
    return found


def eventbridge_weekday(day: datetime.date) -> int:
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


def _day_of_month_matches(field: str, day: datetime.date) -> bool:
    length = calendar.monthrange(day.year, day.month)[1]
    for item in field.split(","):
        if item == "L":
            if day.day == length:
                return True
        elif item.endswith("W"):
            if _nearest_weekday(day.year, day.month, int(item[:-1])) == day.day:
                return True
        elif day.day in field_values(item, 1, 31):
            return True
    return False


def _day_of_week_matches(field: str, day: datetime.date) -> bool:
    weekday = eventbridge_weekday(day)
    if "#" in field:
        name, nth = field.split("#")
        return weekday == field_values(name, 1, 7, WEEKDAYS).pop() and (day.day - 1) // 7 + 1 == int(nth)
    for item in field.split(","):
        if item == "L":
            if weekday == 7:
                return True
        elif item.endswith("L"):
            length = calendar.monthrange(day.year, day.month)[1]
            if weekday in field_values(item[:-1], 1, 7, WEEKDAYS) and day.day > length - 7:
                return True
        elif weekday in field_values(item, 1, 7, WEEKDAYS):
            return True
    return False


def day_matches(day: datetime.date, day_of_month: str, day_of_week: str) -> bool:
    """Whether `day` is named by the day-of-month and day-of-week fields (`?` names every day)."""
    if day_of_month != "?" and not _day_of_month_matches(day_of_month, day):
        return False
    return day_of_week == "?" or _day_of_week_matches(day_of_week, day)
