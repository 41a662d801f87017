"""The settings refuse every wrong value with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from stacks.workloads import WORKLOADS, workload
from tests.conftest import REPO_ROOT, cdk_json_context
from tests.settings_cases import with_setting

# A registered workload's settings key, for checks that hold for any workload's settings.
FIRST_WORKLOAD = WORKLOADS[0].context_key


def _setting_paths(value: Any, path: str = "") -> list[str]:
    """Every key of cdk.json's `kit` object and every group of keys, dotted below `kit`."""
    if not isinstance(value, dict) or path == "tags":
        return [path]
    children = [p for name, child in value.items() for p in _setting_paths(child, f"{path}.{name}".lstrip("."))]
    return [path, *children] if path else children


# Every setting cdk.json has (a new one is fuzzed without anyone adding it here), the groups
# themselves, and keys nobody knows.
SETTING_PATHS = sorted({*_setting_paths(cdk_json_context()["kit"]), "colour", f"{FIRST_WORKLOAD}.jitter"})
# Every schedule expression a workload has: the grammar is the reader's, the same for each.
SCHEDULE_PATHS = [path for path in SETTING_PATHS if path.endswith("schedule.expression")]


_with = with_setting


def test_cdk_json_settings_are_valid_and_typed() -> None:
    settings = settings_from_context(cdk_json_context())
    assert settings.common.stage == cdk_json_context()["kit"]["stage"]
    # Each registered workload's settings, read into its own frozen dataclass.
    for entry in WORKLOADS:
        value = settings.of(entry.key)
        assert dataclasses.is_dataclass(value), entry.key
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, dataclasses.fields(value)[0].name, None)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("stage", "Prod", 'kit.stage: "Prod" is not 1 to 15 lowercase letters'),
        ("logRetentionDays", 10, "kit.logRetentionDays: 10 is not one of 1, 3, 5, 7, 14, 30"),
        ("alarmEmail", "ops-at-example", 'kit.alarmEmail: "ops-at-example" is not an e-mail address (or null)'),
        ("tags", ["x"], 'kit.tags: ["x"] is not an object of up to 49 tags, tag key -> tag value'),
        ("profile", "strict", 'kit.profile: "strict" is not one of "default", "hardened"'),
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
        ("colour", "kit.colour: is not a known setting (known: "),
        (f"{FIRST_WORKLOAD}.colour", f"kit.{FIRST_WORKLOAD}.colour: is not a known setting (known: "),
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


def _deeply_nested(depth: int) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return nested


# Each case starts the real `app.py` (an aws_cdk import and jsii's Node process: seconds). The fast tier
# runs one; the slow tier the odd inputs that cross the CLI/jsii boundary.
SLOW_ENTRY_POINT = pytest.mark.slow


def _cdk_json_with(path: str, value: Any) -> str:
    return json.dumps(_with(path, value))


@pytest.mark.parametrize(
    ("context_json", "line"),
    [
        pytest.param(
            json.dumps({**cdk_json_context(), "kit.logRetentionDays": "-1"}),
            "kit.logRetentionDays: -1 is not one of 1, 3, 5",
            id="negative",
        ),
        pytest.param(
            # Python's int() refuses strings past 4300 digits (a ValueError traceback before).
            json.dumps({**cdk_json_context(), "kit.logRetentionDays": "9" * 5000}),
            'kit.logRetentionDays: "' + "9" * 120 + "... (5000 characters) is not one of 1, 3, 5",
            id="5000-digit-string",
            marks=SLOW_ENTRY_POINT,
        ),
        pytest.param(
            # A number literal that long in cdk.json: Node reads it as Infinity, which arrives as null.
            json.dumps(cdk_json_context()).replace('"logRetentionDays": 60', '"logRetentionDays": ' + "9" * 5000),
            "kit.logRetentionDays: null is not one of 1, 3, 5",
            id="5000-digit-literal",
            marks=SLOW_ENTRY_POINT,
        ),
        pytest.param(
            # json.loads of a -c value nested this deep raised RecursionError.
            json.dumps({**cdk_json_context(), "kit.tags": "[" * 50_000 + "]" * 50_000}),
            'kit.tags: "' + "[" * 120 + "... (100000 characters) is not an object of up to 49 tags",
            id="deep-cli-json",
            marks=SLOW_ENTRY_POINT,
        ),
        pytest.param(
            # In cdk.json itself: jsii would recurse (or Node run out of memory) handing it to Python.
            _cdk_json_with("tags", _deeply_nested(3000)),
            "the CDK context (cdk.json, -c values) is nested more than 16 levels deep; no setting is nested",
            id="deep-cdk-json",
            marks=SLOW_ENTRY_POINT,
        ),
        pytest.param(
            _cdk_json_with("tags", {"aws:owner": "ops"}),
            'kit.tags: "aws:owner" is not a tag key: 1 to 128 letters, digits, spaces or _ . : / = + - @, not '
            "starting with aws: (reserved for AWS)",
            id="aws-tag",
            marks=SLOW_ENTRY_POINT,
        ),
        *(
            pytest.param(
                _cdk_json_with(path, "cron(0 22 * * ? *) || rate(1 minute)"),
                f'kit.{path}: "cron(0 22 * * ? *) || rate(1 minute)" is not an EventBridge',
                id="schedule",
                marks=SLOW_ENTRY_POINT,
            )
            for path in SCHEDULE_PATHS[:1]
        ),
    ],
)
def test_the_app_fails_synth_with_one_line_for_a_wrong_value(tmp_path: Path, context_json: str, line: str) -> None:
    # The real entry point, as the CLI starts it: context arrives in CDK_CONTEXT_JSON.
    env = {**os.environ, "CDK_CONTEXT_JSON": context_json, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
    assert result.stderr.strip().startswith("Invalid kit settings: " + line)
    assert not list(tmp_path.glob("*.template.json"))


def _assert_one_line(error: SettingsError) -> None:
    message = str(error)
    assert len(message.splitlines()) == 1 and "\n" not in message, message
    assert len(message) < 600, message[:200]
    message.encode("utf-8")  # printable: no lone surrogates


def _short_id(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return "huge-int"
    text = value if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 30 else f"{text[:20]}...{len(text)}"


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("path", "value", "start"),
    [
        ("logRetentionDays", "0" * 5000, 'kit.logRetentionDays: "000'),
        ("tags", DEEP_JSON, 'kit.tags: "[[['),
        ("tags", _deeply_nested(5000), "kit: is nested more than 8 levels deep"),
        ("tags", _deeply_nested(9), "kit: is nested more than 8 levels deep"),
        ("alarmEmail", "a@" + "a." * 100_000, 'kit.alarmEmail: "a@a.a.'),
        ("stage", "dev\u2028prod", 'kit.stage: "dev\\u2028prod" is not'),
        ("stage", "dev\rprod", 'kit.stage: "dev\\rprod" is not'),
        ("stage", "\ud800", 'kit.stage: "\\ud800" is not'),
        ("stage", "dev\u202eved", 'kit.stage: "dev\\u202eved" is not'),
        ("tags", {"aws:owner": "ops"}, 'kit.tags: "aws:owner" is not a tag key'),
        ("tags", {"AwS:owner": "ops"}, 'kit.tags: "AwS:owner" is not a tag key'),
        ("tags", {"owner": "aws:ops"}, "kit.tags: \"aws:ops\" is not a tag value (of 'owner')"),
        ("tags", {"k" * 129: "v"}, 'kit.tags: "kkk'),
        ("tags", {"k": "v" * 257}, 'kit.tags: "vvv'),
        ("tags", {"": "v"}, 'kit.tags: "" is not a tag key'),
        ("tags", {"a\nb": "v"}, 'kit.tags: "a\\nb" is not a tag key'),
        ("tags", {"a#b": "v"}, 'kit.tags: "a#b" is not a tag key'),
        ("tags", {"stage": "prod"}, 'kit.tags: "stage" is not free to set'),
        ("tags", {f"t{i}": "v" for i in range(50)}, "kit.tags: {"),
        ("tags", {"k": None}, "kit.tags: {"),
        (
            f"{FIRST_WORKLOAD}." + "x" * 100_000,
            1,
            f"kit.{FIRST_WORKLOAD}." + "x" * 120 + "... (100000 characters): is not a known",
        ),
    ],
    ids=lambda v: _short_id(v),
)
def test_odd_values_get_the_one_line_error(path: str, value: Any, start: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context(_with(path, value))
    _assert_one_line(error.value)
    assert str(error.value).startswith(start), str(error.value)[:300]


def test_tags_aws_accepts_are_accepted() -> None:
    tags = {"cost centre": "", "team/owner": "data-eng@example.com", "Grüße_1.2:3=4+5": "ünïcode", "k" * 128: "v" * 256}
    tags.update({f"t{i}": "v" for i in range(49 - len(tags))})
    assert settings_from_context(_with("tags", tags)).common.tags == tags


@pytest.mark.parametrize(
    "overrides",
    [
        {"kit." + ".".join(["a"] * 20): "1"},
        {"kit.stage.sub": "1"},
        {"kit.x\ny": "1"},
        {"kit": "[" * 100_000},
        {"kit": "{" * 30 + "}" * 30},
    ],
    ids=["20-levels", "inside-a-string", "newline", "deep-kit", "30-levels-kit"],
)
def test_odd_command_line_keys_get_the_one_line_error(overrides: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context({**cdk_json_context(), **overrides})
    _assert_one_line(error.value)


# EventBridge's documented grammar: rate(value unit), cron(6 fields), and for Scheduler at(...).
VALID_SCHEDULES = [
    "cron(0 22 * * ? *)",
    "cron(0 3 2 * ? *)",
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 10 ? * 6L 2002-2005)",
    "cron(0 0 L * ? *)",
    "cron(0 0 3W * ? *)",
    "cron(5,35 14 * JAN,FEB,MAR ? 2026)",
    "cron(*/5 * * * ? *)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(7 days)",
]
INVALID_SCHEDULES = [
    ("cron(0 22 * * ? *) || rate(1 minute)", "six fields"),
    ("cron(0 22 * * ? * *)", "six fields"),
    ("cron(0 22 * * ?)", "six fields"),
    ("cron(0  22 * * ? *)", "six fields"),
    ("cron(0 22 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 22 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(60 22 * * ? *)", "the minutes field '60' is not 0-59"),
    ("cron(0 24 * * ? *)", "the hours field '24' is not 0-23"),
    ("cron(0 22 0 * ? *)", "the day-of-month field '0' is not 1-31"),
    ("cron(0 22 * 13 ? *)", "the month field '13' is not 1-12 or JAN-DEC"),
    ("cron(0 22 ? * 8 *)", "the day-of-week field '8' is not 1-7 or SUN-SAT"),
    ("cron(0 22 * * ? 1969)", "the year field '1969' is not 1970-2199"),
    ("cron(0 22 ? * 3#1,6#3 *)", "day-of-week field"),
    ("cron(0 22 ? * 3#6 *)", "day-of-week field"),
    ("cron(0 22 * * ? 2030-2020)", "the year field"),
    ("cron(0 22 L * ? */0)", "the year field"),
    ("cron(0 22 ? * MON/2 *)", "the day-of-week field"),
    ("cron(0 W * * ? *)", "the hours field"),
    ("cron(\u0660 22 * * ? *)", "the minutes field"),  # an Arabic-Indic zero
    ("cron(0 22 * jan ? *)", "the month field"),
    ("rate(1 minutes)", "the unit of rate(1 ...) is minute or hour or day"),
    ("rate(5 minute)", "the unit of rate(5 ...) is minutes or hours or days"),
    ("rate(0 minutes)", "positive whole number"),
    ("rate(01 minute)", "positive whole number"),
    ("rate(-1 minutes)", "neither cron( nor rate("),
    ("rate(1.5 hours)", "neither cron( nor rate("),
    ("rate(5 seconds)", "the unit of rate(5 ...)"),
    ("rate(5 weeks)", "the unit of rate(5 ...)"),
    ("rate(5  minutes)", "neither cron( nor rate("),
    ("rate(" + "9" * 5000 + " days)", "longer than 256 characters"),
    ("every day", "neither cron( nor rate("),
    ("", "neither cron( nor rate("),
    ("CRON(0 22 * * ? *)", "neither cron( nor rate("),
]


@pytest.mark.parametrize("expression", VALID_SCHEDULES)
@pytest.mark.parametrize("path", SCHEDULE_PATHS)
def test_documented_schedule_expressions_are_accepted(path: str, expression: str) -> None:
    context = _with(path, expression)
    # The grammar only: whether an enabled schedule suits its workload (the log export's must keep
    # every month's logs) is that workload's own test.
    context[f"kit.{path.rsplit('.', 1)[0]}.enabled"] = "false"
    settings = settings_from_context(context)
    assert settings.of(workload(path.split(".")[0]).key).schedule_expression == expression


@pytest.mark.parametrize(("expression", "problem"), INVALID_SCHEDULES)
@pytest.mark.parametrize("path", SCHEDULE_PATHS)
def test_schedule_expressions_outside_the_grammar_are_refused(path: str, expression: str, problem: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from_context(_with(path, expression))
    _assert_one_line(error.value)
    assert problem in str(error.value)


# Any JSON value, including the odd ones: huge and negative numbers, non-finite floats, text with any
# character (control, format, surrogate-free), nested lists and objects.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**4000, max_value=10**4400)
    | st.floats()
    | st.text(max_size=300)
    | st.sampled_from(["9" * 5000, DEEP_JSON, "[" * 40 + "]" * 40, "cron(0 22 * * ? *)", "rate(1 minute)", "UTC"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(path=st.sampled_from(SETTING_PATHS), value=JSON_VALUES)
def test_any_value_anywhere_is_a_setting_or_one_line(path: str, value: Any) -> None:
    try:
        settings_from_context(_with(path, value))
    except SettingsError as error:
        _assert_one_line(error)


def _value_at(kit: dict[str, Any], path: str) -> Any:
    value: Any = kit
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def test_the_fuzzed_paths_cover_every_setting() -> None:
    assert {"stage", "tags", *(w.context_key for w in WORKLOADS)} <= set(SETTING_PATHS)
    kit = cdk_json_context()["kit"]
    leaves = [p for p in SETTING_PATHS if not isinstance(_value_at(kit, p), dict)]
    assert len(leaves) >= len(WORKLOADS) + 4, "every workload has settings, and the kit's common ones are there"


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(path=st.sampled_from(SETTING_PATHS), text=st.text(max_size=300) | st.sampled_from(["9" * 5000, DEEP_JSON]))
def test_any_command_line_text_is_a_setting_or_one_line(path: str, text: str) -> None:
    # What `-c kit.<path>=<text>` hands over: always a string, parsed as JSON where it is JSON.
    try:
        settings_from_context({**cdk_json_context(), f"kit.{path}": text})
    except SettingsError as error:
        _assert_one_line(error)
