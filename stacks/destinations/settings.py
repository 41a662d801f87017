"""Settings of the Lambda Destinations workload (`kit.destinations`); bounds from the Lambda's contract."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.destinations.contract import contract
from stacks.settings.common import CommonSettings
from stacks.settings.reader import SettingsReader


@dataclass(frozen=True)
class DestinationsSettings:
    # How often Lambda retries the worker after a function error before the on-failure record.
    max_retry_attempts: int
    # How long an event may wait in Lambda's asynchronous queue (including between retries).
    max_event_age_seconds: int
    # The kept-failures alarm goes off when at least this many failed requests wait for replay.
    failed_queue_depth_alarm: int
    # Payloads and error messages in the functions' logs: for debugging only (docs/destinations.md).
    log_payloads: bool = False


def read_destinations(reader: SettingsReader, common: CommonSettings) -> DestinationsSettings:
    retries, age, alarm = (
        contract.MAX_RETRY_ATTEMPTS_RANGE,
        contract.MAX_EVENT_AGE_SECONDS_RANGE,
        contract.FAILED_QUEUE_DEPTH_ALARM_RANGE,
    )
    return DestinationsSettings(
        max_retry_attempts=reader.integer(
            "maxRetryAttempts", minimum=retries[0], maximum=retries[1], default=contract.DEFAULT_MAX_RETRY_ATTEMPTS
        ),
        max_event_age_seconds=reader.integer(
            "maxEventAgeSeconds", minimum=age[0], maximum=age[1], default=contract.DEFAULT_MAX_EVENT_AGE_SECONDS
        ),
        failed_queue_depth_alarm=reader.integer(
            "failedQueueDepthAlarm",
            minimum=alarm[0],
            maximum=alarm[1],
            default=contract.DEFAULT_FAILED_QUEUE_DEPTH_ALARM,
        ),
        log_payloads=reader.boolean("logPayloads", default=False),
    )
