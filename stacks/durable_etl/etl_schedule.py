"""The schedule that starts the durable ETL."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .settings import DurableEtlSettings

SCHEDULE_RETRY_ATTEMPTS = 3
SCHEDULE_MAX_EVENT_AGE = cdk.Duration.hours(1)


class EtlSchedule(Construct):
    """An EventBridge Scheduler schedule that starts the ETL through the `live` alias, asynchronously.

    Cron/rate expression and IANA time zone from settings; created disabled unless
    `schedule.enabled`. Scheduler retries a failed delivery and then sends the event to the
    dead-letter queue. Its role may invoke the alias only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DurableEtlSettings,
        alias: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"Starts the durable ETL of dataset {settings.schedule_dataset_id}",
            schedule=scheduler.ScheduleExpression.expression(
                settings.schedule_expression, cdk.TimeZone.of(settings.time_zone)
            ),
            enabled=settings.schedule_enabled,
            target=scheduler_targets.LambdaInvoke(
                alias,
                input=scheduler.ScheduleTargetInput.from_object({"datasetId": settings.schedule_dataset_id}),
                retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
                dead_letter_queue=dead_letters,
            ),
        )
