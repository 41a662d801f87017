"""A private S3 bucket: no public access, SSE (SSE-KMS under `hardened`), TLS only, versioned,
access-logged, with lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.kit_keys import KitKeys
from stacks.shared.nag import acknowledge


class PrivateBucket(Construct):
    """Creates `bucket` and, beside it, `access_logs`: the bucket its server access logs go to.
    (cdk-nag's S1 does not ask a bucket that receives access logs to log itself.)

    Both block all public access and refuse plain HTTP. Under the default profile both use SSE-S3;
    under the hardened profile both use SSE-KMS with the stack's data key (KitKeys, retained like the
    buckets) and S3 Bucket Keys (far fewer KMS requests); aws-cdk-lib then lets S3's logging service
    (logging.s3.amazonaws.com) use the key, which it needs to write the access logs. `key` is that key, or None under the default profile: a
    service that writes into the bucket (CloudWatch Logs exports) needs its own grant on it.
    Objects' noncurrent versions expire after `noncurrent_version_days`; pass more `lifecycle_rules`
    for the current ones.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        noncurrent_version_days: int = 30,
        access_log_days: int = 90,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        keys = KitKeys.of(self)
        self.key = keys.data_key if keys else None
        encryption: dict[str, Any] = (
            {"encryption": s3.BucketEncryption.KMS, "encryption_key": self.key, "bucket_key_enabled": True}
            if self.key
            else {"encryption": s3.BucketEncryption.S3_MANAGED}
        )
        common: dict[str, Any] = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            **encryption,
            "enforce_ssl": True,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": removal_policy,
        }
        access_log_rule = s3.LifecycleRule(expiration=cdk.Duration.days(access_log_days))
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # Under hardened the access logs are versioned too (NIST 800-53 AU-9: an overwritten or
            # deleted log stays readable until its noncurrent version expires).
            versioned=True if self.key else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(access_log_days),
                    noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_days),
                )
                if self.key
                else access_log_rule
            ],
            **common,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="access-logs/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
                *lifecycle_rules,
            ],
            **common,
        )
        for bucket in (self.access_logs, self.bucket):
            acknowledge(
                bucket,
                "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
                "Replication needs a second bucket in another Region (or account) with its own key and role: "
                "a disaster-recovery choice the kit leaves to the operator (docs/security.md); versioning and "
                "retention on delete keep the data recoverable in this Region.",
            )
