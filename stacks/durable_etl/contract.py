"""The Lambda's contract module (lambdas/durable_etl/lwk_durable_etl/contract.py), loaded by path.

Only the contract is loaded, never the rest of the Lambda package: it is standard library only, so
the stack shares its names and bounds without importing the runtime's dependencies.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "lambdas" / "durable_etl" / "lwk_durable_etl" / "contract.py"
_NAME = "lwk_durable_etl_contract"


def _load():  # type: ignore[no-untyped-def]
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


contract = _load()
