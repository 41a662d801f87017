"""The deploy identity (not a workload): GitHub's OIDC provider and per-stage roles that may assume
only the CDK bootstrap roles (stack.py); settings.py reads `kit.github`. One stack per account,
named `<app>-github` (`lwk-github`), synthesized with every stage's workloads."""

from stacks.github_deploy.settings import GithubSettings, read_github
from stacks.github_deploy.stack import GithubDeployStack

# The identity stack's key among the app's stacks (`<APP_NAME>-github`); no workload may take it.
STACK_KEY = "github"
CONTEXT_KEY = "github"

__all__ = ["CONTEXT_KEY", "STACK_KEY", "GithubDeployStack", "GithubSettings", "read_github"]
