"""The log export Lambda's contract (lambdas/log_export/lwk_log_export/contract.py), loaded from its
file: it is standard library only, so the stacks can share its names without importing the runtime."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "lambdas" / "log_export" / "lwk_log_export" / "contract.py"
_MODULE_NAME = "lwk_log_export_contract_for_stacks"


def _load() -> ModuleType:
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, CONTRACT_FILE)
    assert spec is not None and spec.loader is not None, CONTRACT_FILE
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


contract = _load()
