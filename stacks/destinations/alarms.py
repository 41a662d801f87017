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
# guide): events dropped (every event that did not succeed, whether or not it went on to a
# destination or dead-letter queue), a record not delivered to a destination, an event not
# delivered to a dead-letter queue. The last two always mean a request in no queue.
LOST_EVENT_METRICS = {
    "AsyncEventsDropped": "Lambda dropped asynchronous events of {name}. Every failed event counts, also one "
    "sent on to a destination or dead-letter queue: one with no kept failure or dead letter to match is lost.",
    "DestinationDeliveryFailures": "Lambda could not deliver an invocation record of {name} to its destination: "
    "that record is lost.",
    "DeadLetterErrors": "Lambda could not send a failed event of {name} to its dead-letter queue: that event is lost.",
}


class DestinationsAlarms(Construct):
    """Alarms that say a request needs a person, published to an encrypted SNS topic (`topic`).

    `watch` adds them, once the resources exist: kept failures waiting; anything in the kept
    failures' dead-letter queue; Lambda's lost-event metrics (LOST_EVENT_METRICS) of every
    asynchronously invoked function, without a Resource dimension (all versions and aliases);
    the destination handlers' own `Errors`. The failure-records
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
        asynchronous: dict[str, tuple[lambda_.IFunction, tuple[str, ...]]],
        handlers: dict[str, lambda_.IFunction],
        failed_threshold: int,
    ) -> None:
        """Add the alarms. `asynchronous`: functions invoked asynchronously, by construct id, with the
        LOST_EVENT_METRICS that apply to them; `handlers`: the destination handlers, whose errors
        are alarmed."""
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
        for name, (function, metric_names) in asynchronous.items():
            for metric_name in metric_names:
                description = LOST_EVENT_METRICS[metric_name]
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
