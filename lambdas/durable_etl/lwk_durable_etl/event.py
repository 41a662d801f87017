"""The execution's input event, validated before anything is read or written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .contract import BATCH_SIZE, DATASET_ID_PATTERN as _DATASET_ID
from .errors import InvalidEventError

DATASET_ID_PATTERN = re.compile(_DATASET_ID)
KNOWN_FIELDS = ("datasetId", "batchSize")


@dataclass(frozen=True)
class EtlRequest:
    dataset_id: str
    batch_size: int


def _show(value: Any) -> str:
    return json.dumps(value, default=str)[:80]


def parse_event(event: Any, *, default_batch_size: int) -> EtlRequest:
    """`{"datasetId": str, "batchSize": int (optional)}` -> EtlRequest, or InvalidEventError."""
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
    return EtlRequest(dataset_id=dataset_id, batch_size=batch_size)
