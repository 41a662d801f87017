"""The durable ETL handlers' real AWS calls, recorded while the SDK's runner runs them against moto (a
fanned-out run whose units are child executions of the shard worker, a dataset with invalid records,
and a failed run that cleans up its staged work). Each call is credited to the function that made it
(the coordinator or the shard worker) and proved allowed for THAT function's role on the template's
bucket prefixes, table and keys; the coordinator's chained invoke of the shard worker's alias too.
Every edge also has "same role, other resource" twins that must be denied, so that a grant wider
than the calls need fails here. And staged work is writable by the ETL's roles alone: a dataset
uploader's grant on the bucket is denied there by the bucket policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from support.etl_datasets import write_dataset
from support.iam.edges import NOT_KIT, Edge, Kit, _role_context
from support.iam.engine import evaluate
from support.iam.recorder import AwsCall, AwsCallRecorder, function_environments
from support.iam.resolve import ACCOUNT, PARTITION, REGION
from tests.conftest import KitAssembly
from tests.durable_etl import conftest as workload
from tests.permission_verdicts import Verdicts, hardened_key_edges
from tests.permissions.handler_calls import prove_calls_allowed

WORKLOAD = "durable-etl"

# The workload's own fixtures, used here as its tests use them.
aws, etl_env, pin_clock, run_execution = workload.aws, workload.etl_env, workload.pin_clock, workload.run_execution

WORK_PREFIX = "_etl/"
STAGED_WRITES = {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}


def _other_resources(kit: Kit, edge: Edge, other_alias: str) -> list[tuple[str, Edge]]:
    """The same role and action on resources the call does not need: each must be denied."""
    resource, action = edge.resource, edge.action
    others: list[tuple[str, str, Mapping[str, str]]] = []
    if resource.startswith(f"arn:{PARTITION}:s3:::"):
        bucket, _, key = resource.split(":::", 1)[1].partition("/")
        if key:
            others.append(("another bucket", f"arn:{PARTITION}:s3:::{NOT_KIT}/{key}", edge.context))
            if key.startswith(WORK_PREFIX) and action in STAGED_WRITES:
                # Writes are for the run's staged work only, never a dataset (what uploaders write).
                others.append(("a dataset object", f"arn:{PARTITION}:s3:::{bucket}/daily/part-000.jsonl", edge.context))
        else:
            others.append(("another bucket", f"arn:{PARTITION}:s3:::{NOT_KIT}", edge.context))
            if action == "s3:ListBucketVersions":
                others.append(("the whole bucket", resource, {**edge.context, "s3:prefix": ""}))
    elif ":dynamodb:" in resource:
        others.append(("another table", resource.rsplit("/", 1)[0] + f"/{NOT_KIT}", edge.context))
    elif ":kms:" in resource:
        others.append(
            ("another key", resource.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000", edge.context)
        )
    elif ":lambda:" in resource:
        function = resource.rsplit(":", 1)[0]
        others += [("the unqualified function", function, edge.context),
                   ("its $LATEST", f"{function}:$LATEST", edge.context),
                   ("the other ETL function's alias", other_alias, edge.context),
                   ("another function", f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{NOT_KIT}:live",
                    edge.context)]  # fmt: skip
    elif ":sqs:" in resource:
        others.append(("another queue", resource.rsplit(":", 1)[0] + f":{NOT_KIT}", edge.context))
    return [
        (change, replace(edge, resource=other, resource_policy=kit.resource_policy(other), context=context))
        for change, other, context in others
    ]


def _aliases(kit: Kit) -> dict[str, str]:
    """Handler string -> its function's `live` alias ARN."""
    found: dict[str, str] = {}
    for stack in kit.stacks:
        handlers = {fid: str(stack.props(fid).get("Handler", "")) for fid in stack.of_type("AWS::Lambda::Function")}
        for alias_id in stack.of_type("AWS::Lambda::Alias"):
            props = stack.props(alias_id)
            function_id = props["FunctionName"]["Ref"]
            if handlers.get(function_id):
                found[handlers[function_id]] = stack.function_arn(props["FunctionName"]) + ":" + props["Name"]
    return found


def _roles(kit: Kit) -> dict[str, str]:
    """Handler string -> its function's role ARN."""
    return {
        stack.props(fid)["Handler"]: str(stack.value(stack.props(fid)["Role"]))
        for stack in kit.stacks
        for fid in stack.of_type("AWS::Lambda::Function")
        if "Handler" in stack.props(fid)
    }


@pytest.fixture
def recorded(
    aws: Any, run_execution: Any, kit_templates: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[AwsCall]:
    """The calls of three runs, each credited to the handler that made it, and the chained invokes."""
    from aws_durable_execution_sdk_python.context import DurableContext
    from lwk_durable_etl.contract import HANDLER, SHARD_HANDLER

    # 16 KB shards: a dataset of ~40 KB makes several slices and shards, each unit a child execution.
    monkeypatch.setenv("SHARD_KILOBYTES", "16")
    write_dataset(aws.s3, aws.bucket, "calls", records=360, objects=3, invalid_every=50)
    aws.put("broken/a.jsonl", '{"id": "x", "name": "n", "amount": 1}\nnot json\n')
    environments = function_environments(kit_templates)
    recorder = AwsCallRecorder({HANDLER: environments[HANDLER], SHARD_HANDLER: environments[SHARD_HANDLER]})
    real_invoke = DurableContext.invoke

    def invoke(context: Any, function_name: str, payload: Any, *args: Any, **kwargs: Any) -> Any:
        # The durable service invokes the target in the caller's name (lambda:InvokeFunction on it).
        handler = recorder.attribution()
        assert handler is not None, "a chained invoke outside any handler"
        import os

        environment = {n: os.environ[n] for n in environments[handler] if n in os.environ}
        recorder.calls.append(AwsCall(handler, "lambda", "Invoke", {"FunctionName": function_name}, environment))
        return real_invoke(context, function_name, payload, *args, **kwargs)

    monkeypatch.setattr(DurableContext, "invoke", invoke)
    with recorder:
        fanned = run_execution({"datasetId": "calls", "batchSize": 40})
        assert fanned.result.status.value == "SUCCEEDED" and fanned.children, "the run did not fan out"
        assert run_execution({"datasetId": "broken", "batchSize": 1}).result.status.value == "FAILED"
    assert recorder.unattributed == [], "AWS calls no handler was credited with"
    return recorder.calls


def test_every_call_is_allowed_for_the_role_of_the_function_that_made_it_and_no_wider(
    recorded: list[AwsCall], kit_templates: dict[str, Any], hardened_templates: dict[str, Any]
) -> None:
    # One recording, proved under both profiles (the same code; hardened adds the data key's edges).
    _prove(recorded, kit_templates, hardened=False)
    _prove(recorded, hardened_templates, hardened=True)


def _prove(recorded: list[AwsCall], templates: dict[str, Any], *, hardened: bool) -> None:
    from lwk_durable_etl.contract import HANDLER, SHARD_HANDLER

    kit = Kit(templates)
    roles, aliases = _roles(kit), _aliases(kit)
    assert {call.handler for call in recorded} == {HANDLER, SHARD_HANDLER}
    edges = prove_calls_allowed(recorded, templates)
    by_role: dict[str, set[tuple[str, str]]] = {}
    for edge in edges:
        handler = edge.source.split("(", 1)[1].rstrip(")")
        assert edge.principal == roles[handler], edge.label  # credited to the function that made it
        by_role.setdefault(handler, set()).add((edge.action, edge.resource))
    # The shard worker does the work: its own role reads and writes the bucket and the table.
    shard_actions = {action for action, _ in by_role[SHARD_HANDLER]}
    assert {"s3:GetObject", "s3:PutObject", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"} <= shard_actions
    if hardened:
        assert {"kms:Decrypt", "kms:GenerateDataKey"} <= shard_actions
    # The coordinator's chained invoke: its role on the shard worker's alias, nothing else.
    invokes = {resource for action, resource in by_role[HANDLER] if action == "lambda:InvokeFunction"}
    assert invokes == {aliases[SHARD_HANDLER]}

    twins = [
        (change, twin)
        for edge in edges
        # For an invoke: the ETL alias it does not invoke (the coordinator's own, for its chained invoke).
        for change, twin in _other_resources(
            kit, edge, aliases[HANDLER if edge.resource == aliases[SHARD_HANDLER] else SHARD_HANDLER]
        )
    ]
    results = evaluate([twin.simulation() for _, twin in twins])
    wide = [f"{change}: {twin.label}" for (change, twin), r in zip(twins, results, strict=True) if r == "Allowed"]
    assert not wide, "wider than the calls need:\n" + "\n".join(wide)
    assert {change for change, _ in twins} >= {"a dataset object", "another table", "the whole bucket",
                                               "the unqualified function", "the other ETL function's alias"}  # fmt: skip


@pytest.mark.parametrize("profile", ["default", "hardened"])
def test_the_shard_worker_may_invoke_its_own_alias_for_group_executions_and_nothing_else(
    kit_templates: dict[str, Any], hardened_templates: dict[str, Any], profile: str
) -> None:
    # A group execution (more than FAN_OUT_PER_EXECUTION units) invokes its units through the alias
    # it was invoked by; the fanned-out run above stays below that, so the edge comes from the template.
    from lwk_durable_etl.contract import HANDLER, SHARD_HANDLER

    kit = Kit(kit_templates if profile == "default" else hardened_templates)
    roles, aliases = _roles(kit), _aliases(kit)
    role = roles[SHARD_HANDLER]
    edge = Edge("handler call", "durable-etl", f"Shard ({SHARD_HANDLER})", role, "lambda:InvokeFunction",
                aliases[SHARD_HANDLER], kit.role_arn_policies(role), kit.resource_policy(aliases[SHARD_HANDLER]),
                _role_context(role))  # fmt: skip
    twins = _other_resources(kit, edge, aliases[HANDLER])
    results = evaluate([edge.simulation()] + [twin.simulation() for _, twin in twins])
    assert results[0] == "Allowed"
    assert [change for (change, _), r in zip(twins, results[1:], strict=True) if r == "Allowed"] == []


def _source_bucket(kit: Kit) -> str:
    from lwk_durable_etl.contract import HANDLER

    for stack in kit.stacks:
        for fid in stack.of_type("AWS::Lambda::Function"):
            props = stack.props(fid)
            if props.get("Handler") == HANDLER:
                return str(stack.value(props["Environment"]["Variables"]["SOURCE_BUCKET"]))
    raise LookupError("no durable ETL coordinator in the templates")


@pytest.mark.parametrize("profile", ["default", "hardened"])
def test_staged_work_is_writable_by_the_etl_roles_alone(
    kit_templates: dict[str, Any], hardened_templates: dict[str, Any], profile: str
) -> None:
    """A dataset uploader (a role of the account with the usual write grant on the bucket's objects)
    may upload datasets, but not write or remove anything under `_etl/`: a load step would write
    what it found there into the table. The ETL's roles may."""
    from lwk_durable_etl.contract import HANDLER, SHARD_HANDLER

    kit = Kit(kit_templates if profile == "default" else hardened_templates)
    roles = _roles(kit)
    bucket = f"arn:{PARTITION}:s3:::{_source_bucket(kit)}"
    uploader = f"arn:{PARTITION}:iam::{ACCOUNT}:role/dataset-uploader"
    uploads = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
         "Resource": f"{bucket}/*"},
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}  # fmt: skip
    staged = f"{bucket}/_etl/daily/0123456789abcdef/shards/00000/transformed/batch-000000.jsonl"
    dataset = f"{bucket}/daily/part-000.jsonl"

    def request(principal: str, policies: Any, action: str, resource: str) -> Edge:
        return Edge("staged work", "durable-etl", principal, principal, action, resource, policies,
                    kit.resource_policy(resource), _role_context(principal))  # fmt: skip

    uploader_policies = (("uploads", uploads),)
    expected = [
        (request(uploader, uploader_policies, "s3:PutObject", dataset), "Allowed"),  # uploads still work
        (request(uploader, uploader_policies, "s3:GetObject", staged), "Allowed"),  # rejects stay readable
        *[(request(uploader, uploader_policies, action, staged), "ExplicitlyDenied") for action in sorted(STAGED_WRITES)],
        *[(request(roles[h], kit.role_arn_policies(roles[h]), action, staged), "Allowed")
          for h in (HANDLER, SHARD_HANDLER) for action in sorted(STAGED_WRITES)],
    ]  # fmt: skip
    results = evaluate([edge.simulation() for edge, _ in expected])
    wrong = [
        f"{edge.principal.rsplit('/', 1)[1]} {edge.action} {edge.resource.rsplit(':::', 1)[1]}: {result}, not {want}"
        for (edge, want), result in zip(expected, results, strict=True)
        if result != want
    ]
    assert wrong == []


def test_every_etl_alarm_can_reach_the_alarm_topic(verdicts: Verdicts, kit: KitAssembly) -> None:
    alarms = [(e, r) for e, r in verdicts.edges if e.stack == kit.stack_names[WORKLOAD] and e.kind == "alarm -> topic"]
    sources = {e.source for e, _ in alarms}
    for name in ("FailedExecutions", "DeadLetters", "LostStarts", "LostScheduledStarts"):
        assert any(name in source for source in sources), name
    assert [e.label for e, r in alarms if r != "Allowed"] == []


# The durable ETL's dead-letter queue has two senders: Lambda, with the function's execution role
# (its DeadLetterConfig), and Scheduler, with the schedule's execution role. SQS uses the queue's key
# in the sender's name, and the schedule's input key in the schedule role's name.
ETL_KEY_EDGES = {
    ("function role -> dead-letter target (key)", "kms:GenerateDataKey"),
    ("function role -> dead-letter target (key)", "kms:Decrypt"),
    ("schedule role -> dead-letter queue (key)", "kms:GenerateDataKey"),
    ("schedule role -> dead-letter queue (key)", "kms:Decrypt"),
    ("schedule role -> schedule key", "kms:Decrypt"),
}


def test_the_etl_dead_letter_senders_and_schedule_may_use_the_data_key_and_nobody_else(
    verdicts: Verdicts, kit: KitAssembly
) -> None:
    # Default: SQS-managed keys and Scheduler's AWS owned key.
    etl = hardened_key_edges(verdicts, kit.stack_names[WORKLOAD], ETL_KEY_EDGES)
    if verdicts.profile == "default":
        return
    assert len({e.resource for e, _ in etl}) == 1, "not all on the stack's one data key"
    labels = {e.label for e, _ in etl}
    twins = [(t, r) for t, r in verdicts.twins if t.edge.label in labels]
    # The same request from a role of another account: the key and the role policies must refuse it.
    assert {t.edge.label for t, _ in twins if t.change == "another account"} == labels
    assert [f"{t.change}: {t.edge.label}" for t, r in twins if r == "Allowed"] == []
