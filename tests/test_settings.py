"""The settings refuse every wrong value with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from stacks.settings import SettingsError, settings_from_context
from tests.conftest import REPO_ROOT, cdk_json_context


def _with(path: str, value: Any) -> dict[str, Any]:
    """cdk.json's context with one setting (dotted path under `kit`) replaced."""
    context = cdk_json_context()
    target = context["kit"]
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
    return context


def test_cdk_json_settings_are_valid_and_typed() -> None:
    settings = settings_from_context(cdk_json_context())
    assert settings.common.stage == "dev"
    assert settings.log_export.months_back == 3
    assert settings.log_export.log_groups == ("/lwk/dev/destinations/worker",)
    assert settings.durable_etl.time_zone == "UTC"
    assert settings.destinations.max_retry_attempts == 2
    assert settings.custom_runtime.handler == "function.handler"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("logExport.monthsBack", -1, "kit.logExport.monthsBack: -1 is not a whole number from 1 to 24"),
        ("logExport.monthsBack", 2.5, "kit.logExport.monthsBack: 2.5 is not a whole number from 1 to 24"),
        ("logExport.monthsBack", True, "kit.logExport.monthsBack: true is not a whole number from 1 to 24"),
        ("logExport.retry.backoffRate", 0.5, "kit.logExport.retry.backoffRate: 0.5 is not a number from 1 to 10"),
        ("logExport.logGroups", [], "kit.logExport.logGroups: [] is not a list of 1 to 20 unique CloudWatch Logs"),
        ("logExport.logGroups", ["a", "a"], "kit.logExport.logGroups: [\"a\", \"a\"] is not a list of 1 to 20 unique"),
        ("logExport.schedule.enabled", "yes", 'kit.logExport.schedule.enabled: "yes" is not true or false'),
        ("durableEtl.timeZone", "Mars/Base", 'kit.durableEtl.timeZone: "Mars/Base" is not an IANA time zone name'),
        ("durableEtl.offPeakHour", 24, "kit.durableEtl.offPeakHour: 24 is not a whole number from 0 to 23"),
        ("durableEtl.batchSize", 5001, "kit.durableEtl.batchSize: 5001 is not a whole number from 1 to 5000"),
        ("destinations.maxRetryAttempts", 3, "kit.destinations.maxRetryAttempts: 3 is not a whole number from 0 to 2"),
        ("destinations.maxEventAgeSeconds", 59, "kit.destinations.maxEventAgeSeconds: 59 is not a whole number from 60"),
        ("customRuntime.handler", "function", 'kit.customRuntime.handler: "function" is not \'file.function\''),
        ("stage", "Prod", 'kit.stage: "Prod" is not 1 to 15 lowercase letters'),
        ("logRetentionDays", 10, "kit.logRetentionDays: 10 is not one of 1, 3, 5, 7, 14, 30"),
        ("alarmEmail", "ops-at-example", 'kit.alarmEmail: "ops-at-example" is not an e-mail address (or null)'),
        ("tags", ["x"], 'kit.tags: ["x"] is not an object of tag names to tag values'),
        ("logExport", 3, "kit.logExport: 3 is not an object"),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_allowed(path: str, value: Any, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context(_with(path, value))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("logExport.monthBack", "kit.logExport.monthBack: is not a known setting (known: "),
        ("durableEtl.schedule.cron", "kit.durableEtl.schedule.cron: is not a known setting"),
        ("colour", "kit.colour: is not a known setting"),
    ],
)
def test_an_unknown_key_is_an_error(path: str, message: str) -> None:
    with pytest.raises(SettingsError, match="^" + message.replace("(", r"\(")):
        settings_from_context(_with(path, 1))


def test_a_missing_required_value_is_an_error() -> None:
    context = cdk_json_context()
    del context["kit"]["stage"]
    with pytest.raises(SettingsError, match=r"^kit\.stage: is required$"):
        settings_from_context(context)


def test_command_line_overrides_arrive_as_strings_and_are_validated() -> None:
    context = {**cdk_json_context(), "kit.logExport.monthsBack": "6", "kit.durableEtl.schedule.enabled": "true"}
    settings = settings_from_context(context)
    assert settings.log_export.months_back == 6
    assert settings.durable_etl.schedule_enabled is True
    with pytest.raises(SettingsError, match=r'^kit\.logExport\.monthsBack: "six" is not a whole number'):
        settings_from_context({**cdk_json_context(), "kit.logExport.monthsBack": "six"})
    with pytest.raises(SettingsError, match=r'^kit\.logRetentionDays: "³0" is not one of'):
        settings_from_context({**cdk_json_context(), "kit.logRetentionDays": "³0"})
    with pytest.raises(SettingsError, match=r"^kit\.logExport\.maxPoll: is not a known setting"):
        settings_from_context({**cdk_json_context(), "kit.logExport.maxPoll": "3"})


def test_list_override_from_the_command_line() -> None:
    context = {**cdk_json_context(), "kit.logExport.logGroups": '["/a", "/b"]'}
    assert settings_from_context(context).log_export.log_groups == ("/a", "/b")


def test_the_app_fails_synth_with_one_line_for_a_wrong_value(tmp_path) -> None:
    # The real entry point, as the CLI starts it: context arrives in CDK_CONTEXT_JSON.
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), "kit.logExport.monthsBack": "-1"}),
        "CDK_OUTDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Invalid kit settings: kit.logExport.monthsBack: -1 is not a whole number from 1 to 24"
    )
    assert not list(tmp_path.glob("*.template.json"))
