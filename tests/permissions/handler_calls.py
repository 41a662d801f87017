"""Shared by the handler-call tests: evaluate the recorded calls of a run as edges, with their twins."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from support.iam.edges import Edge, negative_twins
from support.iam.engine import evaluate
from support.iam.recorder import AwsCall, AwsCallRecorder, function_environments, handler_edges


@contextmanager
def calls_proved(templates: Mapping[str, Mapping[str, Any]]) -> Iterator[AwsCallRecorder]:
    """Every AWS call a handler of `templates` makes inside is recorded, then proved allowed for its
    function's role (each negative twin denied) by the IAM engine. The stamped workload's handler
    tests run inside it, so a fork's handler calls are checked without a test of their own."""
    with AwsCallRecorder(function_environments(templates), on_the_stack_only=True) as recorder:
        yield recorder
    if recorder.calls:
        prove_calls_allowed(recorder.calls, templates)


def prove_calls_allowed(calls: Iterable[AwsCall], templates: Mapping[str, Mapping[str, Any]]) -> list[Edge]:
    """Every recorded call is allowed for the function's role on the template's resource, and each of
    its negative twins is denied (one engine run). Returns the edges."""
    calls = list(calls)
    assert calls, "the run made no AWS call: nothing was proved"
    edges = handler_edges(calls, templates)
    twins = [twin for edge in edges for twin in negative_twins(edge)]
    results = evaluate([e.simulation() for e in edges] + [t.request.simulation() for t in twins])
    denied = [f"{r}: {e.label}" for e, r in zip(edges, results, strict=False) if r != "Allowed"]
    assert not denied, "\n".join(denied)
    wide = [f"{t.change}: {t.edge.label}" for t, r in zip(twins, results[len(edges) :], strict=True) if r == "Allowed"]
    assert not wide, "wider than it needs to be:\n" + "\n".join(wide)
    return edges
