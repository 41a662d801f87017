"""The destinations workload's settings: each wrong value refused with one line."""

from __future__ import annotations

from typing import Any

import pytest

from tests.settings_cases import assert_refused


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
    assert_refused(path, value, message)
