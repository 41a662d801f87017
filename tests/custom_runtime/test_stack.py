"""The custom runtime stack as synthesized: the function, its permissions, its asset, its settings."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.custom_runtime import CustomRuntimeSettings, CustomRuntimeStack
from stacks.kit_settings import settings_from_context
from stacks.settings import CommonSettings, SettingsError
from stacks.settings.common import APP_NAME
from tests.conftest import KitAssembly, cdk_json_context
from tests.custom_runtime.layout import SOURCE_DIR

WORKLOAD = "custom-runtime"
COMMON = CommonSettings(stage="test", tags={}, log_retention_days=30, alarm_email=None)


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = _resources(template, resource_type)
    assert len(found) == 1, found
    return next(iter(found.items()))


def test_the_function_runs_the_bash_runtime_with_tracing_and_json_logs(kit: KitAssembly) -> None:
    kit.template(WORKLOAD).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "provided.al2023",
            "Handler": "function.handler",
            "Architectures": ["arm64"],
            "MemorySize": 128,
            "Timeout": 10,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like({"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}),
        },
    )
    kit.template(WORKLOAD).resource_count_is("AWS::Lambda::Function", 1)


def test_the_live_alias_points_at_the_current_version(kit: KitAssembly) -> None:
    template = kit.templates[WORKLOAD]
    function_id, _ = _only(template, "AWS::Lambda::Function")
    version_id, version = _only(template, "AWS::Lambda::Version")
    _, alias = _only(template, "AWS::Lambda::Alias")

    assert version["Properties"]["FunctionName"] == {"Ref": function_id}
    assert alias["Properties"] == {
        "FunctionName": {"Ref": function_id},
        "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
        "Name": "live",
    }


def test_the_role_may_trace_and_write_its_own_log_group_and_nothing_else(kit: KitAssembly) -> None:
    template = kit.templates[WORKLOAD]
    _, function = _only(template, "AWS::Lambda::Function")
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    log_group_id, _ = _only(template, "AWS::Logs::LogGroup")
    role = template["Resources"][role_id]["Properties"]
    statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    # X-Ray's two write actions accept no resource but "*": that is as tight as AWS allows, so the
    # statement holds those two and nothing more.
    assert {
        "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Effect": "Allow",
        "Resource": "*",
    } in statements
    assert [s for s in statements if s["Resource"] == "*"] == [
        {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"}
    ]
    others = [s for s in statements if s["Resource"] != "*"]
    assert others == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
        }
    ]


def test_the_log_group_is_the_kits_with_its_retention(kit: KitAssembly) -> None:
    common = settings_from_context(cdk_json_context()).common
    kit.template(WORKLOAD).has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": f"/{APP_NAME}/{common.stage}/custom-runtime/bash-function",
            "RetentionInDays": common.log_retention_days,
        },
    )


def _staged_asset(kit: KitAssembly) -> Path:
    _, function = _only(kit.templates[WORKLOAD], "AWS::Lambda::Function")
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    manifest = json.loads((kit.outdir / f"{kit.stack_names[WORKLOAD]}.assets.json").read_text())
    return kit.outdir / manifest["files"][asset_hash]["source"]["path"]


def test_the_staged_asset_holds_an_executable_bootstrap_and_the_handlers_only(kit: KitAssembly) -> None:
    asset = _staged_asset(kit)
    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*"))
    bootstrap_mode = (asset / "bootstrap").stat().st_mode

    assert files == ["bootstrap", "function.sh", "greeting.sh"]
    # Lambda execs the bootstrap: without the execute bits the function fails with Runtime.InvalidEntrypoint.
    # The CLI zips the staged folder at deploy time and copies each file's mode into the archive.
    # Readable and executable by everyone, writable by no one else (a 002 umask at checkout gives 775).
    assert stat.S_IMODE(bootstrap_mode) & 0o555 == 0o555 and not stat.S_IMODE(bootstrap_mode) & 0o002
    assert (asset / "bootstrap").read_bytes() == (SOURCE_DIR / "bootstrap").read_bytes()


def _stack_template(settings: CustomRuntimeSettings) -> dict[str, Any]:
    # The kit's own synth runs with this off too (stacks/kit_app.py): cfn-lint covers it, at 4 s less.
    app = cdk.App(builtin_cloud_formation_validation=False)
    stack = CustomRuntimeStack(app, "CustomRuntimeUnderTest", common=COMMON, settings=settings)
    return dict(Template.from_stack(stack).to_json())


def test_settings_reach_the_function() -> None:
    template = _stack_template(CustomRuntimeSettings(handler="greeting.handler", memory_mb=512, timeout_seconds=30))

    _, function = _only(template, "AWS::Lambda::Function")
    properties = function["Properties"]
    assert (properties["Handler"], properties["MemorySize"], properties["Timeout"]) == ("greeting.handler", 512, 30)


@pytest.mark.parametrize(
    ("handler", "problem"),
    [
        ("nothing.handler", '"nothing.handler" names lambdas/custom_runtime/nothing.sh, which does not exist'),
        ("greeting.greet", '"greeting.greet": lambdas/custom_runtime/greeting.sh defines no function greet'),
    ],
)
def test_a_handler_the_asset_lacks_fails_the_synth(handler: str, problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        _stack_template(CustomRuntimeSettings(handler=handler, memory_mb=128, timeout_seconds=10))
    assert str(raised.value) == f"kit.customRuntime.handler: {problem}"


def test_a_handler_the_asset_lacks_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_context({**cdk_json_context(), "kit.customRuntime.handler": "greeting.greet"})
    assert str(raised.value) == (
        'kit.customRuntime.handler: "greeting.greet": lambdas/custom_runtime/greeting.sh defines no function greet'
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("handler", "../function.handler", "kit.customRuntime.handler: \"../function.handler\" is not 'file.function'"),
        ("handler", "function", "kit.customRuntime.handler: \"function\" is not 'file.function'"),
        ("memoryMb", 64, "kit.customRuntime.memoryMb: 64 is not a whole number from 128 to 10240"),
        ("timeoutSeconds", 901, "kit.customRuntime.timeoutSeconds: 901 is not a whole number from 1 to 900"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_context({**cdk_json_context(), f"kit.customRuntime.{key}": value})
    assert str(raised.value).startswith(message)


def test_cdk_json_settings_are_read() -> None:
    assert settings_from_context(cdk_json_context()).custom_runtime == CustomRuntimeSettings(
        handler="function.handler", memory_mb=128, timeout_seconds=10
    )
