"""The hardened profile: customer-managed keys where the shared constructs put data, each key's policy
letting the one AWS service that needs it do exactly that, and the default profile left as it was."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.kit_settings import settings_from_context
from stacks.settings.common import CommonSettings
from stacks.shared.kit_keys import KitKeys, use_profile
from stacks.shared.kit_log_group import KitLogGroup
from stacks.shared.nag import PROFILE_CONTEXT_KEY
from support.iam.edges import Edge, Kit
from support.iam.engine import evaluate
from support.iam.resolve import ACCOUNT
from tests.conftest import KitAssembly, cdk_json_context

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def hardened(hardened_kit: KitAssembly) -> KitAssembly:
    return hardened_kit


def _of_type(resources: Resources, kind: str) -> Resources:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == kind}


def _key_id(reference: Any) -> str:
    """The logical id of the key a `{"Fn::GetAtt": [key, "Arn"]}` (or `Ref`) points to."""
    if "Fn::GetAtt" in reference:
        return reference["Fn::GetAtt"][0]
    return reference["Ref"]


def _statements_for(key: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(s.get("Principal"), dict) and _service_name(s["Principal"].get("Service")) == service
    ]


def _service_name(principal: Any) -> str | None:
    # logs.<region>.amazonaws.com arrives as a Join of the region token.
    if isinstance(principal, dict) and "Fn::Join" in principal:
        return "".join(p if isinstance(p, str) else "<region>" for p in principal["Fn::Join"][1])
    return principal


def _log_group_arn_name(arn: Any) -> str:
    """`<name>` out of the Join CDK writes for a log group ARN, which must be this account's and Region's."""
    parts = arn["Fn::Join"][1]
    assert {"Ref": "AWS::AccountId"} in parts and {"Ref": "AWS::Region"} in parts, arn
    return parts[-1].split(":log-group:")[1]


# The key policies' encryption-context conditions, read here on the template: which log group each
# statement names. (tests/permissions/ evaluates them too: support/iam/simulate.mjs passes
# kms:EncryptionContext:<key> to the engine, which iam-simulate alone would drop.)
def test_kit_function_log_groups_use_a_key_that_logs_may_use_for_them_alone(hardened: KitAssembly) -> None:
    checked = 0
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        for logical_id, group in _of_type(resources, "AWS::Logs::LogGroup").items():
            name = group["Properties"]["LogGroupName"]
            if not name.startswith(settings_from_context(cdk_json_context()).common.log_group_prefix + "/"):
                continue  # the state machine's vended log group belongs to its workload
            key = resources[_key_id(group["Properties"]["KmsKeyId"])]
            allowed = {
                _log_group_arn_name(s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"])
                for s in _statements_for(key, "logs.<region>.amazonaws.com")
            }
            assert name in allowed, f"{workload}/{logical_id}"
            for statement in _statements_for(key, "logs.<region>.amazonaws.com"):
                # Nothing but the encryption-context condition, and it names one log group exactly.
                assert set(statement["Condition"]) == {"ArnEquals"}
            checked += 1
    # Every Lambda function of every stack logs into such a group: one checked per function at least.
    functions = sum(len(_of_type(t["Resources"], "AWS::Lambda::Function")) for t in hardened.templates.values())
    assert checked >= functions > 0


def test_each_logs_key_names_exactly_the_log_groups_it_encrypts(hardened: KitAssembly) -> None:
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        encrypted: dict[str, set[str]] = {}
        for group in _of_type(resources, "AWS::Logs::LogGroup").values():
            if "KmsKeyId" in group["Properties"]:
                key_id = _key_id(group["Properties"]["KmsKeyId"])
                encrypted.setdefault(key_id, set()).add(group["Properties"]["LogGroupName"])
        for key_id, names in encrypted.items():
            allowed = [
                _log_group_arn_name(s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"])
                for s in _statements_for(resources[key_id], "logs.<region>.amazonaws.com")
            ]
            assert sorted(allowed) == sorted(names), workload


def test_every_shared_bucket_uses_sse_kms_with_bucket_keys_and_the_retained_data_key(hardened: KitAssembly) -> None:
    buckets = 0
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        for logical_id, bucket in _of_type(resources, "AWS::S3::Bucket").items():
            (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rule["BucketKeyEnabled"] is True, f"{workload}/{logical_id}"
            default = rule["ServerSideEncryptionByDefault"]
            assert default["SSEAlgorithm"] == "aws:kms", f"{workload}/{logical_id}"
            key = resources[_key_id(default["KMSMasterKeyID"])]
            # The data outlives the stack (buckets are retained), so the key that reads it does too.
            assert key["DeletionPolicy"] == "Retain" == bucket["DeletionPolicy"], f"{workload}/{logical_id}"
            assert key["Properties"]["EnableKeyRotation"] is True
            buckets += 1
    every = sum(r["Type"] == "AWS::S3::Bucket" for t in hardened.templates.values() for r in t["Resources"].values())
    assert buckets == every > 0 or every == 0


def test_s3_logging_may_use_the_key_of_the_access_log_buckets(hardened: KitAssembly) -> None:
    # Server access logs reach an SSE-KMS bucket only if S3's logging service may use its key;
    # aws-cdk-lib writes that statement (without conditions) when the target bucket has a key.
    checked = 0
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        for bucket in _of_type(resources, "AWS::S3::Bucket").values():
            logging = bucket["Properties"].get("LoggingConfiguration")
            if not logging:
                continue
            target = resources[logging["DestinationBucketName"]["Ref"]]
            (rule,) = target["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            key = resources[_key_id(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])]
            (statement,) = _statements_for(key, "logging.s3.amazonaws.com")
            assert "kms:GenerateDataKey*" in statement["Action"], workload
            checked += 1
    logged = sum(
        "LoggingConfiguration" in r.get("Properties", {})
        for t in hardened.templates.values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::S3::Bucket"
    )
    assert checked == logged


def test_logs_keys_go_with_the_stack_and_rotate(hardened: KitAssembly) -> None:
    for template in hardened.templates.values():
        resources = template["Resources"]
        for group in _of_type(resources, "AWS::Logs::LogGroup").values():
            if "KmsKeyId" in group["Properties"]:
                key = resources[_key_id(group["Properties"]["KmsKeyId"])]
                assert key["DeletionPolicy"] == "Delete"
                assert key["Properties"]["PendingWindowInDays"] == 7
                assert key["Properties"]["EnableKeyRotation"] is True


def test_the_default_profile_creates_no_kit_keys(kit: KitAssembly) -> None:
    # The snapshots hold the default templates exactly; this says why they did not change.
    for template in kit.templates.values():
        resources = template["Resources"]
        assert not any("KmsKeyId" in g["Properties"] for g in _of_type(resources, "AWS::Logs::LogGroup").values())
        for bucket in _of_type(resources, "AWS::S3::Bucket").values():
            (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_kit_keys_exist_only_under_the_hardened_profile() -> None:
    default_stack = cdk.Stack(cdk.App(), "Default")
    assert KitKeys.of(default_stack) is None
    app = cdk.App()
    use_profile(app, "hardened")
    stack = cdk.Stack(app, "Hardened")
    assert KitKeys.of(stack) is KitKeys.of(stack) is not None  # one per stack
    with pytest.raises(ValueError, match="unknown profile"):
        use_profile(cdk.App(), "paranoid")


def test_settings_and_the_published_profile_must_agree() -> None:
    # A stack built by hand with hardened settings in an app that never published the profile would
    # otherwise get unencrypted log groups without a word.
    common = CommonSettings(stage="t", tags={}, log_retention_days=7, alarm_email=None, profile="hardened")
    stack = cdk.Stack(cdk.App(), "HandBuilt")
    assert stack.node.try_get_context(PROFILE_CONTEXT_KEY) is None
    with pytest.raises(ValueError, match=r"common\.profile is 'hardened' but the app was built for 'default'"):
        KitLogGroup(stack, "Logs", common=common, log_group_name="/t/x")


def test_every_iam_policy_is_a_managed_policy_with_its_roles_and_document(
    hardened: KitAssembly, kit: KitAssembly
) -> None:
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        assert _of_type(resources, "AWS::IAM::Policy") == {}, workload
        assert not any("Policies" in r["Properties"] for r in _of_type(resources, "AWS::IAM::Role").values())
        default_policies = _of_type(kit.templates[workload]["Resources"], "AWS::IAM::Policy")
        managed = _of_type(resources, "AWS::IAM::ManagedPolicy")
        # The default profile's inline policies, at the same logical ids and on the same roles.
        assert set(default_policies) <= set(managed), workload
        for logical_id, policy in default_policies.items():
            assert managed[logical_id]["Properties"]["Roles"] == policy["Properties"]["Roles"]
            assert "PolicyName" not in managed[logical_id]["Properties"]


def test_access_log_buckets_are_versioned_under_hardened(hardened: KitAssembly) -> None:
    for template in hardened.templates.values():
        for bucket in _of_type(template["Resources"], "AWS::S3::Bucket").values():
            assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
            rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
            assert any("NoncurrentVersionExpiration" in rule for rule in rules)


# ---- the keys' policies, evaluated by the IAM engine (support/iam) -----------------------------


# What S3 asks of the caller's key permissions on an SSE-KMS bucket (S3 user guide, "Using
# server-side encryption with AWS KMS keys"): GetObject decrypts, PutObject generates a data key.
KEY_ACTION_OF = {"s3:GetObject": "kms:Decrypt", "s3:PutObject": "kms:GenerateDataKey"}

# s3:PutObject granted for an API's authorization check only, never sent by the role itself: the
# log export function may write under the export prefixes because CreateExportTask checks that of
# its caller; CloudWatch Logs writes the objects, with its own grant in the key policy.
AUTHORIZATION_ONLY_WITH = "logs:CreateExportTask"


def _object_key_edges(templates: dict[str, dict[str, Any]]) -> list[Edge]:
    """For every role allowed s3:GetObject / s3:PutObject on objects of a bucket with a customer-managed
    key: the role using that key the way S3 will on its behalf."""
    kit = Kit(templates)
    edges = []
    for stack in kit.stacks:
        for policy_id, resource in stack.of_type("AWS::IAM::ManagedPolicy").items():
            document = stack.policy(resource["Properties"]["PolicyDocument"])
            role_arns = [stack.get_att(role["Ref"], "Arn") for role in resource["Properties"].get("Roles", [])]
            for statement in document["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                objects = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for action in sorted(set(actions) & set(KEY_ACTION_OF)):
                    for key in sorted({k for k in map(kit.key_of, objects) if k}):
                        for role_arn in role_arns:
                            edges.append(
                                Edge(
                                    f"{action} needs the bucket key",
                                    stack.stack_name,
                                    policy_id,
                                    role_arn,
                                    KEY_ACTION_OF[action],
                                    key,
                                    kit.role_arn_policies(role_arn),
                                    kit.resource_policy(key),
                                    {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": ACCOUNT},
                                )  # fmt: skip
                            )
    return edges


def _may(edge: Edge, action: str) -> bool:
    """Whether the edge's principal holds `action` in one of its policies."""
    return any(
        action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        for _, policy in edge.identity_policies
        for s in policy["Statement"]
        if s.get("Effect") == "Allow"
    )


def test_roles_that_read_or_write_encrypted_objects_may_use_the_bucket_key(hardened: KitAssembly) -> None:
    templates = {hardened.stack_names[key]: template for key, template in hardened.templates.items()}
    edges = _object_key_edges(templates)
    assert edges, "no role reads or writes objects of an SSE-KMS bucket: did the derivation find the grants?"
    results = evaluate([edge.simulation() for edge in edges])
    denied = [
        (e.stack, e.source, e.action)
        for e, result in zip(edges, results, strict=True)
        if result != "Allowed" and not (e.action == "kms:GenerateDataKey" and _may(e, AUTHORIZATION_ONLY_WITH))
    ]
    assert denied == []
    assert any(result == "Allowed" for result in results)


# IAM quotas a managed policy meets where an inline one did not (IAM user guide, "IAM and AWS STS
# quotas"): 6,144 characters per managed policy (white space not counted), 10 managed policies
# attached to a role by default.
MANAGED_POLICY_CHARACTERS = 6144
MANAGED_POLICIES_PER_ROLE = 10


def test_the_managed_policies_fit_iams_quotas(hardened: KitAssembly) -> None:
    kit = Kit({hardened.stack_names[key]: template for key, template in hardened.templates.items()})
    per_role: dict[str, int] = {}
    for stack in kit.stacks:
        for policy_id, resource in stack.of_type("AWS::IAM::ManagedPolicy").items():
            document = stack.policy(resource["Properties"]["PolicyDocument"])
            characters = len("".join(json.dumps(document).split()))
            assert characters <= MANAGED_POLICY_CHARACTERS, f"{stack.stack_name}/{policy_id}: {characters}"
            for role in resource["Properties"].get("Roles", []):
                per_role[f"{stack.stack_name}/{role['Ref']}"] = per_role.get(f"{stack.stack_name}/{role['Ref']}", 0) + 1
        for role_id, role in stack.of_type("AWS::IAM::Role").items():
            attached = len(role["Properties"].get("ManagedPolicyArns", []))
            per_role[f"{stack.stack_name}/{role_id}"] = per_role.get(f"{stack.stack_name}/{role_id}", 0) + attached
    assert per_role and max(per_role.values()) <= MANAGED_POLICIES_PER_ROLE, per_role


def test_every_table_is_backed_up_daily_into_a_retained_vault_with_the_data_key(hardened: KitAssembly) -> None:
    tables = 0
    for workload, template in hardened.templates.items():
        resources = template["Resources"]
        selected = {
            resource["Fn::GetAtt"][0]
            for selection in _of_type(resources, "AWS::Backup::BackupSelection").values()
            for resource in selection["Properties"]["BackupSelection"]["Resources"]
        }
        for logical_id in _of_type(resources, "AWS::DynamoDB::Table"):
            assert logical_id in selected, f"{workload}/{logical_id} is in no backup plan"
            tables += 1
        for vault in _of_type(resources, "AWS::Backup::BackupVault").values():
            assert vault["DeletionPolicy"] == "Retain"
            key = resources[_key_id(vault["Properties"]["EncryptionKeyArn"])]
            assert key["DeletionPolicy"] == "Retain"
        for plan in _of_type(resources, "AWS::Backup::BackupPlan").values():
            (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
            assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
            assert rule["ScheduleExpression"].startswith("cron(")
    assert tables >= 1


def test_the_default_profile_has_no_backup_plan(kit: KitAssembly) -> None:
    for template in kit.templates.values():
        assert not any(r["Type"].startswith("AWS::Backup::") for r in template["Resources"].values())
