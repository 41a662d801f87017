"""The destinations Lambda's contract (lambdas/destinations/lwk_destinations/contract.py), for the stack.

Loaded by file path, so that synth never imports the Lambda package (or its dependencies). To be
replaced by the shared `stacks/shared/contracts.py` loader once it exists.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_PATH = Path(__file__).resolve().parents[2] / "lambdas" / "destinations" / "lwk_destinations" / "contract.py"
_NAME = "lwk_contracts.destinations"


def _load() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


contract = _load()
