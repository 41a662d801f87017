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

import hashlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from stacks.shared.build_cache import build_once  # noqa: E402
from support.botocore_models import share_parsed_models  # noqa: E402
from support.synth_cache import CACHE as SYNTH_CACHE  # noqa: E402
from support.synth_cache import KitAssembly, cache_key, cdk_json_context, prune, share_assets, synth_kit  # noqa: E402
from tests.permission_verdicts import PROFILES, Verdicts, evaluate_templates  # noqa: E402

# Per-test time budgets (pytest.ini budget_*).
pytest_plugins = ["tests.budget"]

share_parsed_models()

__all__ = ["KitAssembly", "cdk_json_context", "synth_kit"]  # the tests import the synth from here

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> KitAssembly:
    """The whole app synthesized once, cdk-nag off (tests/test_nag.py runs it with nag on)."""
    return synth_kit(tmp_path_factory.mktemp("cdk.out"), nag=False)


@pytest.fixture(scope="session")
def hardened_kit(tmp_path_factory: pytest.TempPathFactory) -> KitAssembly:
    """The whole app under kit.profile=hardened, synthesized once, cdk-nag off."""
    return synth_kit(tmp_path_factory.mktemp("hardened-kit.out"), nag=False, overrides={"kit.profile": "hardened"})


@pytest.fixture(scope="session")
def kit_templates(kit: KitAssembly) -> dict[str, dict[str, Any]]:
    """Stack name -> synthesized template, for every stack of the app (cdk.json's profile)."""
    return {kit.stack_names[key]: template for key, template in kit.templates.items()}


@pytest.fixture(scope="session")
def hardened_templates(hardened_kit: KitAssembly) -> dict[str, dict[str, Any]]:
    """The same under kit.profile=hardened (customer-managed keys on logs and buckets)."""
    return {hardened_kit.stack_names[key]: template for key, template in hardened_kit.templates.items()}


@pytest.fixture(scope="session", params=PROFILES)
def verdicts(request: pytest.FixtureRequest) -> Verdicts:
    """Every edge and twin of one profile's templates, judged by the IAM engine (tests/permission_verdicts.py)."""
    templates = request.getfixturevalue("kit_templates" if request.param == "default" else "hardened_templates")
    return evaluate_templates(request.param, templates)


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
def cli_synth(cdk_home: Path) -> Path:
    """`cdk synth` of the real app with cdk-nag on, as `make synth` runs it but hermetic: its cdk.out.

    Kept in the synth cache under the key of the same in-process synth plus the CLI's own pins, so
    every worker (and an unchanged second run) reads one CLI synth."""
    key = (
        cache_key(nag=True, overrides={})
        + "-cli-"
        + hashlib.sha256((REPO_ROOT / "package-lock.json").read_bytes()).hexdigest()[:16]
    )

    def synthesize(outdir: Path) -> None:
        result = run_cdk(["synth", "--quiet", "--output", str(outdir)], cdk_home=cdk_home)
        assert result.returncode == 0, result.stderr[-5000:]
        share_assets(outdir)

    return build_once(SYNTH_CACHE / key, synthesize)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than cores (pytest.ini says why)."""
    return (os.cpu_count() or 1) + 1


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, before any worker reads the cache
        prune()
