"""The alarm on a log group left months behind on export."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from stacks.shared.contracts import load_contract

contract = load_contract("log-export")

# A month one run leaves behind is the next run's (the retry run a week later) to export; two months
# behind means the backlog is growing.
MONTHS_BEHIND_THRESHOLD = 2


class MonthsBehindAlarm(Construct):
    """One alarm: at the end of a run, some configured log group has `MONTHS_BEHIND_THRESHOLD` or more
    closed months not exported (the `MonthsBehind` metric the last BucketCheck of a run writes per log
    group, in embedded metric format). A Metrics Insights query takes the highest over every group, so
    the alarm covers up to the 20 groups the settings allow (metric math takes at most 10 metrics).
    No data (no run) is fine. Grants nothing."""

    def __init__(self, scope: Construct, construct_id: str, *, namespace: str) -> None:
        super().__init__(scope, construct_id)
        query = (
            f'SELECT MAX({contract.MONTHS_BEHIND}) FROM SCHEMA("{namespace}", '
            f"{contract.LOG_GROUP_DIMENSION}, service) WHERE service = '{contract.SERVICE_NAME}'"
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "MonthsBehind",
            metric=cloudwatch.MathExpression(
                expression=query, label="Most months behind of a log group", period=cdk.Duration.hours(1)
            ),
            alarm_description=(
                f"A log export run ended with a log group {MONTHS_BEHIND_THRESHOLD} or more closed months behind: "
                "see the MonthsBehind widget and the run's failed exports (docs/log-export.md, runbook)."
            ),
            threshold=MONTHS_BEHIND_THRESHOLD,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
