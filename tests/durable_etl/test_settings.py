"""The durable ETL's settings: each wrong value refused with one line."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from tests.conftest import cdk_json_context
from tests.settings_cases import assert_refused, with_setting


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("durableEtl.timeZone", "Mars/Base", 'kit.durableEtl.timeZone: "Mars/Base" is not an IANA time zone name'),
        ("durableEtl.offPeakHour", 24, "kit.durableEtl.offPeakHour: 24 is not a whole number from 0 to 23"),
        ("durableEtl.batchSize", 5001, "kit.durableEtl.batchSize: 5001 is not a whole number from 1 to 5000"),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_allowed(path: str, value: Any, message: str) -> None:
    assert_refused(path, value, message)


@pytest.mark.parametrize(
    ("path", "value", "start"),
    [
        ("durableEtl.timeZone", "a" * 100_000, 'kit.durableEtl.timeZone: "aaa'),
        ("durableEtl.timeZone", "America", 'kit.durableEtl.timeZone: "America" is not'),
        ("durableEtl.timeZone", "../../etc/passwd", 'kit.durableEtl.timeZone: "../../etc/passwd" is not'),
        ("durableEtl.timeZone", "UTC\x00", 'kit.durableEtl.timeZone: "UTC\\u0000" is not'),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) <= 30 else type(v).__name__,
)
def test_odd_values_get_the_one_line_error(path: str, value: Any, start: str) -> None:
    assert_refused(path, value, start)


def test_at_expressions_are_for_the_scheduler_only() -> None:
    at = "at(2027-02-28T06:30:00)"
    assert (
        settings_from_context(with_setting("durableEtl.schedule.expression", at)).durable_etl.schedule_expression == at
    )
    for impossible in ("at(2027-02-29T06:30:00)", "at(2027-01-01T24:00:00)", "at(2027-1-01T06:30:00)"):
        with pytest.raises(SettingsError, match=r"durableEtl\.schedule\.expression"):
            settings_from_context(with_setting("durableEtl.schedule.expression", impossible))


def test_command_line_overrides_arrive_as_strings_and_are_validated() -> None:
    context = {**cdk_json_context(), "kit.durableEtl.schedule.enabled": "true"}
    assert settings_from_context(context).durable_etl.schedule_enabled is True
