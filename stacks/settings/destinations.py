"""Settings of the Lambda Destinations workload (`kit.destinations`)."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import SettingsReader


@dataclass(frozen=True)
class DestinationsSettings:
    # How often Lambda retries the worker after a function error before the on-failure record.
    max_retry_attempts: int
    # How long an event may wait in Lambda's asynchronous queue (including between retries).
    max_event_age_seconds: int
    # The kept-failures alarm goes off when at least this many failed requests wait for replay.
    failed_queue_depth_alarm: int


def read_destinations(reader: SettingsReader) -> DestinationsSettings:
    return DestinationsSettings(
        # The bounds are Lambda's own for asynchronous invocation.
        max_retry_attempts=reader.integer("maxRetryAttempts", minimum=0, maximum=2, default=2),
        max_event_age_seconds=reader.integer("maxEventAgeSeconds", minimum=60, maximum=21600, default=3600),
        failed_queue_depth_alarm=reader.integer("failedQueueDepthAlarm", minimum=1, maximum=100000, default=1),
    )
