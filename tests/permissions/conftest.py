"""The permission check's fixtures: the synthesized templates of both profiles, their edges and twins,
and one evaluation of all of them by the IAM engine per profile (one Node process each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from support.iam.edges import Edge, Twin, derive_edges, negative_twins
from support.iam.engine import evaluate
from tests.conftest import KitAssembly, synth_kit

PROFILES = ["default", "hardened"]


@dataclass(frozen=True)
class Verdicts:
    profile: str
    edges: list[tuple[Edge, str]]
    twins: list[tuple[Twin, str]]


def _by_stack(assembly: KitAssembly) -> dict[str, dict[str, Any]]:
    return {assembly.stack_names[key]: template for key, template in assembly.templates.items()}


@pytest.fixture(scope="session")
def kit_templates(kit: KitAssembly) -> dict[str, dict[str, Any]]:
    """Stack name -> synthesized template, for every stack of the app (cdk.json's profile)."""
    return _by_stack(kit)


@pytest.fixture(scope="session")
def hardened_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The same app under kit.profile=hardened (customer-managed keys on logs and buckets)."""
    return _by_stack(
        synth_kit(tmp_path_factory.mktemp("hardened-cdk.out"), nag=False, overrides={"kit.profile": "hardened"})
    )


@pytest.fixture(scope="session", params=PROFILES)
def verdicts(request: pytest.FixtureRequest) -> Verdicts:
    templates = request.getfixturevalue("kit_templates" if request.param == "default" else "hardened_templates")
    edges = derive_edges(templates)
    twins = [twin for edge in edges for twin in negative_twins(edge)]
    results = evaluate([edge.simulation() for edge in edges] + [twin.request.simulation() for twin in twins])
    return Verdicts(
        request.param,
        list(zip(edges, results[: len(edges)], strict=True)),
        list(zip(twins, results[len(edges) :], strict=True)),
    )
