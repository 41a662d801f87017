"""The deploy identity, proved by the IAM engine: GitHub's token for a stage's environment may assume
that stage's deploy role, which may then assume only the CDK bootstrap roles of its account and
Region; a pull request's token may assume the stage's diff role, which may assume only the lookup
role. Every other subject, audience and target is denied (the negative twins).

GitHub's subject claim formats are written out here from GitHub's documentation, not taken from
the stack's code, so that a wrong format in the stack fails these tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from stacks.github_deploy.settings import AUDIENCE
from stacks.kit_app import identity_stack_name
from support.iam.edges import Edge, Kit
from support.iam.engine import EngineError, evaluate, ignored_by_iam_simulate
from support.iam.github_oidc import (
    AUD,
    SUB,
    StageRole,
    assume_request,
    bootstrap_trusts,
    condition_keys,
    stage_roles,
    token_request,
)
from support.iam.resolve import ACCOUNT, OTHER_ACCOUNT, PARTITION, REGION
from tests.conftest import cdk_json_context

GITHUB = cdk_json_context()["kit"]["github"]
REPOSITORY = GITHUB["repository"]
STAGES = GITHUB["stages"]
QUALIFIER = GITHUB["bootstrapQualifier"]
OTHER_REGION = "ap-southeast-2"


def _bootstrap_arn(kind: str, *, qualifier: str = QUALIFIER, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:{PARTITION}:iam::{account}:role/cdk-{qualifier}-{kind}-role-{account}-{region}"


# What each kind of role may assume (the CDK CLI's roles; the lookup role alone for a diff).
MAY_ASSUME = {"deploy": ("deploy", "file-publishing", "lookup"), "diff": ("lookup",)}


def _roles(templates: dict[str, dict[str, Any]]) -> tuple[Kit, dict[tuple[str, str], StageRole]]:
    """The identity stack's roles by (stage, kind), found by their names."""
    kit = Kit(templates)
    roles = {}
    for role in stage_roles(kit):
        name = role.arn.rsplit("/", 1)[1]
        stage, kind = name.removeprefix(identity_stack_name() + "-").rsplit("-", 1)
        roles[(stage, kind)] = role
    return kit, roles


@pytest.fixture(scope="module", params=["default", "hardened"])
def identity(request: pytest.FixtureRequest) -> tuple[Kit, dict[tuple[str, str], StageRole]]:
    templates = request.getfixturevalue("kit_templates" if request.param == "default" else "hardened_templates")
    return _roles(templates)


def _expected_subject(stage: str, kind: str) -> str:
    # GitHub: a job in environment <name> -> repo:<owner>/<repo>:environment:<name>; a pull request
    # job without an environment -> repo:<owner>/<repo>:pull_request.
    return f"repo:{REPOSITORY}:environment:{stage}" if kind == "deploy" else f"repo:{REPOSITORY}:pull_request"


def test_every_stage_has_a_deploy_and_a_diff_role(identity: tuple[Kit, dict[tuple[str, str], StageRole]]) -> None:
    _, roles = identity
    assert sorted(roles) == sorted((stage, kind) for stage in STAGES for kind in MAY_ASSUME)


def test_the_stage_subject_may_assume_its_role_and_nothing_else_may(
    identity: tuple[Kit, dict[tuple[str, str], StageRole]],
) -> None:
    _, roles = identity
    allowed: list[Edge] = []
    twins: list[tuple[str, Edge]] = []
    owner, name = REPOSITORY.split("/")
    for (stage, kind), role in sorted(roles.items()):
        subject = _expected_subject(stage, kind)
        edge = token_request(role, sub=subject, aud=AUDIENCE)
        allowed.append(edge)
        other_stage = next(s for s in [*STAGES, "qa"] if s != stage)
        changes = {
            "another repository": f"repo:{owner}/{name}-fork:environment:{stage}",
            "another owner": f"repo:{owner}-other/{name}:pull_request",
            "a branch without the environment": f"repo:{REPOSITORY}:ref:refs/heads/main",
            "a tag": f"repo:{REPOSITORY}:ref:refs/tags/v1.0.0",
            "another stage's environment": f"repo:{REPOSITORY}:environment:{other_stage}",
            "a prefix of the subject": subject[:-1],
            "the subject with a suffix": subject + "x",
            "another case": subject.upper(),
        }
        # Each kind's subject is the other kind's twin: a pull request never deploys, an
        # environment's job does not diff through the pull request role.
        changes["the other role's subject"] = _expected_subject(stage, "diff" if kind == "deploy" else "deploy")
        for change, sub in changes.items():
            twins.append((f"{stage}/{kind}: {change}", token_request(role, sub=sub, aud=AUDIENCE)))
        twins += [
            (f"{stage}/{kind}: another audience", token_request(role, sub=subject, aud=f"https://github.com/{owner}")),
            (f"{stage}/{kind}: no audience", token_request(role, sub=subject, aud=None)),
            (f"{stage}/{kind}: no subject", token_request(role, sub=None, aud=AUDIENCE)),
            (f"{stage}/{kind}: another account's provider", token_request(
                role, sub=subject, aud=AUDIENCE, provider_arn=role.provider_arn.replace(ACCOUNT, OTHER_ACCOUNT))),
            (f"{stage}/{kind}: another identity provider", token_request(
                role, sub=subject, aud=AUDIENCE, provider_arn=role.provider_arn.replace(
                    "token.actions.githubusercontent.com", "gitlab.com"))),
        ]  # fmt: skip

    verdicts = evaluate([e.simulation() for e in allowed] + [t.simulation() for _, t in twins])

    assert verdicts[: len(allowed)] == ["Allowed"] * len(allowed), [e.label for e in allowed]
    wider = [label for (label, _), v in zip(twins, verdicts[len(allowed) :], strict=True) if v == "Allowed"]
    assert wider == []


def test_a_stage_role_may_assume_only_its_bootstrap_roles(
    identity: tuple[Kit, dict[tuple[str, str], StageRole]],
) -> None:
    kit, roles = identity
    trusts = {
        **bootstrap_trusts(QUALIFIER),
        **bootstrap_trusts(QUALIFIER, region=OTHER_REGION),
        **bootstrap_trusts("otherqual"),
        **bootstrap_trusts(QUALIFIER, account=OTHER_ACCOUNT),
    }
    # Roles the stage roles must never reach, each trusting this account as the bootstrap roles do
    # (so that a denial comes from the stage role's own policy): an administrator's role of the account.
    account_trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    trusts[f"arn:{PARTITION}:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"] = account_trust
    allowed: list[Edge] = []
    twins: list[tuple[str, Edge]] = []
    for (stage, kind), role in sorted(roles.items()):
        targets = {_bootstrap_arn(k) for k in MAY_ASSUME[kind]}
        for arn in sorted(targets):
            allowed.append(assume_request(kit, role, arn, trusts[arn]))
        for arn, trust in sorted(trusts.items()):
            if arn not in targets:
                twins.append((f"{stage}/{kind} -> {arn}", assume_request(kit, role, arn, trust)))
        # Nothing but sts:AssumeRole, even on the roles it may assume.
        for action in ("sts:TagSession", "iam:PassRole"):
            edge = assume_request(kit, role, _bootstrap_arn("deploy"), trusts[_bootstrap_arn("deploy")])
            twins.append((f"{stage}/{kind}: {action}", replace(edge, action=action, resource_policy=None)))

    verdicts = evaluate([e.simulation() for e in allowed] + [t.simulation() for _, t in twins])

    assert verdicts[: len(allowed)] == ["Allowed"] * len(allowed), [e.label for e in allowed]
    wider = [label for (label, _), v in zip(twins, verdicts[len(allowed) :], strict=True) if v == "Allowed"]
    assert wider == []
    # The twins include the roles a deploy must not reach directly (the CloudFormation execution
    # role, which only CloudFormation may assume anyway, and the image publishing role the kit does
    # not need), in this and in other accounts, Regions and qualifiers.
    assert any("cfn-exec-role" in label for label, _ in twins) and any(
        "image-publishing" in label for label, _ in twins
    )


def test_the_bootstrap_roles_trust_their_account_as_the_pinned_cli_creates_them() -> None:
    # The model of the far side: the pinned CDK CLI's bootstrap template, not a hand-written policy.
    trusts = bootstrap_trusts(QUALIFIER)
    for kind in ("deploy", "file-publishing", "lookup"):
        statement = trusts[_bootstrap_arn(kind)]["Statement"][0]
        assert statement["Principal"] == {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"}, kind
        assert statement["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"]), kind
    assert trusts[_bootstrap_arn("cfn-exec")]["Statement"][0]["Principal"] == {
        "Service": "cloudformation.amazonaws.com"
    }


def test_no_context_key_the_trust_decides_on_is_ignored_by_the_engine(
    identity: tuple[Kit, dict[tuple[str, str], StageRole]],
) -> None:
    _, roles = identity
    requests: list[Edge] = []
    for (stage, kind), role in sorted(roles.items()):
        edge = token_request(role, sub=_expected_subject(stage, kind), aud=AUDIENCE)
        keys = set(condition_keys(role.trust))
        # The trust decides on exactly the token's subject and audience, and the request carries both.
        assert keys == {SUB, AUD} == set(edge.context), (stage, kind, keys)
        requests.append(edge)
        # Without any one of them the answer changes: the engine read each.
        requests += [replace(edge, context={k: v for k, v in edge.context.items() if k != key}) for key in sorted(keys)]
    verdicts = evaluate([r.simulation() for r in requests])  # raises if a key was ignored
    per_role = len(requests) // len(roles)
    for i in range(0, len(requests), per_role):
        assert verdicts[i] == "Allowed" and set(verdicts[i + 1 : i + per_role]) <= {"ImplicitlyDenied"}, requests[
            i
        ].label


def test_iam_simulate_alone_drops_the_github_keys_and_any_other_unknown_key_still_fails(
    kit_templates: dict[str, dict[str, Any]],
) -> None:
    # Why simulate.mjs recovers the two keys (FIELD-NOTES): on its own, iam-simulate leaves them out
    # and would deny every token. When a release of it reads them, this test says the recovery can go.
    _, roles = _roles(kit_templates)
    role = next(iter(roles.values()))
    edge = token_request(role, sub=_expected_subject(STAGES[0], "deploy"), aud=AUDIENCE)
    assert sorted(ignored_by_iam_simulate(edge.simulation())) == sorted([SUB, AUD])
    # Recovery is for those keys alone: any other key the engine drops is still an error.
    unknown = replace(edge, context={**edge.context, "gitlab.com:sub": "project_path:o/r"})
    with pytest.raises(EngineError, match="gitlab.com:sub"):
        evaluate([unknown.simulation()])
