"""DynamoDB's documented limits on one item, checked before a load so that no batch is refused.

DynamoDB refuses a whole BatchWriteItem when one of its items breaks a limit, so an item that would
break one is a reject with a reason, like any other bad record. Source of every figure: Amazon
DynamoDB Developer Guide, "Service, account, and table quotas in Amazon DynamoDB" (item size,
nesting, numbers, key values) and "Item sizes and formats" (how an item's size is counted).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MAX_ITEM_BYTES = 400 * 1024  # "The maximum item size in DynamoDB is 400 KB", attribute names included
MAX_NESTING = 32  # "DynamoDB supports nested attributes up to 32 levels deep"
MAX_NUMBER_DIGITS = 38  # "Numbers can have up to 38 digits of precision"
LARGEST_NUMBER = Decimal("9.9999999999999999999999999999999999999E+125")
SMALLEST_NUMBER = Decimal("1E-130")
MAX_PARTITION_KEY_BYTES = 2048  # "The maximum length of a partition key value is 2048 bytes"
MAX_SORT_KEY_BYTES = 1024  # "The maximum length of a sort key value is 1024 bytes"


class ItemLimitError(ValueError):
    """The item breaks one of DynamoDB's limits; the message names which."""


def _number_size(text: str) -> int:
    # "Numbers are variable length, with up to 38 significant digits. Leading and trailing zeroes
    # are trimmed. The size of a number is approximately (number of UTF-8-encoded bytes of
    # attribute name) + (1 byte per two significant digits) + (1 byte)."
    digits = Decimal(text).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def _check_number(text: str, where: str) -> None:
    number = Decimal(text)
    if number.is_zero():
        return
    significant = len(number.normalize().as_tuple().digits)
    if significant > MAX_NUMBER_DIGITS:
        raise ItemLimitError(f"{where} has {significant} significant digits; DynamoDB keeps at most {MAX_NUMBER_DIGITS}")
    if not SMALLEST_NUMBER <= abs(number) <= LARGEST_NUMBER:
        raise ItemLimitError(f"{where} is outside DynamoDB's number range 1E-130 to 9.99E+125 (either sign)")


def _value_size(value: dict[str, Any], where: str, depth: int) -> int:
    """Bytes one typed value (DynamoDB JSON) counts, checking numbers and nesting on the way."""
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        _check_number(content, where)
        return _number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        if kind == "NS":
            for number in content:
                _check_number(number, where)
        return sum(len(v.encode()) if kind == "SS" else _number_size(v) if kind == "NS" else len(v) for v in content)
    if kind == "B":
        return len(content)
    if depth > MAX_NESTING:
        raise ItemLimitError(f"{where} nests lists and maps deeper than DynamoDB's {MAX_NESTING} levels")
    # "3 bytes for the list or map, plus 1 byte for each element" (and a map element's name).
    if kind == "L":
        return 3 + sum(1 + _value_size(v, where, depth + 1) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v, where, depth + 1) for k, v in content.items())
    raise ItemLimitError(f"{where} has an attribute type DynamoDB does not know: {kind}")


def check_item(item: dict[str, dict[str, Any]], *, partition_key: str, sort_key: str) -> int:
    """The item's size in bytes as DynamoDB counts it, or ItemLimitError naming the first limit broken."""
    for name, limit in ((partition_key, MAX_PARTITION_KEY_BYTES), (sort_key, MAX_SORT_KEY_BYTES)):
        size = len(item[name]["S"].encode())
        if size > limit:
            raise ItemLimitError(f"key attribute {name} is {size} bytes; DynamoDB allows at most {limit}")
    size = sum(len(name.encode()) + _value_size(value, f"field {name!r}", 1) for name, value in item.items())
    if size > MAX_ITEM_BYTES:
        raise ItemLimitError(f"the item is {size} bytes; DynamoDB's item limit is {MAX_ITEM_BYTES} (400 KB)")
    return size
