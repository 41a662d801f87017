"""What one durable run cost, execution by execution, read from the SDK runner's histories.

A run of the durable ETL is a coordinator execution and the child executions it starts with
`context.invoke`. Durable execution limits hold per execution (3,000 operations, 256 KB per
checkpointed result, 100 MB of checkpoint data written), so this measures each execution apart.
Used by the ETL's tests and by bench/durable_etl.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExecutionCost:
    arn: str
    operations: int  # distinct durable operations (steps, waits, contexts, invokes) it holds
    largest_result: int  # bytes of the largest checkpointed result (step, context or invoke)
    checkpoint_bytes: int  # bytes of every checkpointed result and input together
    invocations: int


def history(runner: Any, arn: str) -> list[Any]:
    """Every event of one execution, results included (the runner's own call pages at 100 events)."""
    events: list[Any] = runner._executor.get_execution_history(
        arn, include_execution_data=True, max_items=10_000_000
    ).events
    return events


def _payloads(event: Any) -> list[str]:
    found = []
    for name, value in vars(event).items():
        if name.endswith("_details") and value is not None:
            for part in ("result", "input", "error"):
                payload = getattr(getattr(value, part, None), "payload", None)
                if isinstance(payload, str):
                    found.append(payload)
    return found


def run_costs(runner: Any, arn: str) -> list[ExecutionCost]:
    """The cost of `arn` and of every execution it started, children of children included."""
    costs, pending, seen = [], [arn], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        events = history(runner, current)
        sizes = [len(p.encode()) for event in events for p in _payloads(event)]
        costs.append(
            ExecutionCost(
                arn=current,
                operations=len(
                    {e.operation_id for e in events if e.operation_id and e.event_type != "ExecutionStarted"}
                ),
                largest_result=max(sizes, default=0),
                checkpoint_bytes=sum(sizes),
                invocations=sum(e.event_type == "InvocationCompleted" for e in events),
            )
        )
        for event in events:
            details = event.chained_invoke_started_details
            if details is not None and details.durable_execution_arn:
                pending.append(details.durable_execution_arn)
    return costs
