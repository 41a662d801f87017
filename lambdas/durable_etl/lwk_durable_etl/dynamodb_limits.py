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
MAX_ATTRIBUTE_NAME_BYTES = 65535  # attribute names: "at least one character and no greater than 64 KB"


class ItemLimitError(ValueError):
    """The item breaks one of DynamoDB's limits; the message names which."""


def _significant_digits(number: Decimal) -> int:
    return len("".join(map(str, number.as_tuple().digits)).strip("0"))


def _number_size(text: str) -> int:
    # "The size of a number is approximately (1 byte per two significant digits) + (1 byte)".
    return (_significant_digits(Decimal(text)) + 1) // 2 + 1


def _check_number(text: str, where: str) -> None:
    number = Decimal(text)
    if number.is_zero():
        return
    digits = _significant_digits(number)
    if digits > MAX_NUMBER_DIGITS:
        raise ItemLimitError(f"{where} has {digits} significant digits; DynamoDB keeps at most {MAX_NUMBER_DIGITS}")
    if not SMALLEST_NUMBER <= number.copy_abs() <= LARGEST_NUMBER:
        raise ItemLimitError(f"{where} is outside DynamoDB's number range 1E-130 to 9.99E+125 (either sign)")


def _check_name(name: str, where: str) -> None:
    if not name:
        raise ItemLimitError(f"{where} holds a map key that is empty; DynamoDB refuses empty attribute names")
    if len(name.encode()) > MAX_ATTRIBUTE_NAME_BYTES:
        raise ItemLimitError(f"{where} holds an attribute name longer than {MAX_ATTRIBUTE_NAME_BYTES} bytes")


def _value_size(value: dict[str, Any], where: str, level: int) -> int:
    """Bytes one typed value (DynamoDB JSON) counts, checking numbers, names and nesting on the way.

    `level` is 1 for a top-level attribute; DynamoDB refuses a value nested below level 32.
    """
    if level > MAX_NESTING:
        raise ItemLimitError(f"{where} nests lists and maps deeper than DynamoDB's {MAX_NESTING} levels")
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        _check_number(content, where)
        return _number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(content)
    if kind == "SS":
        return sum(len(member.encode()) for member in content)
    if kind == "NS":
        for member in content:
            _check_number(member, where)
        return sum(_number_size(member) for member in content)
    if kind == "BS":
        return sum(len(member) for member in content)
    # "3 bytes for the list or map, plus 1 byte for each element" (and a map element's name).
    if kind == "L":
        return 3 + sum(1 + _value_size(element, where, level + 1) for element in content)
    if kind == "M":
        total = 3
        for name, element in content.items():
            _check_name(name, where)
            total += 1 + len(name.encode()) + _value_size(element, where, level + 1)
        return total
    raise ItemLimitError(f"{where} has an attribute type DynamoDB does not know: {kind}")


def check_item(item: dict[str, dict[str, Any]], *, partition_key: str, sort_key: str) -> int:
    """The item's size in bytes as DynamoDB counts it, or ItemLimitError naming the first limit broken."""
    for name, limit in ((partition_key, MAX_PARTITION_KEY_BYTES), (sort_key, MAX_SORT_KEY_BYTES)):
        size = len(item[name]["S"].encode())
        if size > limit:
            raise ItemLimitError(f"key attribute {name} is {size} bytes; DynamoDB allows at most {limit}")
    size = 0
    for name, value in item.items():
        where = f"field {name[:64]!r}"
        _check_name(name, where)
        size += len(name.encode()) + _value_size(value, where, 1)
    if size > MAX_ITEM_BYTES:
        raise ItemLimitError(f"the item is {size} bytes; DynamoDB's item limit is {MAX_ITEM_BYTES} (400 KB)")
    return size
