"""Access to one key prefix of a bucket, and nothing else of it."""

from __future__ import annotations

import re

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.shared.nag import acknowledge, logical_id

PREFIX_PATTERN = r"([A-Za-z0-9!_.*'()-]+/)+"
READ_ACTIONS = ("s3:GetObject",)
WRITE_ACTIONS = ("s3:PutObject",)
DELETE_ACTIONS = ("s3:DeleteObject",)


class PrefixAccess(Construct):
    """An IAM policy, attached to `role`, that lets it use the objects under `prefix` of `bucket` only.

    `read` grants s3:GetObject and s3:ListBucket (limited to the prefix with the `s3:prefix`
    condition), `write` s3:PutObject, `delete` s3:DeleteObject, each on `<bucket ARN>/<prefix>*`.
    For a bucket with a customer managed key it adds the key use those actions need.

    The object ARN ends in a wildcard, which cdk-nag's IAM5 reports; the policy acknowledges that
    one finding, spelled with the bucket's logical id, so any other wildcard still fails the synth.
    `prefix` ends with "/" so that `exports/` cannot also match `exports-old/`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        prefix: str,
        role: iam.IRole,
        read: bool = False,
        write: bool = False,
        delete: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if not re.fullmatch(PREFIX_PATTERN, prefix):
            raise ValueError(
                f"prefix {prefix!r} is not one or more path segments each ending in '/' ({PREFIX_PATTERN})"
            )
        actions = [
            *(READ_ACTIONS if read else ()),
            *(WRITE_ACTIONS if write else ()),
            *(DELETE_ACTIONS if delete else ()),
        ]
        if not actions:
            raise ValueError("PrefixAccess grants nothing: ask for read, write and/or delete")
        statements = [iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(f"{prefix}*")])]
        if read:
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                )
            )
        if bucket.encryption_key is not None:
            key_actions = [*(["kms:Decrypt"] if read else []), *(["kms:GenerateDataKey"] if write else [])]
            if key_actions:
                statements.append(iam.PolicyStatement(actions=key_actions, resources=[bucket.encryption_key.key_arn]))
        self.policy = iam.Policy(self, "Policy", roles=[role], statements=statements)
        acknowledge(
            self.policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{prefix}*]",
            f"Objects are named at run time; the wildcard covers only the keys under {prefix} of this one bucket.",
        )
