"""The hardened profile's AWS Backup role: AWS Backup may assume it for this account's backups only.

AWS Backup's guide ("Cross-service confused deputy prevention") recommends the aws:SourceAccount /
aws:SourceArn condition keys against the confused deputy; the role's trust names the account, and
the IAM engine proves it: Backup acting for this account is allowed, for another account denied."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.iam.edges import Edge, Kit
from support.iam.engine import evaluate
from support.iam.resolve import ACCOUNT, OTHER_ACCOUNT

BACKUP = "backup.amazonaws.com"


def _backup_roles(kit: Kit) -> list[tuple[str, str]]:
    """(stack, role ARN) of every role whose trust names AWS Backup."""
    roles = []
    for stack in kit.stacks:
        for role_id in stack.of_type("AWS::IAM::Role"):
            trust = stack.policy(stack.props(role_id)["AssumeRolePolicyDocument"])
            if BACKUP in str(trust):
                roles.append((stack.stack_name, stack.get_att(role_id, "Arn")))
    return roles


def test_aws_backup_may_assume_the_backup_role_for_this_account_only(
    hardened_templates: dict[str, dict[str, Any]],
) -> None:
    kit = Kit(hardened_templates)
    roles = _backup_roles(kit)
    assert roles, "the hardened profile backs up the kit's tables with a role of its own"
    edges = [
        Edge("backup -> role trust", stack, "TableBackups", BACKUP, "sts:AssumeRole", role, (),
             kit.trust_policy(role), {"aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "true"})
        for stack, role in roles
    ]  # fmt: skip
    requests = [
        *edges,
        *(replace(e, context={**e.context, "aws:SourceAccount": OTHER_ACCOUNT}) for e in edges),
        *(replace(e, context={"aws:SecureTransport": "true"}) for e in edges),
        *(replace(e, principal="ec2.amazonaws.com") for e in edges),
    ]

    verdicts = evaluate([request.simulation() for request in requests])

    n = len(edges)
    assert verdicts[:n] == ["Allowed"] * n, [e.label for e in edges]
    # Another account's backup job (the confused deputy), a request without the key, another service.
    assert "Allowed" not in verdicts[n:], list(zip([r.label for r in requests[n:]], verdicts[n:], strict=True))
