"""A Lambda function subscribed to an `EncryptedQueue`, with the settings SQS consumers need."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda_event_sources as event_sources

from stacks.shared.encrypted_queue import EncryptedQueue
from stacks.shared.kit_function import KitFunction
from stacks.shared.nag import acknowledge

# Lambda's bounds for an SQS event source (Lambda developer guide, "Using Lambda with Amazon SQS").
MAX_BATCH_SIZE = 10_000
MAX_STANDARD_BATCH_WITHOUT_WINDOW = 10
MAX_CONCURRENCY_RANGE = (2, 1000)
MAX_BATCHING_WINDOW_SECONDS = 300
# AWS: "set the source queue's visibility timeout to at least six times the timeout of your function".
VISIBILITY_TO_TIMEOUT_RATIO = 6


class EventSourceError(ValueError):
    """The event source's settings are outside what Lambda accepts or what keeps messages safe."""


def subscribe(
    function: KitFunction,
    queue: EncryptedQueue,
    *,
    batch_size: int = 10,
    max_batching_window: cdk.Duration | None = None,
    max_concurrency: int | None = None,
) -> event_sources.SqsEventSource:
    """Make Lambda poll `queue.queue` and invoke `function` with batches of up to `batch_size` messages.

    Partial batch responses are on: the handler returns `{"batchItemFailures": [...]}` (Powertools'
    `BatchProcessor` does it) and only those messages are retried, then moved to the queue's
    dead-letter queue after its `max_receive_count`. Grants the function's role what polling needs
    (receive, delete, change visibility, attributes, kms:Decrypt on the queue's key), and
    acknowledges the two cdk-nag findings an SQS consumer cannot fix (no on-failure destination for
    SQS sources, no function dead-letter queue for synchronous invokes), each saying why.
    `max_concurrency` caps how many functions the source runs at once (2 to 1000; none: no cap).
    """
    window = max_batching_window.to_seconds() if max_batching_window else 0
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise EventSourceError(f"batch_size {batch_size} is not from 1 to {MAX_BATCH_SIZE}")
    if batch_size > MAX_STANDARD_BATCH_WITHOUT_WINDOW and window == 0:
        raise EventSourceError(f"batch_size {batch_size} above 10 needs a max_batching_window of at least 1 second")
    if window > MAX_BATCHING_WINDOW_SECONDS:
        raise EventSourceError(f"max_batching_window {window:g} s is more than {MAX_BATCHING_WINDOW_SECONDS} s")
    low, high = MAX_CONCURRENCY_RANGE
    if max_concurrency is not None and not low <= max_concurrency <= high:
        raise EventSourceError(f"max_concurrency {max_concurrency} is not from {low} to {high}")
    function_timeout = function.function.timeout
    assert function_timeout is not None  # KitFunction always sets one
    visibility = queue.visibility_timeout.to_seconds()
    if visibility < VISIBILITY_TO_TIMEOUT_RATIO * function_timeout.to_seconds():
        raise EventSourceError(
            f"the visibility timeout of {queue.node.path} ({visibility:g} s) is less than {VISIBILITY_TO_TIMEOUT_RATIO} "
            f"times the function's timeout ({function_timeout.to_seconds():g} s): a message still being "
            "processed would be delivered again"
        )
    source = event_sources.SqsEventSource(
        queue.queue,
        batch_size=batch_size,
        max_batching_window=max_batching_window,
        max_concurrency=max_concurrency,
        report_batch_item_failures=True,
    )
    function.function.add_event_source(source)
    mapping_id = f"SqsEventSource:{cdk.Names.node_unique_id(queue.queue.node)}"
    acknowledge(
        function.function.node.find_child(mapping_id),
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
        "Lambda takes on-failure destinations only for stream and Kafka event sources, not for SQS; a message "
        "that keeps failing moves to the queue's dead-letter queue, which has a depth alarm.",
    )
    for rule_id in ("Serverless::Serverless-LambdaDLQ", "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"):
        acknowledge(
            function.function,
            rule_id,
            "The SQS event source invokes this function synchronously, where a function's dead-letter queue "
            "never applies; failed messages stay in the queue and then move to its dead-letter queue. Give the "
            "function a dead-letter queue of its own if it is also invoked asynchronously.",
        )
    return source
