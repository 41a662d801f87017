"""Read a Lambda's contract (`lambdas/<workload>/lwk_<workload>/contract.py`) from the stacks.

The contract holds what both sides must agree on: environment variable names, bounds, shared names.
It imports the standard library only, so the stacks can load it without the Lambda's dependencies,
and without importing the rest of the Lambda package (whose `__init__` may import Powertools):

    contract = load_contract("order-intake")     # or "order_intake"
    environment = {contract.SOURCE_BUCKET_VARIABLE: bucket.bucket_name}

The module is loaded from its file once per process, under a private module name, so that it can
never shadow the real `lwk_<workload>` package that tests import as Lambda does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


def contract_path(workload: str) -> Path:
    """`lambdas/<workload>/lwk_<workload>/contract.py` for a workload key (`order-intake`) or snake name."""
    snake = workload.replace("-", "_")
    return LAMBDAS / snake / f"lwk_{snake}" / "contract.py"


def load_contract(workload: str) -> ModuleType:
    """The workload's contract module; FileNotFoundError if the workload has none."""
    snake = workload.replace("-", "_")
    module_name = f"_lwk_contract_{snake}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = contract_path(workload)
    if not path.is_file():
        raise FileNotFoundError(f"workload {workload!r} has no contract: {path} does not exist")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses and enums defined in it look their module up here.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
