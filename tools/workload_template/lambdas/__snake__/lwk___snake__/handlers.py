"""Thin entry of the __Title__ function: SQS batch -> `logic` -> `aws` -> partial batch response.

Each message is handled on its own; a message that fails is reported in `batchItemFailures`, so
only it is retried (and moved to the dead-letter queue after the queue's maxReceiveCount). Logs
carry message ids, item ids, keys, sizes and error types, never the payload.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import aws, contract, logic
from .config import load_config
from .errors import RecordError

logger = Logger(service=contract.SERVICE_NAME)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = load_config(os.environ)

    def store(record: SQSRecord) -> None:
        try:
            item = logic.to_item(record.body)
        except RecordError as error:
            logger.warning("message refused", extra={"message_id": record.message_id, "error": str(error)})
            raise
        key = logic.result_key(config.results_prefix, item)
        size = aws.put_result(config.results_bucket, key, logic.render(item))
        logger.info(
            "item stored", extra={"message_id": record.message_id, "item_id": item.item_id, "key": key, "bytes": size}
        )

    # Every failure goes into the response, even when the whole batch fails (no exception to Lambda).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=store, processor=processor, context=context)
    failures = len(response.get("batchItemFailures", []))
    records = len(event.get("Records", []))
    logger.info("batch done", extra={"records": records, "failed": failures})
    # Made here, not at import: the namespace is read from the environment of this invocation.
    metrics = Metrics(service=contract.SERVICE_NAME)
    metrics.add_metric(name=contract.ITEMS_STORED, unit=MetricUnit.Count, value=records - failures)
    metrics.add_metric(name=contract.MESSAGES_REFUSED, unit=MetricUnit.Count, value=failures)
    metrics.flush_metrics()
    return dict(response)
