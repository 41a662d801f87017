"""The bucket CloudWatch Logs exports land in, and the grants on it."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.contracts import load_contract
from stacks.shared.private_bucket import PrivateBucket

contract = load_contract("log-export")


class ExportBucket(Construct):
    """The bucket exports land in: a PrivateBucket (TLS only, versioned, access-logged; SSE-S3 under the
    default profile, SSE-KMS with the stack's customer-managed data key under `hardened`) whose objects
    move to Glacier Instant Retrieval after `archive_after_days`.

    Its policy lets CloudWatch Logs (`logs.<region>.amazonaws.com`), acting for one of the configured
    log groups of this account and region, read the bucket ACL and put objects under those log groups'
    prefixes with the `bucket-owner-full-control` ACL. With a key, the key's policy lets CloudWatch Logs
    generate data keys and decrypt with it under the same guard: CreateExportTask supports SSE-KMS
    buckets when the key policy allows the Logs service. The `grant_*` methods give the handlers the rest.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, log_groups: Sequence[str], archive_after_days: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.prefixes = [contract.export_prefix(group) for group in log_groups]
        storage = PrivateBucket(
            self,
            "Storage",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ArchiveOldExports",
                    transitions=[
                        s3.Transition(
                            # Millisecond reads (Athena, a download) at about a sixth of Standard's price.
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=cdk.Duration.days(archive_after_days),
                        )
                    ],
                )
            ],
        )
        self.bucket = storage.bucket
        # The stack's customer-managed key under the hardened profile; None (SSE-S3) otherwise.
        self.key = storage.key
        stack = cdk.Stack.of(self)
        logs_service = iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
        # Confused-deputy guard: only exports of the configured log groups of this account may use it
        # (the log-group ARN in both of its spellings, with and without the trailing ":*").
        group_arns = [
            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{group}" for group in log_groups
        ]
        own_account: dict[str, object] = {"aws:SourceAccount": stack.account}
        from_own_log_groups: dict[str, dict[str, object]] = {
            "StringEquals": own_account,
            "ArnLike": {"aws:SourceArn": [form for arn in group_arns for form in (arn, f"{arn}:*")]},
        }
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsAclCheck",
                principals=[logs_service],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=from_own_log_groups,
            )
        )
        # One statement per log group: CloudWatch Logs, exporting one group, may write under that group's
        # prefix only (an export of one group can never land in, or overwrite, another group's months).
        for index, (prefix, group_arn) in enumerate(zip(self.prefixes, group_arns, strict=True)):
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"CloudWatchLogsExportWrite{index}",
                    principals=[logs_service],
                    actions=["s3:PutObject"],
                    # An export writes only under its destination prefix, its write test included.
                    resources=[self.bucket.arn_for_objects(f"{prefix}/*")],
                    conditions={
                        "ArnLike": {"aws:SourceArn": [group_arn, f"{group_arn}:*"]},
                        # Ownership is BUCKET_OWNER_ENFORCED (ACLs off), which still accepts this one canned
                        # ACL; CloudWatch Logs sends it, so the condition holds and refuses any other writer.
                        "StringEquals": {**own_account, "s3:x-amz-acl": "bucket-owner-full-control"},
                    },
                )
            )

        if self.key is not None:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchLogsExportEncrypt",
                    principals=[logs_service],
                    # What an export's writes into an SSE-KMS bucket need (in a key policy "*" is this key).
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=["*"],
                    conditions=from_own_log_groups,
                )
            )

    def _export_objects(self, suffix: str = "*") -> list[str]:
        return [self.bucket.arn_for_objects(f"{prefix}/{suffix}") for prefix in self.prefixes]

    def grant_export_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """PutObject under the log groups' prefixes: CreateExportTask checks its caller may write there."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:PutObject"], resource_arns=self._export_objects()
        )

    def grant_completion_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """See whether the months' completion records exist and write them; never read exported logs, nor
        list anything but those records' keys."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[self.bucket.bucket_arn],
            # BucketCheck lists with the completion record's own key as the prefix, nothing wider.
            conditions={
                "StringLike": {"s3:prefix": [f"{prefix}/*/{contract.COMPLETION_RECORD}" for prefix in self.prefixes]}
            },
        ).combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:PutObject"],
                resource_arns=self._export_objects(f"*/{contract.COMPLETION_RECORD}"),
            )
        )
        if self.key is not None:
            # A PutObject into an SSE-KMS bucket makes S3 ask KMS for a data key as the caller.
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=["kms:GenerateDataKey"], resource_arns=[self.key.key_arn]
                )
            )
        return grant
