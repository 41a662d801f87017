"""Fixtures for the durable ETL: its Lambda code on the import path, moto S3 + DynamoDB, the SDK runner."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from support.aws_limits import strict_aws_limits
from support.cfn import REGION, Deployment, deploy
from support.durable_etl_runs import ExecutionCost, history, run_costs
from support.paths import use_lambda_code
from support.stand_ins import mocked_aws

# The asset root is the Lambda's import root: import the handler exactly as Lambda does.
use_lambda_code("durable-etl")

from aws_durable_execution_sdk_python_testing.child_dispatcher import parse_function_target  # noqa: E402
from aws_durable_execution_sdk_python_testing.runner import (  # noqa: E402
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)

# Noon UTC is outside the off-peak hour (02:00 Europe/Berlin), so a run started then waits for it.
# Read from the wall clock instead, the off-peak wait would vanish whenever the suite ran inside that hour.
NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
# Long enough for the rate-limit wait plus a day of waiting for the off-peak hour (skipped time).
EXECUTION_TIMEOUT = 3 * 86400


# Values the tests choose where the template's defaults would hide behaviour: Berlin's daylight-saving
# time zone for the off-peak arithmetic, 500-record batches so that small datasets span several.
# The write budget at its most: under moto, pacing would only slow the suite (test_logic tests it).
TEST_OVERRIDES = {"OFF_PEAK_TIME_ZONE": "Europe/Berlin", "DEFAULT_BATCH_SIZE": "500", "WRITE_UNITS_PER_SECOND": "40000"}
# The resource types the ETL's tests need from the template: the functions (for their environment,
# with references resolved to what moto created: the worker's alias ARN in the coordinator's), their
# roles, versions and aliases, the source bucket and the target table.
DEPLOYED = ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::Lambda::Function",
            "AWS::Lambda::Version", "AWS::Lambda::Alias")  # fmt: skip


@dataclass
class Aws:
    s3: Any
    dynamodb: Any
    bucket: str
    table: str
    env: dict[str, str]

    def put(self, key: str, body: str | bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def work_versions(self) -> list[str]:
        """Every object version (and delete marker) under the ETL's work prefix."""
        page = self.s3.list_object_versions(Bucket=self.bucket, Prefix="_etl/")
        return [v["Key"] for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))]

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def lines(self, key: str) -> list[dict[str, Any]]:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return [json.loads(line) for line in body.split(b"\n") if line]

    def ids(self, dataset_id: str) -> list[str]:
        """The ids the table holds for a dataset, by a scan (projected: moto is slow to return whole
        items; and moto sorts the whole table for every Query, so `query_ids` is for one test)."""
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="datasetId = :d",
            ExpressionAttributeValues={":d": {"S": dataset_id}},
            ProjectionExpression="id",
        )
        return [item["id"]["S"] for page in pages for item in page["Items"]]

    def query_ids(self, dataset_id: str) -> list[str]:
        """The ids of a dataset as a user of the table reads all its rows: one Query per partition key."""
        from lwk_durable_etl.contract import table_partition_keys

        found = []
        for partition in table_partition_keys(dataset_id):
            pages = self.dynamodb.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="datasetKey = :k",
                ExpressionAttributeValues={":k": {"S": partition}},
                ProjectionExpression="id",
            )
            found += [item["id"]["S"] for page in pages for item in page["Items"]]
        return found

    def item(self, dataset_id: str, record_id: str) -> dict[str, Any]:
        """One row by dataset and id, as a user of the table reads it."""
        from lwk_durable_etl.contract import table_partition_key

        key = {"datasetKey": {"S": table_partition_key(dataset_id, record_id)}, "id": {"S": record_id}}
        return self.dynamodb.get_item(TableName=self.table, Key=key, ConsistentRead=True)["Item"]

    def item_count(self) -> int:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table, Select="COUNT")
        return sum(page["Count"] for page in pages)


@pytest.fixture
def aws(kit: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """The stack's source bucket, target table and function created in moto from the synthesized
    template (support.cfn), moto as strict as AWS's documented limits, and the function's
    environment from the template (with TEST_OVERRIDES) set for the handler."""
    with mocked_aws(), strict_aws_limits():
        deployment: Deployment = deploy(kit.templates["durable-etl"], types=DEPLOYED)
        from lwk_durable_etl.contract import HANDLER, SHARD_HANDLER

        [function] = [f for f in deployment.functions.values() if f.handler == HANDLER]
        [worker] = [f for f in deployment.functions.values() if f.handler == SHARD_HANDLER]
        # Both functions share one environment but for the worker's alias, which only the coordinator has.
        assert {k: v for k, v in function.environment.items() if k != "SHARD_FUNCTION"} == worker.environment
        env = {**function.environment, **TEST_OVERRIDES}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Aws(
            s3=deployment.clients["s3"],
            dynamodb=deployment.clients["dynamodb"],
            bucket=deployment.ref("SourceBucket"),
            table=deployment.ref("TargetTable"),
            env=env,
        )


@pytest.fixture
def etl_env(aws: Aws) -> dict[str, str]:
    """The function's environment as the synthesized stack sets it (with TEST_OVERRIDES)."""
    return aws.env


@dataclass
class Execution:
    result: DurableFunctionTestResult
    events: list[Any]
    children: dict[str, list[Any]]  # child execution ARN -> its history
    costs: list[ExecutionCost]  # the coordinator's and every child execution's operations and bytes

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

    def run(
        event: Any, handler: Callable[..., Any] | None = None, started: Callable[[Any, str], None] | None = None
    ) -> Execution:
        """`started(runner, arn)` is called once the coordinator execution has started."""
        from lwk_durable_etl import handlers

        with DurableFunctionTestRunner(handler=handler or handlers.handler, region=REGION) as runner:
            # context.invoke of the worker's alias ARN (the coordinator's SHARD_FUNCTION) runs the real
            # worker handler as a child durable execution.
            target = parse_function_target(os.environ["SHARD_FUNCTION"])
            runner.register_durable_function(
                f"{target.name}:{target.qualifier}", handlers.shard, execution_timeout=EXECUTION_TIMEOUT
            )
            arn = runner.run_async(input=json.dumps(event), execution_timeout=EXECUTION_TIMEOUT)
            if started is not None:
                started(runner, arn)
            result = runner.wait_for_result(arn, timeout=300)
            costs = run_costs(runner, arn)
            events = history(runner, arn)
            children = {cost.arn: history(runner, cost.arn) for cost in costs if cost.arn != arn}
        return Execution(result=result, events=events, children=children, costs=costs)

    return run
