"""Settings of the deploy identity (`kit.github`): which repository deploys, to which stages.

The identity stack is per account, not per stage: `kit.stage` does not apply to it, and its roles
are named after the stages listed here (deploy the stack in each account with the stages that
account runs, e.g. `-c 'kit.github.stages=["prod"]'` in the production account).
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.settings.common import STAGE_PATTERN
from stacks.settings.reader import SettingsReader

# GitHub's names: an owner (user or organisation) is 1-39 letters, digits or single hyphens, not
# starting or ending with one; a repository name is 1-100 letters, digits, '.', '_' or '-', and
# neither '.' nor '..'. ASCII only: the OIDC subject carries them as they are.
OWNER_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
REPOSITORY_NAME_PATTERN = r"(?!\.{1,2}\Z)[A-Za-z0-9._-]{1,100}"
REPOSITORY_PATTERN = rf"{OWNER_PATTERN}/{REPOSITORY_NAME_PATTERN}"
# GitHub's token issuer; the IAM condition keys of its tokens are named after it.
ISSUER_HOST = "token.actions.githubusercontent.com"
# The audience configure-aws-credentials asks GitHub for (its default), and the provider's client id.
AUDIENCE = "sts.amazonaws.com"
# One OIDC provider per issuer URL and account: an existing one is named by its ARN.
PROVIDER_ARN_PATTERN = rf"arn:aws(-cn|-us-gov)?:iam::[0-9]{{12}}:oidc-provider/{ISSUER_HOST.replace('.', '[.]')}"
# The CDK bootstrap template's own parameter rule (aws-cdk's bootstrap-template.yaml, Qualifier).
QUALIFIER_PATTERN = r"[A-Za-z0-9_-]{1,10}"
DEFAULT_QUALIFIER = "hnb659fds"
# Two roles per stage; IAM allows 1,000 roles per account by default, ten stages are plenty.
MAX_STAGES = 10


@dataclass(frozen=True)
class GithubSettings:
    # `owner/repo`, spelled as GitHub spells it: IAM compares the token's subject exactly.
    repository: str
    stages: tuple[str, ...]
    # None: the stack creates GitHub's OIDC provider; else the account's existing one.
    provider_arn: str | None
    bootstrap_qualifier: str = DEFAULT_QUALIFIER

    def environment_subject(self, stage: str) -> str:
        """The `sub` of a job of this repository that runs in GitHub environment `stage`."""
        return f"repo:{self.repository}:environment:{stage}"

    @property
    def pull_request_subject(self) -> str:
        """The `sub` of a job of this repository run for a pull request (no environment)."""
        return f"repo:{self.repository}:pull_request"


def read_github(reader: SettingsReader) -> GithubSettings:
    return GithubSettings(
        repository=reader.string(
            "repository",
            pattern=REPOSITORY_PATTERN,
            meaning="a GitHub repository as owner/name (owner: 1-39 letters, digits or single hyphens; "
            "name: 1-100 letters, digits, '.', '_' or '-')",
        ),
        stages=reader.string_list(
            "stages",
            pattern=STAGE_PATTERN,
            meaning="stages (1 to 15 lowercase letters, digits or '-', starting with a letter)",
            min_items=1,
            max_items=MAX_STAGES,
        ),
        provider_arn=reader.optional_string(
            "providerArn",
            pattern=PROVIDER_ARN_PATTERN,
            meaning=f"the ARN of this account's OIDC provider for {ISSUER_HOST}",
        ),
        bootstrap_qualifier=reader.string(
            "bootstrapQualifier",
            pattern=QUALIFIER_PATTERN,
            meaning="a CDK bootstrap qualifier: 1 to 10 letters, digits, '_' or '-'",
            default=DEFAULT_QUALIFIER,
        ),
    )
