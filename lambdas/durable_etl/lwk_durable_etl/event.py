"""The execution's input event, validated before anything is read or written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .contract import BATCH_SIZE
from .contract import DATASET_ID_PATTERN as _DATASET_ID
from .errors import InvalidEventError

DATASET_ID_PATTERN = re.compile(_DATASET_ID)
KNOWN_FIELDS = ("datasetId", "batchSize", "runId")
# A run id is the first 16 hex digits of a SHA-256 (layout.run_id_for); giving one resumes that run.
RUN_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
PHASES = ("extract", "gather", "transform", "load")


@dataclass(frozen=True)
class EtlRequest:
    dataset_id: str
    batch_size: int
    run_id: str | None = None


def _show(value: Any) -> str:
    return json.dumps(value, default=str)[:80]


def parse_event(event: Any, *, default_batch_size: int) -> EtlRequest:
    """`{"datasetId": str, "batchSize": int (optional), "runId": str (optional: resume that run)}`
    -> EtlRequest, or InvalidEventError."""
    if not isinstance(event, dict):
        raise InvalidEventError(f'the event must be a JSON object like {{"datasetId": "daily"}}, not {_show(event)}')
    unknown = sorted(set(event) - set(KNOWN_FIELDS))
    if unknown:
        raise InvalidEventError(f"the event has unknown field {unknown[0]!r}; known fields: {', '.join(KNOWN_FIELDS)}")
    dataset_id = event.get("datasetId")
    if dataset_id is None or dataset_id == "":
        raise InvalidEventError("the event needs a non-empty string datasetId")
    if not isinstance(dataset_id, str):
        raise InvalidEventError(f"datasetId must be a string, not {_show(dataset_id)}")
    if not DATASET_ID_PATTERN.fullmatch(dataset_id):
        raise InvalidEventError(
            f"datasetId {_show(dataset_id)} must be 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    batch_size = event.get("batchSize", default_batch_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InvalidEventError(f"batchSize must be a whole number, not {_show(batch_size)}")
    if not BATCH_SIZE.minimum <= batch_size <= BATCH_SIZE.maximum:
        raise InvalidEventError(
            f"batchSize {batch_size} is out of range: it must be from {BATCH_SIZE.minimum} to {BATCH_SIZE.maximum}"
        )
    run_id = event.get("runId")
    if run_id is not None and not (isinstance(run_id, str) and RUN_ID_PATTERN.fullmatch(run_id)):
        raise InvalidEventError(f"runId {_show(run_id)} must be the 16 hex digits of an earlier run's runId")
    return EtlRequest(dataset_id=dataset_id, batch_size=batch_size, run_id=run_id)


UNIT_EVENT_FIELDS = {"phase", "datasetId", "batchSize", "runId", "first", "last", "writers", "width"}


@dataclass(frozen=True)
class UnitRequest:
    """What the coordinator sends a worker execution: one phase's units [first, last) of a run."""

    phase: str
    request: EtlRequest
    first: int
    last: int
    # Load steps of the run writing at once, so that each takes its share of the write budget.
    writers: int
    # Unit executions this range may run at once: its share of the run's fanOutWidth.
    width: int

    def to_event(self) -> dict[str, Any]:
        return {"phase": self.phase, "datasetId": self.request.dataset_id, "batchSize": self.request.batch_size,
                "runId": self.request.run_id, "first": self.first, "last": self.last, "writers": self.writers,
                "width": self.width}  # fmt: skip


def parse_unit_event(event: Any) -> UnitRequest:
    """A worker's input, as the coordinator built it; anything else is an InvalidEventError."""
    refusal = InvalidEventError(f"a worker event is built by the coordinator; this is not one: {_show(event)}")
    if not isinstance(event, dict) or set(event) != UNIT_EVENT_FIELDS:
        raise refusal
    numbers = [event[name] for name in ("first", "last", "writers", "width")]
    if event["phase"] not in PHASES or any(isinstance(n, bool) or not isinstance(n, int) for n in numbers):
        raise refusal
    if not 0 <= event["first"] < event["last"] or min(event["writers"], event["width"]) < 1 or event["runId"] is None:
        raise refusal
    request = parse_event({k: event[k] for k in KNOWN_FIELDS}, default_batch_size=event["batchSize"])
    return UnitRequest(event["phase"], request, event["first"], event["last"], event["writers"], event["width"])
