"""The log export handlers' real AWS calls, recorded while the synthesized state machine runs them in
moto, each proved allowed for the calling function's role (and CloudWatch Logs' own export writes)."""

from __future__ import annotations

from typing import Any

from support.iam.recorder import AwsCallRecorder, function_environments
from support.log_export_run import closed_months
from tests.conftest import KitAssembly
from tests.log_export import conftest as workload
from tests.permissions.handler_calls import prove_calls_allowed

# The workload's own fixtures, used here as its tests use them.
aws, recorder, world_factory = workload.aws, workload.recorder, workload.world_factory

EXPORTED_GROUP = "/lwk/dev/destinations/worker"  # cdk.json's log group


def test_every_call_of_a_log_export_run_is_allowed(
    world_factory: Any, kit: KitAssembly, kit_templates: dict[str, Any], hardened_templates: dict[str, Any]
) -> None:
    world = world_factory(kit.templates["log-export"])
    world.add_log_group(EXPORTED_GROUP, dict.fromkeys(closed_months(1), 2))
    with AwsCallRecorder(function_environments(kit_templates)) as calls:
        run = world.run()
    assert run.status == "SUCCEEDED"
    prove_calls_allowed(calls.calls, hardened_templates)  # the same code under the hardened profile's keys
    edges = prove_calls_allowed(calls.calls, kit_templates)
    assert {(e.kind, e.action) for e in edges} >= {
        ("handler call", "logs:CreateExportTask"),
        ("handler call", "logs:DescribeExportTasks"),
        ("handler call", "s3:PutObject"),
        ("logs export -> bucket ACL", "s3:GetBucketAcl"),
        ("logs export -> bucket objects", "s3:PutObject"),
    }
