"""The export bucket under `kit.profile=hardened`: SSE-KMS with the stack's customer-managed key, which
CloudWatch Logs may use for the configured log groups' exports only (proved by the IAM engine)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stacks.settings.common import APP_NAME
from support.iam.edges import Edge, Kit, negative_twins
from support.iam.engine import evaluate
from support.iam.resolve import ACCOUNT, PARTITION, REGION
from support.log_export_run import TWO_GROUPS, resources_of_type, synth_log_export
from tests.conftest import KitAssembly
from tests.log_export.test_template import bucket_policy, export_bucket_id

WORKLOAD = "log-export"
STACK = f"{APP_NAME}-dev-{WORKLOAD}"
LOGS_SERVICE = f"logs.{REGION}.amazonaws.com"
SID = "CloudWatchLogsExportEncrypt"


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synth_log_export(
        tmp_path_factory.mktemp("log-export-hardened"),
        {"kit.profile": "hardened", "kit.logExport.logGroups": json.dumps(TWO_GROUPS)},
    )


def role_statements(template: dict[str, Any], function_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to a function's role (hardened renders them as
    managed policies)."""
    (role_id,) = [lid for lid in resources_of_type(template, "AWS::IAM::Role") if lid.startswith(function_prefix)]
    return [
        statement
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in resources_of_type(template, kind).values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def export_key_id(template: dict[str, Any]) -> str:
    encryption = template["Resources"][export_bucket_id(template)]["Properties"]["BucketEncryption"]
    (rule,) = encryption["ServerSideEncryptionConfiguration"]
    return rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]


def test_the_export_bucket_uses_sse_kms_with_the_stacks_data_key_and_bucket_keys(hardened: dict[str, Any]) -> None:
    (rule,) = hardened["Resources"][export_bucket_id(hardened)]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    key = hardened["Resources"][export_key_id(hardened)]
    assert (key["Type"], key["Properties"]["EnableKeyRotation"]) == ("AWS::KMS::Key", True)


def test_the_key_lets_cloudwatch_logs_export_under_the_bucket_policys_guard(hardened: dict[str, Any]) -> None:
    key_policy = hardened["Resources"][export_key_id(hardened)]["Properties"]["KeyPolicy"]["Statement"]
    (statement,) = [s for s in key_policy if s.get("Sid") == SID]
    writes = [s for s in bucket_policy(hardened) if s.get("Sid", "").startswith("CloudWatchLogsExportWrite")]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert all(statement["Principal"] == write["Principal"] for write in writes)
    # The same two guards as the bucket policy: this account, the configured log groups only.
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": [arn for w in writes for arn in w["Condition"]["ArnLike"]["aws:SourceArn"]]},
    }
    assert len(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == 2 * len(TWO_GROUPS)


def test_bucket_check_may_generate_data_keys_for_its_records_and_never_decrypt(hardened: dict[str, Any]) -> None:
    key_arn = {"Fn::GetAtt": [export_key_id(hardened), "Arn"]}
    kms = [s for s in role_statements(hardened, "HandlersBucketCheck") if "kms:" in json.dumps(s["Action"])]
    assert kms == [{"Action": "kms:GenerateDataKey", "Effect": "Allow", "Resource": key_arn}]
    for other in ("HandlersLogsExport", "HandlersExportStatus"):
        statements = role_statements(hardened, other)
        assert statements and "kms:" not in json.dumps(statements)


def test_the_execution_log_group_is_encrypted_too(hardened: dict[str, Any]) -> None:
    (group,) = [
        g["Properties"]
        for g in resources_of_type(hardened, "AWS::Logs::LogGroup").values()
        if g["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")
    ]
    assert "KmsKeyId" in group


def _export_edges(template: dict[str, Any]) -> list[Edge]:
    """CloudWatch Logs asking the key for a data key while it exports each configured log group."""
    kit = Kit({STACK: template})
    (stack,) = kit.stacks
    key_arn = stack.get_att(export_key_id(template), "Arn")
    edges = []
    for group in TWO_GROUPS:
        group_arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{group}"
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            edges.append(
                Edge(
                    "logs export -> bucket key",
                    STACK,
                    "Exports",
                    LOGS_SERVICE,
                    action,
                    key_arn,
                    (),
                    kit.resource_policy(key_arn),
                    {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": group_arn, "aws:SecureTransport": "true"},
                )  # fmt: skip
            )
    return edges


def test_the_engine_allows_the_export_edges_and_denies_their_twins(hardened: dict[str, Any]) -> None:
    edges = _export_edges(hardened)
    twins = [twin for edge in edges for twin in negative_twins(edge)]
    assert {twin.change for twin in twins} == {"another account", "another source ARN"}

    results = evaluate([e.simulation() for e in edges] + [t.request.simulation() for t in twins])

    assert results[: len(edges)] == ["Allowed"] * len(edges)
    assert [r for r in results[len(edges) :] if r == "Allowed"] == []


def test_the_engine_denies_the_key_policy_without_the_export_statement(hardened: dict[str, Any]) -> None:
    # The shape before this change: the data key's policy had no statement for CloudWatch Logs.
    before = copy.deepcopy(hardened)
    key = before["Resources"][export_key_id(before)]["Properties"]["KeyPolicy"]
    key["Statement"] = [s for s in key["Statement"] if s.get("Sid") != SID]

    results = evaluate([e.simulation() for e in _export_edges(before)])

    assert set(results) == {"ImplicitlyDenied"}


def _key_id(reference: Any) -> str:
    return str(reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"])


def test_the_log_export_state_machine_data_uses_the_retained_data_key(
    hardened_kit: KitAssembly, kit: KitAssembly
) -> None:
    for assembly in (hardened_kit, kit):
        resources = assembly.templates[WORKLOAD]["Resources"]
        ((_, machine),) = resources_of_type({"Resources": resources}, "AWS::StepFunctions::StateMachine").items()
        if assembly is kit:  # the default profile keeps Step Functions' AWS owned key
            assert "EncryptionConfiguration" not in machine["Properties"]
            continue
        encryption = machine["Properties"]["EncryptionConfiguration"]
        assert encryption["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
        key = resources[_key_id(encryption["KmsKeyId"])]
        assert key["Properties"]["Description"].startswith("Encrypts the data of ")
        assert key["DeletionPolicy"] == "Retain"  # execution history under it stays readable
