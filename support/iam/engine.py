"""The Python side of simulate.mjs: one Node process evaluates a whole batch of IAM requests."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("simulate.mjs")
REPO_ROOT = SCRIPT.parents[2]
ENGINE_PACKAGE = REPO_ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"
RESULTS = {"Allowed", "ImplicitlyDenied", "ExplicitlyDenied"}


class EngineError(RuntimeError):
    """The engine could not evaluate a request (bad policy, unknown action, wrong resource type)."""


def evaluate(simulations: Sequence[dict[str, Any]], *, timeout: float = 120) -> list[str]:
    """`Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied` for each simulation, in order.

    Raises EngineError when the engine ignored a context key of a request: its answer would not
    depend on that key, so it could not prove a condition on it."""
    if not ENGINE_PACKAGE.is_dir():
        raise EngineError(f"{ENGINE_PACKAGE} is missing: run `npm ci` (make test does)")
    node = shutil.which("node")
    if node is None:
        raise EngineError("node is not on PATH: install Node 20 or newer")
    answers = _simulate(node, list(simulations), timeout)
    results = []
    for simulation, answer in zip(simulations, answers, strict=True):
        if answer["result"] not in RESULTS:
            request = simulation["request"]
            raise EngineError(f"cannot evaluate {request['principal']} {request['action']} "
                              f"{request['resource']['resource']}: {json.dumps(answer.get('errors'))}")  # fmt: skip
        if answer.get("ignoredContextKeys"):
            # A condition input the engine did not use would make its answer meaningless.
            request = simulation["request"]
            raise EngineError(f"the engine ignored {answer['ignoredContextKeys']} of {request['action']} on "
                              f"{request['resource']['resource']}: not a condition key of that action")  # fmt: skip
        results.append(answer["result"])
    return results


def ignored_by_iam_simulate(simulation: dict[str, Any], *, timeout: float = 60) -> list[str]:
    """The context keys iam-simulate by itself (without simulate.mjs recovering any) leaves out."""
    (answer,) = _simulate(shutil.which("node") or "node", [{**simulation, "engineOnly": True}], timeout)
    return list(answer.get("ignoredContextKeys", []))


def _simulate(node: str, simulations: list[Any], timeout: float) -> list[dict[str, Any]]:
    """simulate.mjs's answers, one per simulation, in order."""
    completed = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise EngineError(f"simulate.mjs exited {completed.returncode}: {completed.stderr[-3000:]}")
    answers: list[dict[str, Any]] = json.loads(completed.stdout)
    return answers
