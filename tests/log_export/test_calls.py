"""The log export handlers' real AWS calls, recorded while the synthesized state machine runs them in
moto, each proved allowed for the calling function's role (and CloudWatch Logs' own export writes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stacks.kit_settings import settings_from_context
from stacks.settings.common import APP_NAME
from support.iam.edges import Edge
from support.iam.engine import evaluate
from support.iam.recorder import AwsCallRecorder, function_environments
from support.log_export_run import TWO_GROUPS, closed_months
from tests.conftest import KitAssembly, cdk_json_context
from tests.log_export import conftest as workload
from tests.permission_verdicts import Verdicts, hardened_key_edges
from tests.permissions.handler_calls import prove_calls_allowed

WORKLOAD = "log-export"

# The workload's own fixtures, used here as its tests use them.
aws, recorder, world_factory = workload.aws, workload.recorder, workload.world_factory
two_group_template = workload.two_group_template
STACK = f"{APP_NAME}-dev-log-export"  # the stack support.log_export_run.synth_log_export builds


def test_every_call_of_a_log_export_run_is_allowed(
    world_factory: Any, kit: KitAssembly, kit_templates: dict[str, Any], hardened_templates: dict[str, Any]
) -> None:
    world = world_factory(kit.templates[WORKLOAD])
    exported_group = settings_from_context(cdk_json_context()).of(WORKLOAD).log_groups[0]
    world.add_log_group(exported_group, dict.fromkeys(closed_months(1), 2))
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


def test_each_group_is_written_and_listed_only_where_its_own_export_goes(
    world_factory: Any, two_group_template: dict[str, Any]
) -> None:
    """Negative twins of the narrowed grants: the same principal one prefix over must be denied.

    CloudWatch Logs exporting one group may write under that group's prefix only (one bucket-policy
    statement per group), and BucketCheck may list the completion records' keys only (an `s3:prefix`
    condition), never the bucket or another key."""
    templates = {STACK: two_group_template}
    world = world_factory(two_group_template)
    for group in TWO_GROUPS:
        world.add_log_group(group, dict.fromkeys(closed_months(1), 1))
    with AwsCallRecorder(function_environments(templates)) as calls:
        assert world.run().status == "SUCCEEDED"
    edges = prove_calls_allowed(calls.calls, templates)

    writes = [e for e in edges if e.kind == "logs export -> bucket objects"]
    listings = [e for e in edges if e.action == "s3:ListBucket"]
    assert {e.context["aws:SourceArn"].rsplit(":", 1)[1] for e in writes} == set(TWO_GROUPS)
    assert listings
    twins: list[tuple[str, Edge]] = []
    for edge in writes:
        own = edge.context["aws:SourceArn"].rsplit(":", 1)[1].lstrip("/")
        for other in (group.lstrip("/") for group in TWO_GROUPS if group.lstrip("/") != own):
            twins.append(
                ("another group's prefix", replace(edge, resource=edge.resource.replace(f"/{own}/", f"/{other}/")))
            )
    for edge in listings:
        record_key = edge.context["s3:prefix"]
        for wider in (
            "",
            record_key.rsplit("/", 1)[0] + "/",
            record_key.rsplit("/", 1)[0] + "/0123abcd/stream/000000.gz",
        ):
            twins.append((f"listing {wider!r}", replace(edge, context={**edge.context, "s3:prefix": wider})))
    assert len(twins) >= len(writes) + 3 * len(listings)
    results = evaluate([edge.simulation() for _, edge in twins])
    allowed = [
        f"{change}: {edge.label}" for (change, edge), result in zip(twins, results, strict=True) if result == "Allowed"
    ]
    assert not allowed, "wider than it needs to be:\n" + "\n".join(allowed)


# The log export state machine under hardened: its role uses the data key for the executions and for
# log delivery, each bound by encryption context; log delivery decrypts. Starting an execution asks
# nothing of the caller's key permissions (Step Functions guide), so the rule's role has no key edge.
STATE_MACHINE_KEY_EDGES = {
    ("state machine role -> its key", "kms:Decrypt"),
    ("state machine role -> its key", "kms:GenerateDataKey"),
    ("state machine role -> its key (log delivery)", "kms:GenerateDataKey"),
    ("log delivery -> state machine key", "kms:Decrypt"),
}


def test_the_state_machine_key_is_used_by_its_role_and_log_delivery_only(verdicts: Verdicts, kit: KitAssembly) -> None:
    # Default: Step Functions' AWS owned key.
    stack = kit.stack_names[WORKLOAD]
    hardened_key_edges(verdicts, stack, STATE_MACHINE_KEY_EDGES)
    if verdicts.profile == "default":
        return
    rule_role_key_edges = [e for e, _ in verdicts.edges if e.kind == "rule role -> target (key)"]
    assert rule_role_key_edges == []
    twins = {(t.edge.kind, t.edge.action, t.change): r for t, r in verdicts.twins if t.edge.stack == stack}
    for kind, action in STATE_MACHINE_KEY_EDGES - {("log delivery -> state machine key", "kms:Decrypt")}:
        # Another account's role, and this role for another state machine (or another account's logs).
        assert twins[(kind, action, "another account")] != "Allowed", (kind, action)
        assert twins[(kind, action, "another source ARN")] != "Allowed", (kind, action)
    # Accepted wide (ACCEPTED_WIDE says why): log delivery may use the key for any account's logs.
    assert twins[("log delivery -> state machine key", "kms:Decrypt", "another account")] == "Allowed"
