"""What the shared constructs promise, checked in every stack that uses them."""

from __future__ import annotations

from tests.conftest import KitAssembly


def test_cloudwatch_may_use_alarm_keys_only_for_this_accounts_alarms(kit: KitAssembly) -> None:
    checked = 0
    for workload, template in kit.templates.items():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::KMS::Key":
                continue
            for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
                if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}:
                    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                    assert "aws:SourceArn" in statement["Condition"]["ArnLike"], workload
                    checked += 1
    assert checked >= 3


def test_every_bucket_is_private_encrypted_and_tls_only(kit: KitAssembly) -> None:
    buckets = 0
    for workload, template in kit.templates.items():
        resources = template["Resources"]
        tls_only = {
            policy["Properties"]["Bucket"]["Ref"]
            for policy in resources.values()
            if policy["Type"] == "AWS::S3::BucketPolicy"
            and any(
                s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            )
        }
        for logical_id, bucket in resources.items():
            if bucket["Type"] != "AWS::S3::Bucket":
                continue
            properties = bucket["Properties"]
            assert properties["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }, f"{workload}/{logical_id}"
            assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], f"{workload}/{logical_id}"
            assert logical_id in tls_only, f"{workload}/{logical_id} accepts plain HTTP"
            buckets += 1
    assert buckets >= 4


def test_cdk_destroy_leaves_only_the_data_behind(kit: KitAssembly) -> None:
    """Buckets and the ETL table outlive their stack (README, Deploy); keys, queues, topics do not."""
    retained = set()
    keys = 0
    for workload, template in kit.templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource.get("DeletionPolicy", "Delete") != "Delete":
                retained.add((workload, resource["Type"]))
            if resource["Type"] == "AWS::KMS::Key":
                assert resource.get("DeletionPolicy") == "Delete", f"{workload}/{logical_id}"
                assert resource["Properties"]["PendingWindowInDays"] == 7, f"{workload}/{logical_id}"
                keys += 1
    assert retained == {
        ("durable-etl", "AWS::S3::Bucket"),
        ("durable-etl", "AWS::DynamoDB::Table"),
        ("log-export", "AWS::S3::Bucket"),
    }
    assert keys == 4  # three alarm topics and the kept failures of the destinations workload
