"""Idempotent writes into the target table, and the check that they are all there.

Items are keyed by (datasetId, id), so writing a batch again overwrites the same items with the
same content: a retried or replayed load step can neither duplicate nor drop a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .contract import TABLE_PARTITION_KEY, TABLE_SORT_KEY, table_partition_key
from .errors import UnprocessedItemsError, UnprocessedKeysError
from .schema import RUN_ATTRIBUTE

BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem request, fixed by DynamoDB
UNPROCESSED_ATTEMPTS = 8


def write_items(
    dynamodb: Any,
    table: str,
    items: Sequence[dict[str, Any]],
    *,
    items_per_second: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Put `items` (DynamoDB JSON) with BatchWriteItem, resending what DynamoDB leaves unprocessed.

    With `items_per_second`, requests are paced so that this writer stays within its share of the
    run's write budget (kit.durableEtl.writeUnitsPerSecond) instead of meeting DynamoDB's throttle.

    Throttled requests come back as UnprocessedItems rather than errors; they are resent with
    exponential back-off. Whatever is still unprocessed after UNPROCESSED_ATTEMPTS raises
    UnprocessedItemsError, so that the step's own retry (with a durable back-off that costs no
    Lambda time) takes over.
    """
    started = clock()
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        if items_per_second:
            ahead = started + start / items_per_second - clock()
            if ahead > 0:
                sleep(ahead)
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
        for attempt in range(UNPROCESSED_ATTEMPTS):
            unprocessed = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = unprocessed.get(table, [])
            if not requests:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise UnprocessedItemsError(
                f"DynamoDB left {len(requests)} items unwritten in {table} after {UNPROCESSED_ATTEMPTS} attempts"
            )
    return len(items)


BATCH_GET_LIMIT = 100  # keys per BatchGetItem request, fixed by DynamoDB


def count_run_items(
    dynamodb: Any,
    table: str,
    dataset_id: str,
    run_id: str,
    record_ids: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, list[str]]:
    """How many of `record_ids` the table holds for `dataset_id` as written by `run_id`, and the
    ids it does not (missing, or last written by another run).

    Strongly consistent reads, so nothing written just before is missed. One BatchGetItem per
    100 keys costs one read unit per item and, unlike counting with a Query, names what is missing.
    """
    found: set[str] = set()
    for start in range(0, len(record_ids), BATCH_GET_LIMIT):
        chunk = record_ids[start : start + BATCH_GET_LIMIT]
        keys = [
            {TABLE_PARTITION_KEY: {"S": table_partition_key(dataset_id, record_id)}, TABLE_SORT_KEY: {"S": record_id}}
            for record_id in chunk
        ]
        request: dict[str, Any] = {
            table: {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "#id, #run",
                "ExpressionAttributeNames": {"#id": "id", "#run": RUN_ATTRIBUTE},
            }
        }
        for attempt in range(UNPROCESSED_ATTEMPTS):
            response = dynamodb.batch_get_item(RequestItems=request)
            items = response["Responses"].get(table, [])
            found.update(item["id"]["S"] for item in items if item.get(RUN_ATTRIBUTE) == {"S": run_id})
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        else:
            unread = len(request[table]["Keys"])
            raise UnprocessedKeysError(
                f"DynamoDB left {unread} keys unread in {table} after {UNPROCESSED_ATTEMPTS} attempts"
            )
    return len(found), [record_id for record_id in record_ids if record_id not in found]
