"""A schedule that can never fire fails synth with the one-line settings error (`cron(0 3 31 2 ? *)`,
February 31, deploys and never runs); one that can fire is accepted. Checked against an oracle that
walks the calendar day by day with the standard library."""

from __future__ import annotations

import calendar
import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.durable_etl.schedule_days import first_day
from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from tests.conftest import cdk_json_context

TODAY = datetime.date(2026, 12, 7)
SHORT_MONTHS = [2, 4, 6, 9, 11]


def _fires(days: list[int], months: list[int], years: list[int]) -> bool:
    """Some listed day exists in some listed month of some listed year from TODAY on."""
    return any(
        datetime.date(y, m, d) >= TODAY
        for y in years
        for m in months
        for d in days
        if d <= calendar.monthrange(y, m)[1]
    )


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    days=st.lists(st.integers(1, 31), min_size=1, max_size=3, unique=True),
    months=st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True),
    years=st.one_of(st.just([]), st.lists(st.integers(2020, 2199), min_size=1, max_size=2, unique=True)),
)
def test_a_cron_expression_fires_exactly_when_one_of_its_days_exists(
    days: list[int], months: list[int], years: list[int]
) -> None:
    year_field = ",".join(map(str, years)) or "*"
    expression = f"cron(0 3 {','.join(map(str, days))} {','.join(map(str, months))} ? {year_field})"
    found = first_day(expression, TODAY)
    assert (found is not None) == _fires(days, months, years or list(range(TODAY.year, 2200))), expression
    if found is not None:
        assert found >= TODAY and found.day in days and found.month in months


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    day=st.integers(29, 31),
    months=st.lists(st.sampled_from(SHORT_MONTHS), min_size=1, max_size=3, unique=True),
    names=st.booleans(),
)
def test_a_schedule_on_a_day_its_months_do_not_have_fails_synth_in_one_line(
    day: int, months: list[int], names: bool
) -> None:
    years = "*"
    if day == 30:
        months = [2]  # every other month has a 30th
    if day == 29:
        months, years = [2], "2025,2027-2030/3,2100"  # none of them a leap year (2100 is not: Gregorian)
    month_field = ",".join(calendar.month_abbr[m].upper() if names else str(m) for m in months)
    expression = f"cron(0 3 {day} {month_field} ? {years})"
    with pytest.raises(SettingsError) as refused:
        settings_from_context({**cdk_json_context(), "kit.durableEtl.schedule.expression": expression})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f'kit.durableEtl.schedule.expression: "{expression}" is not a schedule that can fire')


@pytest.mark.parametrize(
    "expression",
    ["cron(0 22 * * ? *)", "cron(0 3 29 2 ? *)", "cron(0 3 29 2 ? 2024)", "cron(0 3 1 1 ? 2020)", "cron(0 3 31 * ? *)", "cron(0 3 L 2 ? *)", "cron(0 3 ? * 6#5 *)",
     "cron(0 3 ? * 2L *)", "cron(0 3 1W 2 ? *)", "rate(1 day)"],
)  # fmt: skip
def test_schedules_that_fire_are_accepted(expression: str) -> None:
    context = {**cdk_json_context(), "kit.durableEtl.schedule.expression": expression}
    assert settings_from_context(context).durable_etl.schedule_expression == expression


@pytest.mark.parametrize(
    ("expression", "first"),
    [
        ("cron(0 3 ? * 6#5 *)", datetime.date(2027, 1, 29)),  # the fifth Friday: not every month has one
        ("cron(0 3 ? * 2L *)", datetime.date(2026, 12, 28)),  # the month's last Monday
        ("cron(0 3 1W 8 ? 2027)", datetime.date(2027, 8, 2)),  # 1 Aug 2027 is a Sunday: Monday the 2nd
        ("cron(0 3 L 2 ? 2028)", datetime.date(2028, 2, 29)),  # a leap year's last day of February
        ("cron(0 3 ? * L *)", datetime.date(2026, 12, 12)),  # L alone: the week's last day, Saturday
    ],
)
def test_the_first_day_of_the_special_wildcards(expression: str, first: datetime.date) -> None:
    assert first_day(expression, TODAY) == first
