"""Settings of the log export workload that its own code adds to the foundation's checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.kit_settings import KitSettings, settings_from_context
from stacks.log_export.settings import DEFAULT_LOG_GROUPS, export_bucket_policy_bytes
from stacks.settings import SettingsError
from support.log_export_run import TWO_GROUPS, resources_of_type
from tests.conftest import cdk_json_context
from tests.settings_cases import assert_one_line, assert_refused, with_setting

DEEP_JSON = "[" * 100_000 + "]" * 100_000

# cdk.json's, or the default where a removed workload took cdk.json's last one.
WRITTEN_GROUPS = cdk_json_context()["kit"]["logExport"].get("logGroups", DEFAULT_LOG_GROUPS)


def read(**overrides: str) -> KitSettings:
    return settings_from_context({**cdk_json_context(), **{f"kit.logExport.{k}": v for k, v in overrides.items()}})


def test_cdk_json_defaults() -> None:
    settings = read().log_export
    assert settings.log_groups == tuple(g.replace("{stage}", "dev") for g in WRITTEN_GROUPS)
    assert (settings.retry_interval_seconds, settings.retry_max_attempts, settings.retry_backoff_rate) == (60, 5, 2)


def test_the_default_log_group_follows_the_stage() -> None:
    context = {**cdk_json_context(), "kit.stage": "prod"}
    assert settings_from_context(context).log_export.log_groups == tuple(
        g.replace("{stage}", "prod") for g in WRITTEN_GROUPS
    )


def test_a_log_group_that_the_stage_makes_a_duplicate_is_refused() -> None:
    with pytest.raises(
        SettingsError, match=r"kit\.logExport\.logGroups: .*distinct log groups once \{stage\} is 'dev'"
    ):
        read(logGroups=json.dumps(["/app/{stage}", "/app/dev"]))


def test_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"kit\.logExport\.logGroups: .*\{region\}.* is not a list of 1 to 20"):
        read(logGroups=json.dumps(["/app/{region}"]))


def test_two_log_groups_that_would_share_an_s3_prefix_are_refused() -> None:
    with pytest.raises(SettingsError, match=r"kit\.logExport\.logGroups: .*'/app' and 'app' both export to 'app'/"):
        read(logGroups=json.dumps(["/app", "app"]))


def test_a_log_group_name_of_only_slashes_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"kit\.logExport\.logGroups: .*'/' is only slashes"):
        read(logGroups=json.dumps(["/"]))


@pytest.mark.parametrize(
    ("key", "value", "message"), [("monthsBack", "0", "from 1 to 24"), ("maxPolls", "0", "from 1 to 1000")]
)
def test_out_of_range_values_name_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=rf"kit\.logExport\.{key}: {value} is not a whole number {message}"):
        read(**{key: value})


def test_log_groups_that_would_not_fit_in_lambdas_4_kb_of_environment_are_refused() -> None:
    # 20 names of 512 characters pass every per-name check, but LOG_GROUPS would hold 10 KB.
    too_many = [f"/{n:02d}" + "x" * 509 for n in range(8)]
    with pytest.raises(SettingsError, match=r"kit\.logExport\.logGroups: .*fit in Lambda's 4096 bytes"):
        read(logGroups=json.dumps(too_many))
    # 7 fit in the environment, but their per-group bucket-policy statements would not fit in 20 KB.
    with pytest.raises(SettingsError, match=r"kit\.logExport\.logGroups: .*S3's 20480 bytes of bucket policy"):
        read(logGroups=json.dumps(too_many[:7]))
    assert read(logGroups=json.dumps(too_many[:6])).log_export.log_groups == tuple(too_many[:6])


def _resolved(value: Any) -> Any:
    """A template value with the pseudo parameters and the bucket's ARN at their longest."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_resolved(part) for part in value["Fn::Join"][1])
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return {"AWS::Partition": "aws-iso-b", "AWS::Region": "ap-southeast-5", "AWS::AccountId": "123456789012"}[
            value["Ref"]
        ]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "arn:aws-iso-b:s3:::" + "x" * 63
    if isinstance(value, dict):
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    return value


def test_the_bucket_policy_estimate_bounds_the_synthesized_policy(two_group_template: dict[str, Any]) -> None:
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in resources_of_type(two_group_template, "AWS::S3::BucketPolicy").values()
        if any(st.get("Sid") == "CloudWatchLogsAclCheck" for st in p["Properties"]["PolicyDocument"]["Statement"])
    ]
    synthesized = len(json.dumps(_resolved(policy), separators=(",", ":")).encode())
    assert synthesized <= export_bucket_policy_bytes(tuple(TWO_GROUPS)) <= synthesized + 64


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("logExport.monthsBack", -1, "kit.logExport.monthsBack: -1 is not a whole number from 1 to 24"),
        ("logExport.monthsBack", 2.5, "kit.logExport.monthsBack: 2.5 is not a whole number from 1 to 24"),
        ("logExport.monthsBack", True, "kit.logExport.monthsBack: true is not a whole number from 1 to 24"),
        ("logExport.retry.backoffRate", 0.5, "kit.logExport.retry.backoffRate: 0.5 is not a number from 1 to 10"),
        ("logExport.logGroups", [], "kit.logExport.logGroups: [] is not a list of 1 to 20 unique CloudWatch Logs"),
        ("logExport.logGroups", ["a", "a"], 'kit.logExport.logGroups: ["a", "a"] is not a list of 1 to 20 unique'),
        ("logExport.schedule.enabled", "yes", 'kit.logExport.schedule.enabled: "yes" is not true or false'),
        ("logExport", 3, "kit.logExport: 3 is not an object"),
    ],
)
def test_a_wrong_value_names_key_value_and_what_is_allowed(path: str, value: Any, message: str) -> None:
    assert_refused(path, value, message)


@pytest.mark.parametrize(
    ("path", "value", "start"),
    [
        ("logExport.monthsBack", "9" * 5000, 'kit.logExport.monthsBack: "999'),
        ("logExport.monthsBack", 10**5000, "kit.logExport.monthsBack: a whole number of about 5001 digits is not"),
        ("logExport.monthsBack", -(10**5000), "kit.logExport.monthsBack: a whole number of about 5001 digits"),
        ("logExport.monthsBack", float("inf"), "kit.logExport.monthsBack: Infinity is not"),
        ("logExport.monthsBack", None, "kit.logExport.monthsBack: null is not"),
        ("logExport.monthsBack", "١٢", 'kit.logExport.monthsBack: "١٢" is not'),
        ("logExport.monthsBack", {"a": 1}, 'kit.logExport.monthsBack: {"a": 1} is not'),
        ("logExport.retry.backoffRate", "9" * 5000, 'kit.logExport.retry.backoffRate: "999'),
        ("logExport.retry.backoffRate", "1_0", 'kit.logExport.retry.backoffRate: "1_0" is not'),
        ("logExport.retry.backoffRate", "nan", 'kit.logExport.retry.backoffRate: "nan" is not'),
        ("logExport.retry.backoffRate", float("nan"), "kit.logExport.retry.backoffRate: NaN is not"),
        ("logExport.retry.backoffRate", "٣", 'kit.logExport.retry.backoffRate: "٣" is not'),
        ("logExport.logGroups", DEEP_JSON, 'kit.logExport.logGroups: "[[['),
        ("logExport.logGroups", ["/a"] * 100_000, 'kit.logExport.logGroups: ["/a", "/a"'),
        ("logExport.logGroups", [10**5000], "kit.logExport.logGroups: a list that cannot be shown"),
        ("logExport.logGroups", [["/a"]], 'kit.logExport.logGroups: [["/a"]] is not'),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) <= 30 else type(v).__name__,
)
def test_odd_values_get_the_one_line_error(path: str, value: Any, start: str) -> None:
    assert_refused(path, value, start)


def test_command_line_overrides_arrive_as_strings_and_are_validated() -> None:
    assert settings_from_context({**cdk_json_context(), "kit.logExport.monthsBack": "6"}).log_export.months_back == 6
    with pytest.raises(SettingsError, match=r'^kit\.logExport\.monthsBack: "six" is not a whole number'):
        settings_from_context({**cdk_json_context(), "kit.logExport.monthsBack": "six"})
    with pytest.raises(SettingsError, match=r"^kit\.logExport\.maxPoll: is not a known setting"):
        settings_from_context({**cdk_json_context(), "kit.logExport.maxPoll": "3"})


def test_list_override_from_the_command_line() -> None:
    context = {**cdk_json_context(), "kit.logExport.logGroups": '["/a", "/b"]'}
    assert settings_from_context(context).log_export.log_groups == ("/a", "/b")


def test_at_expressions_are_for_the_scheduler_only() -> None:
    with pytest.raises(SettingsError, match=r"at\(\.\.\.\) is for EventBridge Scheduler's one-time schedules"):
        settings_from_context(with_setting("logExport.schedule.expression", "at(2027-02-28T06:30:00)"))


def test_a_log_group_of_a_workload_that_is_not_registered_is_refused() -> None:
    from stacks.settings.common import APP_NAME

    with pytest.raises(SettingsError) as error:
        settings_from_context(with_setting("logExport.logGroups", [f"/{APP_NAME}/{{stage}}/no-such-workload/worker"]))
    assert_one_line(error.value)
    assert "belongs to workload 'no-such-workload', which is not registered" in str(error.value)
