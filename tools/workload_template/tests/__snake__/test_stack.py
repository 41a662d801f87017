"""The __Title__ stack as synthesized: queue, event source, function environment, prefix-only access."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from stacks.settings import SettingsError

from stacks.kit_settings import settings_from_context
from stacks.shared.contracts import load_contract
from tests.conftest import KitAssembly, cdk_json_context

contract = load_contract("__key__")


def test_the_function_reads_the_queue_in_batches_and_reports_partial_failures(kit: KitAssembly) -> None:
    settings = settings_from_context(cdk_json_context()).of("__key__")
    template = kit.template("__key__")
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": settings.batch_size,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": settings.max_concurrency},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": Match.object_like({"maxReceiveCount": settings.max_receive_count}),
            "VisibilityTimeout": 6 * settings.timeout_seconds,
        },
    )


def test_the_function_gets_the_contract_s_environment(kit: KitAssembly) -> None:
    settings = settings_from_context(cdk_json_context()).of("__key__")
    kit.template("__key__").has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": contract.HANDLER,
            "Environment": {
                "Variables": {
                    contract.RESULTS_BUCKET: {"Ref": Match.string_like_regexp("^ResultsBucket")},
                    contract.RESULTS_PREFIX: settings.results_prefix,
                }
            },
        },
    )


def test_the_function_may_write_under_the_results_prefix_only(kit: KitAssembly) -> None:
    settings = settings_from_context(cdk_json_context()).of("__key__")
    statements = [
        statement
        for policy in kit.template("__key__").find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:" in json.dumps(statement["Action"])
    ]
    assert len(statements) == 1
    (statement,) = statements
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"]["Fn::Join"][1][-1] == f"/{settings.results_prefix}*"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("batchSize", "0", "a whole number from 1 to 10000"),
        ("batchSize", "50", "more than 10 unless maxBatchingWindowSeconds is at least 1"),
        ("maxConcurrency", "1", "a whole number from 2 to 1000"),
        ("resultsPrefix", "results", "each ending in '/'"),
        ("unknown", "1", "is not a known setting"),
    ],
)
def test_settings_outside_their_bounds_are_refused(key: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"kit.__camel__.{key}: .*{message}"):
        settings_from_context({**cdk_json_context(), f"kit.__camel__.{key}": value})
