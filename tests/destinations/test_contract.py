"""One contract (lwk_destinations/contract.py) for the stack, the settings and the handlers."""

from __future__ import annotations

import ast
import importlib
import sys
from typing import Any

import pytest
from lwk_destinations import contract
from lwk_destinations.config import load_config
from lwk_destinations.errors import ConfigError

from stacks.destinations.contract import contract as stack_contract
from stacks.destinations.settings import read_destinations
from stacks.settings import CommonSettings, SettingsError
from stacks.settings.reader import SettingsReader
from stacks.shared.kit_function import METRICS_NAMESPACE
from tests.conftest import REPO_ROOT, KitAssembly

CONTRACT_FILE = REPO_ROOT / "lambdas" / "destinations" / "lwk_destinations" / "contract.py"


def _functions(kit: KitAssembly) -> dict[str, dict[str, Any]]:
    resources = kit.templates["destinations"]["Resources"]
    return {
        logical_id.split("Function")[0]: resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def _public(module: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(module).items() if name.isupper()}


def test_the_stack_loads_the_same_contract_file_by_path() -> None:
    assert stack_contract.__file__ == str(CONTRACT_FILE)
    assert _public(stack_contract) == _public(contract)
    assert "lwk_destinations" not in stack_contract.__name__  # not the Lambda package: synth needs none of it


def test_the_contract_imports_the_standard_library_only() -> None:
    tree = ast.parse(CONTRACT_FILE.read_text())
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert modules <= sys.stdlib_module_names | {"__future__"}


def test_the_template_names_the_contracts_handlers_and_environment(kit: KitAssembly) -> None:
    functions = _functions(kit)
    assert {name: properties["Handler"] for name, properties in functions.items()} == {
        "Worker": contract.WORKER_HANDLER,
        "SuccessHandler": contract.SUCCESS_HANDLER,
        "FailureHandler": contract.FAILURE_HANDLER,
    }
    for handler in (contract.WORKER_HANDLER, contract.SUCCESS_HANDLER, contract.FAILURE_HANDLER):
        module, _, attribute = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))
    for name in ("Worker", "SuccessHandler"):
        assert set(functions[name]["Environment"]["Variables"]) == {contract.LOG_PAYLOADS_ENV, METRICS_NAMESPACE}
    environment = functions["FailureHandler"]["Environment"]["Variables"]
    assert set(environment) == {
        METRICS_NAMESPACE,
        contract.LOG_PAYLOADS_ENV,
        contract.KEPT_FAILURES_QUEUE_URL_ENV,
        contract.OFFLOAD_BUCKET_ENV,
    }
    # What the template sets is what the handler's config reads.
    environment = {
        **{name: f"value of {name}" for name in environment if name != METRICS_NAMESPACE},
        contract.LOG_PAYLOADS_ENV: "false",
    }
    target = load_config(environment).keep_target()
    assert load_config(environment).log_payloads is False
    assert (target.queue_url, target.offload_bucket) == (
        f"value of {contract.KEPT_FAILURES_QUEUE_URL_ENV}",
        f"value of {contract.OFFLOAD_BUCKET_ENV}",
    )


@pytest.mark.parametrize("missing", ["KEPT_FAILURES_QUEUE_URL_ENV", "OFFLOAD_BUCKET_ENV"])
def test_the_failure_handler_config_names_the_missing_variable(missing: str) -> None:
    environ = {contract.KEPT_FAILURES_QUEUE_URL_ENV: "https://queue", contract.OFFLOAD_BUCKET_ENV: "bucket"}
    del environ[getattr(contract, missing)]
    with pytest.raises(ConfigError, match=getattr(contract, missing)):
        load_config(environ).keep_target()


COMMON = CommonSettings(stage="test", tags={}, log_retention_days=60, alarm_email=None)


@pytest.mark.parametrize(
    ("key", "bounds"),
    [
        ("maxRetryAttempts", contract.MAX_RETRY_ATTEMPTS_RANGE),
        ("maxEventAgeSeconds", contract.MAX_EVENT_AGE_SECONDS_RANGE),
        ("failedQueueDepthAlarm", contract.FAILED_QUEUE_DEPTH_ALARM_RANGE),
    ],
)
def test_the_settings_bounds_are_the_contracts(key: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    for value in (low, high):
        read_destinations(SettingsReader({key: value}, "kit.destinations"), COMMON)
    for value in (low - 1, high + 1):
        with pytest.raises(SettingsError, match=key):
            read_destinations(SettingsReader({key: value}, "kit.destinations"), COMMON)


def test_the_workload_package_imports_on_its_own() -> None:
    # The registry, stacks.settings and the workload import each other: importing the workload first must work.
    import subprocess

    subprocess.run([sys.executable, "-c", "import stacks.destinations"], cwd=REPO_ROOT, check=True)
