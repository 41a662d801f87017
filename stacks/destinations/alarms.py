"""The destinations workload's alarms."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.destinations.kept_failures import KeptFailures
from stacks.shared.alarm_topic import AlarmTopic


class DestinationsAlarms(Construct):
    """Alarms that say a request needs a person, published to an encrypted SNS topic.

    - kept failures waiting: the queue of failed requests holds at least `failed_threshold`;
    - unprocessable: anything in the dead-letter queue (a malformed record, or a kept failure
      received too often);
    - destination delivery failures: Lambda could not hand a record of the worker to a destination.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        email: str | None,
        kept: KeptFailures,
        worker_alias: lambda_.Alias,
        failed_threshold: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = AlarmTopic(self, "Topic", email=email)
        period = cdk.Duration.minutes(5)
        self.kept_failures_waiting = cloudwatch.Alarm(
            self,
            "KeptFailuresWaiting",
            alarm_description="Failed requests are kept for replay: read them with the replay command's --dry-run.",
            metric=kept.queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            threshold=failed_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.unprocessable = cloudwatch.Alarm(
            self,
            "Unprocessable",
            alarm_description="The dead-letter queue holds records a destination handler could not process, "
            "or kept failures received too often without being replayed.",
            metric=kept.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=period, statistic="Maximum"
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.delivery_failures = cloudwatch.Alarm(
            self,
            "DestinationDeliveryFailures",
            alarm_description="Lambda could not deliver an invocation record of the worker to its destination: "
            "that record is lost.",
            metric=worker_alias.metric("DestinationDeliveryFailures", period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (self.kept_failures_waiting, self.unprocessable, self.delivery_failures):
            self.topic.notify(alarm)
