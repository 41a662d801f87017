"""The durable ETL's alarms."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.shared.alarm_topic import AlarmTopic


class EtlAlarms(Construct):
    """Two alarms on the alarm topic: executions that ended FAILED or TIMED_OUT, and any message in
    the dead-letter queue (an execution's input that Lambda or Scheduler gave up on)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        period = cdk.Duration.minutes(5)
        failed = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedOut, 0)",
            using_metrics={
                "failed": function.metric("DurableExecutionFailed", statistic="Sum", period=period),
                "timedOut": function.metric("DurableExecutionTimedOut", statistic="Sum", period=period),
            },
            label="Executions failed or timed out",
            period=period,
        )
        self.failed_executions = self._alarm(
            "FailedExecutions", failed, "A durable ETL execution ended FAILED or TIMED_OUT: see its execution history."
        )
        self.dead_letters = self._alarm(
            "DeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            "An ETL start or execution input landed in the dead-letter queue.",
        )
        for alarm in (self.failed_executions, self.dead_letters):
            topic.notify(alarm)

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        # Any occurrence at all is worth a look: these should be zero in a healthy month.
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
