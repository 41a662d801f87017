"""The destination handlers' real AWS calls, recorded while the synthesized stack's async path runs in
moto (a success, a failure kept for replay and one too big for the queue, offloaded), each proved allowed for the calling function's role,
with the kept-failures queue's key."""

from __future__ import annotations

from typing import Any

from support.iam.recorder import AwsCallRecorder, function_environments
from tests.destinations import conftest as workload
from tests.permissions.handler_calls import prove_calls_allowed

# The workload's own fixtures, used here as its tests use them.
aws, deployed = workload.aws, workload.deployed


def test_every_call_of_the_destination_handlers_is_allowed(
    deployed: Any, kit_templates: dict[str, Any], hardened_templates: dict[str, Any]
) -> None:
    with AwsCallRecorder(function_environments(kit_templates)) as calls:
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": True, "orderId": "o-1"})
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "orderId": "o-2"})
        # Over the queue's 256 KiB, within Lambda's 1 MB: the failure handler offloads it to its bucket.
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, {"Success": False, "blob": "x" * 600_000})
        deployed.lambda_async.run_pending()
    prove_calls_allowed(calls.calls, hardened_templates)  # the same code under the hardened profile's keys
    edges = prove_calls_allowed(calls.calls, kit_templates)
    assert {(e.action, e.resource.split(":")[2]) for e in edges} >= {
        ("sqs:SendMessage", "sqs"), ("kms:GenerateDataKey", "kms"), ("s3:PutObject", "s3"),
    }  # fmt: skip
