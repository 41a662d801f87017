"""The deploy identity's edges for the IAM engine: GitHub's token -> a stage role (web identity trust),
and that role -> the CDK bootstrap roles (identity policy + the bootstrap roles' own trust).

The GitHub side is what GitHub documents its OIDC token to carry ("About security hardening with
OpenID Connect", subject claims): `sub` is `repo:<owner>/<repo>:environment:<name>` for a job that
names an environment, `repo:<owner>/<repo>:ref:refs/heads/<branch>` for one that does not, and
`repo:<owner>/<repo>:pull_request` for a pull request; `aud` is what the job asked for
(configure-aws-credentials asks for `sts.amazonaws.com`). IAM passes both to the role's trust policy
as `token.actions.githubusercontent.com:sub` / `:aud`. iam-simulate drops those two keys from the
request (they are not in its condition key data), so simulate.mjs evaluates these requests with the
engine's core and the context intact, as it does for `kms:EncryptionContext:*`.

The bootstrap side is read from the bootstrap template of the pinned CDK CLI (node_modules/aws-cdk),
so the roles' names and trust policies are the ones `cdk bootstrap` creates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from support.iam.edges import Edge, Kit
from support.iam.resolve import ACCOUNT, PARTITION, REGION, ResolvedTemplate

ISSUER_HOST = "token.actions.githubusercontent.com"
SUB = f"{ISSUER_HOST}:sub"
AUD = f"{ISSUER_HOST}:aud"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
BOOTSTRAP_TEMPLATE = (
    Path(__file__).resolve().parents[2] / "node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml"
)


@dataclass(frozen=True)
class StageRole:
    """A role of the identity stack that GitHub's token may assume."""

    stack: str
    logical_id: str
    arn: str
    provider_arn: str
    trust: Mapping[str, Any]


def stage_roles(kit: Kit) -> list[StageRole]:
    """Every role whose trust names a web identity provider for GitHub's issuer."""
    roles = []
    for stack in kit.stacks:
        for role_id in stack.of_type("AWS::IAM::Role"):
            trust = stack.policy(stack.props(role_id)["AssumeRolePolicyDocument"])
            for statement in trust["Statement"]:
                federated = statement.get("Principal", {}).get("Federated", "")
                if isinstance(federated, str) and federated.endswith(f":oidc-provider/{ISSUER_HOST}"):
                    roles.append(StageRole(stack.stack_name, role_id, stack.get_att(role_id, "Arn"), federated, trust))
    return roles


def token_request(role: StageRole, *, sub: str | None, aud: str | None, provider_arn: str | None = None) -> Edge:
    """GitHub's token for `sub` / `aud` (None: the claim is missing) presented to assume `role`."""
    context = {key: value for key, value in ((SUB, sub), (AUD, aud)) if value is not None}
    return Edge(
        "github token -> role trust", role.stack, role.logical_id, provider_arn or role.provider_arn, WEB_IDENTITY,
        role.arn, (), role.trust, context,
    )  # fmt: skip


def bootstrap_trusts(
    qualifier: str, account: str = ACCOUNT, region: str = REGION, template_file: Path = BOOTSTRAP_TEMPLATE
) -> dict[str, Mapping[str, Any]]:
    """Role ARN -> trust policy of every role `cdk bootstrap` creates, as the pinned CLI's template
    writes them without `--trust` accounts (the `Fn::If` statements for those are left out)."""
    # cfn-lint's reader (a pinned dev dependency) knows CloudFormation's YAML, short forms included.
    template = json.loads(json.dumps(cfn_yaml.load(str(template_file))))
    resolver = ResolvedTemplate("CDKToolkit", template)
    resolver.pseudo.update({"AWS::AccountId": account, "AWS::Region": region})
    trusts: dict[str, Mapping[str, Any]] = {}
    for logical_id in resolver.of_type("AWS::IAM::Role"):
        props = resolver.props(logical_id)
        name = re.sub(
            r"\$\{([^}]+)\}",
            lambda m: qualifier if m.group(1) == "Qualifier" else str(resolver.pseudo[m.group(1)]),
            props["RoleName"]["Fn::Sub"],
        )
        statements = [_plain(resolver, s) for s in props["AssumeRolePolicyDocument"]["Statement"] if "Fn::If" not in s]
        trusts[f"arn:{PARTITION}:iam::{account}:role/{name}"] = {"Version": "2012-10-17", "Statement": statements}
    return trusts


def _plain(resolver: ResolvedTemplate, statement: Mapping[str, Any]) -> dict[str, Any]:
    principal = {kind: resolver.value(value) for kind, value in statement["Principal"].items()}
    if "AWS" in principal and re.fullmatch(r"[0-9]{12}", str(principal["AWS"])):
        # An account id in a principal means that account's root (IAM user guide, "AWS account principals").
        principal["AWS"] = f"arn:{PARTITION}:iam::{principal['AWS']}:root"
    return {"Effect": statement["Effect"], "Principal": principal, "Action": statement["Action"]}


def assume_request(kit: Kit, role: StageRole, target_arn: str, target_trust: Mapping[str, Any]) -> Edge:
    """The stage role's session calling sts:AssumeRole on `target_arn` (as the CDK CLI does)."""
    return Edge(
        "stage role -> bootstrap role", role.stack, role.logical_id, role.arn, "sts:AssumeRole", target_arn,
        kit.role_arn_policies(role.arn), target_trust, {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": ACCOUNT},
    )  # fmt: skip


def condition_keys(policy: Mapping[str, Any]) -> Iterator[str]:
    """Every condition key an Allow statement of `policy` tests."""
    for statement in policy["Statement"]:
        for operands in statement.get("Condition", {}).values():
            yield from operands
