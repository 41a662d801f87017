"""The workload registry: one entry per workload, from which the app and the settings take theirs."""

from __future__ import annotations

import re

import pytest

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.kit_settings import settings_from_context
from stacks.settings import SettingsError
from stacks.settings.common import APP_NAME
from stacks.shared.bundling import LAMBDAS_DIR
from stacks.workloads import KEYS, WORKLOADS, Workload, workload
from tests.conftest import REPO_ROOT, KitAssembly, cdk_json_context


def test_names_follow_from_the_key() -> None:
    entry = Workload("order-intake", WORKLOADS[0].stack, WORKLOADS[0].read_settings)
    assert (entry.python_name, entry.context_key, entry.stack_name(f"{APP_NAME}-dev")) == (
        "order_intake",
        "orderIntake",
        f"{APP_NAME}-dev-order-intake",
    )
    first = WORKLOADS[0]
    assert workload(first.context_key) is workload(first.python_name) is workload(first.key) is first
    with pytest.raises(KeyError, match=f"registered: {KEYS[0]}"):
        workload("nope")
    with pytest.raises(ValueError, match="not kebab case"):
        Workload("Order_Intake", WORKLOADS[0].stack, WORKLOADS[0].read_settings)


def test_keys_are_unique_and_every_workload_has_its_settings_in_cdk_json() -> None:
    assert len(set(KEYS)) == len(KEYS)
    kit = cdk_json_context()["kit"]
    assert {w.context_key for w in WORKLOADS} <= set(kit)


def test_the_app_builds_one_stack_per_registered_workload(kit: KitAssembly) -> None:
    # And the deploy identity (stacks/github_deploy/), which is no workload.
    assert sorted(kit.templates) == sorted([*KEYS, GITHUB_STACK_KEY])


def test_no_workload_may_take_the_deploy_identitys_key() -> None:
    with pytest.raises(ValueError, match="taken by the deploy identity"):
        Workload(GITHUB_STACK_KEY, WORKLOADS[0].stack, WORKLOADS[0].read_settings)


def test_settings_of_an_unregistered_workload_are_refused() -> None:
    context = cdk_json_context()
    context["kit"] = {**context["kit"], "unregisteredProbe": {"batchSize": 10}}
    with pytest.raises(SettingsError, match="kit.unregisteredProbe: is not a known setting"):
        settings_from_context(context)


def test_each_workload_reads_its_own_settings() -> None:
    settings = settings_from_context(cdk_json_context())
    assert set(settings.workloads) == set(KEYS)
    assert getattr(settings, WORKLOADS[0].python_name) is settings.of(KEYS[0])
    with pytest.raises(AttributeError, match="no attribute or workload 'unregistered_probe'"):
        _ = settings.unregistered_probe


@pytest.mark.parametrize("entry", WORKLOADS, ids=lambda w: w.key)
def test_every_python_workload_proves_its_handlers_calls_with_the_iam_engine(entry: Workload) -> None:
    """A workload whose Lambda code is Python has a test that records its handlers' AWS calls and
    proves each allowed for the calling role, with negative twins (the stamped template's handler
    tests do it through `calls_proved`): a grant deleted by mistake fails the suite."""
    packages = list((LAMBDAS_DIR / entry.python_name).glob("*/handlers.py"))
    if not packages:
        pytest.skip(f"{entry.key}: no Python handlers (its code makes no AWS call through boto3)")
    tests = (REPO_ROOT / "tests" / entry.python_name).glob("test_*.py")
    assert any(re.search(r"\b(calls_proved|prove_calls_allowed)\(", t.read_text()) for t in tests), (
        f"tests/{entry.python_name}/ never proves its handlers' calls: run them inside "
        "tests.permissions.handler_calls.calls_proved (as the stamped template's test_handlers.py does)"
    )
