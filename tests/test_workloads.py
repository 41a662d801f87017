"""The workload registry: one entry per workload, from which the app and the settings take theirs."""

from __future__ import annotations

import pytest

from stacks.github_deploy import STACK_KEY as GITHUB_STACK_KEY
from stacks.settings import SettingsError, settings_from_context
from stacks.workloads import KEYS, WORKLOADS, Workload, workload
from tests.conftest import KitAssembly, cdk_json_context


def test_names_follow_from_the_key() -> None:
    entry = Workload("order-intake", WORKLOADS[0].stack, WORKLOADS[0].read_settings)
    assert (entry.python_name, entry.context_key, entry.stack_name("lwk-dev")) == (
        "order_intake",
        "orderIntake",
        "lwk-dev-order-intake",
    )
    assert workload("durableEtl") is workload("durable_etl") is workload("durable-etl")
    with pytest.raises(KeyError, match="registered: durable-etl"):
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
    assert settings.durable_etl is settings.of("durable-etl")
    with pytest.raises(AttributeError, match="no attribute or workload 'unregistered_probe'"):
        _ = settings.unregistered_probe
