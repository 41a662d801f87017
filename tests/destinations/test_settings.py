"""The destinations workload's settings: each wrong value refused with one line."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from tests.settings_cases import assert_one_line, with_setting


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("destinations.maxRetryAttempts", 3, "kit.destinations.maxRetryAttempts: 3 is not a whole number from 0 to 2"),
        (
            "destinations.maxEventAgeSeconds",
            59,
            "kit.destinations.maxEventAgeSeconds: 59 is not a whole number from 60",
        ),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_allowed(path: str, value: Any, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context(with_setting(path, value))
    assert str(error.value).startswith(message)
    assert_one_line(error.value)
