"""What a valid record looks like, and its normal form in the table.

Edit FIELDS to describe your own records. Fields not listed are kept as they are (empty CSV cells
are left out). Values from JSON Lines must have the JSON type the field asks for; CSV cells are
text, so for CSV a number is accepted as its decimal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Attributes the ETL writes itself: a record may not bring its own.
DATASET_ATTRIBUTE = "datasetId"
ID_ATTRIBUTE = "id"
RUN_ATTRIBUTE = "etlRunId"
SOURCE_ATTRIBUTE = "etlSource"
RESERVED = (DATASET_ATTRIBUTE, RUN_ATTRIBUTE, SOURCE_ATTRIBUTE)
# DynamoDB's limit for a sort key value, in UTF-8 bytes.
_CSV_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_ID_BYTES = 1024


class InvalidRecord(ValueError):
    """One record breaks the schema; the message is the reject reason."""


def _text(value: Any, name: str, *, from_csv: bool) -> str:
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidRecord(f"{name} is empty")
    return text


def _record_id(value: Any, name: str, *, from_csv: bool) -> str:
    text = _text(value, name, from_csv=from_csv)
    if len(text.encode()) > MAX_ID_BYTES:
        raise InvalidRecord(f"{name} is longer than {MAX_ID_BYTES} bytes")
    return text


def _decimal(value: Any, name: str, *, from_csv: bool) -> Decimal:
    if from_csv and isinstance(value, str):
        # Decimal() also takes "1_000", "NaN" and Unicode digits; a CSV number is plain ASCII.
        if not _CSV_NUMBER.fullmatch(value.strip()):
            raise InvalidRecord(f"{name} {value!r} is not a number")
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidRecord(f"{name} {value!r} is not a number") from None
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise InvalidRecord(f"{name} must be a number, not {type(value).__name__}")
    if not number.is_finite():
        raise InvalidRecord(f"{name} {value!r} is not a finite number")
    return number


def _timestamp(value: Any, name: str, *, from_csv: bool) -> str:
    text = _text(value, name, from_csv=from_csv)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise InvalidRecord(f"{name} {text!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidRecord(f"{name} {text!r} has no time zone offset (add Z or +hh:mm)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Field:
    name: str
    convert: Callable[..., Any]
    required: bool


FIELDS = (
    Field("id", _record_id, required=True),
    Field("name", _text, required=True),
    Field("amount", _decimal, required=True),
    Field("updatedAt", _timestamp, required=False),
)
_FIELD_NAMES = {field.name for field in FIELDS}


def _unstorable_text(value: Any) -> bool:
    """Whether `value` holds text UTF-8 cannot encode (a lone surrogate such as "\\ud800", which JSON
    text may carry as an escape): DynamoDB and S3 store UTF-8 only, so such a record cannot be kept."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable_text(name) or _unstorable_text(inner) for name, inner in value.items())
    if isinstance(value, list):
        return any(_unstorable_text(inner) for inner in value)
    return False


def normalise(record: dict[str, Any], *, from_csv: bool) -> dict[str, Any]:
    """The record in its normal form, or InvalidRecord naming the first problem."""
    for name, value in record.items():
        if _unstorable_text(name) or _unstorable_text(value):
            shown = name.encode("ascii", "backslashreplace").decode()[:64]
            raise InvalidRecord(
                f"field {shown!r} holds text that is not valid Unicode (a lone surrogate such as \\ud800): "
                "DynamoDB and S3 store UTF-8 text only"
            )
    for name in RESERVED:
        if name in record:
            raise InvalidRecord(f"field {name!r} is reserved for the ETL's own bookkeeping")
    normal: dict[str, Any] = {}
    for field in FIELDS:
        value = record.get(field.name)
        missing = value is None or (from_csv and value == "")
        if missing:
            if field.required:
                raise InvalidRecord(f"{field.name} is missing")
            continue
        normal[field.name] = field.convert(value, field.name, from_csv=from_csv)
    for name, value in record.items():
        if name in _FIELD_NAMES:
            continue
        if not name:
            raise InvalidRecord("a field has an empty name")
        if from_csv and value == "":
            continue
        normal[name] = value
    return normal
