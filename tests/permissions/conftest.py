"""The permission check's fixtures: the session's synthesized templates, their edges and twins, and one
evaluation of all of them by the IAM engine (one Node process per test session and worker)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from support.iam.edges import Edge, Twin, derive_edges, negative_twins
from support.iam.engine import evaluate
from tests.conftest import KitAssembly


@dataclass(frozen=True)
class Verdicts:
    edges: list[tuple[Edge, str]]
    twins: list[tuple[Twin, str]]


@pytest.fixture(scope="session")
def kit_templates(kit: KitAssembly) -> dict[str, dict]:
    """Stack name -> synthesized template, for every stack of the app."""
    return {kit.stack_names[key]: template for key, template in kit.templates.items()}


@pytest.fixture(scope="session")
def verdicts(kit_templates: dict[str, dict]) -> Verdicts:
    edges = derive_edges(kit_templates)
    twins = [twin for edge in edges for twin in negative_twins(edge)]
    results = evaluate([edge.simulation() for edge in edges] + [twin.request.simulation() for twin in twins])
    return Verdicts(list(zip(edges, results[: len(edges)], strict=True)), list(zip(twins, results[len(edges) :], strict=True)))
