"""The names of the CDK bootstrap roles a pipeline identity may assume (nothing here creates them)."""

from __future__ import annotations

import aws_cdk as cdk

# The roles `cdk bootstrap` creates per account and Region (aws-cdk's bootstrap-template.yaml,
# `cdk-${Qualifier}-<kind>-${AWS::AccountId}-${AWS::Region}`), which the CLI assumes to deploy:
# `deploy` starts CloudFormation (which acts through the cfn-exec role, never assumed by a caller),
# `file-publishing` uploads assets, `lookup` reads (context lookups, `cdk diff --method template`).
# The kit has no container images, so the image-publishing role is not among them.
DEPLOY = "deploy-role"
FILE_PUBLISHING = "file-publishing-role"
LOOKUP = "lookup-role"
DEPLOYING = (DEPLOY, FILE_PUBLISHING, LOOKUP)
READING = (LOOKUP,)


def bootstrap_role_arn(stack: cdk.Stack, qualifier: str, kind: str) -> str:
    """The ARN of bootstrap role `kind` of `stack`'s own account and Region."""
    return f"arn:{stack.partition}:iam::{stack.account}:role/cdk-{qualifier}-{kind}-{stack.account}-{stack.region}"
