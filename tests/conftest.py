"""Shared fixtures: one synth of the whole app per test session, read by every template test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.kit_app import create_app

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def cdk_json_context() -> dict[str, Any]:
    """The context `cdk synth` would see from cdk.json, without the CLI."""
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class KitAssembly:
    """The synthesized app: templates by workload key (`durable-etl`, `log-export`, ...)."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    stack_names: dict[str, str]

    def template(self, workload: str) -> Template:
        return Template.from_json(self.templates[workload])


def synth_kit(outdir: Path, *, nag: bool, overrides: dict[str, Any] | None = None) -> KitAssembly:
    app = create_app(outdir=str(outdir), context={**cdk_json_context(), **(overrides or {})}, nag=nag)
    assembly = app.synth()
    from stacks.kit_app import APP_NAME

    stage = app.node.try_get_context("kit")["stage"]
    prefix = f"{APP_NAME}-{stage}-"
    templates, names = {}, {}
    for stack in assembly.stacks:
        key = stack.stack_name.removeprefix(prefix)
        templates[key] = stack.template
        names[key] = stack.stack_name
    return KitAssembly(outdir=outdir, templates=templates, stack_names=names)


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KitAssembly]:
    """The whole app synthesized once, cdk-nag off (tests/test_nag.py runs it with nag on)."""
    yield synth_kit(tmp_path_factory.mktemp("cdk.out"), nag=False)
