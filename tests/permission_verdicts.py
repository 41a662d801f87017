"""The permission check's verdicts: every derived edge and negative twin of a profile's templates,
evaluated by the IAM engine in one run (one Node process). The `verdicts` fixture (tests/conftest.py)
gives them per profile to the generic checks (tests/permissions/) and each workload's own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from support.iam.edges import Edge, Twin, derive_edges, negative_twins
from support.iam.engine import evaluate

PROFILES = ["default", "hardened"]


@dataclass(frozen=True)
class Verdicts:
    profile: str
    edges: list[tuple[Edge, str]]
    twins: list[tuple[Twin, str]]


def evaluate_templates(profile: str, templates: Mapping[str, Mapping[str, Any]]) -> Verdicts:
    edges = derive_edges(templates)
    twins = [twin for edge in edges for twin in negative_twins(edge)]
    results = evaluate([edge.simulation() for edge in edges] + [twin.request.simulation() for twin in twins])
    return Verdicts(
        profile,
        list(zip(edges, results[: len(edges)], strict=True)),
        list(zip(twins, results[len(edges) :], strict=True)),
    )


def hardened_key_edges(verdicts: Verdicts, stack: str, expected: set[tuple[str, str]]) -> list[tuple[Edge, str]]:
    """The edges of `expected`'s kinds in `stack`: none under the default profile (AWS keys, nothing
    to grant); under hardened exactly `expected` (kind, action), all allowed."""
    kinds = {kind for kind, _ in expected}
    found = [(e, r) for e, r in verdicts.edges if e.stack == stack and e.kind in kinds]
    if verdicts.profile == "default":
        assert found == [], f"{stack}: key edges under the default profile, which uses AWS keys"
        return found
    assert {(e.kind, e.action) for e, _ in found} == expected
    assert [e.label for e, r in found if r != "Allowed"] == []
    return found
