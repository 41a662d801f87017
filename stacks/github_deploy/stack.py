"""The deploy identity of one account: GitHub's OIDC provider and, per stage, a deploy and a diff role."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.github_deploy.bootstrap_roles import DEPLOYING, READING, bootstrap_role_arn
from stacks.github_deploy.oidc_provider import GithubOidcProvider
from stacks.github_deploy.settings import GithubSettings
from stacks.github_deploy.stage_role import GithubStageRole
from stacks.settings.reader import SettingsError


def deploy_role_name(stack_name: str, stage: str) -> str:
    """`lwk-github-dev-deploy`: what the workflows assume to deploy `stage`."""
    return f"{stack_name}-{stage}-deploy"


def diff_role_name(stack_name: str, stage: str) -> str:
    """`lwk-github-dev-diff`: what a pull request assumes to diff against `stage` (read only)."""
    return f"{stack_name}-{stage}-diff"


class GithubDeployStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None, settings: GithubSettings
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description=f"GitHub Actions deploy identity for {settings.repository} (OIDC, no stored keys)",
        )
        # Known only once the CLI names the account: a role cannot trust another account's provider.
        known_account = not cdk.Token.is_unresolved(self.account)
        if settings.provider_arn and known_account and settings.provider_arn.split(":")[4] != self.account:
            raise SettingsError(
                f"kit.github.providerArn: {settings.provider_arn} is not in the account deployed to ({self.account})"
            )
        provider = GithubOidcProvider(self, "Provider", existing_arn=settings.provider_arn)
        qualifier = settings.bootstrap_qualifier
        for stage in settings.stages:
            deploy = GithubStageRole(
                self,
                f"Deploy-{stage}",
                provider_arn=provider.provider_arn,
                subject=settings.environment_subject(stage),
                role_name=deploy_role_name(self.stack_name, stage),
                assumable=[bootstrap_role_arn(self, qualifier, kind) for kind in DEPLOYING],
                description=f"Deploys stage {stage}: jobs in GitHub environment {stage} of {settings.repository}",
            )
            diff = GithubStageRole(
                self,
                f"Diff-{stage}",
                provider_arn=provider.provider_arn,
                subject=settings.pull_request_subject,
                role_name=diff_role_name(self.stack_name, stage),
                assumable=[bootstrap_role_arn(self, qualifier, kind) for kind in READING],
                description=f"Diffs pull requests of {settings.repository} against stage {stage} (lookup role only)",
            )
            # The workflows' repository variables AWS_DEPLOY_ROLE_ARN / AWS_DIFF_ROLE_ARN per environment.
            cdk.CfnOutput(self, f"DeployRoleArn-{stage}", value=deploy.role.role_arn)
            cdk.CfnOutput(self, f"DiffRoleArn-{stage}", value=diff.role.role_arn)
