"""Lambda's SQS poller, for an event source mapping of a template deployed with `support.cfn.deploy`.

moto's own mapping invokes the function once per message and deletes a batch whatever the handler
returns. This one follows the Lambda developer guide ("Using Lambda with Amazon SQS", "Handling
errors for an SQS event source"):
- batches of up to `BatchSize` messages, in the SQS event shape Lambda sends;
- a handler that raises fails the whole batch: every message becomes visible again;
- with `ReportBatchItemFailures`, only the messages named in `batchItemFailures` stay; a response
  that names an id not in the batch, or has no `itemIdentifier`, fails the whole batch;
- without it, the response is ignored and the whole batch is deleted;
- a message received `maxReceiveCount` times moves to the queue's dead-letter queue (moto's redrive).
Visibility timeouts are not waited out: a failed message is made visible again at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support.cfn import REGION, Deployment, EventSourceMapping
from support.lambda_runtime import invoke_in_process

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
# SQS hands out at most 10 messages per ReceiveMessage call.
RECEIVE_LIMIT = 10


@dataclass
class PollResult:
    batches: int = 0
    deleted: int = 0
    retried: int = 0
    handler_errors: list[BaseException] = field(default_factory=list)


class SqsPoller:
    """Polls the queue of one event source mapping and invokes its function's real handler."""

    def __init__(self, deployment: Deployment, workload: str, mapping: str = "") -> None:
        mappings = deployment.event_source_mappings
        matching = [m for lid, m in mappings.items() if lid.startswith(mapping)]
        if len(matching) != 1:
            raise KeyError(f"{len(matching)} event source mappings start with {mapping!r}: {sorted(mappings)}")
        self.mapping: EventSourceMapping = matching[0]
        self.sqs = deployment.clients["sqs"]
        queue_name = self.mapping.event_source_arn.rsplit(":", 1)[-1]
        self.queue_url = self.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        (self.function,) = [f for f in deployment.functions.values() if self.mapping.function_name in (f.name, f.arn)]
        self.invoke: Callable[[Any], Any] = lambda event: invoke_in_process(workload, self.function, event)

    def _receive_batch(self) -> list[dict[str, Any]]:
        limit = self.mapping.batch_size or RECEIVE_LIMIT
        messages: list[dict[str, Any]] = []
        while len(messages) < limit:
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(RECEIVE_LIMIT, limit - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            messages += received
        return messages

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.mapping.event_source_arn,
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }

    def _failed_ids(self, messages: list[dict[str, Any]], response: Any) -> set[str]:
        ids = {m["MessageId"] for m in messages}
        if REPORT_BATCH_ITEM_FAILURES not in self.mapping.function_response_types:
            return set()  # Lambda ignores the response: the batch succeeded
        if response is None or response == {} or response == {"batchItemFailures": []}:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not isinstance(failures, list):
            return ids
        named = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
        if None in named or "" in named or not named <= ids or len(named) != len(failures):
            return ids  # an invalid response fails the whole batch
        return {str(i) for i in named}

    def poll(self, *, max_batches: int = 100) -> PollResult:
        """Deliver batches until the queue has no visible message (or `max_batches`)."""
        result = PollResult()
        while result.batches < max_batches and (messages := self._receive_batch()):
            result.batches += 1
            try:
                failed = self._failed_ids(messages, self.invoke(self._event(messages)))
            except Exception as error:  # Lambda reports it and retries the whole batch
                result.handler_errors.append(error)
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                    result.retried += 1
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    result.deleted += 1
        return result
