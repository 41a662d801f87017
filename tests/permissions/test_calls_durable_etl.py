"""The durable ETL handler's real AWS calls, recorded while the SDK's runner runs it against moto (a
good dataset, a dataset with invalid records, and a failed run that cleans up its staged work), each
proved allowed for the function's role on the template's bucket prefixes and table."""

from __future__ import annotations

from typing import Any

from support.etl_datasets import write_dataset
from support.iam.recorder import AwsCallRecorder, function_environments
from tests.durable_etl import conftest as workload
from tests.permissions.handler_calls import prove_calls_allowed

# The workload's own fixtures, used here as its tests use them.
aws, etl_env, pin_clock, run_execution = workload.aws, workload.etl_env, workload.pin_clock, workload.run_execution


def test_every_call_of_durable_etl_runs_is_allowed(
    aws: Any, run_execution: Any, kit_templates: dict[str, Any], hardened_templates: dict[str, Any]
) -> None:
    from lwk_durable_etl.contract import HANDLER

    write_dataset(aws.s3, aws.bucket, "calls", records=300, objects=2, invalid_every=50)
    aws.put("broken/a.jsonl", '{"id": "x", "name": "n", "amount": 1}\nnot json\n')
    environment = function_environments(kit_templates)[HANDLER]
    with AwsCallRecorder({HANDLER: environment}) as calls:
        assert run_execution({"datasetId": "calls", "batchSize": 100}).result.status.value == "SUCCEEDED"
        assert run_execution({"datasetId": "broken", "batchSize": 1}).result.status.value == "FAILED"
    prove_calls_allowed(calls.calls, hardened_templates)  # the same code under the hardened profile's keys
    edges = prove_calls_allowed(calls.calls, kit_templates)
    assert {e.action for e in edges} >= {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "dynamodb:BatchWriteItem"}
