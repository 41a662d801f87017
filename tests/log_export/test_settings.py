"""Settings of the log export workload that its own code adds to the foundation's checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.log_export.settings import export_bucket_policy_bytes
from stacks.settings import KitSettings, SettingsError, settings_from_context
from support.log_export_run import TWO_GROUPS, resources_of_type
from tests.conftest import cdk_json_context

WRITTEN_GROUPS = cdk_json_context()["kit"]["logExport"]["logGroups"]


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
