"""Policies this check made the kit change: the engine shows the old shape (kept here as literal
fixtures, as the kit synthesized them before) failing and the kit's new shape passing, for the same
requests."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, cast

import pytest

from support.iam.edges import Edge
from support.iam.engine import evaluate
from tests.permission_verdicts import Verdicts

ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"

# The alarm topic policy: the TLS guard only. An AWS::SNS::TopicPolicy replaces SNS's default policy,
# so nothing let CloudWatch publish: every alarm notification would have been dropped.
OLD_ALARM_TOPIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": "TOPIC_ARN",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}
# The log export rule's target role, as CDK's SfnStateMachine target makes it: any rule of any account.
OLD_RULE_ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}],
}
# The state machine role, as CDK makes it: any state machine of the account and region.
OLD_STATE_MACHINE_ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Condition": {
                "ArnLike": {"aws:SourceArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:*"},
                "StringEquals": {"aws:SourceAccount": "123456789012"},
            },
        }
    ],
}
# The export bucket's CloudWatch Logs statements: any log group of the account and region.
OLD_EXPORT_BUCKET_ACL_CHECK = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CloudWatchLogsAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": "BUCKET_ARN",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"},
            },
        }
    ],
}

# (edge kind, old policy, twin change or None) -> with the old policy the engine allows the twin (the
# policy was wider than needed) or, for None, denies the edge itself (the policy was broken).
CASES = [
    pytest.param("alarm-topic-policy", "alarm -> topic", OLD_ALARM_TOPIC_POLICY, None, id="alarm-topic-policy"),
    pytest.param(
        "rule-trust-account", "rule -> role trust", OLD_RULE_ROLE_TRUST, "another account", id="rule-role-trust-account"
    ),
    pytest.param(
        "rule-trust-source",
        "rule -> role trust",
        OLD_RULE_ROLE_TRUST,
        "another source ARN",
        id="rule-role-trust-source",
    ),
    pytest.param(
        "machine-trust",
        "state machine -> role trust",
        OLD_STATE_MACHINE_ROLE_TRUST,
        "another source ARN",
        id="state-machine-trust",
    ),
    pytest.param(
        "export-acl",
        "logs export -> bucket ACL",
        OLD_EXPORT_BUCKET_ACL_CHECK,
        "another source ARN",
        id="export-bucket-acl",
    ),
]


def _with_policy(edge: Edge, policy: dict[str, Any]) -> Edge:
    text = json.dumps(policy).replace("TOPIC_ARN", edge.resource).replace("BUCKET_ARN", edge.resource)
    return replace(edge, resource_policy=json.loads(text))


@pytest.fixture(scope="module")
def old_and_new(verdicts: Verdicts) -> dict[str, tuple[str, str]]:
    """case id -> (engine result with the old policy, result with the kit's policy), in one batch."""
    requests, ids, new_results = [], [], []
    for case in CASES:
        name, kind, old_policy, change = cast(tuple[str, str, dict[str, Any], str | None], case.values)
        found = next(((e, r) for e, r in verdicts.edges if e.kind == kind), None)
        if found is None:
            continue  # no such edge in this kit (a fork without the workload that has it)
        edge, edge_result = found
        if change is None:
            request, new_result = edge, edge_result
        else:
            twin, new_result = next((t, r) for t, r in verdicts.twins if t.edge == edge and t.change == change)
            request = twin.request
        requests.append(_with_policy(request, old_policy).simulation())
        ids.append(name)
        new_results.append(new_result)
    return dict(zip(ids, zip(evaluate(requests), new_results, strict=True), strict=True))


@pytest.mark.parametrize(("name", "kind", "old_policy", "change"), CASES)
def test_the_old_shape_fails_and_the_new_one_holds(
    old_and_new: dict[str, tuple[str, str]], name: str, kind: str, old_policy: Any, change: str | None
) -> None:
    if name not in old_and_new:
        pytest.skip(f"this kit has no {kind!r} edge (the workload that has one is not registered)")
    old, new = old_and_new[name]
    if change is None:  # the old policy denied what AWS must be allowed to do
        assert (old, new) == ("ImplicitlyDenied", "Allowed")
    else:  # the old policy allowed a request that must be denied
        assert old == "Allowed"
        assert new in {"ImplicitlyDenied", "ExplicitlyDenied"}
