"""What the function does with one message, as pure functions: testable without AWS.

Replace `to_item` / `render` with your own logic; keep them free of AWS calls and of logging.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from . import contract
from .errors import RecordError


@dataclass(frozen=True)
class Item:
    item_id: str
    fields: dict[str, Any]


def to_item(body: str) -> Item:
    """A message body (a JSON object with a string `id`) as an Item, or RecordError saying why not."""
    try:
        document = json.loads(body)
    except ValueError:
        raise RecordError("the message body is not JSON") from None
    if not isinstance(document, dict):
        raise RecordError(f"the message body is a JSON {type(document).__name__}, not an object")
    item_id = document.get("id")
    if not isinstance(item_id, str) or not re.fullmatch(contract.ITEM_ID_PATTERN, item_id):
        raise RecordError(f"the field 'id' is missing or does not match {contract.ITEM_ID_PATTERN}")
    return Item(item_id=item_id, fields={k: v for k, v in document.items() if k != "id"})


def result_key(prefix: str, item: Item) -> str:
    """One object per item id: a message delivered twice writes the same object twice."""
    return f"{prefix}{item.item_id}.json"


def render(item: Item) -> bytes:
    """The stored result: the item as canonical JSON (sorted keys), so equal items are equal bytes."""
    return json.dumps({"id": item.item_id, **item.fields}, sort_keys=True, separators=(",", ":")).encode()
