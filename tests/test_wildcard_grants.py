"""Every action an identity policy of the kit grants on every resource (`"Resource": "*"`) is
named in docs/security.md: such a grant is only acceptable where AWS offers no resource-level
permission, and a reader of the security page must see each one."""

from __future__ import annotations

from typing import Any

from support.paths import REPO_ROOT
from tests.conftest import KitAssembly

IDENTITY_POLICIES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard_actions(templates: dict[str, dict[str, Any]]) -> set[str]:
    actions = set()
    for template in templates.values():
        for resource in template["Resources"].values():
            documents = []
            if resource["Type"] in IDENTITY_POLICIES:
                documents.append(resource["Properties"]["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in documents:
                for statement in _as_list(document["Statement"]):
                    if statement["Effect"] == "Allow" and "*" in _as_list(statement.get("Resource")):
                        actions.update(_as_list(statement["Action"]))
    return actions


def test_every_action_granted_on_every_resource_is_named_on_the_security_page(
    kit: KitAssembly, hardened_kit: KitAssembly
) -> None:
    actions = _wildcard_actions(kit.templates) | _wildcard_actions(hardened_kit.templates)
    page = (REPO_ROOT / "docs" / "security.md").read_text()

    assert actions, "no grant on every resource found: has the template layout changed?"
    assert sorted(a for a in actions if f"`{a}`" not in page) == []
