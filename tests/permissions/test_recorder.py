"""The call recorder's evidence can fail the check: a call the role was never granted is denied."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from stacks.settings.common import APP_NAME
from support.iam.engine import evaluate
from support.iam.recorder import AwsCall, AwsCallRecorder, handler_edges

SOURCE_BUCKET = f"{APP_NAME}-test-source"


def _etl_handler(kit_templates: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for template in kit_templates.values():
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Lambda::Function" and "DurableConfig" in props:
                return props["Handler"], props["Environment"]["Variables"]
    raise AssertionError("no durable function in the kit")


def test_a_call_outside_the_grants_is_denied(kit_templates: dict[str, Any]) -> None:
    handler, variables = _etl_handler(kit_templates)
    source_bucket_variable = next(name for name in variables if name.endswith("BUCKET"))
    environment = {source_bucket_variable: SOURCE_BUCKET}
    granted = AwsCall(handler, "s3", "GetObject", {"Bucket": SOURCE_BUCKET, "Key": "data/a.jsonl"}, environment)
    outside = [
        AwsCall(handler, "s3", "GetObject", {"Bucket": "someone-elses-bucket", "Key": "a.jsonl"}, environment),
        AwsCall(handler, "s3", "PutObject", {"Bucket": SOURCE_BUCKET, "Key": "data/a.jsonl"}, environment),
        AwsCall(handler, "s3", "ListObjectVersions", {"Bucket": SOURCE_BUCKET, "Prefix": "data/"}, environment),
    ]
    edges = handler_edges([granted, *outside], kit_templates)
    assert evaluate([edge.simulation() for edge in edges]) == [
        "Allowed",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
        "ImplicitlyDenied",
    ]


def test_the_recorder_attributes_calls_to_the_handler_on_the_stack() -> None:
    def handler(event: Any, context: Any) -> None:
        boto3.client("s3", region_name="us-east-1").list_buckets()

    handler_name = f"{__name__}.handler"
    with mock_aws(), AwsCallRecorder({handler_name: (), "elsewhere.handler": ()}) as recorder:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="set-up-by-the-test")
        handler({}, None)
    assert [(c.handler, c.service, c.operation) for c in recorder.calls] == [(handler_name, "s3", "ListBuckets")]
