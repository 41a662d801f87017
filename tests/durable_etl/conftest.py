"""Fixtures for the durable ETL: its Lambda code on the import path, moto S3 + DynamoDB, the SDK runner."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# The asset root is the Lambda's import root: import the handler exactly as Lambda does.
ASSET_ROOT = Path(__file__).resolve().parents[2] / "lambdas" / "durable_etl"
if str(ASSET_ROOT) not in sys.path:
    sys.path.insert(0, str(ASSET_ROOT))

import boto3  # noqa: E402
from aws_durable_execution_sdk_python_testing.runner import (  # noqa: E402
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)
from moto import mock_aws  # noqa: E402

from support.aws_limits import strict_aws_limits  # noqa: E402

REGION = "eu-west-1"
BUCKET = "lwk-test-source"
TABLE = "lwk-test-target"
# Noon UTC is outside the off-peak hour (02:00 Europe/Berlin), so a run started then waits for it.
# Read from the wall clock instead, the off-peak wait would vanish whenever the suite ran inside that hour.
NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Long enough for the rate-limit wait plus a day of waiting for the off-peak hour (skipped time).
EXECUTION_TIMEOUT = 3 * 86400


# Values the tests choose where the template's defaults would hide behaviour: Berlin's daylight-saving
# time zone for the off-peak arithmetic, 500-record batches so that small datasets span several.
TEST_OVERRIDES = {"OFF_PEAK_TIME_ZONE": "Europe/Berlin", "DEFAULT_BATCH_SIZE": "500"}
# What the template's references stand for in moto, by the resource type they name.
REFERENCED = {"AWS::S3::Bucket": BUCKET, "AWS::DynamoDB::Table": TABLE}


def function_environment(template: dict[str, Any], handler: str) -> dict[str, str]:
    """The environment of the template's function with `handler`, its references resolved for moto."""
    resources = template["Resources"]
    [function] = [
        r for r in resources.values() if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler
    ]
    resolved = {}
    for name, value in function["Properties"]["Environment"]["Variables"].items():
        if isinstance(value, dict):
            target = value.get("Ref") or value["Fn::GetAtt"][0]
            value = REFERENCED[resources[target]["Type"]]
        resolved[name] = value
    return resolved


@pytest.fixture(scope="session")
def template_env(kit: Any) -> dict[str, str]:
    from lwk_durable_etl.contract import HANDLER

    return function_environment(kit.templates["durable-etl"], HANDLER)


@pytest.fixture
def etl_env(monkeypatch: pytest.MonkeyPatch, template_env: dict[str, str]) -> dict[str, str]:
    """The function's environment as the synthesized stack sets it, with fake credentials for moto."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        **template_env,
        **TEST_OVERRIDES,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@dataclass
class Aws:
    s3: Any
    dynamodb: Any

    def put(self, key: str, body: str | bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def work_versions(self) -> list[str]:
        """Every object version (and delete marker) under the ETL's work prefix."""
        page = self.s3.list_object_versions(Bucket=BUCKET, Prefix="_etl/")
        return [v["Key"] for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))]

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def lines(self, key: str) -> list[dict[str, Any]]:
        body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        return [json.loads(line) for line in body.splitlines()]

    def ids(self, dataset_id: str) -> list[str]:
        """The ids the table holds for a dataset (projected: moto is slow to return whole items)."""
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=TABLE,
            KeyConditionExpression="datasetId = :d",
            ExpressionAttributeValues={":d": {"S": dataset_id}},
            ProjectionExpression="id",
        )
        return [item["id"]["S"] for page in pages for item in page["Items"]]

    def item(self, dataset_id: str, record_id: str) -> dict[str, Any]:
        key = {"datasetId": {"S": dataset_id}, "id": {"S": record_id}}
        return self.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]

    def item_count(self) -> int:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=TABLE, Select="COUNT")
        return sum(page["Count"] for page in pages)


@pytest.fixture
def aws(etl_env: dict[str, str]) -> Iterator[Aws]:
    """moto S3 + DynamoDB, as strict as AWS's documented limits, with the source bucket (versioned,
    like the stack's) and the target table."""
    with mock_aws(), strict_aws_limits():
        s3 = boto3.client("s3", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "datasetId", "AttributeType": "S"},
                {"AttributeName": "id", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "datasetId", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
        )
        yield Aws(s3=s3, dynamodb=dynamodb)


@dataclass
class Execution:
    result: DurableFunctionTestResult
    events: list[Any]

    def event_types(self) -> list[str]:
        return [event.event_type for event in self.events]

    def steps(self) -> list[Any]:
        return [op for op in self.result.get_all_operations() if op.operation_type.value == "STEP"]


@pytest.fixture
def pin_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Fix the moment the off-peak step reads (noon UTC unless a test pins another)."""
    import lwk_durable_etl.steps

    def pin(moment: datetime) -> None:
        monkeypatch.setattr(lwk_durable_etl.steps, "utc_now", lambda: moment)

    pin(NOON_UTC)
    return pin


@pytest.fixture
def run_execution(pin_clock: Callable[[datetime], None]) -> Callable[..., Execution]:
    """Run a durable handler to its end with the SDK's local runner (waits fast-forwarded)."""

    def run(event: Any, handler: Callable[..., Any] | None = None) -> Execution:
        if handler is None:
            from lwk_durable_etl.handlers import handler as etl_handler

            handler = etl_handler
        with DurableFunctionTestRunner(handler=handler) as runner:
            arn = runner.run_async(input=json.dumps(event), execution_timeout=EXECUTION_TIMEOUT)
            result = runner.wait_for_result(arn, timeout=120)
            events = runner.get_execution_history(arn).events
        return Execution(result=result, events=events)

    return run
