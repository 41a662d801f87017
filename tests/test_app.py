"""The app: env-agnostic by default, pinned to an account only when asked, everything tagged."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.kit_app import STACK_KEYS, create_app, identity_stack_name
from stacks.settings.common import APP_NAME
from stacks.workloads import WORKLOADS
from tests.conftest import KitAssembly, cdk_json_context

TAGGED_TYPES = (
    "AWS::Lambda::Function",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::IAM::Role",
    "AWS::IAM::OIDCProvider",
)


# These tests look at the stacks, not the code: skip bundling the Lambda assets.
NO_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}


def _stacks(app: cdk.App) -> list[cdk.Stack]:
    return [child for child in app.node.children if isinstance(child, cdk.Stack)]


def test_stacks_are_environment_agnostic_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    stacks = _stacks(create_app(context={**cdk_json_context(), **NO_BUNDLING}, nag=False))
    assert len(stacks) == len(STACK_KEYS)
    assert all(cdk.Token.is_unresolved(stack.account) and cdk.Token.is_unresolved(stack.region) for stack in stacks)


def test_stacks_take_the_account_and_region_the_cli_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "111122223333")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    stacks = _stacks(create_app(context={**cdk_json_context(), **NO_BUNDLING}, nag=False))
    assert {(stack.account, stack.region) for stack in stacks} == {("111122223333", "eu-west-1")}


def test_the_stage_prefixes_every_stack_name() -> None:
    context = {**cdk_json_context(), **NO_BUNDLING, "kit.stage": "pr-42"}
    names = sorted(stack.stack_name for stack in _stacks(create_app(context=context, nag=False)))
    # The deploy identity is per account: the same name for every stage.
    assert names == sorted([*(f"{APP_NAME}-pr-42-{workload.key}" for workload in WORKLOADS), identity_stack_name()])


def test_every_taggable_resource_carries_the_kit_tags(kit: KitAssembly) -> None:
    user_tags = cdk_json_context()["kit"]["tags"]
    checked = 0
    for workload, template in kit.templates.items():
        # The deploy identity serves every stage of its account: the user's tags, no stage tag.
        expected = user_tags if workload == GITHUB_STACK_KEY else {"stage": "dev", **user_tags}
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in TAGGED_TYPES:
                tags = {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}
                assert expected.items() <= tags.items(), f"{workload}/{logical_id}"
                assert workload != GITHUB_STACK_KEY or "stage" not in tags, f"{workload}/{logical_id}"
                checked += 1
    assert checked > 10
