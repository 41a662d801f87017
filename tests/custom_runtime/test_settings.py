"""The custom runtime's settings: each wrong value refused with one line."""

from __future__ import annotations

from typing import Any

import pytest

from tests.settings_cases import assert_refused


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("customRuntime.handler", "function", "kit.customRuntime.handler: \"function\" is not 'file.function'"),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_allowed(path: str, value: Any, message: str) -> None:
    assert_refused(path, value, message)
