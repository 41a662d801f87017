"""A role GitHub Actions assumes with its OIDC token, for one subject of one repository."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.github_deploy.settings import AUDIENCE, ISSUER_HOST


class GithubStageRole(Construct):
    """`AWS::IAM::Role` named `role_name`, trusted only through `provider_arn` (web identity) for a
    token whose audience is `sts.amazonaws.com` and whose subject is exactly `subject`
    (StringEquals on both: no wildcard can widen it to another repository, branch or environment).

    Grants the role `sts:AssumeRole` on `assumable` and nothing else: the CDK bootstrap roles do the
    deploying, with the permissions `cdk bootstrap` gave them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        provider_arn: str,
        subject: str,
        role_name: str,
        assumable: Sequence[str],
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        conditions = {"StringEquals": {f"{ISSUER_HOST}:aud": AUDIENCE, f"{ISSUER_HOST}:sub": subject}}
        self.role = iam.Role(
            self,
            "Resource",
            role_name=role_name,
            assumed_by=iam.WebIdentityPrincipal(provider_arn, conditions),
            description=description,
            # A deploy of every stack fits in an hour; the CLI's own role sessions are shorter still.
            max_session_duration=cdk.Duration.hours(1),
        )
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=list(assumable)))
