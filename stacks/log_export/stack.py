"""The log export workload: CloudWatch Logs log groups exported to S3 month by month by Step Functions."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.log_export.export_bucket import ExportBucket
from stacks.log_export.export_handlers import ExportHandlers
from stacks.log_export.export_state_machine import ExportStateMachine
from stacks.log_export.monthly_schedule import MonthlySchedule
from stacks.log_export.months_behind_alarm import MonthsBehindAlarm, contract
from stacks.log_export.notice_topic import NoticeTopic
from stacks.log_export.settings import LogExportSettings
from stacks.settings.common import CommonSettings
from stacks.shared.alarm_topic import AlarmTopic
from stacks.shared.workload_dashboard import BusinessMetrics


class LogExportStack(cdk.Stack):
    """Export bucket, three handlers, the state machine, its monthly schedule, notices and an alarm."""

    # The exports' own numbers per log group on the dashboard (stacks/shared/workload_dashboard.py).
    business_metrics = (
        BusinessMetrics(
            "Exports per log group: started, done, failed",
            (contract.EXPORTS_STARTED, contract.EXPORTS_DONE, contract.EXPORTS_FAILED),
            (contract.LOG_GROUP_DIMENSION, "service"),
        ),
        BusinessMetrics(
            "Months behind per log group (end of a run)",
            (contract.MONTHS_BEHIND,),
            (contract.LOG_GROUP_DIMENSION, "service"),
            statistic="Maximum",
        ),
    )

    def __init__(
        self, scope: Construct, construct_id: str, *, common: CommonSettings, settings: LogExportSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        exports = ExportBucket(
            self, "Exports", log_groups=settings.log_groups, archive_after_days=settings.archive_after_days
        )
        alarms = AlarmTopic(self, "Alarms", email=common.alarm_email)
        # One customer managed key (about $1 a month) encrypts both topics.
        notices = NoticeTopic(self, "Notices", key=alarms.key, email=settings.notification_email)
        handlers = ExportHandlers(self, "Handlers", common=common, settings=settings, exports=exports)
        workflow = ExportStateMachine(
            self, "Workflow", common=common, settings=settings, handlers=handlers, notices=notices.topic
        )
        for alarm in (
            workflow.failed_runs_alarm,
            workflow.timed_out_runs_alarm,
            workflow.troubled_exports_alarm,
            notices.undelivered_alarm,
        ):
            alarms.notify(alarm)
        schedule = MonthlySchedule(
            self,
            "Schedule",
            state_machine=workflow.state_machine,
            expression=settings.schedule_expression,
            enabled=settings.schedule_enabled,
        )
        alarms.notify(schedule.failed_starts_alarm)
        alarms.notify(MonthsBehindAlarm(self, "Backlog", namespace=common.metrics_namespace).alarm)
        cdk.CfnOutput(self, "ExportBucketName", value=exports.bucket.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "NoticeTopicArn", value=notices.topic.topic_arn)
