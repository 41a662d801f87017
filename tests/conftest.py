"""Shared fixtures: one synth of the whole app per test session, read by every template test."""

from __future__ import annotations

import os
import sys

from tests.hermetic import NO_AWS, SHELL_SETTINGS, environment_left_as_found, run_cdk

# Before aws_cdk is first imported: jsii prints an end-of-life banner for Node 20 otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# `cdk synth` runs `python3 app.py`: let that be this interpreter's venv, as `make test` does through
# PATH, so that `.venv/bin/python -m pytest` also works from a shell where the venv is not active.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
# Nothing of the developer's AWS set-up may reach the tests: a profile's endpoint or retry settings
# would redirect or change moto-bound clients, an account makes `cdk synth` look itself up with STS
# and write ARNs out, CDK_CONTEXT_JSON/CDK_OUTDIR would change an in-process synth, Powertools/Lambda
# log settings change what the handlers print. Each fixture sets the fake credentials and region it
# needs; processes the suite starts get a clean environment of their own (tests/hermetic.py).
for _name in [n for n in os.environ if n.startswith(SHELL_SETTINGS)]:
    del os.environ[_name]
os.environ.update(NO_AWS)

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from stacks.kit_app import create_app  # noqa: E402
from stacks.settings.common import APP_NAME  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


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
    stage = app.node.try_get_context("kit")["stage"]
    prefix = f"{APP_NAME}-{stage}-"
    templates, names = {}, {}
    for stack in assembly.stacks:
        key = stack.stack_name.removeprefix(prefix)
        templates[key] = stack.template
        names[key] = stack.stack_name
    return KitAssembly(outdir=outdir, templates=templates, stack_names=names)


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> KitAssembly:
    """The whole app synthesized once, cdk-nag off (tests/test_nag.py runs it with nag on)."""
    return synth_kit(tmp_path_factory.mktemp("cdk.out"), nag=False)


@pytest.fixture(scope="session")
def hardened_kit(tmp_path_factory: pytest.TempPathFactory) -> KitAssembly:
    """The whole app under kit.profile=hardened, synthesized once, cdk-nag off."""
    return synth_kit(tmp_path_factory.mktemp("hardened-kit.out"), nag=False, overrides={"kit.profile": "hardened"})


@pytest.fixture(autouse=True)
def _environment_guard() -> Iterator[None]:
    """Fails a test that leaves AWS_*, CDK_* or POWERTOOLS_* variables changed behind it (moto's
    fake keys, say), after putting them back: a later `cdk synth` in the same worker would use them."""
    with environment_left_as_found():
        yield


@pytest.fixture(scope="session")
def cdk_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDK CLI's home for this session: no cache from the user's `~/.cdk` can reach a test."""
    return tmp_path_factory.mktemp("cdk-home")


@pytest.fixture(scope="session")
def cli_synth(tmp_path_factory: pytest.TempPathFactory, cdk_home: Path) -> Path:
    """`cdk synth` of the real app with cdk-nag on, as `make synth` runs it but hermetic: its cdk.out."""
    outdir = tmp_path_factory.mktemp("cli-cdk.out")
    result = run_cdk(["synth", "--quiet", "--output", str(outdir)], cdk_home=cdk_home)
    assert result.returncode == 0, result.stderr[-5000:]
    return outdir
