"""cdk-nag wiring: the AwsSolutions and Serverless packs run as validation plugins on every synth,
and NIST 800-53 rev 5 as well under the hardened profile.

Findings fail the synth. The only way to accept one is `acknowledge`, in code, with a reason that
says why this particular resource is fine; tests/test_nag.py proves each one is still needed.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

from stacks.settings.common import DEFAULT, HARDENED

# Where the kit app publishes kit.profile (stacks/shared/kit_keys.py: use_profile).
PROFILE_CONTEXT_KEY = "lwk:profile"

# Context key naming acknowledgements to leave out (`<construct path>|<rule id>`, comma-separated).
# Only the tests set it, to show that a finding comes back without its acknowledgement.
DROP_ACKNOWLEDGEMENTS_KEY = "lwk:dropAcknowledgements"
# An id without a known pack prefix would be taken as an annotation id and suppress nothing.
NAG_PACKS = ("AwsSolutions", "Serverless")
# The extra pack of the hardened profile (its plugin name, as in finding ids).
HARDENED_PACK = "NIST.800.53.R5"


def packs_for(profile: str) -> tuple[str, ...]:
    """The cdk-nag packs that run on a synth of `profile`."""
    return (*NAG_PACKS, HARDENED_PACK) if profile == HARDENED else NAG_PACKS


def add_nag_checks(app: cdk.App, *, profile: str = DEFAULT) -> None:
    plugins = [AwsSolutionsChecks(verbose=True), ServerlessChecks(verbose=True)]
    if profile == HARDENED:
        plugins.append(NIST80053R5Checks(verbose=True))
    cdk.Validations.of(app).add_plugins(*plugins)


def logical_id(construct: IConstruct) -> str:
    """The logical id of an L2 construct's resource, as cdk-nag spells it in granular finding ids.

    Granular findings (AwsSolutions-IAM5's wildcards) name resources by logical id, which carries a
    hash of the construct path; build the id from the construct instead of copying it from the synth
    error, so the acknowledgement still matches after the construct moves:

        acknowledge(
            policy,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/exports/*]",
            "Objects are named at run time; the wildcard covers only the keys under exports/.",
        )

    `construct` must have a default child (an L2 such as `s3.Bucket`, `lambda_.Function`).
    See docs/ARCHITECTURE.md, "Accepting a cdk-nag finding".
    """
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return str(cdk.Stack.of(construct).resolve(child.logical_id))


def nag_text(scope: IConstruct, value: str) -> str:
    """`value` (a string that may hold tokens) as cdk-nag spells it in granular finding ids.

    Pseudo parameters stay `<AWS::Region>` in an environment-agnostic stack but are written out
    when the stack has an account and region, so an acknowledgement must be built the same way.
    """

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            return "<{}.{}>".format(*part["Fn::GetAtt"])
        if isinstance(part, dict) and "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return str(separator).join(text(p) for p in parts)
        raise ValueError(f"no cdk-nag spelling for {part!r}")

    return text(cdk.Stack.of(scope).resolve(value))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` (and its children) for a reason specific to it."""
    if not rule_id.startswith(tuple(f"{pack}::" for pack in (*NAG_PACKS, HARDENED_PACK))):
        raise ValueError(f"{rule_id!r} is not a cdk-nag rule id: copy it from the synth error ('Acknowledge with ...')")
    if len(reason) < 20:
        raise ValueError(f"acknowledgement of {rule_id} on {scope.node.path} needs a specific reason")
    if rule_id.startswith(HARDENED_PACK + "::") and scope.node.try_get_context(PROFILE_CONTEXT_KEY) != HARDENED:
        return  # the NIST pack runs under the hardened profile only: nothing to acknowledge elsewhere
    dropped = str(scope.node.try_get_context(DROP_ACKNOWLEDGEMENTS_KEY) or "").split(",")
    if f"{scope.node.path}|{rule_id}" in dropped:
        return
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
