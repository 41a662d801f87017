"""The destinations workload's alarms: one on every place a request or a record can end up unkept."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.kept_failures import KeptFailures
from stacks.shared.alarm_topic import AlarmTopic

PERIOD = cdk.Duration.minutes(5)
# Lambda's asynchronous-invocation metrics ("Types of metrics for Lambda functions", Lambda developer
# guide): an event dropped, a record not delivered to a destination, an event not delivered to a
# dead-letter queue. Each means a request that is in no queue: one is enough to call a person.
LOST_EVENT_METRICS = {
    "AsyncEventsDropped": "Lambda dropped asynchronous events of {name} without running them to the end "
    "(expired, or refused): they are in no queue.",
    "DestinationDeliveryFailures": "Lambda could not deliver an invocation record of {name} to its destination: "
    "that record is lost.",
    "DeadLetterErrors": "Lambda could not send a failed event of {name} to its dead-letter queue: that event is lost.",
}


class DestinationsAlarms(Construct):
    """Alarms that say a request needs a person, published to an encrypted SNS topic (`topic`).

    `watch` adds them, once the resources exist: kept failures waiting; anything in the kept
    failures' dead-letter queue; Lambda's lost-event metrics (LOST_EVENT_METRICS) of every
    asynchronously invoked function; the destination handlers' own `Errors`. The failure-records
    queue (an EncryptedQueue on the same topic) alarms on its own dead-letter queue.
    """

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = AlarmTopic(self, "Topic", email=email)
        self.alarms: list[cloudwatch.Alarm] = []

    def _alarm(self, alarm_id: str, description: str, metric: cloudwatch.IMetric, threshold: int) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.topic.notify(alarm)
        self.alarms.append(alarm)

    def watch(
        self,
        *,
        kept: KeptFailures,
        worker_alias: lambda_.Alias,
        asynchronous: dict[str, lambda_.IFunction],
        handlers: dict[str, lambda_.IFunction],
        failed_threshold: int,
    ) -> None:
        """Add the alarms. `asynchronous`: functions invoked asynchronously, by construct id;
        `handlers`: the destination handlers, whose errors are alarmed."""
        self._alarm(
            "KeptFailuresWaiting",
            "Failed requests are kept for replay: read them with the replay command's --dry-run.",
            kept.queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            failed_threshold,
        )
        self._alarm(
            "Unprocessable",
            "The kept failures' dead-letter queue holds kept failures received too often without being "
            "replayed, or success records the success handler could not process.",
            kept.dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            1,
        )
        # Kept as it was (on the alias) so that its alarm stays the same resource.
        self._alarm(
            "DestinationDeliveryFailures",
            LOST_EVENT_METRICS["DestinationDeliveryFailures"].format(name="the worker alias"),
            worker_alias.metric("DestinationDeliveryFailures", period=PERIOD, statistic="Sum"),
            1,
        )
        for name, function in asynchronous.items():
            for metric_name, description in LOST_EVENT_METRICS.items():
                # Without a Resource dimension: every version and alias of the function.
                self._alarm(
                    f"{name}{metric_name}",
                    description.format(name=name),
                    function.metric(metric_name, period=PERIOD, statistic="Sum"),
                    1,
                )
        for name, function in handlers.items():
            self._alarm(
                f"{name}Errors",
                f"The {name} failed: its records are retried and then kept in a dead-letter queue; find the "
                "cause in its logs.",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                1,
            )
