"""Every permission one AWS service or kit role needs on a kit resource, evaluated by a real IAM engine
over the synthesized templates, with negative twins that must be denied (support/iam/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from support.iam.edges import ACCEPTED_WIDE
from tests.permission_verdicts import Verdicts

# What must act on something in the kit, by template resource type: a derivation that silently finds
# nothing for one of these would make the check pass by looking at less.
ACTING_TYPES = {
    "AWS::CloudWatch::Alarm",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::StepFunctions::StateMachine",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping",
}


def test_every_edge_is_allowed(verdicts: Verdicts) -> None:
    denied = [f"{result}: {edge.label}" for edge, result in verdicts.edges if result != "Allowed"]
    assert not denied, "\n".join(denied)


def test_every_negative_twin_is_denied(verdicts: Verdicts) -> None:
    allowed = [
        f"{twin.change}: {twin.edge.label}"
        for twin, result in verdicts.twins
        if result == "Allowed" and (twin.edge.kind, twin.change) not in ACCEPTED_WIDE
    ]
    assert not allowed, "wider than it needs to be:\n" + "\n".join(allowed)


def test_every_accepted_wide_twin_is_still_allowed(verdicts: Verdicts) -> None:
    """An acceptance that no longer matches anything allowed must go (under the profile that has it)."""
    kinds = {edge.kind for edge, _ in verdicts.edges}
    for kind, change in ACCEPTED_WIDE:
        if kind in kinds:
            assert any(t.edge.kind == kind and t.change == change and r == "Allowed" for t, r in verdicts.twins), (
                kind,
                change,
            )


def test_every_service_edge_has_its_confused_deputy_twins(verdicts: Verdicts) -> None:
    """A service acting on a resource for someone else is the confused deputy: each such edge is tried
    from another account and from another source, and each TLS-only target over plain HTTP."""
    changes: dict[str, set[str]] = {}
    for twin, _ in verdicts.twins:
        changes.setdefault(twin.edge.label, set()).add(twin.change)
    for edge, _ in verdicts.edges:
        if edge.is_service and "aws:SourceArn" in edge.context:
            assert {"another account", "another source ARN"} <= changes[edge.label], edge.label
        if edge.resource.split(":")[2:3] in (["s3"], ["sqs"], ["sns"]):
            assert "plain HTTP" in changes[edge.label], edge.label
        if edge.action == "sts:AssumeRole":
            assert "another service" in changes[edge.label], edge.label


def test_every_acting_resource_of_every_stack_is_the_source_of_an_edge(
    kit_templates: dict[str, dict], verdicts: Verdicts
) -> None:
    sources = {(edge.stack, edge.source) for edge, _ in verdicts.edges}
    missing = []
    for stack, template in kit_templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] not in ACTING_TYPES:
                continue
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::CloudWatch::Alarm" and not any(
                props.get(k) for k in ("AlarmActions", "OKActions", "InsufficientDataActions")
            ):
                continue
            if (stack, logical_id) not in sources:
                missing.append(f"{stack}/{logical_id} ({resource['Type']})")
    assert not missing, missing


# Each edge kind and what in a template calls for it: (what, a test on one template). Where the
# templates have it, the derivation must find such an edge: a kind that disappears means the
# derivation (or the kit) changed. A fork without any such resource checks nothing for that kind,
# and the skip says why.
Template = dict[str, Any]


def _resources(template: Template, kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _having(kind: str, needed: str | None = None) -> Callable[[Template], bool]:
    return lambda t: any(needed is None or needed in json.dumps(r.get("Properties", {})) for r in _resources(t, kind))


def _encrypted_dead_letter_target(template: Template) -> bool:
    """A function's dead-letter queue encrypted with a key of the template (not SQS-managed)."""
    targets = [
        r["Properties"]["DeadLetterConfig"]["TargetArn"] for r in _resources(template, "AWS::Lambda::Function")
        if "DeadLetterConfig" in r["Properties"]
    ]  # fmt: skip
    ids = {t["Fn::GetAtt"][0] for t in targets if isinstance(t, dict) and "Fn::GetAtt" in t}
    return any("KmsMasterKeyId" in template["Resources"][i].get("Properties", {}) for i in ids)


def _state_machine_with_encrypted_target(template: Template) -> bool:
    return bool(_resources(template, "AWS::StepFunctions::StateMachine")) and any(
        "KmsMasterKeyId" in r.get("Properties", {})
        for r in _resources(template, "AWS::SNS::Topic") + _resources(template, "AWS::SQS::Queue")
    )


EDGE_KIND_CAUSES: dict[str, tuple[str, Callable[[Template], bool]]] = {
    "alarm -> topic": ("an alarm with actions", _having("AWS::CloudWatch::Alarm", "AlarmActions")),
    "alarm -> topic key": ("an alarm with actions", _having("AWS::CloudWatch::Alarm", "AlarmActions")),
    "rule -> role trust": ("a rule with a role", _having("AWS::Events::Rule", "RoleArn")),
    "rule role -> target": ("a rule with a role", _having("AWS::Events::Rule", "RoleArn")),
    "schedule -> role trust": ("a schedule", _having("AWS::Scheduler::Schedule")),
    "schedule role -> target": ("a schedule", _having("AWS::Scheduler::Schedule")),
    "schedule role -> dead-letter queue": ("a schedule with a dead-letter queue", _having("AWS::Scheduler::Schedule", "DeadLetterConfig")),
    "state machine -> role trust": ("a state machine", _having("AWS::StepFunctions::StateMachine")),
    "state machine role -> task": ("a state machine", _having("AWS::StepFunctions::StateMachine")),
    "state machine role -> task (key)": ("a state machine and an encrypted topic or queue", _state_machine_with_encrypted_target),
    "function -> role trust": ("a function", _having("AWS::Lambda::Function")),
    "function role -> its log group": ("a function with its log group", _having("AWS::Lambda::Function", "LoggingConfig")),
    "function role -> dead-letter target": ("a function with a dead-letter queue", _having("AWS::Lambda::Function", "DeadLetterConfig")),
    "function role -> dead-letter target (key)": ("a function with an encrypted dead-letter queue", _encrypted_dead_letter_target),
    "function role -> OnSuccess destination": ("an OnSuccess destination", _having("AWS::Lambda::EventInvokeConfig", "OnSuccess")),
    "function role -> OnFailure destination": ("an OnFailure destination", _having("AWS::Lambda::EventInvokeConfig", "OnFailure")),
    "durable function role -> its executions": ("a durable function", _having("AWS::Lambda::Function", "DurableConfig")),
    "access logging -> log bucket": ("a bucket with access logs", _having("AWS::S3::Bucket", "LoggingConfiguration")),
    "logs export -> bucket ACL": ("a role that may export logs", _having("AWS::IAM::Policy", "logs:CreateExportTask")),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EDGE_KIND_CAUSES))
def test_the_kit_has_edges_of_kind(verdicts: Verdicts, kit_templates: dict[str, dict], kind: str) -> None:
    """Where the templates have what calls for an edge kind, the derivation finds edges of that kind."""
    what, cause = EDGE_KIND_CAUSES[kind]
    if not any(cause(template) for template in kit_templates.values()):
        pytest.skip(f"no template of this kit has {what}")
    assert any(edge.kind == kind for edge, _ in verdicts.edges), kind


# The hardened profile's key edges and what calls for each, as above.
HARDENED_KEY_EDGE_CAUSES: dict[str, tuple[str, Callable[[Template], bool]]] = {
    "logs -> log group key": ("a log group", _having("AWS::Logs::LogGroup")),
    "access logging -> log bucket key": ("a bucket with access logs", _having("AWS::S3::Bucket", "LoggingConfiguration")),
    "schedule role -> schedule key": ("a schedule", _having("AWS::Scheduler::Schedule")),
    "schedule role -> dead-letter queue (key)": ("a schedule with a dead-letter queue", _having("AWS::Scheduler::Schedule", "DeadLetterConfig")),
    "state machine role -> its key": ("a state machine", _having("AWS::StepFunctions::StateMachine")),
    "state machine role -> its key (log delivery)": ("a state machine", _having("AWS::StepFunctions::StateMachine")),
    "log delivery -> state machine key": ("a state machine", _having("AWS::StepFunctions::StateMachine")),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(HARDENED_KEY_EDGE_CAUSES))
def test_the_hardened_profile_has_its_key_edges(verdicts: Verdicts, kit_templates: dict[str, dict], kind: str) -> None:
    found = any(edge.kind == kind for edge, _ in verdicts.edges)
    if verdicts.profile != "hardened":
        assert not found, (verdicts.profile, kind)  # AWS-owned keys: nothing to grant
        return
    what, cause = HARDENED_KEY_EDGE_CAUSES[kind]
    if not any(cause(template) for template in kit_templates.values()):
        pytest.skip(f"no template of this kit has {what}")
    assert found, kind
