"""The destination handlers' real AWS calls, recorded while the synthesized stack's async path runs in
moto (a success, a failure kept for replay and one too big for the queue, offloaded), each proved allowed for the calling function's role,
with the kept-failures queue's key."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any
from unittest import mock

from stacks.settings.common import APP_NAME
from support.iam.edges import Edge, Kit, _role_context, negative_twins
from support.iam.engine import evaluate
from support.iam.recorder import (
    IMPLIED_KEY_ACTIONS,
    AwsCall,
    AwsCallRecorder,
    _to_template,
    function_environments,
    iam_requests,
)
from support.iam.resolve import ACCOUNT
from tests.destinations import conftest as workload
from tests.permissions.handler_calls import prove_calls_allowed

# The workload's own fixtures, used here as its tests use them.
aws, deployed = workload.aws, workload.deployed
async_invoke_through_dispatcher = workload.async_invoke_through_dispatcher


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


# ---- the replay command -------------------------------------------------------------------------
# Whoever runs it has the stack's ReplayPolicy and nothing else: an operator role made up here.
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/{APP_NAME}-replay-operator"
# Stack outputs that carry the names the replay command is given or reads (moto name -> template name).
REPLAY_OUTPUTS = ("FailedRequestsQueueUrl", "WorkerAliasArn", "OffloadBucketName")


def _replay_edges(calls: list[AwsCall], templates: dict[str, Any]) -> list[Edge]:
    """Each recorded call of the replay command as a request of the operator role, with the
    ReplayPolicy as its only identity policy (and the key AWS uses on its behalf)."""
    kit = Kit(templates)
    (stack,) = [s for s in kit.stacks if "ReplayPolicyArn" in s.template.get("Outputs", {})]
    policy_id = stack.template["Outputs"]["ReplayPolicyArn"]["Value"]["Ref"]
    policy = stack.policy(stack.props(policy_id)["PolicyDocument"])
    outputs = stack.template["Outputs"]
    edges: dict[tuple[str, str], Edge] = {}
    for call in calls:
        mapping = sorted(
            ((call.environment[name], str(stack.value(outputs[name]["Value"]))) for name in REPLAY_OUTPUTS),
            key=lambda pair: -len(pair[0]),
        )
        for request in iam_requests(replace(call, params=_to_template(call.params, mapping))):
            edge = Edge("replay command", stack.stack_name, policy_id, OPERATOR, request.action, request.resource,
                        (("ReplayPolicy", policy),), kit.resource_policy(request.resource),
                        {**_role_context(OPERATOR), **request.context})  # fmt: skip
            edges.setdefault((edge.action, edge.resource), edge)
            key = kit.key_of(request.resource)
            for key_action in IMPLIED_KEY_ACTIONS.get(request.action, ()) if key else ():
                assert key is not None
                edges.setdefault(
                    (key_action, key),
                    replace(edge, kind="replay command (key)", action=key_action, resource=key,
                            resource_policy=kit.resource_policy(key), context=_role_context(OPERATOR)),
                )  # fmt: skip
    return list(edges.values())


def _other_resources(edge: Edge, kit: Kit) -> list[str]:
    """The same request on other resources the operator must not reach: the stack's other queues,
    keys and functions, objects outside the kept-failures/ prefix, the worker itself unqualified."""
    service = edge.resource.split(":")[2]
    stack = next(s for s in kit.stacks if s.stack_name == edge.stack)
    if service == "sqs":
        return [
            stack.get_att(q, "Arn")
            for q in stack.of_type("AWS::SQS::Queue")
            if stack.get_att(q, "Arn") != edge.resource
        ]
    if service == "kms":
        return [
            stack.get_att(k, "Arn") for k in stack.of_type("AWS::KMS::Key") if stack.get_att(k, "Arn") != edge.resource
        ]
    if service == "s3":
        bucket, _, key = edge.resource.partition("/")
        return [f"{bucket}/other/{key.rsplit('/', 1)[-1]}", f"{bucket}/kept-failures"]
    if service == "lambda":
        unqualified = edge.resource.rsplit(":", 1)[0]
        others = [stack.function_arn({"Ref": f}) for f in stack.of_type("AWS::Lambda::Function")]
        return [unqualified, f"{unqualified}:$LATEST", *(o for o in others if o != unqualified)]
    raise NotImplementedError(service)


def _twins(edges: list[Edge], kit: Kit) -> list[tuple[str, Edge]]:
    twins = [(twin.change, twin.request) for edge in edges for twin in negative_twins(edge)]
    # Another resource the command does not touch with that action (under the hardened profile it
    # decrypts with two keys: the queue's and the offload bucket's).
    used = {(e.action, e.resource) for e in edges}
    twins += [("same role, other resource", replace(e, resource=o, resource_policy=kit.resource_policy(o)))
              for e in edges for o in _other_resources(e, kit) if (e.action, o) not in used]  # fmt: skip
    return twins


def _record_replay(deployed: Any, lambda_async: Any) -> list[AwsCall]:
    """Keep two failures (one offloaded), then run the replay command's real entry: a listing, then a
    replay; return the AWS calls it made."""
    from lwk_destinations.ops.replay import main as replay_main  # importable once the workload's conftest ran

    for payload in ({"Success": False, "orderId": "o-1"}, {"Success": False, "blob": "x" * 300_000}):
        deployed.lambda_async.invoke_async(deployed.worker_alias_arn, payload)
    deployed.lambda_async.run_pending()
    environment = {name: deployed.deployment.outputs[name] for name in REPLAY_OUTPUTS}
    arguments = ["--queue-url", environment["FailedRequestsQueueUrl"], "--function", environment["WorkerAliasArn"],
                 "--wait-seconds", "0"]  # fmt: skip
    with mock.patch.dict(os.environ, environment), AwsCallRecorder({"replay": tuple(environment)}) as calls:
        assert replay_main([*arguments, "--dry-run"]) == 0
        assert replay_main(arguments) == 0
    return calls.calls


def test_the_replay_policy_allows_every_call_of_the_replay_command_and_nothing_beside(
    deployed: Any,
    async_invoke_through_dispatcher: Any,
    kit_templates: dict[str, Any],
    hardened_templates: dict[str, Any],
) -> None:
    calls = _record_replay(deployed, async_invoke_through_dispatcher)
    assert {(c.service, c.operation) for c in calls} >= {
        ("sqs", "ReceiveMessage"), ("sqs", "DeleteMessage"), ("sqs", "ChangeMessageVisibilityBatch"),
        ("s3", "GetObject"), ("lambda", "Invoke"),
    }  # fmt: skip
    for templates in (kit_templates, hardened_templates):
        kit = Kit(templates)
        edges = _replay_edges(calls, templates)
        twins = _twins(edges, kit)
        results = evaluate([e.simulation() for e in edges] + [t.simulation() for _, t in twins])
        denied = [f"{r}: {e.label}" for e, r in zip(edges, results, strict=False) if r != "Allowed"]
        assert not denied, "\n".join(denied)
        wide = [f"{change}: {t.label}" for (change, t), r in zip(twins, results[len(edges) :], strict=True)
                if r == "Allowed"]  # fmt: skip
        assert not wide, "the replay policy is wider than the command needs:\n" + "\n".join(wide)
        assert {e.action for e in edges} == {
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "kms:Decrypt", "s3:GetObject",
            "lambda:InvokeFunction",
        }  # fmt: skip
        assert len([c for c, _ in twins if c == "same role, other resource"]) >= len(edges)
