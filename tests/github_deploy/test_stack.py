"""The deploy identity's template: one OIDC provider (or none, when the account has one), two roles per
stage trusted only by exact subjects, allowed nothing but sts:AssumeRole on named bootstrap roles."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.github_deploy import STACK_KEY, GithubDeployStack, GithubSettings
from stacks.github_deploy.settings import MAX_STAGES
from stacks.kit_app import identity_stack_name
from stacks.settings import SettingsError
from tests.conftest import KitAssembly, cdk_json_context

GITHUB = cdk_json_context()["kit"]["github"]
ISSUER = "token.actions.githubusercontent.com"
IAM_ROLE_NAME_LIMIT = 64  # IAM user guide, "IAM and AWS STS quotas": role names


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _joined(value: Any) -> str:
    """A Fn::Join of strings and pseudo parameter Refs, as text: `arn:<AWS::Partition>:iam::...`."""
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" for p in value["Fn::Join"][1])


def test_one_provider_for_githubs_issuer_with_the_sts_audience(kit: KitAssembly) -> None:
    (provider,) = _of_type(kit.templates[STACK_KEY], "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == f"https://{ISSUER}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_each_stage_has_a_deploy_and_a_diff_role_trusted_by_one_exact_subject(kit: KitAssembly) -> None:
    template = kit.templates[STACK_KEY]
    roles = {r["Properties"]["RoleName"]: r for r in _of_type(template, "AWS::IAM::Role").values()}
    name = identity_stack_name()
    expected = {f"{name}-{stage}-{kind}" for stage in GITHUB["stages"] for kind in ("deploy", "diff")}
    assert set(roles) == expected
    for role_name, role in roles.items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        stage = role_name.removeprefix(f"{name}-").rsplit("-", 1)[0]
        subject = (
            f"repo:{GITHUB['repository']}:environment:{stage}"
            if role_name.endswith("-deploy")
            else f"repo:{GITHUB['repository']}:pull_request"
        )
        # StringEquals alone: no StringLike, no wildcard that could widen the subject.
        assert statement["Condition"] == {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": subject}
        }
        assert "*" not in json.dumps(statement)
        assert role["Properties"]["MaxSessionDuration"] == 3600


def test_the_roles_may_only_assume_the_bootstrap_roles_named_by_the_qualifier(kit: KitAssembly) -> None:
    template = kit.templates[STACK_KEY]
    roles = {logical_id: r["Properties"]["RoleName"] for logical_id, r in _of_type(template, "AWS::IAM::Role").items()}
    granted: dict[str, set[str]] = {}
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        ((role_ref,),) = [policy["Properties"]["Roles"]]
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole"
        listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        granted[roles[role_ref["Ref"]]] = {_joined(r) for r in listed}
    account = "<AWS::AccountId>"

    def arn(kind: str) -> str:
        return f"arn:<AWS::Partition>:iam::{account}:role/cdk-{GITHUB['bootstrapQualifier']}-{kind}-role-{account}-<AWS::Region>"

    for role_name, resources in granted.items():
        kinds = ("deploy", "file-publishing", "lookup") if role_name.endswith("-deploy") else ("lookup",)
        assert resources == {arn(kind) for kind in kinds}, role_name
    assert set(granted) == set(roles.values())
    # The ARNs for the workflows' variables.
    assert set(template["Outputs"]) == {f"{k}RoleArn{s}" for s in GITHUB["stages"] for k in ("Deploy", "Diff")}


def _small_synth(settings: GithubSettings) -> dict[str, Any]:
    app = cdk.App(builtin_cloud_formation_validation=False)  # cfn-lint and the snapshot check the real one
    stack = GithubDeployStack(app, identity_stack_name(), env=None, settings=settings)
    return dict(Template.from_stack(stack).to_json())


def test_an_existing_provider_is_named_not_created() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    template = _small_synth(GithubSettings(repository="o/r", stages=("dev",), provider_arn=arn))
    assert _of_type(template, "AWS::IAM::OIDCProvider") == {}
    for role in _of_type(template, "AWS::IAM::Role").values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Federated": arn}


def test_the_longest_stage_names_fit_iams_role_name_limit() -> None:
    stages = tuple(f"s{i}" + "x" * 12 for i in range(MAX_STAGES))
    template = _small_synth(GithubSettings(repository="o/r", stages=stages, provider_arn=None, bootstrap_qualifier="q"))
    names = [r["Properties"]["RoleName"] for r in _of_type(template, "AWS::IAM::Role").values()]
    assert len(names) == 2 * MAX_STAGES and max(map(len, names)) <= IAM_ROLE_NAME_LIMIT
    assert all("cdk-q-" in json.dumps(p) for p in _of_type(template, "AWS::IAM::Policy").values())


def test_a_provider_of_another_account_is_refused_once_the_account_is_known() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    settings = GithubSettings(repository="o/r", stages=("dev",), provider_arn=arn)
    app = cdk.App(builtin_cloud_formation_validation=False)
    GithubDeployStack(app, "Same", env=cdk.Environment(account="123456789012", region="eu-west-1"), settings=settings)
    with pytest.raises(
        SettingsError, match=r"^kit\.github\.providerArn: .* is not in the account deployed to \(210987654321\)$"
    ):
        GithubDeployStack(
            app, "Other", env=cdk.Environment(account="210987654321", region="eu-west-1"), settings=settings
        )
