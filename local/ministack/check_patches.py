"""Prints, as JSON, what MiniStack's CloudFormation code does with the kit's shapes, stock and patched.

Run with MiniStack's interpreter by tests/deploy_local/: the stock results show each gap is still
there (a MiniStack that fixed one makes its patch unnecessary), the patched results show the fix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import patches
from ministack.services import lambda_svc
from ministack.services.cloudformation import provisioners

# The shape CDK emits for a metric-math alarm (two metrics and an expression over them).
MATH_ALARM = {
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "EvaluationPeriods": 1,
    "Threshold": 1,
    "TreatMissingData": "notBreaching",
    "Metrics": [
        {"Id": "failed", "ReturnData": False,
         "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 300, "Stat": "Sum"}},
        {"Id": "total", "Expression": "failed * 1", "ReturnData": True},
    ],
}  # fmt: skip
DURABLE = {"ExecutionTimeout": 172800, "RetentionPeriodInDays": 14}
DEAD_LETTERS = {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dead-letters"}


def function_props(**extra: Any) -> dict[str, Any]:
    return {
        "Runtime": "python3.13",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
        **extra,
    }


def alarm(record: Any) -> dict[str, Any]:
    try:
        built = record("math-alarm", MATH_ALARM)
    except ValueError as error:
        return {"refused": str(error)}
    return {"metrics": built.get("Metrics"), "metricName": built.get("MetricName"), "state": built["StateValue"]}


def function(create: Any, update: Any, name: str) -> dict[str, Any]:
    created, _ = create(name, function_props(DurableConfig=DURABLE, DeadLetterConfig=DEAD_LETTERS), "stack")
    config = lambda_svc._functions[created]["config"]
    after_create = {"durable": config.get("DurableConfig"), "deadLetters": config.get("DeadLetterConfig")}
    # An update that changes only the memory keeps both; one that drops them removes them.
    old = function_props(DurableConfig=DURABLE, DeadLetterConfig=DEAD_LETTERS, FunctionName=created)
    update(created, old, {**old, "MemorySize": 256}, "stack", name)
    config = lambda_svc._functions[created]["config"]
    after_update = {"durable": config.get("DurableConfig"), "deadLetters": config.get("DeadLetterConfig")}
    update(
        created, {**old, "MemorySize": 256}, function_props(DurableConfig=DURABLE, FunctionName=created), "stack", name
    )
    config = lambda_svc._functions[created]["config"]
    after_removal = {"deadLetters": config.get("DeadLetterConfig")}
    return {"created": after_create, "updated": after_update, "deadLettersRemoved": after_removal}


QUERY = {"Name": "app-dev-x/errors", "QueryString": "fields @message | limit 1", "LogGroupNames": ["/app/dev/x"]}


def query_definition() -> dict[str, Any]:
    handlers = provisioners._RESOURCE_HANDLERS.get("AWS::Logs::QueryDefinition")
    if handlers is None:
        return {"refused": "unrecognized resource type"}
    definition_id, attributes = handlers["create"]("Query", QUERY, "stack")
    stored = dict(patches.QUERY_DEFINITIONS[definition_id])
    try:
        handlers["create"]("Empty", {**QUERY, "QueryString": ""}, "stack")
        empty = "created"
    except ValueError as error:
        empty = str(error)
    handlers["delete"](definition_id, QUERY)
    return {
        "attributes": attributes,
        "stored": stored,
        "empty": empty,
        "deleted": definition_id not in patches.QUERY_DEFINITIONS,
    }


def main() -> None:
    handlers = provisioners._RESOURCE_HANDLERS["AWS::Lambda::Function"]
    stock = {
        "alarm": alarm(provisioners._cw_metric_alarm_record),
        "function": function(handlers["create"], handlers["update"], "StockFunction"),
        "query": query_definition(),
    }
    patches.apply()
    patched = {
        "alarm": alarm(provisioners._cw_metric_alarm_record),
        "function": function(handlers["create"], handlers["update"], "PatchedFunction"),
        "query": query_definition(),
    }
    print(json.dumps({"stock": stock, "patched": patched}, default=str))


if __name__ == "__main__":
    main()
