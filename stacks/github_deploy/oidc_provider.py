"""GitHub's OIDC identity provider in this account: created by the stack, or the existing one imported."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.github_deploy.settings import AUDIENCE, ISSUER_HOST


class GithubOidcProvider(Construct):
    """`AWS::IAM::OIDCProvider` for `https://token.actions.githubusercontent.com` with the client id
    (audience) `sts.amazonaws.com`, or, with `existing_arn`, that provider imported: IAM allows one
    provider per issuer URL in an account, so a second stack cannot create another.

    No thumbprint: IAM trusts GitHub's certificate through its own library of root CAs and ignores
    thumbprints for this issuer. Grants nothing by itself; roles name it as their federated principal.
    """

    def __init__(self, scope: Construct, construct_id: str, *, existing_arn: str | None) -> None:
        super().__init__(scope, construct_id)
        if existing_arn is not None:
            self.provider = iam.OidcProviderNative.from_oidc_provider_arn(self, "Imported", existing_arn)
        else:
            self.provider = iam.OidcProviderNative(
                self, "Resource", url=f"https://{ISSUER_HOST}", client_ids=[AUDIENCE]
            )

    @property
    def provider_arn(self) -> str:
        return self.provider.oidc_provider_arn
