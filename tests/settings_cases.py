"""Helpers of the settings tests: cdk.json's context with one setting replaced, and the one-line check.
Used by tests/test_settings.py (the kit's own settings) and each workload's tests/<workload>/test_settings.py."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from support.synth_cache import cdk_json_context


def with_setting(path: str, value: Any) -> dict[str, Any]:
    """cdk.json's context with one setting (dotted path under `kit`) replaced."""
    context = cdk_json_context()
    target = context["kit"]
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
    return context


def assert_one_line(error: SettingsError) -> None:
    message = str(error)
    assert len(message.splitlines()) == 1 and "\n" not in message, message
    assert len(message) < 600, message[:200]
    message.encode("utf-8")  # printable: no lone surrogates


def assert_refused(path: str, value: Any, start: str) -> None:
    """Setting `kit.<path>` to `value` fails with one line that starts with `start`."""
    with pytest.raises(SettingsError) as error:
        settings_from_context(with_setting(path, value))
    assert_one_line(error.value)
    assert str(error.value).startswith(start), str(error.value)[:300]
