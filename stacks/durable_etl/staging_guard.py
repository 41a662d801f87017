"""Only the ETL's own roles may write a run's staged work under `_etl/` in the source bucket."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .contract import contract

# Every call that creates, replaces or removes an object (a copy or a multipart upload is s3:PutObject).
WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion")


class StagingGuard(Construct):
    """A bucket-policy statement that denies writes under WORK_PREFIX to every principal but `writers`.

    The staged batches a load step writes into the table sit in the bucket that dataset uploaders
    write to, for the hours a run waits before loading. Whoever may put objects into the bucket
    (an uploader's `s3:PutObject` on `bucket/*`, an administrator) could otherwise inject items,
    under any dataset's keys, that no transform step validated. An explicit deny in the bucket
    policy overrides any identity grant in the account; `aws:PrincipalArn` is the role's ARN for
    the ETL functions' sessions. Reading stays open: people read the rejects there. S3 Lifecycle
    expiration is not a request and is not affected.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, bucket: s3.IBucket, writers: Sequence[iam.IRole]
    ) -> None:
        super().__init__(scope, construct_id)
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyTheEtlWritesItsStagedWork",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(WRITE_ACTIONS),
                resources=[bucket.arn_for_objects(f"{contract.WORK_PREFIX}*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": [role.role_arn for role in writers]}},
            )
        )
