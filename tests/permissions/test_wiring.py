"""Every permission one AWS service or kit role needs on a kit resource, evaluated by a real IAM engine
over the synthesized templates, with negative twins that must be denied (support/iam/)."""

from __future__ import annotations

import pytest

from support.iam.edges import ACCEPTED_WIDE, Edge
from tests.permissions.conftest import Verdicts

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


@pytest.mark.parametrize(
    "kind",
    [
        "alarm -> topic",
        "alarm -> topic key",
        "rule -> role trust",
        "rule role -> target",
        "schedule -> role trust",
        "schedule role -> target",
        "schedule role -> dead-letter queue",
        "state machine -> role trust",
        "state machine role -> task",
        "state machine role -> task (key)",
        "function -> role trust",
        "function role -> its log group",
        "function role -> dead-letter target",
        "function role -> dead-letter target (key)",
        "function role -> OnSuccess destination",
        "function role -> OnFailure destination",
        "durable function role -> its executions",
        "access logging -> log bucket",
        "logs export -> bucket ACL",
    ],
)
def test_the_kit_has_edges_of_kind(verdicts: Verdicts, kind: str) -> None:
    """The kit as it stands wires each of these: if one disappears, the derivation (or the kit) changed."""
    assert any(edge.kind == kind for edge, _ in verdicts.edges), kind


@pytest.mark.parametrize(
    "kind",
    [
        "logs -> log group key",
        "access logging -> log bucket key",
        "schedule role -> schedule key",
        "schedule role -> dead-letter queue (key)",
        "state machine role -> its key",
        "state machine role -> its key (log delivery)",
        "log delivery -> state machine key",
    ],
)
def test_the_hardened_profile_has_its_key_edges(verdicts: Verdicts, kind: str) -> None:
    found = any(edge.kind == kind for edge, _ in verdicts.edges)
    assert found == (verdicts.profile == "hardened"), (verdicts.profile, kind)


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


def _hardened_key_edges(
    verdicts: Verdicts, stack_suffix: str, expected: set[tuple[str, str]]
) -> list[tuple[Edge, str]]:
    """The edges of `expected`'s kinds in the stack named `...<stack_suffix>`: none under the default
    profile (AWS keys, nothing to grant); under hardened exactly `expected` (kind, action), all allowed."""
    kinds = {kind for kind, _ in expected}
    found = [(e, r) for e, r in verdicts.edges if e.stack.endswith(stack_suffix) and e.kind in kinds]
    if verdicts.profile == "default":
        assert found == []
        return found
    assert {(e.kind, e.action) for e, _ in found} == expected
    assert [e.label for e, r in found if r != "Allowed"] == []
    return found


def test_the_etl_dead_letter_senders_and_schedule_may_use_the_data_key_and_nobody_else(verdicts: Verdicts) -> None:
    # Default: SQS-managed keys and Scheduler's AWS owned key.
    etl = _hardened_key_edges(verdicts, "-durable-etl", ETL_KEY_EDGES)
    if verdicts.profile == "default":
        return
    assert len({e.resource for e, _ in etl}) == 1, "not all on the stack's one data key"
    labels = {e.label for e, _ in etl}
    twins = [(t, r) for t, r in verdicts.twins if t.edge.label in labels]
    # The same request from a role of another account: the key and the role policies must refuse it.
    assert {t.edge.label for t, _ in twins if t.change == "another account"} == labels
    assert [f"{t.change}: {t.edge.label}" for t, r in twins if r == "Allowed"] == []


# The log export state machine under hardened: its role uses the data key for the executions and for
# log delivery, each bound by encryption context; log delivery decrypts. Starting an execution asks
# nothing of the caller's key permissions (Step Functions guide), so the rule's role has no key edge.
STATE_MACHINE_KEY_EDGES = {
    ("state machine role -> its key", "kms:Decrypt"),
    ("state machine role -> its key", "kms:GenerateDataKey"),
    ("state machine role -> its key (log delivery)", "kms:GenerateDataKey"),
    ("log delivery -> state machine key", "kms:Decrypt"),
}


def test_the_state_machine_key_is_used_by_its_role_and_log_delivery_only(verdicts: Verdicts) -> None:
    # Default: Step Functions' AWS owned key.
    _hardened_key_edges(verdicts, "-log-export", STATE_MACHINE_KEY_EDGES)
    if verdicts.profile == "default":
        return
    rule_role_key_edges = [e for e, _ in verdicts.edges if e.kind == "rule role -> target (key)"]
    assert rule_role_key_edges == []
    twins = {
        (t.edge.kind, t.edge.action, t.change): r for t, r in verdicts.twins if t.edge.stack.endswith("-log-export")
    }
    for kind, action in STATE_MACHINE_KEY_EDGES - {("log delivery -> state machine key", "kms:Decrypt")}:
        # Another account's role, and this role for another state machine (or another account's logs).
        assert twins[(kind, action, "another account")] != "Allowed", (kind, action)
        assert twins[(kind, action, "another source ARN")] != "Allowed", (kind, action)
    # Accepted wide (ACCEPTED_WIDE says why): log delivery may use the key for any account's logs.
    assert twins[("log delivery -> state machine key", "kms:Decrypt", "another account")] == "Allowed"
