"""Where things are in the repository, and the one way to import a workload's Lambda code.

Lambda unpacks a workload's asset (`lambdas/<workload>/`) as the import root, so its package is
imported as `lwk_<workload>` (`lwk_order_intake.handlers`). Tests and benchmarks do the same by
putting that folder first on `sys.path` with `use_lambda_code`.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDAS = REPO_ROOT / "lambdas"


def python_name(workload: str) -> str:
    """`order-intake` (a workload key) or `order_intake` -> `order_intake`."""
    return workload.replace("-", "_")


def lambda_root(workload: str) -> Path:
    """`lambdas/<workload>/`, the asset folder Lambda unpacks as its import root."""
    root = LAMBDAS / python_name(workload)
    if not root.is_dir():
        raise FileNotFoundError(f"no Lambda code for workload {workload!r}: {root} does not exist")
    return root


def use_lambda_code(workload: str) -> Path:
    """Put `lambdas/<workload>/` first on `sys.path` (once) and return it."""
    root = lambda_root(workload)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root
