"""One CloudWatch dashboard per workload stack, built from the resources the stack already has.

`add_workload_dashboard(stack)` walks the stack's construct tree once (plain Python, no jsii call per
widget), finds its functions, state machines, queues, tables, buckets and alarms by their L1 classes
(so resources made inside aws-cdk-lib's own constructs count too) and writes one
`AWS::CloudWatch::Dashboard` whose body is a single `to_json_string` of a Python structure. Adding a
resource to a stack puts it on the dashboard with no change here; tests/test_dashboards.py proves it
for every stack of the registry. The stack's business metrics (Powertools Metrics, embedded metric
format, namespace `CommonSettings.metrics_namespace`) come from `BusinessMetrics` entries the stack
lists in `business_metrics`; they are drawn with SEARCH expressions, so a bounded dimension (a log
group of the settings, a reject reason) shows one line per value without listing the values here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

WIDTH = 8  # three widgets to a row of the dashboard's 24 columns
HEIGHT = 6
COLUMNS = 24
PERIOD = 300
# What the durable execution metrics are called (Lambda developer guide, "Monitoring durable functions").
DURABLE_METRICS = (
    "DurableExecutionStarted",
    "DurableExecutionSucceeded",
    "DurableExecutionFailed",
    "DurableExecutionTimedOut",
    "DurableExecutionStopped",
)
# Step Functions publishes no count of running executions: started against the ways one ends.
STATE_MACHINE_METRICS = (
    "ExecutionsStarted",
    "ExecutionsSucceeded",
    "ExecutionsFailed",
    "ExecutionsTimedOut",
    "ExecutionsAborted",
)


@dataclass(frozen=True)
class BusinessMetrics:
    """One dashboard widget of a workload's own metrics: `names` with exactly `dimensions` (Powertools
    adds `service` to every metric, so list it)."""

    title: str
    names: tuple[str, ...]
    dimensions: tuple[str, ...] = ("service",)
    # Sum for counts; Maximum for a level (a share in percent, months behind).
    statistic: str = "Sum"


def add_workload_dashboard(stack: cdk.Stack, *, namespace: str) -> cloudwatch.CfnDashboard:
    """Creates the dashboard `<stack name>` of `stack`. Grants nothing (dashboards read metrics as the viewer)."""
    business: Sequence[BusinessMetrics] = getattr(stack, "business_metrics", ())
    widgets = _widgets(stack.node.find_all(), business, namespace=namespace, region=stack.region)
    return cloudwatch.CfnDashboard(
        stack,
        "Dashboard",
        dashboard_name=stack.stack_name,
        dashboard_body=stack.to_json_string({"widgets": _laid_out(widgets)}),
    )


def _widgets(
    constructs: Iterable[Any], business: Sequence[BusinessMetrics], *, namespace: str, region: str
) -> list[dict[str, Any]]:
    widgets: list[dict[str, Any]] = []
    alarms: list[str] = []
    for construct in constructs:
        if isinstance(construct, lambda_.CfnFunction):
            widgets.extend(_function(construct, region))
        elif isinstance(construct, sfn.CfnStateMachine):
            widgets.append(_state_machine(construct, region))
        elif isinstance(construct, sqs.CfnQueue):
            widgets.append(_queue(construct, region))
        elif isinstance(construct, dynamodb.CfnTable):
            widgets.append(_table(construct, region))
        elif isinstance(construct, s3.CfnBucket):
            widgets.append(_bucket(construct, region))
        elif isinstance(construct, cloudwatch.CfnAlarm):
            alarms.append(construct.attr_arn)
    widgets.extend(_business(entry, namespace, region) for entry in business)
    if alarms:
        # An alarm status widget shows up to 100 alarms; a stack with more should split its dashboard.
        widgets.insert(0, {"type": "alarm", "width": COLUMNS, "height": 3, "properties": _alarm_props(alarms)})
    return widgets


def _alarm_props(alarms: list[str]) -> dict[str, Any]:
    return {"title": "Alarms", "alarms": alarms, "sortBy": "stateUpdatedTimestamp"}


def _graph(
    title: str, metrics: list[list[Any]], region: str, *, stat: str = "Sum", stacked: bool = False
) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "stacked": stacked,
            "region": region,
            "stat": stat,
            "period": PERIOD,
            "metrics": metrics,
        },
    }


def _function(function: lambda_.CfnFunction, region: str) -> list[dict[str, Any]]:
    name = function.ref
    label = _label(function)
    dims = ["FunctionName", name]
    widgets = [
        _graph(
            f"{label}: invocations, errors, throttles",
            [["AWS/Lambda", metric, *dims] for metric in ("Invocations", "Errors", "Throttles")],
            region,
        ),
        _graph(
            f"{label}: duration p50 / p99, concurrency",
            [
                ["AWS/Lambda", "Duration", *dims, {"stat": "p50"}],
                ["AWS/Lambda", "Duration", *dims, {"stat": "p99"}],
                ["AWS/Lambda", "ConcurrentExecutions", *dims, {"stat": "Maximum", "yAxis": "right"}],
            ],
            region,
        ),
    ]
    if function.durable_config is not None:
        widgets.append(
            _graph(
                f"{label}: durable executions",
                [["AWS/Lambda", metric, *dims] for metric in DURABLE_METRICS]
                + [["AWS/Lambda", "ApproximateRunningDurableExecutions", *dims, {"stat": "Maximum", "yAxis": "right"}]],
                region,
            )
        )
    return widgets


def _state_machine(machine: sfn.CfnStateMachine, region: str) -> dict[str, Any]:
    return _graph(
        f"{_label(machine)}: executions",
        [["AWS/States", metric, "StateMachineArn", machine.ref] for metric in STATE_MACHINE_METRICS],
        region,
    )


def _queue(queue: sqs.CfnQueue, region: str) -> dict[str, Any]:
    dims = ["QueueName", queue.attr_queue_name]
    return _graph(
        f"{_label(queue)}: depth, age of oldest message",
        [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", *dims],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", *dims, {"yAxis": "right"}],
        ],
        region,
        stat="Maximum",
    )


def _table(table: dynamodb.CfnTable, region: str) -> dict[str, Any]:
    dims = ["TableName", table.ref]
    return _graph(
        f"{_label(table)}: writes",
        [
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", *dims],
            ["AWS/DynamoDB", "WriteThrottleEvents", *dims, {"yAxis": "right"}],
        ],
        region,
    )


def _bucket(bucket: s3.CfnBucket, region: str) -> dict[str, Any]:
    # S3 storage metrics are daily: one point a day, so a day's period.
    widget = _graph(
        f"{_label(bucket)}: objects",
        [["AWS/S3", "NumberOfObjects", "BucketName", bucket.ref, "StorageType", "AllStorageTypes"]],
        region,
        stat="Average",
    )
    widget["properties"]["period"] = 86400
    return widget


def _business(entry: BusinessMetrics, namespace: str, region: str) -> dict[str, Any]:
    schema = ",".join([namespace, *entry.dimensions])
    names = " OR ".join(f'MetricName="{name}"' for name in entry.names)
    search = f"SEARCH('{{{schema}}} ({names})', '{entry.statistic}', {PERIOD})"
    return _graph(entry.title, [[{"expression": search, "id": "business"}]], region)


def _label(resource: cdk.CfnResource) -> str:
    # The L2 construct's path inside the stack: `Etl/Function`, not the stack name again.
    scope = resource.node.scope
    path = (scope if scope is not None else resource).node.path
    return path.split("/", 1)[-1]


def _laid_out(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return widgets
