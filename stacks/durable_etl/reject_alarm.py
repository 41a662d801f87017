"""The alarm on a run that rejected more of its records than the settings allow."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.shared.alarm_topic import AlarmTopic

from .contract import contract


class RejectAlarm(Construct):
    """One alarm on the alarm topic: the highest `RejectedPercent` a run reported (the run's `metrics`
    step writes it in embedded metric format, namespace `namespace`, dimension `service`) above
    `share` of its records. No data (no run) is fine. Grants nothing."""

    def __init__(self, scope: Construct, construct_id: str, *, namespace: str, share: float, topic: AlarmTopic) -> None:
        super().__init__(scope, construct_id)
        self.alarm = cloudwatch.Alarm(
            self,
            "TooManyRejects",
            metric=cloudwatch.Metric(
                namespace=namespace,
                metric_name=contract.REJECTED_PERCENT,
                dimensions_map={"service": contract.SERVICE_NAME},
                statistic="Maximum",
                period=cdk.Duration.minutes(5),
            ),
            alarm_description=(
                f"An ETL run rejected more than {share:.2%} of its records (kit.durableEtl.rejectAlarmShare): "
                "see the rejects under _etl/<dataset>/<run>/rejects/ of the source bucket."
            ),
            threshold=100 * share,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        topic.notify(self.alarm)
