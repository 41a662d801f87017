"""The durable ETL's alarms."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.shared.alarm_topic import AlarmTopic


class EtlAlarms(Construct):
    """Four alarms on the alarm topic, one for each place a run's input can end up unprocessed:
    executions that ended FAILED or TIMED_OUT; any message in the dead-letter queue (an execution's
    input that Lambda or Scheduler gave up on); an asynchronous start Lambda dropped or could not put
    into that queue (`AsyncEventsDropped`, `DeadLetterErrors`); a scheduled start Scheduler dropped
    or could not put into that queue (`InvocationDroppedCount`,
    `InvocationsFailedToBeSentToDeadLetterCount`, per schedule group).

    The shard worker needs none of its own: only the coordinator starts it, synchronously
    (context.invoke), retries a failed unit and else fails the run, which the first alarm reports.
    Throttled DynamoDB writes lose nothing (resent with back-off), so they do not alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        dead_letters: sqs.IQueue,
        schedule_group: scheduler.IScheduleGroup,
        topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, construct_id)
        period = cdk.Duration.minutes(5)
        failed = _either(
            "Executions failed or timed out",
            period,
            failed=function.metric("DurableExecutionFailed", statistic="Sum", period=period),
            timedOut=function.metric("DurableExecutionTimedOut", statistic="Sum", period=period),
        )
        self.failed_executions = self._alarm(
            "FailedExecutions", failed, "A durable ETL execution ended FAILED or TIMED_OUT: see its execution history."
        )
        self.dead_letters = self._alarm(
            "DeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            "An ETL start or execution input landed in the dead-letter queue.",
        )
        # Lambda developer guide, asynchronous invocation metrics: events dropped without being
        # processed, and events that could not be sent to the dead-letter queue.
        lost = _either(
            "Asynchronous starts dropped or not dead-lettered",
            period,
            dropped=function.metric("AsyncEventsDropped", statistic="Sum", period=period),
            deadLetterErrors=function.metric("DeadLetterErrors", statistic="Sum", period=period),
        )
        self.lost_starts = self._alarm(
            "LostStarts", lost, "Lambda dropped an ETL start, or could not keep it in the dead-letter queue."
        )
        # EventBridge Scheduler user guide, metrics: invocations dropped after the retry policy, and
        # those that also failed to reach the dead-letter queue.
        undelivered = _either(
            "Scheduled starts dropped or not dead-lettered",
            period,
            dropped=schedule_group.metric_dropped(statistic="Sum", period=period),
            notDeadLettered=schedule_group.metric_failed_to_be_sent_to_dlq(statistic="Sum", period=period),
        )
        self.lost_schedules = self._alarm(
            "LostScheduledStarts",
            undelivered,
            "Scheduler dropped a scheduled ETL start, or could not keep it in the dead-letter queue.",
        )
        for alarm in (self.failed_executions, self.dead_letters, self.lost_starts, self.lost_schedules):
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


def _either(label: str, period: cdk.Duration, **metrics: cloudwatch.IMetric) -> cloudwatch.MathExpression:
    """The sum of `metrics`, a period without data counting as zero: one alarm for several ways to lose a start."""
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
        using_metrics=metrics,
        label=label,
        period=period,
    )
